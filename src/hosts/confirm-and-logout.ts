/**
 * The passkey's life after sign-in, whatever the host: the guard that asks the logged-in
 * user to confirm it is them before a sensitive action, and logout at the site and then
 * at the provider. Written against the few facts each needs of a request; the Express,
 * Fastify and Koa handlers each add a few lines of their host.
 *
 * @packageDocumentation
 */
import { JustpassConfigError, JustpassUsageError } from '../errors.js'
import { CONFIRMED_AT_KEY, ID_TOKEN_KEY } from '../session-keys.js'
import type { JustpassLogoutRequest } from '../strategy.js'
import { optionalInteger, optionalString, plainHttpURL, settingsObject, type RawSettings } from '../validate.js'

/** Options every host's confirmation guard takes. */
export interface JustpassConfirmationOptions {
  /** How recent, in seconds, a confirmation must be for the request to go through (1 to 86400). Default `300`. */
  maxAge?: number
  /** The strategy name. Default `'justpass'`. */
  strategy?: string
  /** The request header in which a mobile app names its platform. Default `'amwal-platform'`, as the strategy's `platformHeader`. */
  platformHeader?: string
  /** The platform value that asks for JSON answers: an app gets `401` JSON instead of a confirmation flow. Default `'app'`. */
  appPlatform?: string
  /**
   * Where to return after confirming a request that is not a GET or HEAD (a form's POST
   * cannot be sent again): a same-site path. Default: the request's own URL, asked for
   * with GET.
   */
  returnTo?: string
}

/** The guard's options, validated, with their defaults. */
export interface ConfirmationSettings {
  maxAge: number
  strategy: string
  platformHeader: string
  appPlatform: string
  returnTo: string | undefined
}

const GUARD_OPTIONS = new Set(['maxAge', 'strategy', 'platformHeader', 'appPlatform', 'returnTo', 'authenticator'])

/** Validate a guard's options once, when the guard is made. */
function resolveConfirmationOptions(options: JustpassConfirmationOptions | undefined): ConfirmationSettings {
  const raw = settingsObject(options ?? {}, 'options')
  for (const key of Object.keys(raw)) if (!GUARD_OPTIONS.has(key)) throw new JustpassConfigError(key, 'is not an option of the confirmation guard')
  const returnTo = raw.returnTo
  if (returnTo !== undefined && (typeof returnTo !== 'string' || !returnTo.startsWith('/') || returnTo.startsWith('//'))) {
    throw new JustpassConfigError('returnTo', 'must be a path on this site, starting with a single /')
  }
  return {
    maxAge: optionalInteger(raw, 'maxAge', 300, 1, 86_400),
    strategy: optionalString(raw, 'strategy', 'justpass'),
    platformHeader: optionalString(raw, 'platformHeader', 'amwal-platform', /^[A-Za-z0-9-]+$/).toLowerCase(),
    appPlatform: optionalString(raw, 'appPlatform', 'app'),
    returnTo,
  }
}

/** What the guard decides for one request: let it through, answer an app, or start a confirmation returning to `returnTo`. */
export type ConfirmationDecision = { pass: true } | { pass: false; app: true } | { pass: false; app: false; returnTo: string }

/** The JSON an app gets when the request needs a fresh confirmation. */
export const CONFIRMATION_REQUIRED = Object.freeze({
  err: 'Confirm it is you with your passkey, then try again.',
  reason: 'confirmation_required',
})

/**
 * Whether a request may go through: the session's last confirmation is no older than
 * `maxAge` (and not in the future); else an app is answered, and a browser is sent to
 * confirm, then back to the request's URL (GET) or the guard's `returnTo`.
 *
 * @param request - the request's session, method, URL and platform header value
 */
function decideConfirmation(
  settings: ConfirmationSettings,
  request: { session: Record<string, unknown> | undefined; method: string; url: string; platform: unknown },
): ConfirmationDecision {
  if (request.session === undefined) throw new JustpassUsageError('no session on the request: add session middleware before the confirmation guard')
  const at = request.session[CONFIRMED_AT_KEY]
  const now = Math.floor(Date.now() / 1000)
  if (typeof at === 'number' && at <= now && now - at <= settings.maxAge) return { pass: true }
  if (request.platform === settings.appPlatform) return { pass: false, app: true }
  const safe = request.method === 'GET' || request.method === 'HEAD'
  return { pass: false, app: false, returnTo: safe ? request.url : (settings.returnTo ?? request.url) }
}

/** Options every host's logout handler takes. */
export interface JustpassLogoutOptions {
  /** The strategy name. Default `'justpass'`. */
  strategy?: string
  /**
   * Where the provider sends the browser after logging it out (`post_logout_redirect_uri`):
   * an absolute URL, registered at the provider for this client. Default: none, and the
   * provider shows its own page.
   */
  postLogoutRedirectURL?: string
  /** Where the browser goes when logout ends the site's session only (`endSessionURL: false`). Default `'/'`. */
  homeURL?: string
}

/** The logout handler's options, validated, with their defaults. */
export interface LogoutSettings {
  strategy: string
  postLogoutRedirectURL: string | undefined
  homeURL: string
}

const LOGOUT_OPTIONS = new Set(['strategy', 'postLogoutRedirectURL', 'homeURL', 'authenticator'])

/** Validate a logout handler's options once, when the handler is made. */
function resolveLogoutOptions(options: JustpassLogoutOptions | undefined): LogoutSettings {
  const raw: RawSettings = settingsObject(options ?? {}, 'options')
  for (const key of Object.keys(raw)) if (!LOGOUT_OPTIONS.has(key)) throw new JustpassConfigError(key, 'is not an option of the logout handler')
  return {
    strategy: optionalString(raw, 'strategy', 'justpass'),
    postLogoutRedirectURL: raw.postLogoutRedirectURL === undefined ? undefined : plainHttpURL('postLogoutRedirectURL', raw.postLogoutRedirectURL).href,
    homeURL: optionalString(raw, 'homeURL', '/'),
  }
}

/** What logout needs of the strategy: the URL of logout at the provider. */
interface LogoutCapable {
  logoutURL(request: JustpassLogoutRequest): Promise<string | undefined>
}

/**
 * The justpass strategy registered under `name` with a passport instance: passport's and
 * koa-passport's `_strategy(name)`, or @fastify/passport's `strategy(name)`.
 *
 * @throws {@link JustpassUsageError} when there is none, or it is not a justpass strategy
 */
function justpassStrategyNamed(authenticator: unknown, name: string): LogoutCapable {
  const holder = authenticator as { strategy?: (name: string) => unknown; _strategy?: (name: string) => unknown }
  const found = typeof holder.strategy === 'function' ? holder.strategy(name) : typeof holder._strategy === 'function' ? holder._strategy(name) : undefined
  if (typeof (found as Partial<LogoutCapable> | undefined)?.logoutURL !== 'function') {
    throw new JustpassUsageError(`no justpass strategy is registered as "${name}" with this passport instance: pass the authenticator and strategy name it was registered with`)
  }
  return found as LogoutCapable
}

/**
 * Take what logout at the provider needs from the session before it ends: the kept ID
 * token, when there is one (a session from before it was kept has none).
 */
function idTokenOf(session: Record<string, unknown> | undefined): string | undefined {
  const token = session?.[ID_TOKEN_KEY]
  return typeof token === 'string' && token !== '' ? token : undefined
}

/** Where the browser goes once the site's session has ended: logout at the provider, or home. */
async function afterLogoutURL(strategy: LogoutCapable, settings: LogoutSettings, idTokenHint: string | undefined): Promise<string> {
  const request: JustpassLogoutRequest = {}
  if (idTokenHint !== undefined) request.idTokenHint = idTokenHint
  if (settings.postLogoutRedirectURL !== undefined) request.postLogoutRedirectURL = settings.postLogoutRedirectURL
  return (await strategy.logoutURL(request)) ?? settings.homeURL
}

/** A confirmation guard, host-neutral: its options validated once, and its decision for each request. */
export interface ConfirmationGuard {
  /** The name of the strategy a confirmation runs. */
  strategy: string
  /** The header a mobile app names its platform in (lower case). */
  platformHeader: string
  /**
   * Whether a request may go through, or what to do instead.
   *
   * @param request - the request's session, method, URL (path and query, as sent) and platform header value
   * @throws {@link JustpassUsageError} when the request has no session
   */
  decide(request: { session: unknown; method: string; url: string; platform: unknown }): ConfirmationDecision
}

/**
 * The host-neutral part of every host's confirmation guard.
 *
 * @throws {@link JustpassConfigError} when an option is malformed
 */
export function confirmationGuard(options: JustpassConfirmationOptions | undefined): ConfirmationGuard {
  const settings = resolveConfirmationOptions(options)
  return {
    strategy: settings.strategy,
    platformHeader: settings.platformHeader,
    decide: (request) => decideConfirmation(settings, { ...request, session: sessionRecord(request.session) }),
  }
}

/** A logout begun before the site's session ends: it has found the strategy and kept the session's ID token. */
export interface BegunLogout {
  /** Where the browser goes once the site's session has ended: logout at the provider, or home. */
  destination(): Promise<string>
}

/**
 * The host-neutral part of every host's logout handler: options validated once; for each
 * request, `begin` (before the session ends) finds the strategy registered with
 * `authenticator` and keeps the session's ID token.
 *
 * @throws {@link JustpassConfigError} when an option is malformed
 */
export function logoutSteps(options: JustpassLogoutOptions | undefined): { begin(authenticator: unknown, session: unknown): BegunLogout } {
  const settings = resolveLogoutOptions(options)
  return {
    begin(authenticator, session) {
      const strategy = justpassStrategyNamed(authenticator, settings.strategy)
      const idToken = idTokenOf(sessionRecord(session))
      return { destination: () => afterLogoutURL(strategy, settings, idToken) }
    },
  }
}

/** A session as a record, or `undefined` when there is none (koa-session's `null` included). */
function sessionRecord(session: unknown): Record<string, unknown> | undefined {
  return typeof session === 'object' && session !== null ? (session as Record<string, unknown>) : undefined
}
