/**
 * Koa with koa-passport: the middleware that lets the strategy set its flow cookies
 * through the context, the callback route's middleware, and the notice reader. Nothing
 * here loads Koa: the types below describe the few members used, and Koa's context fits them.
 *
 * @packageDocumentation
 */
import type { JustpassHostResponse } from '../host-response.js'
import { resolveHostCallbackOptions, settleOutcome, takeNotice, type JustpassHostCallbackOptions, type JustpassNotice } from '../outcome-core.js'

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

/** A Koa middleware. */
export type JustpassKoaMiddleware<Context> = (ctx: Context, next: () => Promise<unknown>) => Promise<unknown>

/** The members of koa-passport's `KoaPassport` the callback middleware uses. */
export interface JustpassKoaAuthenticator {
  /** Build a middleware that runs `strategy` and hands its result to `callback`. */
  authenticate(strategy: string, callback: (err: unknown, user?: unknown, info?: unknown, status?: unknown) => Promise<void>): (ctx: never, next: never) => unknown
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
 * Errors (provider down, misconfiguration) are thrown to Koa's error handling.
 */
export function justpassKoaCallback<Context extends JustpassKoaContext = JustpassKoaContext>(options: JustpassKoaCallbackOptions<Context>): JustpassKoaMiddleware<Context> {
  const { authenticator } = options
  if (typeof authenticator?.authenticate !== 'function') throw new TypeError('justpassKoaCallback: options.authenticator must be the koa-passport instance')
  const resolved = resolveHostCallbackOptions<[Context], unknown>(options)
  return async function justpassKoaCallbackMiddleware(ctx, next) {
    const middleware = authenticator.authenticate(resolved.strategy, async (err, user, info) => {
      if (err) throw err
      await settleOutcome<[Context], unknown>(
        {
          hookArgs: [ctx],
          session: () => ctx.session as Record<string, unknown> | undefined,
          logIn: (who, keepSessionInfo) => ctx.login(who, { session: true, keepSessionInfo }),
          redirect: (url) => ctx.redirect(url),
          json: (status, body) => {
            ctx.status = status
            ctx.set('Cache-Control', 'no-store')
            ctx.body = body
          },
        },
        resolved,
        user as unknown,
        info,
      )
    })
    await middleware(ctx as never, next as never)
  }
}

/** Take the {@link JustpassNotice} the callback left in `ctx.session`, once. */
export function takeJustpassKoaNotice(ctx: object, noticeKey = 'justpass_notice'): JustpassNotice | undefined {
  return takeNotice((ctx as { session?: Record<string, unknown> }).session, noticeKey)
}
