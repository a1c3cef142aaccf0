/**
 * The callback route's outcome, whatever the host: REG and LOGIN, success and failure,
 * hooks, notices, a mobile app's JSON (ours or the Django client's). Written against a
 * small description of the host, so that `justpassCallback` (Express) and the Fastify
 * and Koa handlers share one dispatch and each stays a few lines.
 *
 * @packageDocumentation
 */
import { JustpassConfigError } from './errors.js'
import type { JustpassMode } from './flow.js'
import type { JustpassFailureInfo, JustpassFlowInfo } from './flow.js'

/** The notice left in the session for the next page to show. */
export interface JustpassNotice {
  /** The flow the notice is about. */
  mode: JustpassMode
  /** Whether the flow succeeded. */
  ok: boolean
  /** On failure: the refusal's reason code. */
  reason?: string
  /** On failure: the refusal's user-safe message. */
  message?: string
}

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
  /**
   * Answer `200` with a body formatted as the Django client's `JsonResponse` does, never
   * cached; only hosts that offer `appAnswers: 'django'` have it.
   */
  djangoJSON?(body: Record<string, string>): void
  /** The session id, the Django client's app `token` when `appToken` is not given. */
  sessionID?(): string
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

/**
 * `value` as Python's `json.dumps` writes a flat object of strings and booleans with its
 * default settings (Django's `JsonResponse`): `", "` and `": "` as separators, every
 * character outside printable ASCII as a `\uXXXX` escape.
 */
export function djangoJSON(value: Record<string, string | boolean>): string {
  const ascii = (text: string) => JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return `{${Object.entries(value).map(([key, item]) => `${ascii(key)}: ${typeof item === 'string' ? ascii(item) : String(item)}`).join(', ')}}`
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
    const hook = mode === 'register' ? options.onRegistrationFailed : options.onLoginFailed
    if (hook) return hook(...host.hookArgs, failure)
    const notice: JustpassNotice = { mode, ok: false, reason: failure.reason ?? 'unknown', message: failure.message ?? 'passkey sign-in failed' }
    if (failure.platform === options.appPlatform && host.djangoJSON) {
      // The Django client answers a failed LOGIN with this; a failed REG is redirected.
      if (mode === 'login') return host.djangoJSON({ err: 'Failed' })
    } else if (failure.platform === options.appPlatform) {
      return host.json(401, { err: notice.message, reason: notice.reason })
    }
    const session = host.session()
    if (session) session[options.noticeKey] = notice
    return host.redirect(mode === 'register' ? options.homeURL : options.loginURL)
  }
  const flow = info as JustpassFlowInfo
  // REG keeps the session's data (the user was logged in already); LOGIN starts afresh.
  await host.logIn(user, flow.mode === 'register')
  const hook = flow.mode === 'register' ? options.onRegistered : options.onLoggedIn
  if (hook) return hook(...host.hookArgs, flow)
  if (flow.platform === options.appPlatform && host.djangoJSON) {
    // The Django client answers a LOGIN with the session key as token; a REG is redirected.
    if (flow.mode === 'login') {
      const token = options.appToken ? await options.appToken(...host.hookArgs, user) : (host.sessionID?.() ?? '')
      return host.djangoJSON({ username: flow.username ?? '', token })
    }
  } else if (flow.platform === options.appPlatform) {
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
