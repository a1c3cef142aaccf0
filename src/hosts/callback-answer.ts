/**
 * The callback route's outcome, whatever the host: REG and LOGIN, success and failure,
 * hooks, notices, a mobile app's JSON (ours or the Django client's). Written against a
 * small description of the host, so that `justpassCallback` (Express) and the Fastify
 * and Koa handlers share one dispatch and each stays a few lines.
 *
 * @packageDocumentation
 */
import { JustpassConfigError, JustpassProviderError } from '../errors.js'
import type { JustpassMode } from '../flow.js'
import type { JustpassFailureInfo, JustpassFlowInfo } from '../flow.js'
import { ID_TOKEN_KEY, OWNED_SESSION_FIELDS, SESSION_OWN_FIELDS } from '../session-keys.js'

/** The notice left in the session for the next page to show. */
export interface JustpassNotice {
  /** The flow the notice is about. */
  mode: JustpassMode
  /** Whether the flow succeeded. */
  ok: boolean
  /** On failure: the refusal's reason code, or `provider_unavailable` when the provider did not answer. */
  reason?: string
  /** What happened, as a sentence safe to show the user (docs/outcomes.md lists them). */
  message: string
  /** On `provider_denied`: the provider's `error` code; `access_denied` is the user's own cancel. */
  providerError?: string
}

/** The sentences of the success notices, by mode. */
export const SUCCESS_MESSAGES: Readonly<Record<JustpassMode, string>> = Object.freeze({
  register: 'Passkey login is on: next time, sign in with your passkey.',
  login: 'You are signed in with your passkey.',
  confirm: 'Thank you: you confirmed it is you with your passkey.',
})

/** The sentence of a provider outage at the callback. */
export const PROVIDER_UNAVAILABLE_MESSAGE = 'The passkey service did not answer, so nothing was changed. Try again in a few minutes.'

/**
 * The options of the callback handler on every host, declared once: `justpassCallback`
 * of `passport-justpass` (Express), `passport-justpass/fastify` and `passport-justpass/koa`
 * add their `authenticator` to them.
 *
 * @typeParam Args - what the host's handler receives, handed to the outcome hooks first:
 *   `[req, res]` on Express, `[request, reply]` on Fastify, `[ctx]` on Koa
 * @typeParam HostRequest - the object that carries the session: `req`, `request` or `ctx`
 * @typeParam User - the site's user object
 */
export interface JustpassHostCallbackOptions<Args extends unknown[], HostRequest, User> {
  /** The strategy name. Default `'justpass'`. */
  strategy?: string
  /** Where REG (success or failure) and LOGIN success go when there is no `returnTo`. Default `'/'`. */
  homeURL?: string
  /** Where a failed LOGIN goes, to show the login page again. Default `'/login'`. */
  loginURL?: string
  /** The session key of the {@link JustpassNotice}. Default `'justpass_notice'`. */
  noticeKey?: string
  /** The platform value that asks for JSON answers instead of redirects. Default `'app'`. */
  appPlatform?: string
  /**
   * Issues the `token` a mobile app gets after LOGIN: a credential of the site's own (an
   * API token for `user`, say) for an app that does not call the site with cookies. Called
   * with the host's request object (`req`, `request` or `ctx`) once the user is logged in.
   * No default: without it, the LOGIN answer has no `token`, and the app uses the session
   * cookie that the same answer sets.
   */
  appToken?: (request: HostRequest, user: User) => string | Promise<string>
  /** REG succeeded: answer instead of the default (after the flag is set and the session user refreshed). */
  onRegistered?: (...args: [...Args, JustpassFlowInfo]) => void | Promise<void>
  /** REG failed: answer instead of the default (nothing changed). */
  onRegistrationFailed?: (...args: [...Args, Partial<JustpassFailureInfo>]) => void | Promise<void>
  /** LOGIN succeeded: answer instead of the default (after the user is logged in on a regenerated session). */
  onLoggedIn?: (...args: [...Args, JustpassFlowInfo]) => void | Promise<void>
  /** LOGIN failed (or the flow was not found): answer instead of the default. */
  onLoginFailed?: (...args: [...Args, Partial<JustpassFailureInfo>]) => void | Promise<void>
  /** A confirmation succeeded: answer instead of the default (the session, its user and its data unchanged but for `justpassConfirmedAt`). */
  onConfirmed?: (...args: [...Args, JustpassFlowInfo]) => void | Promise<void>
  /** A confirmation failed: answer instead of the default (nothing changed). */
  onConfirmFailed?: (...args: [...Args, Partial<JustpassFailureInfo>]) => void | Promise<void>
  /**
   * The provider did not answer at the callback (down, too slow, a 5xx: a
   * {@link JustpassProviderError}): answer instead of the default, a failure notice
   * (`provider_unavailable`, "The passkey service did not answer…") and the redirect of a
   * failed flow, or `503` `{"err", "reason": "provider_unavailable"}` for a mobile app.
   * Throw the error to hand it to the host's error handling instead.
   */
  onProviderUnavailable?: (...args: [...Args, JustpassProviderError]) => void | Promise<void>
  /**
   * Session fields that survive a LOGIN (an anonymous cart, the chosen language): copied
   * from the session the visitor had into the new one. Everything else is dropped and
   * the session id still changes. Fields that passport, the session middleware or
   * passport-justpass own (`passport`, `cookie`, `justpass_notice`, …) are refused with a
   * {@link JustpassConfigError}. Default: none.
   */
  keepSessionData?: readonly string[]
}

/** What the outcome needs of a host, for one request. */
export interface OutcomeHost<Hook extends unknown[]> {
  /** The host's objects the hooks receive (`req, res`, `request, reply` or `ctx`). */
  hookArgs: Hook
  /** The host's object that carries the session (`req`, `request` or `ctx`), for `appToken`. */
  request: unknown
  /** The request's session (notices go there), when there is one. */
  session(): Record<string, unknown> | undefined
  /** Log `user` in; `keepSessionInfo` keeps the session's data (REG), else it starts afresh (LOGIN). */
  logIn(user: unknown, keepSessionInfo: boolean): Promise<void>
  /** Whether a user is logged in on the request's session. */
  loggedIn(): boolean
  /** Answer with a redirect to `url`. */
  redirect(url: string): void
  /** Answer `status` with a JSON `body`, never cached. */
  json(status: number, body: unknown): void
  /**
   * Answer `200` with a body formatted as the Django client's `JsonResponse` does, never
   * cached; only hosts that offer `appAnswers: 'django'` have it.
   */
  djangoJSON?(body: Record<string, string>): void
  /** The session id, the Django client's app `token` when `appToken` is not given. */
  sessionID?(): string
}

const HOOKS = ['onRegistered', 'onRegistrationFailed', 'onLoggedIn', 'onLoginFailed', 'onConfirmed', 'onConfirmFailed', 'onProviderUnavailable', 'appToken'] as const

/** The `keepSessionData` names, checked: strings, none of them a field someone else owns. */
function resolveKeepSessionData(value: unknown, noticeKey: string): readonly string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string' || name === '')) {
    throw new JustpassConfigError('keepSessionData', 'must be an array of session field names, as in keepSessionData: [\'cart\', \'locale\']')
  }
  for (const name of value as string[]) {
    if (OWNED_SESSION_FIELDS.has(name) || name === noticeKey || name.startsWith('_')) {
      throw new JustpassConfigError('keepSessionData', `may not name "${name}": passport, the session middleware or passport-justpass owns that field`)
    }
  }
  return Object.freeze([...new Set(value as string[])])
}

/** The options with their defaults; throws {@link JustpassConfigError} on a hook that is not a function or a bad `keepSessionData`. */
export function resolveHostCallbackOptions<Hook extends unknown[], User>(options: JustpassHostCallbackOptions<Hook, never, User>) {
  for (const name of HOOKS) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new JustpassConfigError(name, 'must be a function')
  }
  const noticeKey = options.noticeKey ?? 'justpass_notice'
  return {
    ...options,
    strategy: options.strategy ?? 'justpass',
    homeURL: options.homeURL ?? '/',
    loginURL: options.loginURL ?? '/login',
    noticeKey,
    appPlatform: options.appPlatform ?? 'app',
    keepSessionData: resolveKeepSessionData(options.keepSessionData, noticeKey),
  }
}

/**
 * `value` as Python's `json.dumps` writes a flat object of strings and booleans with its
 * default settings (Django's `JsonResponse`): `", "` and `": "` as separators, every
 * character outside printable ASCII as a `\uXXXX` escape.
 */
export function djangoJSON(value: Record<string, string | boolean>): string {
  const ascii = (text: string) => JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return `{${Object.entries(value).map(([key, item]) => `${ascii(key)}: ${typeof item === 'string' ? ascii(item) : String(item)}`).join(', ')}}`
}

/** The hooks of each mode's success and failure. */
function hooksOf<Hook extends unknown[], User>(options: ReturnType<typeof resolveHostCallbackOptions<Hook, User>>, mode: JustpassMode) {
  if (mode === 'register') return { success: options.onRegistered, failure: options.onRegistrationFailed }
  if (mode === 'confirm') return { success: options.onConfirmed, failure: options.onConfirmFailed }
  return { success: options.onLoggedIn, failure: options.onLoginFailed }
}

/**
 * Log `user` in as the flow's mode wants it: REG keeps the session's data (the user was
 * logged in already); LOGIN starts afresh, but for the `keepSessionData` fields; a
 * confirmation changes nobody and nothing. Then keep the flow's ID token in the session,
 * for logout at the provider.
 */
async function logInFor(host: OutcomeHost<unknown[]>, user: unknown, flow: JustpassFlowInfo, keep: readonly string[]): Promise<void> {
  if (flow.mode === 'register') await host.logIn(user, true)
  else if (flow.mode === 'login') {
    const kept = pick(host.session(), keep)
    await host.logIn(user, false)
    const session = host.session()
    if (session !== undefined) {
      // Some session middleware keeps the old data through a regeneration (koa-session): drop it here.
      for (const name of Object.keys(session)) {
        if (!SESSION_OWN_FIELDS.has(name) && !name.startsWith('_') && typeof session[name] !== 'function') delete session[name]
      }
      Object.assign(session, kept)
    }
  }
  const session = host.session()
  if (session !== undefined && flow.idToken !== undefined) session[ID_TOKEN_KEY] = flow.idToken
}

/** The fields `names` that `session` has, copied. */
function pick(session: Record<string, unknown> | undefined, names: readonly string[]): Record<string, unknown> {
  const picked: Record<string, unknown> = {}
  if (session === undefined) return picked
  for (const name of names) if (Object.hasOwn(session, name)) picked[name] = session[name]
  return picked
}

/** The JSON a mobile app gets for a flow that succeeded. */
async function appAnswer<Hook extends unknown[], User>(host: OutcomeHost<Hook>, options: ReturnType<typeof resolveHostCallbackOptions<Hook, User>>, user: User, flow: JustpassFlowInfo) {
  if (flow.mode === 'register') return { username: flow.username, justpassEnabled: true }
  if (flow.mode === 'confirm') return { username: flow.username, confirmed: true }
  return options.appToken ? { username: flow.username, token: await options.appToken(host.request as never, user) } : { username: flow.username }
}

/**
 * Answer a callback as the strategy reported it: an error (a provider outage becomes a
 * failure notice, anything else is thrown to the host's error handling), `user`
 * (success) or no user (failure, with `info`).
 */
export async function settleCallback<Hook extends unknown[], User>(
  host: OutcomeHost<Hook>,
  options: ReturnType<typeof resolveHostCallbackOptions<Hook, User>>,
  err: unknown,
  user: User | false | null | undefined,
  info: unknown,
): Promise<void> {
  if (err instanceof JustpassProviderError) return settleOutage(host, options, err)
  if (err) throw err
  return settleOutcome(host, options, user, info)
}

/** Answer a provider outage at the callback: the hook, `503` JSON for an app, or a notice and the failed flow's redirect. */
async function settleOutage<Hook extends unknown[], User>(
  host: OutcomeHost<Hook>,
  options: ReturnType<typeof resolveHostCallbackOptions<Hook, User>>,
  err: JustpassProviderError,
): Promise<void> {
  if (options.onProviderUnavailable) return options.onProviderUnavailable(...host.hookArgs, err)
  if (err.platform === options.appPlatform) return host.json(503, { err: PROVIDER_UNAVAILABLE_MESSAGE, reason: 'provider_unavailable' })
  const mode = err.mode ?? 'login'
  const session = host.session()
  if (session) session[options.noticeKey] = { mode, ok: false, reason: 'provider_unavailable', message: PROVIDER_UNAVAILABLE_MESSAGE } satisfies JustpassNotice
  return host.redirect(mode === 'login' ? options.loginURL : options.homeURL)
}

/**
 * Answer a callback whose strategy reported `user` (success) or no user (failure, with `info`). */
export async function settleOutcome<Hook extends unknown[], User>(
  host: OutcomeHost<Hook>,
  options: ReturnType<typeof resolveHostCallbackOptions<Hook, User>>,
  user: User | false | null | undefined,
  info: unknown,
): Promise<void> {
  if (!user) {
    const failure = (info ?? {}) as Partial<JustpassFailureInfo>
    const mode = failure.mode ?? 'login'
    const hook = hooksOf(options, mode).failure
    if (hook) return hook(...host.hookArgs, failure)
    const notice: JustpassNotice = { mode, ok: false, reason: failure.reason ?? 'unknown', message: failure.message ?? 'Passkey sign-in failed. Start again.' }
    if (failure.providerError !== undefined) notice.providerError = failure.providerError
    if (failure.alreadyUsed === true && failure.platform !== options.appPlatform && host.loggedIn()) {
      // A signed-in user back on a callback already used (Back, a reload): nothing to say.
      return host.redirect(options.homeURL)
    }
    if (failure.platform === options.appPlatform && host.djangoJSON) {
      // The Django client answers a failed LOGIN with this; a failed REG is redirected.
      if (mode === 'login') return host.djangoJSON({ err: 'Failed' })
    } else if (failure.platform === options.appPlatform) {
      return host.json(401, { err: notice.message, reason: notice.reason })
    }
    const session = host.session()
    if (session) session[options.noticeKey] = notice
    // A failed confirmation goes home, not back to the page that asked for it (which would ask again).
    return host.redirect(mode === 'login' ? options.loginURL : options.homeURL)
  }
  const flow = info as JustpassFlowInfo
  await logInFor(host as OutcomeHost<unknown[]>, user, flow, options.keepSessionData)
  const hook = hooksOf(options, flow.mode).success
  if (hook) return hook(...host.hookArgs, flow)
  if (flow.platform === options.appPlatform && host.djangoJSON) {
    // The Django client answers a LOGIN with the session key as token; a REG is redirected.
    if (flow.mode === 'login') {
      const token = options.appToken ? await options.appToken(host.request as never, user) : (host.sessionID?.() ?? '')
      return host.djangoJSON({ username: flow.username ?? '', token })
    }
  } else if (flow.platform === options.appPlatform) {
    return host.json(200, await appAnswer(host, options, user, flow))
  }
  const session = host.session()
  if (session) session[options.noticeKey] = { mode: flow.mode, ok: true, message: SUCCESS_MESSAGES[flow.mode] } satisfies JustpassNotice
  host.redirect(flow.returnTo ?? options.homeURL)
}

/**
 * Take the {@link JustpassNotice} the callback left in the session, once: the page that
 * shows it calls this, and the notice is gone for the next page. `holder` is whatever
 * carries the session on the host: `req` on Express, `request` on Fastify, `ctx` on Koa.
 *
 * @param noticeKey - the callback's `noticeKey` option, when it was given one
 */
export function takeJustpassNotice(holder: object, noticeKey = 'justpass_notice'): JustpassNotice | undefined {
  const session = (holder as { session?: unknown }).session as Record<string, unknown> | null | undefined
  if (typeof session !== 'object' || session === null) return undefined
  const notice = session[noticeKey] as JustpassNotice | undefined
  delete session[noticeKey]
  return notice
}
