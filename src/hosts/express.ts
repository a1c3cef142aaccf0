/**
 * The Express helpers of the main entry, the same as on every host: `justpassStart`,
 * `justpassCallback` (the callback route's outcome, mode by mode, with JSON answers for
 * mobile apps), `requireJustpassConfirmation` and `justpassLogout`. Express needs no
 * `justpassSetup`: the strategy reaches the response as `req.res`.
 *
 * @packageDocumentation
 */
import passport from 'passport'
import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { JustpassConfigError } from '../errors.js'
import { CONFIRMATION_REQUIRED, confirmationGuard, logoutSteps, type JustpassConfirmationOptions, type JustpassLogoutOptions } from './confirm-and-logout.js'
import { djangoJSON, resolveHostCallbackOptions, settleCallback, type JustpassHostCallbackOptions, type OutcomeHost } from './callback-answer.js'
import type { JustpassAuthenticateOptions } from '../strategy.js'
import { resolveStartOptions } from './start-options.js'

/**
 * A start route's handler: `app.get('/justpass/reg', justpassStart({ mode: 'register' }))`.
 * It is `passport.authenticate('justpass', { mode })`, the form the other hosts' entries
 * share; either may be used.
 *
 * @throws {@link JustpassConfigError} when an option is unknown or malformed
 */
export function justpassStart(options: JustpassAuthenticateOptions & Pick<JustpassCallbackOptions, 'authenticator' | 'strategy'> = {}): RequestHandler {
  const { strategy, authenticate } = resolveStartOptions(options)
  return (options.authenticator ?? passport).authenticate(strategy, authenticate)
}

/**
 * Options of {@link justpassCallback}: those of every host's callback handler (hooks
 * receive `req, res, info`; `appToken` receives `req, user`), the passport instance, and
 * the JSON answers mobile apps get.
 */
export interface JustpassCallbackOptions extends JustpassHostCallbackOptions<[Request, Response], Request, Express.User> {
  /** The passport instance the strategy is registered with. Default: passport's default instance. */
  authenticator?: passport.Authenticator
  /**
   * The JSON answers mobile apps get. `'justpass'` (the default): the answers described
   * at {@link justpassCallback}. `'django'`: exactly those of justpass.me's Django client,
   * for apps already shipped against it: LOGIN success `200 {"username": …, "token": …}`
   * (`token` from `appToken`, else the session id, as Django answers its session key),
   * LOGIN failure `200 {"err": "Failed"}`, and REG answered as for a browser (redirects),
   * as Django does. Bodies are formatted as Django's `JsonResponse` formats them.
   */
  appAnswers?: 'justpass' | 'django'
}

function resolveAppAnswers(value: unknown): 'justpass' | 'django' {
  if (value === undefined || value === 'justpass' || value === 'django') return value ?? 'justpass'
  throw new JustpassConfigError('appAnswers', "must be 'justpass' or 'django'")
}

/**
 * A route handler for the callback route that dispatches on the flow's mode:
 * - REG success: the user store's flag is set (by the strategy), the session user is
 *   refreshed, and the browser goes to `returnTo` or home with a success notice;
 * - REG failure: home, with a failure notice; nothing changed;
 * - LOGIN success: a new session for the user (its id regenerated), then `returnTo` or
 *   home, with a success notice;
 * - LOGIN failure: the login page with a failure notice;
 * - confirmation success: nobody logged in or out, the session and its data kept, the
 *   time recorded as `req.session.justpassConfirmedAt`, then `returnTo` or home with a
 *   success notice;
 * - confirmation failure: home, with a failure notice; nothing changed.
 * Every success keeps the flow's ID token in the session (`justpassIdToken`) for
 * {@link justpassLogout}.
 * A mobile app (the flow started with the platform header) gets JSON instead of
 * redirects: `{ username }` after LOGIN (logged in by the session cookie the answer
 * sets), `{ username, token }` when the `appToken` option is given,
 * `{ username, justpassEnabled: true }` after REG, `{ username, confirmed: true }` after a
 * confirmation, and `{ err, reason }` with status 401
 * on failure. Every JSON answer carries `Cache-Control: no-store`.
 * A signed-in user back on a callback already used (Back, a reload) goes home, quietly.
 * A provider outage (a {@link JustpassProviderError}) is a failure notice with the reason
 * `provider_unavailable` and the failed flow's redirect, or `503` JSON for an app
 * (`onProviderUnavailable` answers instead); other errors (misconfiguration) go to `next(err)`.
 */
export function justpassCallback(options: JustpassCallbackOptions = {}): RequestHandler {
  const authenticator = options.authenticator ?? passport
  const django = resolveAppAnswers(options.appAnswers) === 'django'
  const resolved = resolveHostCallbackOptions<[Request, Response], Express.User>(options)

  return function justpassCallbackHandler(req: Request, res: Response, next: NextFunction): void {
    const host: OutcomeHost<[Request, Response]> = {
      hookArgs: [req, res],
      request: req,
      session: () => (req as unknown as { session?: Record<string, unknown> }).session,
      loggedIn: () => req.isAuthenticated?.() === true,
      logIn: (user, keepSessionInfo) =>
        new Promise<void>((resolve, reject) => req.logIn(user as Express.User, { session: true, keepSessionInfo }, (err) => (err ? reject(err) : resolve()))),
      redirect: (url) => res.redirect(url),
      json: (status, body) => void res.status(status).set('Cache-Control', 'no-store').json(body),
    }
    if (django) {
      host.djangoJSON = (value) => sendDjangoJSON(res, value)
      host.sessionID = () => req.sessionID
    }
    authenticator.authenticate(resolved.strategy, (err: unknown, user: Express.User | false | null, info: unknown) => {
      settleCallback(host, resolved, err, user, info).catch(next)
    })(req, res, next)
  }
}

/** Send a body formatted by {@link djangoJSON} as Django's `JsonResponse` does: no charset added. */
function sendDjangoJSON(res: Response, value: Record<string, string>): void {
  const body = djangoJSON(value)
  res.statusCode = 200
  res.setHeader('Content-Type', 'application/json')
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('Content-Length', Buffer.byteLength(body))
  res.end(body)
}

/**
 * A guard for sensitive routes (turn passkey login off, change an e-mail address, pay):
 * the request goes through when the session's user confirmed it is them with a passkey
 * in the last `maxAge` seconds (`req.session.justpassConfirmedAt`, set by a successful
 * `mode: 'confirm'` flow); otherwise a browser is sent through a confirmation that
 * returns to the request's URL (GET) afterwards, and a mobile app gets `401`
 * `{"err": …, "reason": "confirmation_required"}`. Without a logged-in user the
 * confirmation is refused (`login_required`). The callback route must use
 * {@link justpassCallback}, which keeps the session as it is.
 *
 * @throws {@link JustpassConfigError} when an option is malformed
 */
export function requireJustpassConfirmation(options: JustpassConfirmationOptions & Pick<JustpassCallbackOptions, 'authenticator'> = {}): RequestHandler {
  const authenticator = options.authenticator ?? passport
  const guard = confirmationGuard(options)
  // Express hands what a handler throws (no session, say) to the error handlers.
  return function requireJustpassConfirmationHandler(req: Request, res: Response, next: NextFunction): void {
    const decision = guard.decide({ session: req.session, method: req.method, url: req.originalUrl, platform: req.headers[guard.platformHeader] })
    if (decision.pass) return next()
    if (decision.app) return void res.status(401).set('Cache-Control', 'no-store').json(CONFIRMATION_REQUIRED)
    authenticator.authenticate(guard.strategy, { mode: 'confirm', returnTo: decision.returnTo })(req, res, next)
  }
}

/**
 * A route handler that logs the user out at the site and then at justpass.me: the
 * session ends (passport's `req.logout`, which regenerates it empty), then the browser
 * goes to the provider's end-session endpoint with the ID token the session kept
 * (`id_token_hint`), `post_logout_redirect_uri` (the `postLogoutRedirectURL` option,
 * when given), `client_id` and a fresh `state`. With `endSessionURL: false` in the
 * provider settings it logs out at the site only and goes to `homeURL`. Mount it on a
 * POST route, so that another site cannot log your users out with a link. Errors go to
 * `next(err)`, after the site's session has ended.
 *
 * @throws {@link JustpassConfigError} when an option is malformed
 */
export function justpassLogout(options: JustpassLogoutOptions & Pick<JustpassCallbackOptions, 'authenticator'> = {}): RequestHandler {
  const authenticator = options.authenticator ?? passport
  const steps = logoutSteps(options)
  return function justpassLogoutHandler(req: Request, res: Response, next: NextFunction): void {
    const logout = steps.begin(authenticator, req.session) // what it throws goes to Express's error handlers
    req.logout((err) => {
      if (err) return next(err)
      logout.destination().then((url) => void res.set('Cache-Control', 'no-store').redirect(url), next)
    })
  }
}
