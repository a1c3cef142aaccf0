/**
 * The callback route's outcome for hosts other than Express: the same dispatch as
 * `justpassCallback` (REG and LOGIN, success and failure, notices, a mobile app's JSON),
 * written against a small description of the host so that each adapter stays a few lines.
 *
 * @packageDocumentation
 */
import { JustpassConfigError } from '../errors.js'
import type { JustpassNotice } from '../outcome.js'
import type { JustpassFailureInfo, JustpassFlowInfo } from '../strategy.js'

/** Options every host's callback handler takes; the hooks get the host's own request objects. */
export interface JustpassHostCallbackOptions<Hook extends unknown[], User> {
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
  /** Issues the `token` a mobile app gets after LOGIN (see `justpassCallback`); no default. */
  appToken?: (...args: [...Hook, User]) => string | Promise<string>
  /** REG succeeded: answer instead of the default (after the flag is set and the session user refreshed). */
  onRegistered?: (...args: [...Hook, JustpassFlowInfo]) => void | Promise<void>
  /** REG failed: answer instead of the default (nothing changed). */
  onRegistrationFailed?: (...args: [...Hook, Partial<JustpassFailureInfo>]) => void | Promise<void>
  /** LOGIN succeeded: answer instead of the default (after the user is logged in on a regenerated session). */
  onLoggedIn?: (...args: [...Hook, JustpassFlowInfo]) => void | Promise<void>
  /** LOGIN failed (or the flow was not found): answer instead of the default. */
  onLoginFailed?: (...args: [...Hook, Partial<JustpassFailureInfo>]) => void | Promise<void>
}

/** What the outcome needs of a host, for one request. */
export interface OutcomeHost<Hook extends unknown[]> {
  /** The host's objects the hooks receive (`request, reply` or `ctx`). */
  hookArgs: Hook
  /** The request's session (notices go there), when there is one. */
  session(): Record<string, unknown> | undefined
  /** Log `user` in; `keepSessionInfo` keeps the session's data (REG), else it starts afresh (LOGIN). */
  logIn(user: unknown, keepSessionInfo: boolean): Promise<void>
  /** Answer with a redirect to `url`. */
  redirect(url: string): void
  /** Answer `status` with a JSON `body`, never cached. */
  json(status: number, body: unknown): void
}

const HOOKS = ['onRegistered', 'onRegistrationFailed', 'onLoggedIn', 'onLoginFailed', 'appToken'] as const

/** The options with their defaults; throws {@link JustpassConfigError} on a hook that is not a function. */
export function resolveHostCallbackOptions<Hook extends unknown[], User>(options: JustpassHostCallbackOptions<Hook, User>) {
  for (const name of HOOKS) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new JustpassConfigError(name, 'must be a function')
  }
  return {
    ...options,
    strategy: options.strategy ?? 'justpass',
    homeURL: options.homeURL ?? '/',
    loginURL: options.loginURL ?? '/login',
    noticeKey: options.noticeKey ?? 'justpass_notice',
    appPlatform: options.appPlatform ?? 'app',
  }
}

/** Answer a callback whose strategy reported `user` (success) or no user (failure, with `info`). */
export async function settleOutcome<Hook extends unknown[], User>(
  host: OutcomeHost<Hook>,
  options: ReturnType<typeof resolveHostCallbackOptions<Hook, User>>,
  user: User | false | null | undefined,
  info: unknown,
): Promise<void> {
  if (!user) {
    const failure = (info ?? {}) as Partial<JustpassFailureInfo>
    const mode = failure.mode ?? 'login'
    const hook = mode === 'register' ? options.onRegistrationFailed : options.onLoginFailed
    if (hook) return hook(...host.hookArgs, failure)
    const notice: JustpassNotice = { mode, ok: false, reason: failure.reason ?? 'unknown', message: failure.message ?? 'passkey sign-in failed' }
    if (failure.platform === options.appPlatform) return host.json(401, { err: notice.message, reason: notice.reason })
    const session = host.session()
    if (session) session[options.noticeKey] = notice
    return host.redirect(mode === 'register' ? options.homeURL : options.loginURL)
  }
  const flow = info as JustpassFlowInfo
  // REG keeps the session's data (the user was logged in already); LOGIN starts afresh.
  await host.logIn(user, flow.mode === 'register')
  const hook = flow.mode === 'register' ? options.onRegistered : options.onLoggedIn
  if (hook) return hook(...host.hookArgs, flow)
  if (flow.platform === options.appPlatform) {
    const body = flow.mode === 'register'
      ? { username: flow.username, justpassEnabled: true }
      : options.appToken ? { username: flow.username, token: await options.appToken(...host.hookArgs, user) } : { username: flow.username }
    return host.json(200, body)
  }
  const session = host.session()
  if (session) session[options.noticeKey] = { mode: flow.mode, ok: true } satisfies JustpassNotice
  host.redirect(flow.returnTo ?? options.homeURL)
}

/** Take the notice out of `session`, once. */
export function takeNotice(session: Record<string, unknown> | undefined, noticeKey: string): JustpassNotice | undefined {
  if (!session) return undefined
  const notice = session[noticeKey] as JustpassNotice | undefined
  delete session[noticeKey]
  return notice
}
