/**
 * passport-justpass: a passport strategy for justpass.me passkey login.
 *
 * @packageDocumentation
 */
import './augment.js'

export { JustpassStrategy } from './strategy.js'
export type { JustpassAuthenticateOptions, JustpassLogoutRequest, JustpassVerify, JustpassVerifyDone, JustpassVerifyWithRequest } from './strategy.js'
export type { AuthTimeMaxAge, JustpassStrategyOptions, JustpassStrategyOptionsWithRequest } from './options.js'
export { ID_TOKEN_ALGORITHMS, justpassProvider } from './provider-settings.js'
export type { IdTokenAlgorithm, JustpassEndpoints, JustpassProvider, JustpassProviderSettings, ProviderFetchFunction } from './provider-settings.js'
export type { JustpassFailureInfo, JustpassFlowInfo, JustpassFlowStart, JustpassMode, NewFlow, PendingFlow, RefusalReason } from './flow.js'
export type { CookieFlowStoreSettings, JustpassFlowStoreOption, SessionFlowStoreSettings } from './flow-store/index.js'
export { MemoryUserStore } from './user-store.js'
export type { JustpassEnableDetails, JustpassUserStore, MemoryUser } from './user-store.js'
export { justpassCallback, justpassLogout, requireJustpassConfirmation, takeJustpassNotice } from './outcome.js'
export type { JustpassCallbackOptions, JustpassConfirmationGuardOptions, JustpassLogoutHandlerOptions, JustpassNotice, JustpassOutcomeHook } from './outcome.js'
export type { JustpassConfirmationOptions, JustpassLogoutOptions } from './confirm-and-logout.js'
export { JustpassConfigError, JustpassError, JustpassProviderError, JustpassRefusal, JustpassUsageError } from './errors.js'
export type { JustpassRefusalOptions, ProviderErrorCode } from './errors.js'
export type { JustpassTokens, JustpassUserinfo, VerifiedFlow } from './complete-flow.js'
export type { FlowExchange, JustpassFlowStore, TakenFlow } from './flow-store/types.js'
export type { PendingFlows } from './flow-store/session.js'
export type { JustpassHostResponse } from './host-response.js'
export type { JustpassHostCallbackOptions } from './outcome-core.js'
export { justpassFastifyCallback, justpassFastifyHook, justpassFastifyLogout, justpassFastifyStart, requireJustpassFastifyConfirmation, takeJustpassFastifyNotice } from './hosts/fastify.js'
export type { JustpassFastifyAuthenticator, JustpassFastifyCallbackOptions, JustpassFastifyConfirmationOptions, JustpassFastifyGuardedRequest, JustpassFastifyLogoutOptions, JustpassFastifyStartOptions, JustpassFastifyReply, JustpassFastifyRequest } from './hosts/fastify.js'
export { justpassKoa, justpassKoaCallback, justpassKoaLogout, requireJustpassKoaConfirmation, takeJustpassKoaNotice } from './hosts/koa.js'
export type { JustpassKoaAuthenticator, JustpassKoaCallbackOptions, JustpassKoaConfirmationOptions, JustpassKoaContext, JustpassKoaGuardedContext, JustpassKoaLogoutOptions, JustpassKoaMiddleware } from './hosts/koa.js'
