/**
 * Koa with koa-passport: the middleware that lets the strategy set its flow cookies
 * through the context, the callback route's middleware, and the notice reader. Nothing
 * here loads Koa: the types below describe the few members used, and Koa's context fits them.
 *
 * @packageDocumentation
 */
import type { JustpassHostResponse } from '../host-response.js'
import { resolveHostCallbackOptions, settleCallback, takeNotice, type JustpassHostCallbackOptions, type JustpassNotice } from '../outcome-core.js'
import {
  afterLogoutURL,
  CONFIRMATION_REQUIRED,
  decideConfirmation,
  idTokenOf,
  justpassStrategyNamed,
  resolveConfirmationOptions,
  resolveLogoutOptions,
  type JustpassConfirmationOptions,
  type JustpassLogoutOptions,
} from '../confirm-and-logout.js'

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
 * routes: `app.use(justpassKoa())`. Without it, use `flowStore: 'session'` (and no `urlOnly`).
 */
export function justpassKoa<Context extends JustpassKoaContext = JustpassKoaContext>(): JustpassKoaMiddleware<Context> {
  return function justpassKoaMiddleware(ctx, next) {
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
 * Options of {@link justpassKoaCallback}: the authenticator, and the options of the
 * Express `justpassCallback` (hooks receive `ctx, info`).
 */
export interface JustpassKoaCallbackOptions<Context extends JustpassKoaContext = JustpassKoaContext> extends JustpassHostCallbackOptions<[Context], unknown> {
  /** The koa-passport instance the strategy is registered with. Required. */
  authenticator: JustpassKoaAuthenticator
}

/**
 * The callback route's middleware on Koa: `router.get('/justpass/callback',
 * justpassKoaCallback({ authenticator: passport }))`. The outcomes are those of the
 * Express `justpassCallback`: REG and LOGIN success and failure, the notice in the
 * session, JSON answers for a mobile app (the platform header), and the four hooks.
 * A provider outage is a `provider_unavailable` failure notice (or `503` JSON for an app),
 * as on Express; other errors (misconfiguration) are thrown to Koa's error handling.
 */
export function justpassKoaCallback<Context extends JustpassKoaContext = JustpassKoaContext>(options: JustpassKoaCallbackOptions<Context>): JustpassKoaMiddleware<Context> {
  const { authenticator } = options
  if (typeof authenticator?.authenticate !== 'function') throw new TypeError('justpassKoaCallback: options.authenticator must be the koa-passport instance')
  const resolved = resolveHostCallbackOptions<[Context], unknown>(options)
  return async function justpassKoaCallbackMiddleware(ctx, next) {
    const middleware = authenticator.authenticate(resolved.strategy, (async (err: unknown, user: unknown, info: unknown) => {
      await settleCallback<[Context], unknown>(
        {
          hookArgs: [ctx],
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

/** Take the {@link JustpassNotice} the callback left in `ctx.session`, once. */
export function takeJustpassKoaNotice(ctx: object, noticeKey = 'justpass_notice'): JustpassNotice | undefined {
  return takeNotice((ctx as { session?: Record<string, unknown> }).session, noticeKey)
}

/** Options of {@link requireJustpassKoaConfirmation}: the authenticator, and those of the Express `requireJustpassConfirmation`. */
export interface JustpassKoaConfirmationOptions extends JustpassConfirmationOptions {
  /** The koa-passport instance the strategy is registered with. Required. */
  authenticator: JustpassKoaAuthenticator
}

/**
 * A middleware for sensitive routes on Koa: `router.post('/account/email',
 * requireJustpassKoaConfirmation({ authenticator: passport }), handler)`. As the
 * Express `requireJustpassConfirmation`: through when the session's user confirmed it
 * is them in the last `maxAge` seconds; else a confirmation that returns to the
 * request's URL (GET), or `401` JSON to a mobile app.
 *
 * @throws {@link JustpassConfigError} when an option is malformed
 */
export function requireJustpassKoaConfirmation<Context extends JustpassKoaGuardedContext = JustpassKoaGuardedContext>(
  options: JustpassKoaConfirmationOptions,
): JustpassKoaMiddleware<Context> {
  const { authenticator } = options
  if (typeof authenticator?.authenticate !== 'function') throw new TypeError('requireJustpassKoaConfirmation: options.authenticator must be the koa-passport instance')
  const settings = resolveConfirmationOptions(options)
  return async function requireJustpassKoaConfirmationMiddleware(ctx, next) {
    const decision = decideConfirmation(settings, {
      session: (ctx.session ?? undefined) as Record<string, unknown> | undefined,
      method: ctx.method,
      url: ctx.originalUrl,
      platform: ctx.get(settings.platformHeader) || undefined,
    })
    if (decision.pass) return next()
    if (decision.app) {
      ctx.status = 401
      ctx.set('Cache-Control', 'no-store')
      ctx.body = CONFIRMATION_REQUIRED
      return
    }
    await authenticator.authenticate(settings.strategy, { mode: 'confirm', returnTo: decision.returnTo } as never)(ctx as never, next as never)
  }
}

/** Options of {@link justpassKoaLogout}: the authenticator, and those of the Express `justpassLogout`. */
export interface JustpassKoaLogoutOptions extends JustpassLogoutOptions {
  /** The koa-passport instance the strategy is registered with. Required. */
  authenticator: JustpassKoaAuthenticator
}

/**
 * The logout route's middleware on Koa: `router.post('/logout', justpassKoaLogout({
 * authenticator: passport }))`. As the Express `justpassLogout`: the session ends
 * (`ctx.logout()`, then the session is removed, since koa-session keeps its data through
 * a regeneration), then the browser goes to the provider's end-session endpoint with
 * the kept ID token, or home with `endSessionURL: false`.
 *
 * @throws {@link JustpassConfigError} when an option is malformed
 */
export function justpassKoaLogout<Context extends JustpassKoaGuardedContext = JustpassKoaGuardedContext>(options: JustpassKoaLogoutOptions): JustpassKoaMiddleware<Context> {
  const { authenticator } = options
  if (typeof authenticator?.authenticate !== 'function') throw new TypeError('justpassKoaLogout: options.authenticator must be the koa-passport instance')
  const settings = resolveLogoutOptions(options)
  return async function justpassKoaLogoutMiddleware(ctx) {
    const idToken = idTokenOf((ctx.session ?? undefined) as Record<string, unknown> | undefined)
    const strategy = justpassStrategyNamed(authenticator, settings.strategy)
    await ctx.logout()
    ctx.session = null
    const url = await afterLogoutURL(strategy, settings, idToken)
    ctx.set('Cache-Control', 'no-store')
    ctx.redirect(url)
  }
}
