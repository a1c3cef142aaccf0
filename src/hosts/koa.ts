/**
 * `passport-justpass/koa`: the helpers for Koa with koa-passport, the same five as on
 * every host: `justpassSetup` (the middleware that lets the strategy set its flow cookies
 * through the context), `justpassStart`, `justpassCallback`, `requireJustpassConfirmation`
 * and `justpassLogout`, and `takeJustpassNotice`. Nothing here loads Koa: the types below
 * describe the few members used, and Koa's context fits them.
 *
 * @packageDocumentation
 */
import type { JustpassHostResponse } from '../host-objects.js'
import { JustpassUsageError } from '../errors.js'
import type { JustpassAuthenticateOptions } from '../strategy.js'
import { resolveHostCallbackOptions, settleCallback, type JustpassHostCallbackOptions } from './callback-answer.js'
import { resolveStartOptions } from './start-options.js'
import { CONFIRMATION_REQUIRED, confirmationGuard, logoutSteps, type JustpassConfirmationOptions, type JustpassLogoutOptions } from './confirm-and-logout.js'

export { takeJustpassNotice } from './callback-answer.js'
export type { JustpassHostCallbackOptions, JustpassNotice } from './callback-answer.js'
export type { JustpassHostResponse } from '../host-objects.js'

/** The members of a Koa context the adapter uses (Koa's `Context` has them, koa-passport adds `login`). */
export interface JustpassKoaContext {
  /** Koa's request: the object koa-passport's request stand-in inherits from. */
  request: object
  /** The response status. */
  status: number
  /** The response body. */
  body: unknown
  /** The raw response (Node's `ServerResponse`). */
  res: unknown
  /** Append to a response header. */
  append(field: string, value: string | string[]): void
  /** Set a response header. */
  set(field: string, value: string): void
  /** Redirect to `url`. */
  redirect(url: string): void
  /** The session (koa-session). */
  session?: unknown
  /** koa-passport's login. */
  login(user: unknown, options?: { session?: boolean; keepSessionInfo?: boolean }): Promise<void>
}

/** The members of a Koa context the confirmation guard and the logout handler use, besides {@link JustpassKoaContext}'s. */
export interface JustpassKoaGuardedContext extends JustpassKoaContext {
  /** The HTTP method. */
  method: string
  /** The request's URL as it was sent: path and query. */
  originalUrl: string
  /** A request header. */
  get(field: string): string
  /** koa-passport's logout. */
  logout(): Promise<void>
}

/** A Koa middleware. */
export type JustpassKoaMiddleware<Context> = (ctx: Context, next: () => Promise<unknown>) => Promise<unknown>

/** The members of koa-passport's `KoaPassport` the handlers use. */
export interface JustpassKoaAuthenticator {
  /** Build a middleware that runs `strategy` with options, or hands its result to `callback`. */
  authenticate(strategy: string, callbackOrOptions: never): (ctx: never, next: never) => unknown
}

/** Options of {@link justpassStart}: the authenticator, the strategy's name and the flow to start. */
export interface JustpassKoaStartOptions extends JustpassAuthenticateOptions, JustpassKoaHelper {
  /** The strategy name. Default `'justpass'`. */
  strategy?: string
}

/**
 * A start route's middleware: `router.get('/justpass/reg', justpassStart({ authenticator:
 * passport, mode: 'register' }))`. It is `passport.authenticate('justpass', { mode })`,
 * typed: koa-passport's options type does not know the strategy's `mode`, `returnTo` and
 * `urlOnly`.
 *
 * @throws `JustpassUsageError` without the authenticator; `JustpassConfigError` (of `passport-justpass`) when an option is unknown or malformed
 */
export function justpassStart<Context = JustpassKoaContext>(options: JustpassKoaStartOptions): JustpassKoaMiddleware<Context> {
  const authenticator = authenticatorOf('justpassStart', options)
  const { strategy, authenticate } = resolveStartOptions(options)
  return authenticator.authenticate(strategy, authenticate as never) as JustpassKoaMiddleware<Context>
}

/** The option every helper here takes: the passport instance. */
export interface JustpassKoaHelper {
  /** The koa-passport instance the strategy is registered with. Required. */
  authenticator: JustpassKoaAuthenticator
}

/**
 * The authenticator of `options`.
 *
 * @throws {@link JustpassUsageError} naming `helper` when it is not koa-passport's
 */
function authenticatorOf(helper: string, options: Partial<JustpassKoaHelper> | undefined): JustpassKoaAuthenticator {
  const authenticator = options?.authenticator
  if (typeof authenticator?.authenticate !== 'function') {
    throw new JustpassUsageError(`${helper} of passport-justpass/koa needs options.authenticator: the koa-passport instance the strategy is registered with`)
  }
  return authenticator
}

/**
 * The response the strategy writes to, written through `ctx`. `req` is the request the
 * strategy was given: koa-passport's stand-in, whose own `res.end` lets its middleware
 * finish once a URL-only start has answered.
 */
function koaResponse(ctx: JustpassKoaContext, req: { res?: unknown }): JustpassHostResponse {
  return {
    get statusCode() {
      return ctx.status
    },
    set statusCode(status: number) {
      ctx.status = status
    },
    appendHeader(name, value) {
      ctx.append(name, value)
    },
    setHeader(name, value) {
      ctx.set(name, String(value))
    },
    end(body) {
      ctx.body = body
      const standIn = req.res as { end?: () => void } | undefined
      if (standIn !== ctx.res && typeof standIn?.end === 'function') standIn.end()
    },
  }
}

/**
 * A middleware that lets the strategy reach the response (`req.justpassResponse`), to
 * set its flow cookies and answer URL-only starts. Use it once, before the justpass
 * routes: `app.use(justpassSetup())`. Without it, use `flowStore: 'session'` (and no `urlOnly`).
 */
export function justpassSetup<Context extends JustpassKoaContext = JustpassKoaContext>(): JustpassKoaMiddleware<Context> {
  return function justpassSetupMiddleware(ctx, next) {
    Object.defineProperty(ctx.request, 'justpassResponse', {
      configurable: true,
      // `this` is the object read: Koa's request, or koa-passport's stand-in built on it.
      get(this: { res?: unknown }) {
        return koaResponse(ctx, this)
      },
    })
    return next()
  }
}

/**
 * Options of {@link justpassCallback}: the authenticator, and the options of every host's
 * callback handler (hooks receive `ctx, info`; `appToken` receives `ctx, user`).
 */
export interface JustpassKoaCallbackOptions<Context extends JustpassKoaContext = JustpassKoaContext> extends JustpassHostCallbackOptions<[Context], Context, unknown> {
  /** The koa-passport instance the strategy is registered with. Required. */
  authenticator: JustpassKoaAuthenticator
}

/**
 * The callback route's middleware: `router.get('/justpass/callback',
 * justpassCallback({ authenticator: passport }))`. The outcomes are those of the
 * Express `justpassCallback`: REG and LOGIN success and failure, the notice in the
 * session, JSON answers for a mobile app (the platform header), and the four hooks.
 * A provider outage is a `provider_unavailable` failure notice (or `503` JSON for an app),
 * as on Express; other errors (misconfiguration) are thrown to Koa's error handling.
 */
export function justpassCallback<Context extends JustpassKoaContext = JustpassKoaContext>(options: JustpassKoaCallbackOptions<Context>): JustpassKoaMiddleware<Context> {
  const authenticator = authenticatorOf('justpassCallback', options)
  const resolved = resolveHostCallbackOptions<[Context], unknown>(options)
  return async function justpassCallbackMiddleware(ctx, next) {
    const middleware = authenticator.authenticate(resolved.strategy, (async (err: unknown, user: unknown, info: unknown) => {
      await settleCallback<[Context], unknown>(
        {
          hookArgs: [ctx],
          request: ctx,
          session: () => ctx.session as Record<string, unknown> | undefined,
          loggedIn: () => (ctx as { isAuthenticated?: () => boolean }).isAuthenticated?.() === true,
          logIn: (who, keepSessionInfo) => ctx.login(who, { session: true, keepSessionInfo }),
          redirect: (url) => ctx.redirect(url),
          json: (status, body) => {
            ctx.status = status
            ctx.set('Cache-Control', 'no-store')
            ctx.body = body
          },
        },
        resolved,
        err,
        user,
        info,
      )
    }) as never)
    await middleware(ctx as never, next as never)
  }
}

/**
 * A middleware for sensitive routes: `router.post('/account/email',
 * requireJustpassConfirmation({ authenticator: passport }), handler)`. As on Express: through when the session's user confirmed it
 * is them in the last `maxAge` seconds; else a confirmation that returns to the
 * request's URL (GET), or `401` JSON to a mobile app.
 *
 * @throws `JustpassConfigError` (of `passport-justpass`) when an option is malformed
 */
export function requireJustpassConfirmation<Context extends JustpassKoaGuardedContext = JustpassKoaGuardedContext>(
  options: JustpassConfirmationOptions & JustpassKoaHelper,
): JustpassKoaMiddleware<Context> {
  const authenticator = authenticatorOf('requireJustpassConfirmation', options)
  const guard = confirmationGuard(options)
  return async function requireJustpassConfirmationMiddleware(ctx, next) {
    const decision = guard.decide({ session: ctx.session, method: ctx.method, url: ctx.originalUrl, platform: ctx.get(guard.platformHeader) || undefined })
    if (decision.pass) return next()
    if (decision.app) {
      ctx.status = 401
      ctx.set('Cache-Control', 'no-store')
      ctx.body = CONFIRMATION_REQUIRED
      return
    }
    await authenticator.authenticate(guard.strategy, { mode: 'confirm', returnTo: decision.returnTo } as never)(ctx as never, next as never)
  }
}

/**
 * The logout route's middleware: `router.post('/logout', justpassLogout({ authenticator:
 * passport }))`. As on Express: the session ends
 * (`ctx.logout()`, then the session is removed, since koa-session keeps its data through
 * a regeneration), then the browser goes to the provider's end-session endpoint with
 * the kept ID token, or home with `endSessionURL: false`.
 *
 * @throws `JustpassConfigError` (of `passport-justpass`) when an option is malformed
 */
export function justpassLogout<Context extends JustpassKoaGuardedContext = JustpassKoaGuardedContext>(options: JustpassLogoutOptions & JustpassKoaHelper): JustpassKoaMiddleware<Context> {
  const authenticator = authenticatorOf('justpassLogout', options)
  const steps = logoutSteps(options)
  return async function justpassLogoutMiddleware(ctx) {
    const logout = steps.begin(authenticator, ctx.session)
    await ctx.logout()
    ctx.session = null
    const url = await logout.destination()
    ctx.set('Cache-Control', 'no-store')
    ctx.redirect(url)
  }
}
