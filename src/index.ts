/**
 * passport-justpass: a passport strategy for justpass.me passkey login. This entry holds
 * the strategy, the provider settings, the user store, the errors and the Express
 * helpers; `passport-justpass/fastify` and `passport-justpass/koa` hold the same helpers
 * for those hosts.
 *
 * @packageDocumentation
 */
import './augment.js'

export { JustpassStrategy } from './strategy.js'
export type { JustpassAuthenticateOptions, JustpassVerify, JustpassVerifyWithRequest } from './strategy.js'
export type { JustpassStrategyOptions } from './options.js'
export { ID_TOKEN_ALGORITHMS, justpassProvider } from './provider-settings.js'
export type { JustpassProvider, JustpassProviderSettings } from './provider-settings.js'
export type { JustpassFailureInfo, JustpassFlowInfo, JustpassFlowStart, JustpassMode, NewFlow, PendingFlow, RefusalReason } from './flow.js'
export type { FlowExchange, JustpassFlowStore, TakenFlow } from './flow-store/types.js'
export { MemoryUserStore } from './user-store.js'
export type { JustpassUserStore, MemoryUser } from './user-store.js'
export { justpassCallback, justpassLogout, justpassStart, requireJustpassConfirmation } from './hosts/express.js'
export type { JustpassCallbackOptions } from './hosts/express.js'
export type { JustpassConfirmationOptions, JustpassLogoutOptions } from './hosts/confirm-and-logout.js'
export { takeJustpassNotice } from './hosts/callback-answer.js'
export type { JustpassNotice } from './hosts/callback-answer.js'
export { JustpassConfigError, JustpassError, JustpassProviderError, JustpassRefusal, JustpassUsageError } from './errors.js'
export type { JustpassTokens, JustpassUserinfo, VerifiedFlow } from './code-exchange.js'
export type { JustpassHostResponse } from './host-objects.js'
