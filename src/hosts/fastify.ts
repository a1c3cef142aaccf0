/**
 * `passport-justpass/fastify`: the helpers for Fastify with @fastify/passport, the same
 * five as on every host: `justpassSetup` (the hook that lets the strategy set its flow
 * cookies through the reply), `justpassStart`, `justpassCallback`,
 * `requireJustpassConfirmation` and `justpassLogout`, and `takeJustpassNotice`. Nothing
 * here loads Fastify: the types below describe the few members used, and Fastify's own
 * request and reply objects fit them.
 *
 * @packageDocumentation
 */
import { JustpassUsageError } from '../errors.js'
import type { JustpassAuthenticateOptions } from '../strategy.js'
import type { JustpassHostResponse } from '../host-objects.js'
import { resolveHostCallbackOptions, settleCallback, type JustpassHostCallbackOptions } from './callback-answer.js'
import { resolveStartOptions } from './start-options.js'
import { CONFIRMATION_REQUIRED, confirmationGuard, logoutSteps, type JustpassConfirmationOptions, type JustpassLogoutOptions } from './confirm-and-logout.js'

export { takeJustpassNotice } from './callback-answer.js'
export type { JustpassHostCallbackOptions, JustpassNotice } from './callback-answer.js'
export type { JustpassHostResponse } from '../host-objects.js'

/** The members of a Fastify reply the adapter uses (`FastifyReply` has them). */
export interface JustpassFastifyReply {
  /** The status the reply will be sent with. */
  statusCode: number
  /** Set the status. */
  code(statusCode: number): unknown
  /** Set a header; Fastify appends to `set-cookie` instead of replacing it. */
  header(name: string, value: unknown): unknown
  /** A header's current value. */
  getHeader(name: string): unknown
  /** Send the reply. */
  send(payload?: unknown): unknown
  /** Redirect to `url`. */
  redirect(url: string, code?: number): unknown
}

/** The members of a Fastify request the callback handler uses, with @fastify/passport and a session plugin. */
export interface JustpassFastifyRequest {
  /** The session (@fastify/session). */
  session?: unknown
  /** @fastify/passport's login. */
  logIn(user: unknown, options?: { session?: boolean; keepSessionInfo?: boolean }): Promise<void>
}

/** The members of a Fastify request the confirmation guard and the logout handler use. */
export interface JustpassFastifyGuardedRequest {
  /** The session (@fastify/session). */
  session?: unknown
  /** The HTTP method. */
  method: string
  /** The request's URL: path and query. */
  url: string
  /** The request headers. */
  headers: Record<string, string | string[] | undefined>
  /** @fastify/passport's logout. */
  logOut(): Promise<void>
}

/** The members of @fastify/passport's `Authenticator` the adapter uses. */
export interface JustpassFastifyAuthenticator {
  /** Build a handler that runs `strategy` with `options`, or hands its result to `callback`. */
  authenticate(
    strategy: string,
    optionsOrCallback: never,
  ): (request: never, reply: never) => Promise<unknown>
}

/** Options of {@link justpassStart}: the authenticator, the strategy's name and the flow to start. */
export interface JustpassFastifyStartOptions extends JustpassAuthenticateOptions, JustpassFastifyHelper {
  /** The strategy name. Default `'justpass'`. */
  strategy?: string
}

/**
 * A start route's handler: `app.get('/justpass/reg', justpassStart({ authenticator:
 * fastifyPassport, mode: 'register' }))`. It is `fastifyPassport.authenticate('justpass',
 * { mode })`, typed: @fastify/passport's options type does not know the strategy's
 * `mode`, `returnTo` and `urlOnly`.
 *
 * @throws `JustpassUsageError` without the authenticator; `JustpassConfigError` (of `passport-justpass`) when an option is unknown or malformed
 */
export function justpassStart<Request = unknown, Reply = unknown>(options: JustpassFastifyStartOptions): (request: Request, reply: Reply) => Promise<unknown> {
  const authenticator = authenticatorOf('justpassStart', options)
  const { strategy, authenticate } = resolveStartOptions(options)
  return authenticator.authenticate(strategy, authenticate as never) as (request: Request, reply: Reply) => Promise<unknown>
}

/** The option every helper here takes: the passport instance. */
export interface JustpassFastifyHelper {
  /** The @fastify/passport instance the strategy is registered with. Required. */
  authenticator: JustpassFastifyAuthenticator
}

/**
 * The authenticator of `options`.
 *
 * @throws {@link JustpassUsageError} naming `helper` when it is not @fastify/passport's
 */
function authenticatorOf(helper: string, options: Partial<JustpassFastifyHelper> | undefined): JustpassFastifyAuthenticator {
  const authenticator = options?.authenticator
  if (typeof authenticator?.authenticate !== 'function') {
    throw new JustpassUsageError(`${helper} of passport-justpass/fastify needs options.authenticator: the @fastify/passport instance the strategy is registered with`)
  }
  return authenticator
}

/** The response the strategy writes to, written through `reply`: headers, status and body go where Fastify sends them. */
function fastifyResponse(reply: JustpassFastifyReply): JustpassHostResponse {
  return {
    get statusCode() {
      return reply.statusCode
    },
    set statusCode(status: number) {
      reply.code(status)
    },
    appendHeader(name, value) {
      if (name.toLowerCase() === 'set-cookie') return reply.header(name, value)
      const existing = reply.getHeader(name)
      return reply.header(name, existing === undefined ? value : ([] as unknown[]).concat(existing, value))
    },
    setHeader(name, value) {
      reply.header(name, value)
    },
    end(body) {
      reply.send(body)
    },
  }
}

/**
 * An `onRequest` hook that attaches the reply to the request (`request.justpassResponse`)
 * so that the strategy can set its flow cookies and answer URL-only starts. Add it once,
 * before the justpass routes: `app.addHook('onRequest', justpassSetup())`. Without it,
 * use `flowStore: 'session'` (and no `urlOnly`).
 */
export function justpassSetup(): (request: object, reply: JustpassFastifyReply, done: () => void) => void {
  return function justpassSetupHook(request, reply, done) {
    ;(request as { justpassResponse?: JustpassHostResponse }).justpassResponse = fastifyResponse(reply)
    done()
  }
}

/**
 * Options of {@link justpassCallback}: the authenticator, and the options of every host's
 * callback handler (hooks receive `request, reply, info`; `appToken` receives `request, user`).
 */
export interface JustpassFastifyCallbackOptions<Request extends JustpassFastifyRequest = JustpassFastifyRequest, Reply extends JustpassFastifyReply = JustpassFastifyReply>
  extends JustpassHostCallbackOptions<[Request, Reply], Request, unknown> {
  /** The @fastify/passport instance the strategy is registered with. Required. */
  authenticator: JustpassFastifyAuthenticator
}

/**
 * The callback route's handler: `app.get('/justpass/callback',
 * justpassCallback({ authenticator: fastifyPassport }))`. The outcomes are those
 * of the Express `justpassCallback`: REG and LOGIN success and failure, the notice in the
 * session, JSON answers for a mobile app (the platform header), and the four hooks.
 * A provider outage is a `provider_unavailable` failure notice (or `503` JSON for an app),
 * as on Express; other errors (misconfiguration) are thrown to Fastify's error handler.
 */
export function justpassCallback<Request extends JustpassFastifyRequest = JustpassFastifyRequest, Reply extends JustpassFastifyReply = JustpassFastifyReply>(
  options: JustpassFastifyCallbackOptions<Request, Reply>,
): (request: Request, reply: Reply) => Promise<Reply> {
  const authenticator = authenticatorOf('justpassCallback', options)
  const resolved = resolveHostCallbackOptions<[Request, Reply], unknown>(options)
  const callback = async (request: unknown, reply: unknown, err: null | Error, user?: unknown, info?: unknown): Promise<void> => {
    const req = request as Request
    const res = reply as Reply
    await settleCallback<[Request, Reply], unknown>(
      {
        hookArgs: [req, res],
        request: req,
        session: () => req.session as Record<string, unknown> | undefined,
        loggedIn: () => (req as { isAuthenticated?: () => boolean }).isAuthenticated?.() === true,
        logIn: (who, keepSessionInfo) => req.logIn(who, { session: true, keepSessionInfo }),
        redirect: (url) => void res.redirect(url),
        json: (status, body) => {
          res.code(status)
          res.header('Cache-Control', 'no-store')
          res.send(body)
        },
      },
      resolved,
      err,
      user,
      info,
    )
  }
  const authenticate = authenticator.authenticate(resolved.strategy, callback as never)
  return async function justpassCallbackHandler(request, reply) {
    await authenticate(request as never, reply as never)
    return reply
  }
}

/**
 * A `preHandler` for sensitive routes: `app.post('/account/email', { preHandler:
 * requireJustpassConfirmation({ authenticator: fastifyPassport }) }, handler)`. As on Express: through when the session's
 * user confirmed it is them in the last `maxAge` seconds; else a confirmation that
 * returns to the request's URL (GET), or `401` JSON to a mobile app.
 *
 * @throws `JustpassConfigError` (of `passport-justpass`) when an option is malformed
 */
export function requireJustpassConfirmation<Request = JustpassFastifyGuardedRequest, Reply = JustpassFastifyReply>(
  options: JustpassConfirmationOptions & JustpassFastifyHelper,
): (request: Request, reply: Reply) => Promise<unknown> {
  const authenticator = authenticatorOf('requireJustpassConfirmation', options)
  const guard = confirmationGuard(options)
  const handler = async (request: JustpassFastifyGuardedRequest, reply: JustpassFastifyReply) => {
    const decision = guard.decide({ session: request.session, method: request.method, url: request.url, platform: request.headers[guard.platformHeader] })
    if (decision.pass) return
    if (decision.app) {
      reply.code(401)
      reply.header('Cache-Control', 'no-store')
      reply.send(CONFIRMATION_REQUIRED)
      return reply
    }
    await authenticator.authenticate(guard.strategy, { mode: 'confirm', returnTo: decision.returnTo } as never)(request as never, reply as never)
    return reply
  }
  return handler as (request: Request, reply: Reply) => Promise<unknown>
}

/**
 * The logout route's handler: `app.post('/logout', justpassLogout({ authenticator:
 * fastifyPassport }))`. As the Express `justpassLogout`: the session ends
 * (`request.logOut()`), then the browser goes to the provider's end-session endpoint
 * with the kept ID token, or home with `endSessionURL: false`.
 *
 * @throws `JustpassConfigError` (of `passport-justpass`) when an option is malformed
 */
export function justpassLogout<Request = JustpassFastifyGuardedRequest, Reply = JustpassFastifyReply>(
  options: JustpassLogoutOptions & JustpassFastifyHelper,
): (request: Request, reply: Reply) => Promise<Reply> {
  const authenticator = authenticatorOf('justpassLogout', options)
  const steps = logoutSteps(options)
  return async function justpassLogoutHandler(request, reply) {
    const logout = steps.begin(authenticator, (request as JustpassFastifyGuardedRequest).session)
    await (request as JustpassFastifyGuardedRequest).logOut()
    const url = await logout.destination()
    ;(reply as JustpassFastifyReply).header('Cache-Control', 'no-store')
    ;(reply as JustpassFastifyReply).redirect(url)
    return reply
  }
}
