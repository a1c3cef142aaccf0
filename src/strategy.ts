/**
 * JustpassStrategy: the passport strategy. It decides whether a request starts a flow
 * or comes back from justpass.me, hands over to initiation or callback, and turns their
 * results into passport's success, fail, redirect and error.
 *
 * @packageDocumentation
 */
import { Strategy } from 'passport-strategy'
import type { Request } from 'express'
import { AuthorizationRequestBuilder, type FlowSubject } from './authorize.js'
import { completeFlow, INVALID_ERROR_CODE, PROVIDER_ERROR_CODE, type JustpassTokens, type JustpassUserinfo, type VerifiedFlow } from './callback.js'
import { JustpassError, JustpassRefusal, JustpassUsageError, type RefusalReason } from './errors.js'
import { createFlowStore } from './flow-store/index.js'
import { ReplayGuard } from './flow-store/replay-guard.js'
import type { FlowExchange, JustpassFlowStore, PendingFlow } from './flow-store/types.js'
import {
  resolveOptions,
  type JustpassMode,
  type JustpassStrategyOptions,
  type JustpassStrategyOptionsWithRequest,
  type ResolvedOptions,
} from './options.js'
import { ProviderContextSource, type ProviderContext } from './provider.js'
import { safeReturnTo } from './return-to.js'
import type { JustpassUserStore } from './user-store.js'
import type { JustpassHostResponse } from './host-response.js'
import { log, statePrefix } from './log.js'

/** What the strategy knows of a flow; given to the verify callback and carried by success and fail. */
export interface JustpassFlowInfo {
  /** `'register'` (REG) or `'login'` (LOGIN). */
  mode: JustpassMode
  /** The platform the flow was started from (`'app'` for a mobile app), when it named one. */
  platform?: string
  /** The same-origin path to go to after LOGIN, from `?next=` at initiation. */
  returnTo?: string
  /** The identifier the passkey belongs to (`preferred_username`); set on success. */
  username?: string
  /** Whether the LOGIN was a second factor (a base username was in the session). */
  secondFactor?: boolean
}

/** What `fail()` carries: a user-safe message, the reason code, and what is known of the flow. */
export interface JustpassFailureInfo {
  /** A message fit to show to the user; never contains a secret or provider-supplied markup. */
  message: string
  /** The check that refused the flow. */
  reason: RefusalReason
  /** The flow's mode, when the flow was found (not for an unknown `state`). */
  mode?: JustpassMode
  /** The flow's platform, when the flow was found and named one. */
  platform?: string
  /** The `error` code the provider answered (`access_denied`, ...), when it answered one. */
  providerError?: string
}

/** The verify callback's `done`: a user to log in, `false` with an optional info to refuse, or an error. */
export type JustpassVerifyDone<User> = (err: Error | null | undefined, user?: User | false | null, info?: Partial<JustpassFailureInfo>) => void

/** A verify callback: decides which site user a verified flow logs in. */
export type JustpassVerify<User> = (tokens: JustpassTokens, userinfo: JustpassUserinfo, info: JustpassFlowInfo, done: JustpassVerifyDone<User>) => void

/** A verify callback that receives the request first (`passReqToCallback: true`). */
export type JustpassVerifyWithRequest<User> = (
  req: Request,
  tokens: JustpassTokens,
  userinfo: JustpassUserinfo,
  info: JustpassFlowInfo,
  done: JustpassVerifyDone<User>,
) => void

/** Options of `passport.authenticate('justpass', options)` that this strategy reads. */
export interface JustpassAuthenticateOptions {
  /** The flow an initiation route starts. Default `'login'`. Ignored on the callback. */
  mode?: JustpassMode
  /**
   * Answer `200` with `{"url": "<authorization URL>"}` (JSON, `Cache-Control: no-store`)
   * instead of redirecting, for a page or an app that navigates itself (Django's "URL
   * only" start endpoints). The flow is stored exactly as for a redirect: the same
   * response carries the flow cookie. Default `false`.
   */
  urlOnly?: boolean
}

/** The HTTP status of a refusal: 400 for a malformed callback, 401 for the rest. */
function failureStatus(reason: RefusalReason): number {
  return reason === 'invalid_callback' ? 400 : 401
}
const PLATFORM_VALUE = /^[A-Za-z0-9_.-]{1,32}$/

/** The path and the raw query string (without `?`) of a request, as it was sent. */
function requestTarget(req: Request): { path: string; query: string } {
  const url = req.originalUrl ?? req.url ?? ''
  const at = url.indexOf('?')
  return at === -1 ? { path: url, query: '' } : { path: url.slice(0, at), query: url.slice(at + 1) }
}

/** The platform the request names in `header` (`app` for a mobile app), when well-formed. */
function platformOf(req: Request, header: string): string | undefined {
  const value = req.headers[header]
  return typeof value === 'string' && PLATFORM_VALUE.test(value) ? value : undefined
}

/**
 * The request's session. Every flow needs session middleware (passport logs the user in
 * there), but starting one does not write to it: with the cookie flow store an
 * anonymous start leaves the session uninitialized, and express-session then stores nothing.
 */
function sessionOf(req: Request): Record<string, unknown> {
  const session = (req as { session?: unknown }).session
  if (typeof session !== 'object' || session === null) {
    throw new JustpassUsageError('no session on the request: add session middleware (express-session or similar) before passport')
  }
  return session as Record<string, unknown>
}

/** Answer a URL-only start: `200` JSON `{"url": …}`, never cached. */
function answerURL(res: JustpassHostResponse, url: string): void {
  const body = JSON.stringify({ url })
  res.statusCode = 200
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('Content-Length', Buffer.byteLength(body))
  res.end(body)
}

/** Callback states remembered per process by the replay guard, at most. */
const REPLAY_GUARD_CAPACITY = 100_000

/**
 * The passport strategy for justpass.me passkeys. One instance serves the three routes:
 * `passport.authenticate('justpass', { mode: 'register' })` and `{ mode: 'login' }`
 * start a flow; the same call without a mode, on the callback route, finishes it.
 *
 * @typeParam User - the site's user object, as it ends up in `req.user`
 */
export class JustpassStrategy<User = unknown> extends Strategy {
  /** The name passport knows the strategy by: `'justpass'`. */
  name = 'justpass'
  /** The validated options, defaults applied. */
  private readonly options: ResolvedOptions<User>
  /** Where pending flows are kept: sealed cookies by default (option `flowStore`). */
  private readonly flows: JustpassFlowStore
  /** The provider: its openid-client configuration and ID token key. */
  private readonly provider: ProviderContextSource
  private readonly verify: JustpassVerify<User> | JustpassVerifyWithRequest<User> | undefined
  /**
   * States whose callback this process has taken, until their flow would expire. Two
   * requests carrying the same state (at once, or one after the other with a cookie or
   * session copy that still holds the flow) reach the token endpoint once.
   */
  private readonly replayGuard = new ReplayGuard(REPLAY_GUARD_CAPACITY)
  /**
   * The authorization request builder, for the provider context it was built from. A
   * holder made at construction: passport runs each request on `Object.create(strategy)`,
   * so a value assigned to `this` during a request would stay on that request's copy.
   */
  private readonly authorization: { context?: ProviderContext; builder?: AuthorizationRequestBuilder } = {}

  /**
   * @param options - see {@link JustpassStrategyOptions}
   * @param verify - optional; without it the `userStore` decides who logs in
   * @throws {@link JustpassConfigError} naming the first option that is missing or malformed
   */
  constructor(options: JustpassStrategyOptionsWithRequest<User>, verify: JustpassVerifyWithRequest<User>)
  constructor(options: JustpassStrategyOptions<User>, verify?: JustpassVerify<User>)
  constructor(options: JustpassStrategyOptions<User> | JustpassStrategyOptionsWithRequest<User>, verify?: JustpassVerify<User> | JustpassVerifyWithRequest<User>) {
    super()
    if (verify !== undefined && typeof verify !== 'function') {
      throw new JustpassUsageError('the verify callback, when given, must be a function')
    }
    this.options = resolveOptions(options, verify !== undefined)
    this.verify = verify
    this.flows = createFlowStore(this.options)
    this.provider = new ProviderContextSource(this.options)
  }

  /**
   * Called by passport for each request on a justpass route: starts a flow, or, when
   * the request carries `code`, `error` or `state`, finishes one.
   */
  override authenticate(req: Request, options: JustpassAuthenticateOptions = {}): void {
    let work: Promise<void>
    try {
      const target = requestTarget(req)
      const params = new URLSearchParams(target.query)
      const session = sessionOf(req)
      work = this.isCallback(target.path, params, options)
        ? this.finish(req, params, target.query)
        : this.start(req, session, params, options.mode ?? 'login', options.urlOnly === true)
    } catch (err) {
      work = Promise.reject(err)
    }
    // A refusal is reported with fail(); anything else, including a failure handler that
    // throws (passport's failureFlash without flash middleware), goes to error(). If even
    // that throws, nothing is left to answer with, but no rejection goes unhandled.
    work
      .catch((err: unknown) => {
        if (err instanceof JustpassRefusal) return this.refuse(req, err)
        throw err
      })
      .catch((err: unknown) => {
        log('error: %s', err instanceof JustpassError ? `${err.code}: ${err.message}` : err instanceof Error ? err.name : 'unknown')
        this.error(err instanceof Error ? err : new Error(String(err)))
      })
      .catch((err: unknown) => log('the route threw while answering an error: %s', err instanceof Error ? err.name : 'unknown'))
  }

  /**
   * Whether the request comes back from the provider. A route given a `mode` always
   * starts a flow; without one, the request is a callback when it is on the callback
   * URL's path (a bare request there is a malformed callback, not a LOGIN) or carries
   * `code`, `error` or `state`.
   */
  private isCallback(path: string, params: URLSearchParams, options: JustpassAuthenticateOptions): boolean {
    if (options.mode !== undefined) return false
    return path === this.options.callbackPath || params.has('code') || params.has('error') || params.has('state')
  }

  /** Initiation: decide who the flow is for, remember it, redirect to justpass.me. */
  private async start(req: Request, session: Record<string, unknown>, params: URLSearchParams, mode: JustpassMode, urlOnly: boolean): Promise<void> {
    if (mode !== 'register' && mode !== 'login') {
      throw new JustpassUsageError(`unknown mode ${JSON.stringify(mode)}: use 'register' or 'login'`)
    }
    const subject: FlowSubject = { mode }
    if (mode === 'register') {
      subject.identifier = this.identifierOf(req)
      if (subject.identifier === undefined) {
        this.refuse(req, new JustpassRefusal('login_required', 'log in before enabling passkey login'), { mode })
        return
      }
    } else {
      const base = session[this.options.baseUsernameKey]
      if (typeof base === 'string' && base !== '') subject.identifier = base
    }
    const platform = platformOf(req, this.options.platformHeader)
    if (platform !== undefined) subject.platform = platform
    const returnTo = safeReturnTo(params.get('next'))
    if (returnTo !== undefined) subject.returnTo = returnTo

    const exchange = this.exchangeOf(req)
    if (urlOnly && exchange.res === undefined) throw new JustpassUsageError('urlOnly needs the response (req.res, or the host adapter: justpassFastifyHook, justpassKoa), which this host does not provide')
    const request = this.authorizationBuilder(await this.provider.get()).build(req, subject)
    await this.flows.put(exchange, request.state, request.flow)
    log('start %s%s, state %s', mode, mode === 'login' ? (subject.identifier ? ' (second factor)' : ' (single factor)') : '', statePrefix(request.state))
    if (urlOnly) answerURL(exchange.res as JustpassHostResponse, request.url)
    else this.redirect(request.url)
  }

  /**
   * The response flow cookies are set on and URL-only starts answer with: the one a
   * host adapter attached to the request (`req.justpassResponse`: Fastify, Koa), else
   * `req.res` (Express, Connect, NestJS on Express); `undefined` when neither is there,
   * or when it cannot add a header (koa-passport's `req.res` without `justpassKoa`), so
   * that the cookie store and `urlOnly` refuse with a usage error that names the fix.
   * A subclass may find it elsewhere.
   */
  protected responseOf(req: Request): JustpassHostResponse | undefined {
    const host = req as { justpassResponse?: JustpassHostResponse; res?: JustpassHostResponse }
    const res = host.justpassResponse ?? host.res
    return typeof res?.appendHeader === 'function' ? res : undefined
  }

  /**
   * The request and its response, for the flow store. The stores write nothing to the
   * response but `Set-Cookie` lines (`appendHeader`), which every
   * {@link JustpassHostResponse} provides.
   */
  private exchangeOf(req: Request): FlowExchange {
    return { req, res: this.responseOf(req) }
  }

  /** The builder for `context`'s authorization endpoint, made once per context. */
  private authorizationBuilder(context: ProviderContext): AuthorizationRequestBuilder {
    if (this.authorization.builder === undefined || this.authorization.context !== context) {
      const endpoint = context.config.serverMetadata().authorization_endpoint
      if (!endpoint) throw new JustpassUsageError('the provider metadata has no authorization_endpoint')
      this.authorization.builder = new AuthorizationRequestBuilder(endpoint, this.options)
      this.authorization.context = context
    }
    return this.authorization.builder
  }

  /** Callback: take the flow back, check everything, and let verify pick the user. */
  private async finish(req: Request, params: URLSearchParams, query: string): Promise<void> {
    const states = params.getAll('state')
    const state = states[0]
    if (states.length !== 1 || !state || params.getAll('code').length > 1 || params.getAll('error').length > 1) {
      throw new JustpassRefusal('invalid_callback', 'the callback is malformed: it needs exactly one state')
    }
    const taken = await this.flows.take(this.exchangeOf(req), state)
    log('callback, state %s: %s', statePrefix(state), taken.status === 'found' ? `a pending ${taken.flow.mode} flow` : taken.status)
    // Claimed only once a flow was found, so that forged states cannot fill the guard.
    if (taken.status === 'unknown' || !this.replayGuard.claim(state, (taken.flow.started + this.options.flowMaxAge + 1) * 1000)) {
      throw new JustpassRefusal('state_unknown', 'this sign-in link is unknown or was already used; start again')
    }
    const flow = taken.flow
    try {
      if (taken.status === 'expired') throw new JustpassRefusal('state_expired', 'this sign-in took too long; start again')
      const providerError = params.get('error')
      if (providerError !== null) {
        const code = PROVIDER_ERROR_CODE.test(providerError) ? providerError : INVALID_ERROR_CODE
        const message = code === 'access_denied' ? 'the passkey step was cancelled' : `justpass.me did not complete the passkey step (${code})`
        this.refuse(req, new JustpassRefusal('provider_denied', message), flow, code)
        return
      }
      if (!params.get('code')) throw new JustpassRefusal('invalid_callback', 'the callback is malformed: it has no code')
      if (flow.mode === 'register' && this.identifierOf(req) !== flow.expected) {
        throw new JustpassRefusal('identity_mismatch', 'the logged-in user changed during passkey registration')
      }
      const context = await this.provider.get()
      const callbackURL = new URL(this.options.callbackURL)
      callbackURL.search = query
      const verified = await completeFlow(context, this.options, flow, state, callbackURL)
      await this.decide(req, flow, verified)
    } catch (err) {
      if (err instanceof JustpassRefusal) this.refuse(req, err, flow)
      else throw err
    }
  }

  /** Run the verify callback (or the user store) and report its decision. */
  private async decide(req: Request, flow: PendingFlow, verified: VerifiedFlow): Promise<void> {
    const info: JustpassFlowInfo = { mode: flow.mode, username: verified.username }
    if (flow.platform !== undefined) info.platform = flow.platform
    if (flow.returnTo !== undefined) info.returnTo = flow.returnTo
    if (flow.mode === 'login') info.secondFactor = flow.expected !== undefined

    const { user, refusal } = await new Promise<{ user?: User; refusal?: Partial<JustpassFailureInfo> }>((resolve, reject) => {
      const done: JustpassVerifyDone<User> = (err, user, failure) => {
        if (err) reject(err)
        else if (user) resolve({ user })
        else resolve({ refusal: failure ?? {} })
      }
      const verify = this.verify
      try {
        if (verify === undefined) this.defaultVerify(req, verified, info).then((user) => done(null, user), reject)
        else if (this.options.passReqToCallback) (verify as JustpassVerifyWithRequest<User>)(req, verified.tokens, verified.userinfo, info, done)
        else (verify as JustpassVerify<User>)(verified.tokens, verified.userinfo, info, done)
      } catch (err) {
        reject(err)
      }
    })
    if (user) {
      log('success: %s', flow.mode)
      this.success(user, info)
      return
    }
    const reason = refusal?.reason ?? 'unknown_user'
    this.refuse(req, new JustpassRefusal(reason, refusal?.message ?? 'no account on this site matches this passkey'), flow)
  }

  /**
   * The verify used without a verify callback. LOGIN: the user store's user for the
   * passkey's identifier (created with `createUser` when the store has it). REG: the
   * passkey flag set, and the updated (or the logged-in) user.
   *
   * @returns the user to log in, or `false` when the site has no such user
   */
  protected async defaultVerify(req: Request, verified: VerifiedFlow, info: JustpassFlowInfo): Promise<User | false> {
    const store = this.options.userStore
    if (store === undefined) throw new JustpassUsageError('no userStore and no verify callback')
    const sub = verified.claims.sub as string
    if (info.mode === 'register') {
      const current = req.user as User | undefined
      if (current !== undefined) await this.requireActive(store, current)
      const updated = await store.setJustpassEnabled(verified.username, true, { sub })
      return updated || current || false
    }
    const user = (await store.findByUsername(verified.username)) || (store.createUser ? await store.createUser(verified.username) : undefined)
    if (!user) return false
    await this.requireActive(store, user)
    const recorded = store.justpassSubOf ? await store.justpassSubOf(user) : undefined
    if (typeof recorded === 'string' && recorded !== sub) {
      throw new JustpassRefusal('identity_mismatch', 'this passkey belongs to another account than the one registered for passkey login')
    }
    return user
  }

  /** Refuse with `account_disabled` unless the store's `isActive`, when it has one, answers `true`. */
  private async requireActive(store: JustpassUserStore<User>, user: User): Promise<void> {
    if (store.isActive !== undefined && (await store.isActive(user)) !== true) {
      throw new JustpassRefusal('account_disabled', 'this account is disabled')
    }
  }

  /** The logged-in user's identifier (`req.user[usernameField]`), or `undefined` when nobody is logged in. */
  protected identifierOf(req: Request): string | undefined {
    const user = req.user as Record<string, unknown> | undefined
    if (user === undefined || user === null) return undefined
    const identifier = user[this.options.usernameField]
    if (typeof identifier !== 'string' || identifier === '') {
      throw new JustpassUsageError(`req.user has no non-empty string "${this.options.usernameField}" (option usernameField)`)
    }
    return identifier
  }

  /**
   * Report a refusal through passport's `fail()`, with what is known of the flow (the
   * platform falls back to the callback request's header when the flow is unknown).
   * A second-factor LOGIN that fails ends the password step too: the base username is
   * dropped, so that the user starts again from the password.
   */
  private refuse(req: Request, refusal: JustpassRefusal, flow?: Pick<PendingFlow, 'mode' | 'platform' | 'expected'>, providerError?: string): void {
    const info: JustpassFailureInfo = { message: refusal.message, reason: refusal.code }
    if (flow !== undefined) info.mode = flow.mode
    const platform = flow?.platform ?? platformOf(req, this.options.platformHeader)
    if (platform !== undefined) info.platform = platform
    if (providerError !== undefined) info.providerError = providerError
    if (flow?.mode === 'login' && flow.expected !== undefined) delete sessionOf(req)[this.options.baseUsernameKey]
    log('refused%s: %s (%s)', flow ? ` ${flow.mode}` : '', refusal.code, refusal.message)
    this.fail(info, failureStatus(refusal.code))
  }
}
