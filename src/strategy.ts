/**
 * JustpassStrategy: the passport strategy. It decides whether a request starts a flow
 * or comes back from justpass.me, hands over to initiation or callback, and turns their
 * results into passport's success, fail, redirect and error.
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto'
import { Strategy } from 'passport-strategy'
import { AuthorizationRequestBuilder, uiLocalesFromAcceptLanguage } from './authorize.js'
import { correctHost, requestHostname } from './canonical-host.js'
import { exchangeCode, type JustpassTokens, type JustpassUserinfo, type VerifiedFlow } from './code-exchange.js'
import { JustpassError, JustpassProviderError, JustpassRefusal, JustpassUsageError } from './errors.js'
import { ReplayGuard } from './replay-guard.js'
import type { FlowExchange, TakenFlow } from './flow-store/types.js'
import { flowInfoOf, type JustpassFailureInfo, type JustpassFlowInfo, type JustpassFlowStart, type JustpassMode, type PendingFlow, type RefusalReason } from './flow.js'
import { IdTokenVerifier } from './id-token.js'
import { resolveOptions, type JustpassStrategyOptions, type JustpassStrategyOptionsWithRequest, type StrategySettings } from './options.js'
import { ProviderConnectionSource, type ProviderConnection } from './provider-connection.js'
import { safeErrorCode } from './provider-failure.js'
import { safeReturnTo } from './return-to.js'
import type { JustpassUserStore } from './user-store.js'
import type { JustpassHostResponse, JustpassRequest } from './host-objects.js'
import { log, statePrefix } from './log.js'
import { CONFIRMED_AT_KEY } from './session-keys.js'

/** The verify callback's `done`: a user to log in, `false` with an optional info to refuse, or an error. */
export type JustpassVerifyDone<User> = (err: Error | null | undefined, user?: User | false | null, info?: Partial<JustpassFailureInfo>) => void

/** A verify callback: decides which site user a verified flow logs in. */
export type JustpassVerify<User> = (tokens: JustpassTokens, userinfo: JustpassUserinfo, info: JustpassFlowInfo, done: JustpassVerifyDone<User>) => void

/** A verify callback that receives the request first (`passReqToCallback: true`). */
export type JustpassVerifyWithRequest<User, Req extends JustpassRequest = JustpassRequest> = (
  req: Req,
  tokens: JustpassTokens,
  userinfo: JustpassUserinfo,
  info: JustpassFlowInfo,
  done: JustpassVerifyDone<User>,
) => void

/** Options of `passport.authenticate('justpass', options)` that this strategy reads. */
export interface JustpassAuthenticateOptions {
  /**
   * The flow an initiation route starts: `'register'` (REG), `'login'` (LOGIN) or
   * `'confirm'` (re-check the logged-in user). Default `'login'`. Ignored on the callback.
   */
  mode?: JustpassMode
  /**
   * A same-site path to return to after the flow, instead of the request's `?next=`
   * (the confirmation guards pass the URL they protect). Left out when it is not a
   * same-site path.
   */
  returnTo?: string
  /**
   * Answer `200` with `{"url": "<authorization URL>"}` (JSON, `Cache-Control: no-store`)
   * instead of redirecting, for a page or an app that navigates itself (Django's "URL
   * only" start endpoints). The flow is stored exactly as for a redirect: the same
   * response carries the flow cookie. Default `false`.
   */
  urlOnly?: boolean
}

/** What logout at the provider sends, besides the client id and a fresh `state`. */
export interface JustpassLogoutRequest {
  /** The ID token of the session being ended (`id_token_hint`), when the session kept one. */
  idTokenHint?: string
  /** Where the provider sends the browser afterwards (`post_logout_redirect_uri`), registered there. */
  postLogoutRedirectURL?: string
}

/** What passport gives a strategy for the request it runs: passport-strategy's actions, described here so that the declarations need no passport types. */
interface PassportStrategyActions {
  /** The strategy's name, under which `passport.use` registers it. */
  name?: string
  /** Log `user` in. */
  success(user: unknown, info?: unknown): void
  /** Refuse the request. */
  fail(challenge?: unknown, status?: number): void
  /** Send the browser to `url`. */
  redirect(url: string, status?: number): void
  /** Let the request go on untouched. */
  pass(): void
  /** Hand `err` to the host's error handling. */
  error(err: Error): void
}

/** passport-strategy's `Strategy`, typed by {@link PassportStrategyActions}. */
const PassportStrategy = Strategy as unknown as new () => PassportStrategyActions

/** The HTTP status of a refusal: 400 for a malformed callback, 401 for the rest. */
function failureStatus(reason: RefusalReason): number {
  return reason === 'invalid_callback' ? 400 : 401
}
const PLATFORM_VALUE = /^[A-Za-z0-9_.-]{1,32}$/

/** The path and the raw query string (without `?`) of a request, as it was sent. */
function requestTarget(req: JustpassRequest): { path: string; query: string } {
  const url = req.originalUrl ?? req.url ?? ''
  const at = url.indexOf('?')
  return at === -1 ? { path: url, query: '' } : { path: url.slice(0, at), query: url.slice(at + 1) }
}

/** The platform the request names in `header` (`app` for a mobile app), when well-formed. */
function platformOf(req: JustpassRequest, header: string): string | undefined {
  const value = req.headers[header]
  return typeof value === 'string' && PLATFORM_VALUE.test(value) ? value : undefined
}

/**
 * The request's session. Every flow needs session middleware (passport logs the user in
 * there), but starting one does not write to it: with the cookie flow store an
 * anonymous start leaves the session uninitialized, and express-session then stores nothing.
 */
function sessionOf(req: JustpassRequest): Record<string, unknown> {
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

/** What one request has learnt of its flow, for the refusal that may end it. */
interface Attempt {
  /** The mode (and, on the callback, what the pending flow says), once known. */
  flow?: JustpassFlowInfo
  /** The flow's state, once drawn or received: its prefix marks the request's log lines. */
  state?: string
  /** The callback's state was already used by a flow this process finished. */
  alreadyUsed?: true
}

/** `, state abc123…` for a log line, or nothing when the state is not known yet. */
function stateMark(attempt: Attempt): string {
  return attempt.state === undefined ? '' : `, state ${statePrefix(attempt.state)}`
}

/** What the strategy builds once per provider context: the authorization requests and the ID token checks. */
interface ContextTools {
  context: ProviderConnection
  authorization: AuthorizationRequestBuilder
  idTokens: IdTokenVerifier
}

/**
 * The passport strategy for justpass.me passkeys. One instance serves every route:
 * `passport.authenticate('justpass', { mode: 'register' })`, `{ mode: 'login' }` and
 * `{ mode: 'confirm' }` start a flow; the same call without a mode, on the callback
 * route, finishes it.
 *
 * Its protected methods are meant to be overridden by a subclass (a NestJS
 * `PassportStrategy(JustpassStrategy)` or a plain `class extends JustpassStrategy`):
 * {@link JustpassStrategy.authorizationParams}, {@link JustpassStrategy.isCallback},
 * {@link JustpassStrategy.usernameOf}, {@link JustpassStrategy.responseOf} and
 * {@link JustpassStrategy.verifyWithSessionUser}.
 *
 * @typeParam User - the site's user object, as it ends up in `req.user`
 * @typeParam Req - the request a `passReqToCallback` verify callback receives: the host's own
 *   request type (`express.Request`, say); by default the members the strategy reads
 */
export class JustpassStrategy<User = unknown, Req extends JustpassRequest = JustpassRequest> extends PassportStrategy {
  /** The name passport knows the strategy by: `'justpass'`. */
  override name = 'justpass'
  /** The validated options, defaults applied, stores built. */
  private readonly settings: StrategySettings<User>
  /** The provider: its openid-client configuration and ID token key. */
  private readonly provider: ProviderConnectionSource
  private readonly verify: JustpassVerify<User> | JustpassVerifyWithRequest<User> | undefined
  /**
   * States whose callback this process has taken, until their flow would expire. Two
   * requests carrying the same state (at once, or one after the other with a cookie or
   * session copy that still holds the flow) reach the token endpoint once.
   */
  private readonly replayGuard = new ReplayGuard(REPLAY_GUARD_CAPACITY)
  /** `callbackURL`, parsed once: its host is where flows must start. */
  private readonly callbackURL: URL
  /**
   * The tools built for the current provider context. A holder made at construction:
   * passport runs each request on `Object.create(strategy)`, so a value assigned to
   * `this` during a request would stay on that request's copy.
   */
  private readonly tools: { current?: ContextTools } = {}

  /**
   * @param options - see {@link JustpassStrategyOptions}
   * @param verify - optional; without it the `userStore` decides who logs in
   * @throws {@link JustpassConfigError} naming the first option that is missing or malformed
   */
  constructor(options: JustpassStrategyOptionsWithRequest<User>, verify: JustpassVerifyWithRequest<User, Req>)
  constructor(options: JustpassStrategyOptions<User>, verify?: JustpassVerify<User>)
  constructor(options: JustpassStrategyOptions<User> | JustpassStrategyOptionsWithRequest<User>, verify?: JustpassVerify<User> | JustpassVerifyWithRequest<User, Req>) {
    super()
    if (verify !== undefined && typeof verify !== 'function') {
      throw new JustpassUsageError('the verify callback, when given, must be a function')
    }
    this.settings = resolveOptions(options, verify !== undefined)
    this.callbackURL = new URL(this.settings.callbackURL)
    // The host hands the strategy its own request, of the type the verify callback was written for.
    this.verify = verify as JustpassVerify<User> | JustpassVerifyWithRequest<User> | undefined
    this.provider = new ProviderConnectionSource(this.settings.provider)
  }

  /**
   * Called by passport for each request on a justpass route: starts a flow, or, when
   * {@link JustpassStrategy.isCallback} says the request comes back from justpass.me,
   * finishes one. Every refusal on the way is a thrown {@link JustpassRefusal}, reported
   * here, and only here, through passport's `fail()`.
   */
  authenticate(req: JustpassRequest, options: JustpassAuthenticateOptions = {}): void {
    // What is known of the flow, once started or found: whatever throws a refusal (a
    // check, a verify callback, an override), it is reported with the flow it refused.
    const attempt: Attempt = {}
    let work: Promise<void>
    try {
      sessionOf(req) // every flow needs session middleware: say so before anything else
      const rawQuery = requestTarget(req).query
      const query = new URLSearchParams(rawQuery)
      work = this.isCallback(req, query, options)
        ? this.finish(req, query, rawQuery, attempt)
        : this.start(req, query, options, attempt)
    } catch (err) {
      work = Promise.reject(err)
    }
    // A refusal is reported with fail(); anything else, including a failure handler that
    // throws (passport's failureFlash without flash middleware), goes to error(). If even
    // that throws, nothing is left to answer with, but no rejection goes unhandled.
    work
      .catch((err: unknown) => {
        if (err instanceof JustpassRefusal) return this.refuse(req, err, attempt)
        throw err
      })
      .catch((err: unknown) => {
        if (err instanceof JustpassProviderError && attempt.flow !== undefined) {
          err.mode = attempt.flow.mode
          if (attempt.flow.platform !== undefined) err.platform = attempt.flow.platform
        }
        log('error%s: %s', stateMark(attempt), err instanceof JustpassError ? `${err.code}: ${err.message}` : err instanceof Error ? err.name : 'unknown')
        this.error(err instanceof Error ? err : new Error(String(err)))
      })
      .catch((err: unknown) => log('the route threw while answering an error: %s', err instanceof Error ? err.name : 'unknown'))
  }

  /**
   * Whether the request comes back from the provider (the callback) rather than starting
   * a flow. Meant to be overridden, for a site whose callback is recognised otherwise.
   *
   * By default a route given a `mode` always starts a flow; without one, the request is
   * a callback when it is on the callback URL's path (a bare request there is a
   * malformed callback, not a LOGIN) or carries `code`, `error` or `state`.
   *
   * @param query - the request's query parameters
   * @param options - the options given to `passport.authenticate`
   */
  protected isCallback(req: JustpassRequest, query: URLSearchParams, options: JustpassAuthenticateOptions): boolean {
    if (options.mode !== undefined) return false
    return requestTarget(req).path === this.settings.callbackPath || query.has('code') || query.has('error') || query.has('state')
  }

  /**
   * The authorization parameters of a flow beyond the protocol's own, added to the
   * redirect to justpass.me. Meant to be overridden: call `super.authorizationParams(req,
   * flow)` and add or change entries, or return a different set. An `undefined` value
   * leaves a parameter out.
   *
   * The defaults are justpass.me's: `acr_values=keys`, `hint_mode=token`, `ui_locales`
   * from the request's `Accept-Language` (at most five tags), and `AMWALPLATFORM` with
   * the platform a mobile app named. The strategy sets the rest itself (`state`, `nonce`,
   * `prompt`, `login_hint`, `username`, `max_age`, `signature`, PKCE, ...): returning one
   * of those is a usage error.
   *
   * @param flow - who the flow is for: mode, username, platform, return path
   */
  protected authorizationParams(req: JustpassRequest, flow: Readonly<JustpassFlowStart>): Record<string, string | undefined> {
    return {
      hint_mode: 'token',
      acr_values: 'keys',
      ui_locales: uiLocalesFromAcceptLanguage(req.headers['accept-language']),
      AMWALPLATFORM: flow.platform,
    }
  }

  /** Initiation: decide who the flow is for, remember it, redirect to justpass.me. */
  private async start(req: JustpassRequest, query: URLSearchParams, options: JustpassAuthenticateOptions, attempt: Attempt): Promise<void> {
    const mode = options.mode ?? 'login'
    const urlOnly = options.urlOnly === true
    if (mode !== 'register' && mode !== 'login' && mode !== 'confirm') {
      throw new JustpassUsageError(`unknown mode ${JSON.stringify(mode)}: use 'register', 'login' or 'confirm'`)
    }
    attempt.flow = { mode }
    const target = requestTarget(req)
    const correction = correctHost(req, this.callbackURL, target.path, target.query, urlOnly)
    if (correction !== undefined && 'redirect' in correction) {
      log('start %s on host %s, not the callback URL\'s: sent to %s first', mode, requestHostname(req), this.callbackURL.origin)
      return this.redirect(correction.redirect)
    }
    if (correction !== undefined) {
      log('start %s on host %s refused: the callback URL is on %s (behind a proxy: does it pass the public host name on, and does the site trust it?)', mode, correction.refuse, this.callbackURL.hostname)
      throw new JustpassRefusal('wrong_host', `Sign-in works only at ${this.callbackURL.origin}. Open the site there and try again.`)
    }
    const start: JustpassFlowStart = { mode }
    if (mode === 'register') {
      start.username = this.usernameOf(req)
      if (start.username === undefined) throw new JustpassRefusal('login_required', 'Log in before enabling passkey login.')
    } else if (mode === 'confirm') {
      start.username = this.usernameOf(req)
      if (start.username === undefined) throw new JustpassRefusal('login_required', 'Log in first: only a logged-in user can confirm it is them.')
    } else {
      const base = sessionOf(req)[this.settings.baseUsernameKey]
      if (typeof base === 'string' && base !== '') start.username = base
    }
    const platform = platformOf(req, this.settings.platformHeader)
    if (platform !== undefined) start.platform = platform
    const returnTo = safeReturnTo(options.returnTo ?? query.get('next'))
    if (returnTo !== undefined) start.returnTo = returnTo

    const exchange = this.exchangeOf(req)
    if (urlOnly && exchange.res === undefined) throw new JustpassUsageError('urlOnly needs the response (req.res, or justpassSetup() of passport-justpass/fastify or passport-justpass/koa), which this host does not provide')
    const { authorization } = this.toolsFor(await this.provider.get())
    // The hook sees a frozen copy: what the flow is bound to (username, return path) stays the strategy's.
    const request = authorization.build(start, this.authorizationParams(req, Object.freeze({ ...start })))
    await this.settings.flowStore.put(exchange, request.state, request.flow)
    attempt.state = request.state
    log('start %s%s, state %s', mode, mode === 'login' ? (start.username ? ' (second factor)' : ' (single factor)') : '', statePrefix(request.state))
    if (urlOnly) answerURL(exchange.res as JustpassHostResponse, request.url)
    else this.redirect(request.url)
  }

  /**
   * The response flow cookies are set on and URL-only starts answer with. Meant to be
   * overridden by a subclass whose host keeps the response elsewhere.
   *
   * By default: the one a host adapter attached to the request (`req.justpassResponse`:
   * Fastify, Koa), else `req.res` (Express, Connect, NestJS on Express); `undefined`
   * when neither is there, or when it cannot add a header (koa-passport's `req.res`
   * without `justpassSetup`), so that the cookie store and `urlOnly` refuse with a usage
   * error that names the fix.
   */
  protected responseOf(req: JustpassRequest): JustpassHostResponse | undefined {
    const host = req as { justpassResponse?: JustpassHostResponse; res?: JustpassHostResponse }
    const res = host.justpassResponse ?? host.res
    return typeof res?.appendHeader === 'function' ? res : undefined
  }

  /**
   * The request and its response, for the flow store. The stores write nothing to the
   * response but `Set-Cookie` lines (`appendHeader`), which every
   * {@link JustpassHostResponse} provides.
   */
  private exchangeOf(req: JustpassRequest): FlowExchange {
    return { req, res: this.responseOf(req) }
  }

  /** The authorization request builder and the ID token verifier for `context`, made once per context. */
  private toolsFor(context: ProviderConnection): ContextTools {
    const current = this.tools.current
    if (current !== undefined && current.context === context) return current
    const endpoint = context.config.serverMetadata().authorization_endpoint
    if (!endpoint) throw new JustpassUsageError('the provider metadata has no authorization_endpoint')
    const { provider, callbackURL, scope, maxAge, authTimeMaxAge, flowMaxAge } = this.settings
    const tools: ContextTools = {
      context,
      authorization: new AuthorizationRequestBuilder(endpoint, { clientID: provider.clientID, clientSecretKey: provider.clientSecretKey, callbackURL, scope, maxAge, flowMaxAge }),
      idTokens: new IdTokenVerifier(context.idTokenKey, {
        issuer: context.issuer,
        clientID: provider.clientID,
        clockTolerance: provider.clockTolerance,
        maxTokenAge: flowMaxAge,
        authTimeMaxAge,
        requireAcr: provider.requireAcr,
      }),
    }
    this.tools.current = tools
    return tools
  }

  /** Callback: take the flow back, check everything, and let verify pick the user. */
  private async finish(req: JustpassRequest, query: URLSearchParams, rawQuery: string, attempt: Attempt): Promise<void> {
    const states = query.getAll('state')
    const state = states[0]
    if (state) attempt.state = state
    if (states.length !== 1 || !state || query.getAll('code').length > 1 || query.getAll('error').length > 1) {
      throw new JustpassRefusal('invalid_callback', 'The sign-in came back malformed (it needs exactly one state). Start again.')
    }
    const taken = await this.settings.flowStore.take(this.exchangeOf(req), state)
    const flow = this.claim(state, taken, attempt)
    attempt.flow = flowInfoOf(flow)
    if (taken.status === 'expired') throw new JustpassRefusal('state_expired', 'This sign-in took too long. Start again.')
    const providerError = query.get('error')
    if (providerError !== null) {
      const code = safeErrorCode(providerError)
      throw new JustpassRefusal(
        'provider_denied',
        code === 'access_denied' ? 'The passkey step was cancelled. Nothing was changed.' : `The passkey step did not complete at justpass.me (${code}). Start again.`,
        { providerError: code },
      )
    }
    if (!query.get('code')) throw new JustpassRefusal('invalid_callback', 'The sign-in came back malformed (it has no code). Start again.')
    if (flow.mode === 'register' && this.usernameOf(req) !== flow.username) {
      throw new JustpassRefusal('identity_mismatch', 'The logged-in user changed during passkey registration. Start again.')
    }
    if (flow.mode === 'confirm' && this.usernameOf(req) !== flow.username) {
      throw new JustpassRefusal('identity_mismatch', 'The logged-in user changed while confirming it was them. Confirm again.')
    }
    const context = await this.provider.get()
    const callbackURL = new URL(this.settings.callbackURL)
    callbackURL.search = rawQuery
    const verified = await exchangeCode(context, this.toolsFor(context).idTokens, flow, state, callbackURL)
    await this.decide(req, flow, verified, attempt)
  }

  /**
   * The flow a callback's `state` names (found or expired), claimed once in this
   * process: refused when the store has none (unknown, taken, another browser's) or when
   * this process already took it.
   */
  private claim(state: string, taken: TakenFlow, attempt: Attempt): PendingFlow {
    log('callback, state %s: %s', statePrefix(state), taken.status === 'found' ? `a pending ${taken.flow.mode} flow` : taken.status)
    // Claimed only once a flow was found, so that forged states cannot fill the guard.
    if (taken.status === 'unknown' || !this.replayGuard.claim(state, (taken.flow.started + this.settings.flowMaxAge + 1) * 1000)) {
      if (this.replayGuard.claimed(state)) attempt.alreadyUsed = true
      throw new JustpassRefusal('state_unknown', 'This sign-in link is unknown or was already used. Start again.')
    }
    return taken.flow
  }

  /** Run the verify callback (or the user store) and report its decision. */
  private async decide(req: JustpassRequest, flow: PendingFlow, verified: VerifiedFlow, attempt: Attempt): Promise<void> {
    const info: JustpassFlowInfo = { ...flowInfoOf(flow), username: verified.username }
    const { user, refusal } = await new Promise<{ user?: User; refusal?: Partial<JustpassFailureInfo> }>((resolve, reject) => {
      const done: JustpassVerifyDone<User> = (err, user, failure) => {
        if (err) reject(err)
        else if (user) resolve({ user })
        else resolve({ refusal: failure ?? {} })
      }
      const verify = this.verify
      try {
        if (verify === undefined) this.verifyWithSessionUser(req, verified, info).then((user) => done(null, user), reject)
        else if (this.settings.passReqToCallback) (verify as JustpassVerifyWithRequest<User>)(req, verified.tokens, verified.userinfo, info, done)
        else (verify as JustpassVerify<User>)(verified.tokens, verified.userinfo, info, done)
      } catch (err) {
        reject(err)
      }
    })
    if (!user) {
      throw new JustpassRefusal(refusal?.reason ?? 'unknown_user', refusal?.message ?? 'No account on this site matches this passkey. Sign in with your password.')
    }
    // Kept out of enumeration: the info reaches the site's hooks and logs; the token only the session.
    Object.defineProperty(info, 'idToken', { value: verified.tokens.id_token, enumerable: false })
    if (flow.mode === 'confirm') sessionOf(req)[CONFIRMED_AT_KEY] = Math.floor(Date.now() / 1000)
    log('success: %s%s', flow.mode, stateMark(attempt))
    this.success(user, info)
  }

  /**
   * Verify the flow against the user store, given the session's logged-in user (the one
   * a REG or a confirmation is for): the verify the strategy runs when it was given no
   * verify callback. Meant to be overridden, for a site whose user lookup does not fit
   * {@link JustpassUserStore} (or that adds a check of its own: throw a
   * {@link JustpassRefusal} to refuse).
   *
   * By default, {@link JustpassStrategy.verifyWithStore} with `req.user`.
   *
   * @returns the user to log in, or `false` when the site has no such user
   */
  protected async verifyWithSessionUser(req: JustpassRequest, verified: VerifiedFlow, info: JustpassFlowInfo): Promise<User | false> {
    return this.verifyWithStore(verified.tokens, verified.userinfo, info, req.user as User | undefined)
  }

  /**
   * The user store's decision on a verified flow, with every check the store offers: what
   * the strategy does without a verify callback, callable from one (a NestJS
   * `validate(tokens, userinfo, info)` returns `this.verifyWithStore(tokens, userinfo,
   * info)`), so that every host runs the same checks.
   *
   * - LOGIN: the store's user for the passkey's username (created with `createUser` when
   *   the store has it and found none); refused with `account_disabled` unless `isActive`
   *   answers `true`, with `passkey_login_off` unless `justpassEnabledOf` answers `true`,
   *   and with `identity_mismatch` when the `sub` recorded at REG is another one (each
   *   check only when the store has the method).
   * - confirm: the same checks on the logged-in user (never created).
   * - REG: `isActive` for the logged-in user, then the passkey flag set with the
   *   passkey's `sub`; the updated (or the logged-in) user.
   *
   * @param loggedIn - the logged-in user (REG and confirm), when the caller has it; else it is looked up by username
   * @returns the user, or `false` when the site has no such user
   * @throws {@link JustpassRefusal} when a check refuses; {@link JustpassUsageError} without a `userStore`
   */
  async verifyWithStore(tokens: JustpassTokens, userinfo: JustpassUserinfo, info: JustpassFlowInfo, loggedIn?: User): Promise<User | false> {
    const store = this.settings.userStore
    if (store === undefined) throw new JustpassUsageError('no userStore: give the strategy the userStore option to run its checks')
    const username = userinfo.preferred_username
    if (info.mode === 'register') {
      const current = loggedIn ?? (await store.findByUsername(username)) ?? undefined
      if (current !== undefined) await this.requireActive(store, current)
      const updated = await store.setJustpassEnabled(username, true, { sub: userinfo.sub })
      return updated || current || false
    }
    const found = info.mode === 'confirm' ? (loggedIn ?? (await store.findByUsername(username))) : await store.findByUsername(username)
    const user = found || (info.mode === 'login' && store.createUser ? await store.createUser(username) : undefined)
    if (!user) return false
    await this.requireActive(store, user)
    if (store.justpassEnabledOf !== undefined && (await store.justpassEnabledOf(user)) !== true) {
      throw new JustpassRefusal('passkey_login_off', 'Passkey login is turned off for this account. Sign in with your password.')
    }
    const recorded = store.justpassSubOf ? await store.justpassSubOf(user) : undefined
    if (recorded !== undefined && recorded !== null && typeof recorded !== 'string') {
      // A number or an object here would turn the binding off without a word: say so instead.
      throw new JustpassUsageError('the user store\'s justpassSubOf must answer the recorded sub as a string, or null or undefined when none is recorded')
    }
    if (typeof recorded === 'string' && recorded !== userinfo.sub) {
      throw new JustpassRefusal('identity_mismatch', 'This passkey belongs to another account than the one registered for passkey login. Use your own passkey.')
    }
    return user
  }

  /** Refuse with `account_disabled` unless the store's `isActive`, when it has one, answers `true`. */
  private async requireActive(store: JustpassUserStore<User>, user: User): Promise<void> {
    if (store.isActive !== undefined && (await store.isActive(user)) !== true) {
      throw new JustpassRefusal('account_disabled', 'This account is disabled. Contact the site if you think this is a mistake.')
    }
  }

  /**
   * The URL that logs the user out at the provider (RP-initiated logout): its
   * end-session endpoint with `id_token_hint` (when given), `post_logout_redirect_uri`
   * (when given), `client_id` and a fresh `state`; `undefined` when the provider settings
   * say `endSessionURL: false` or a discovered provider announces no end-session
   * endpoint. The logout handlers (`justpassLogout` and its Fastify and Koa
   * equivalents) call it once the site's session has ended.
   *
   * @throws {@link JustpassProviderError} when discovery is on and the metadata cannot be read
   */
  async logoutURL(request: JustpassLogoutRequest = {}): Promise<string | undefined> {
    const endpoint = (await this.provider.get()).endSessionEndpoint
    if (endpoint === undefined) return undefined
    const url = new URL(endpoint)
    if (request.idTokenHint !== undefined) url.searchParams.set('id_token_hint', request.idTokenHint)
    if (request.postLogoutRedirectURL !== undefined) url.searchParams.set('post_logout_redirect_uri', request.postLogoutRedirectURL)
    url.searchParams.set('client_id', this.settings.provider.clientID)
    url.searchParams.set('state', randomBytes(24).toString('base64url'))
    return url.href
  }

  /**
   * The logged-in user's username (`req.user[usernameField]`), or `undefined` when nobody
   * is logged in: REG registers a passkey for it. Meant to be overridden, for a site
   * whose `req.user` keeps it elsewhere.
   *
   * @throws {@link JustpassUsageError} when a user is logged in without a non-empty string username
   */
  protected usernameOf(req: JustpassRequest): string | undefined {
    const user = req.user as Record<string, unknown> | undefined
    if (user === undefined || user === null) return undefined
    const username = user[this.settings.usernameField]
    if (typeof username !== 'string' || username === '') {
      throw new JustpassUsageError(`req.user has no non-empty string "${this.settings.usernameField}" (option usernameField)`)
    }
    return username
  }

  /**
   * Report a refusal through passport's `fail()`, with what is known of the flow (the
   * platform falls back to the callback request's header when the flow is unknown).
   * A second-factor LOGIN that fails ends the password step too: the base username is
   * dropped, so that the user starts again from the password.
   */
  private refuse(req: JustpassRequest, refusal: JustpassRefusal, attempt: Attempt): void {
    const flow = attempt.flow
    const info: JustpassFailureInfo = { message: refusal.message, reason: refusal.code }
    if (flow !== undefined) info.mode = flow.mode
    const platform = flow?.platform ?? platformOf(req, this.settings.platformHeader)
    if (platform !== undefined) info.platform = platform
    if (refusal.providerError !== undefined) info.providerError = refusal.providerError
    if (attempt.alreadyUsed === true && refusal.code === 'state_unknown') info.alreadyUsed = true
    if (flow?.secondFactor === true) delete sessionOf(req)[this.settings.baseUsernameKey]
    log('refused%s%s: %s (%s)', flow ? ` ${flow.mode}` : '', stateMark(attempt), refusal.code, refusal.message)
    this.fail(info, failureStatus(refusal.code))
  }
}
