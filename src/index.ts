/**
 * passport-justpass: a passport strategy for justpass.me passkey login.
 *
 * @packageDocumentation
 */
import './augment.js'

export { JustpassStrategy } from './strategy.js'
export type {
  JustpassAuthenticateOptions,
  JustpassFailureInfo,
  JustpassFlowInfo,
  JustpassVerify,
  JustpassVerifyDone,
  JustpassVerifyWithRequest,
} from './strategy.js'
export { ID_TOKEN_ALGORITHMS, deriveEndpoints } from './options.js'
export type { IdTokenAlgorithm, JustpassEndpoints, JustpassMode, JustpassStrategyOptions, JustpassStrategyOptionsWithRequest } from './options.js'
export { MemoryUserStore } from './user-store.js'
export type { JustpassEnableDetails, JustpassUserStore, MemoryUser } from './user-store.js'
export { justpassCallback, takeJustpassNotice } from './outcome.js'
export type { JustpassCallbackOptions, JustpassNotice, JustpassOutcomeHook } from './outcome.js'
export { JustpassConfigError, JustpassError, JustpassProviderError, JustpassRefusal, JustpassUsageError } from './errors.js'
export type { ProviderErrorCode, RefusalReason } from './errors.js'
export type { JustpassTokens, JustpassUserinfo, VerifiedFlow } from './callback.js'
export type { FlowExchange, JustpassFlowStore, NewFlow, PendingFlow, TakenFlow } from './flow-store/types.js'
export type { PendingFlows } from './flow-store/session.js'
export type { JustpassHostResponse } from './host-response.js'
export type { JustpassHostCallbackOptions } from './outcome-core.js'
export { justpassFastifyCallback, justpassFastifyHook, justpassFastifyStart, takeJustpassFastifyNotice } from './hosts/fastify.js'
export type { JustpassFastifyAuthenticator, JustpassFastifyCallbackOptions, JustpassFastifyStartOptions, JustpassFastifyReply, JustpassFastifyRequest } from './hosts/fastify.js'
export { justpassKoa, justpassKoaCallback, takeJustpassKoaNotice } from './hosts/koa.js'
export type { JustpassKoaAuthenticator, JustpassKoaCallbackOptions, JustpassKoaContext, JustpassKoaMiddleware } from './hosts/koa.js'
