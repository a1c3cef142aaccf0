/**
 * The callback route's outcome, mode by mode: the four handlers of justpass.me's Django
 * integration (REG success and failure, LOGIN success and failure), with its defaults,
 * and JSON answers for mobile apps.
 *
 * @packageDocumentation
 */
import passport from 'passport'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import type { JustpassFailureInfo, JustpassFlowInfo } from './strategy.js'
import type { JustpassMode } from './options.js'
import { JustpassConfigError } from './errors.js'

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

/** Options of {@link justpassCallback}. */
export interface JustpassCallbackOptions {
  /** The passport instance the strategy is registered with. Default: passport's default instance. */
  authenticator?: passport.Authenticator
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
   * once the user is logged in. No default: without it, the LOGIN answer has no `token`,
   * and the app uses the session cookie that the same answer sets.
   */
  appToken?: (req: Request, user: Express.User) => string | Promise<string>
  /**
   * The JSON answers mobile apps get. `'justpass'` (the default): the answers described
   * at {@link justpassCallback}. `'django'`: exactly those of justpass.me's Django client,
   * for apps already shipped against it: LOGIN success `200 {"username": …, "token": …}`
   * (`token` from `appToken`, else the session id, as Django answers its session key),
   * LOGIN failure `200 {"err": "Failed"}`, and REG answered as for a browser (redirects),
   * as Django does. Bodies are formatted as Django's `JsonResponse` formats them.
   */
  appAnswers?: 'justpass' | 'django'
  /** REG succeeded: answer instead of the default (after the flag is set and the session user refreshed). */
  onRegistered?: JustpassOutcomeHook<JustpassFlowInfo>
  /** REG failed: answer instead of the default (nothing changed). */
  onRegistrationFailed?: JustpassOutcomeHook<Partial<JustpassFailureInfo>>
  /** LOGIN succeeded: answer instead of the default (after the user is logged in on a regenerated session). */
  onLoggedIn?: JustpassOutcomeHook<JustpassFlowInfo>
  /** LOGIN failed (or the flow was not found): answer instead of the default. */
  onLoginFailed?: JustpassOutcomeHook<Partial<JustpassFailureInfo>>
}

/**
 * An outcome hook of {@link justpassCallback}: it answers the request for one outcome,
 * in place of the default (notice and redirect, or an app's JSON). It may be async; an
 * error it throws (or rejects with) goes to `next(err)`.
 */
export type JustpassOutcomeHook<Info> = (req: Request, res: Response, info: Info) => void | Promise<void>

/**
 * `value` as Python's `json.dumps` writes a flat object of strings and booleans with its
 * default settings (Django's `JsonResponse`): `", "` and `": "` as separators, every
 * character outside printable ASCII as a `\uXXXX` escape.
 */
export function djangoJSON(value: Record<string, string | boolean>): string {
  const ascii = (text: string) => JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return `{${Object.entries(value).map(([key, item]) => `${ascii(key)}: ${typeof item === 'string' ? ascii(item) : String(item)}`).join(', ')}}`
}

/** Send a body formatted by {@link djangoJSON} as Django's `JsonResponse` does. */
function sendDjangoJSON(res: Response, value: Record<string, string | boolean>): void {
  const body = djangoJSON(value)
  res.statusCode = 200
  res.setHeader('Content-Type', 'application/json')
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('Content-Length', Buffer.byteLength(body))
  res.end(body)
}

type Session = Record<string, unknown>

const HOOKS = ['onRegistered', 'onRegistrationFailed', 'onLoggedIn', 'onLoginFailed'] as const

function resolveHooks(options: JustpassCallbackOptions): Pick<JustpassCallbackOptions, (typeof HOOKS)[number]> {
  for (const name of HOOKS) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new JustpassConfigError(name, 'must be a function (req, res, info)')
  }
  return options
}

function resolveAppAnswers(value: unknown): 'justpass' | 'django' {
  if (value === undefined || value === 'justpass' || value === 'django') return value ?? 'justpass'
  throw new JustpassConfigError('appAnswers', "must be 'justpass' or 'django'")
}

function sessionOf(req: Request): Session {
  return ((req as unknown as { session?: Session }).session) ?? {}
}

/**
 * A route handler for the callback route that dispatches on the flow's mode:
 * - REG success: the user store's flag is set (by the strategy), the session user is
 *   refreshed, and the browser goes to `returnTo` or home with a success notice;
 * - REG failure: home, with a failure notice; nothing changed;
 * - LOGIN success: a new session for the user (its id regenerated), then `returnTo` or
 *   home, with a success notice;
 * - LOGIN failure: the login page with a failure notice.
 * A mobile app (the flow started with the platform header) gets JSON instead of
 * redirects: `{ username }` after LOGIN (logged in by the session cookie the answer
 * sets), `{ username, token }` when the `appToken` option is given,
 * `{ username, justpassEnabled: true }` after REG, and `{ err, reason }` with status 401
 * on failure. Every JSON answer carries `Cache-Control: no-store`.
 * Errors (provider down, misconfiguration) go to `next(err)`.
 */
export function justpassCallback(options: JustpassCallbackOptions = {}): RequestHandler {
  const authenticator = options.authenticator ?? passport
  const strategy = options.strategy ?? 'justpass'
  const homeURL = options.homeURL ?? '/'
  const loginURL = options.loginURL ?? '/login'
  const noticeKey = options.noticeKey ?? 'justpass_notice'
  const appPlatform = options.appPlatform ?? 'app'
  const appToken = options.appToken
  const django = resolveAppAnswers(options.appAnswers) === 'django'
  const hooks = resolveHooks(options)

  return function justpassCallbackHandler(req: Request, res: Response, next: NextFunction): void {
    const onFailure = async (failure: Partial<JustpassFailureInfo> | undefined): Promise<void> => {
      const mode = failure?.mode ?? 'login'
      const hook = mode === 'register' ? hooks.onRegistrationFailed : hooks.onLoginFailed
      if (hook) return hook(req, res, failure ?? {})
      const notice: JustpassNotice = { mode, ok: false, reason: failure?.reason ?? 'unknown', message: failure?.message ?? 'passkey sign-in failed' }
      if (failure?.platform === appPlatform && django && mode === 'login') return sendDjangoJSON(res, { err: 'Failed' })
      if (failure?.platform === appPlatform && !django) {
        res.status(401).set('Cache-Control', 'no-store').json({ err: notice.message, reason: notice.reason })
        return
      }
      sessionOf(req)[noticeKey] = notice
      res.redirect(mode === 'register' ? homeURL : loginURL)
    }

    const onSuccess = async (user: Express.User, flow: JustpassFlowInfo): Promise<void> => {
      // REG keeps the session's data (the user was logged in already); LOGIN starts afresh.
      await new Promise<void>((resolve, reject) => req.logIn(user, { session: true, keepSessionInfo: flow.mode === 'register' }, (err) => (err ? reject(err) : resolve())))
      const hook = flow.mode === 'register' ? hooks.onRegistered : hooks.onLoggedIn
      if (hook) return hook(req, res, flow)
      if (flow.platform === appPlatform && django && flow.mode === 'login') {
        return sendDjangoJSON(res, { username: flow.username ?? '', token: appToken ? await appToken(req, user) : req.sessionID })
      }
      if (flow.platform === appPlatform && !django) {
        const body = flow.mode === 'register'
          ? { username: flow.username, justpassEnabled: true }
          : appToken ? { username: flow.username, token: await appToken(req, user) } : { username: flow.username }
        res.set('Cache-Control', 'no-store').json(body)
        return
      }
      sessionOf(req)[noticeKey] = { mode: flow.mode, ok: true } satisfies JustpassNotice
      res.redirect(flow.returnTo ?? homeURL)
    }

    const onResult = (err: unknown, user: Express.User | false | null, info?: JustpassFlowInfo | JustpassFailureInfo): void => {
      if (err) return next(err)
      if (!user) return void onFailure(info as Partial<JustpassFailureInfo> | undefined).catch(next)
      onSuccess(user, info as JustpassFlowInfo).catch(next)
    }
    authenticator.authenticate(strategy, onResult)(req, res, next)
  }
}

/**
 * Take the {@link JustpassNotice} the callback left in the session, once: the page that
 * shows it calls this, and the notice is gone for the next page.
 */
export function takeJustpassNotice(req: Request, noticeKey = 'justpass_notice'): JustpassNotice | undefined {
  const session = sessionOf(req)
  const notice = session[noticeKey] as JustpassNotice | undefined
  delete session[noticeKey]
  return notice
}
