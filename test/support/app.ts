/**
 * A site for tests: Express 5, express-session, its own passport instance, and the
 * three justpass routes, plus two test-only routes that play the password step.
 */
import express, { type ErrorRequestHandler, type Request } from 'express'
import session from 'express-session'
import { Passport } from 'passport'
import {
  JustpassStrategy,
  justpassProvider,
  type JustpassProviderSettings,
  MemoryUserStore,
  justpassCallback,
  justpassLogout,
  justpassStart,
  requireJustpassConfirmation,
  takeJustpassNotice,
  type JustpassConfirmationOptions,
  type JustpassLogoutOptions,
  type JustpassCallbackOptions,
  type JustpassStrategyOptions,
  type JustpassVerify,
  type JustpassVerifyWithRequest,
  type MemoryUser,
} from '../../src/index.ts'
import { startLoopbackServer, type LoopbackServer } from './server.ts'

export interface TestApp {
  origin: string
  callbackURL: string
  users: MemoryUserStore
  strategy: JustpassStrategy<MemoryUser>
  /** Errors that reached the error handler, in order. */
  errors: Error[]
  /** The site's session store. */
  sessionStore: session.Store
  close(): Promise<void>
}

export interface TestAppOptions {
  /** The users the site starts with. Default: alice and bob. */
  usernames?: string[]
  /** `'helper'` (default): the callback route uses justpassCallback; `'redirects'`: plain successRedirect/failureRedirect. */
  callbackStyle?: 'helper' | 'redirects'
  /** Strategy options on top of the defaults (opURL, clientID, clientSecret, callbackURL, userStore). */
  strategy?: Partial<JustpassStrategyOptions<MemoryUser>>
  /** A subclass of JustpassStrategy to build instead (one that overrides a hook). */
  strategyClass?: typeof JustpassStrategy<MemoryUser>
  /** Provider settings on top of the provider's (opURL, clientID, clientSecret): passed as `provider: justpassProvider(…)`. */
  providerSettings?: Partial<JustpassProviderSettings>
  verify?: JustpassVerify<MemoryUser>
  /** A verify that takes the request first; sets `passReqToCallback: true`. */
  verifyWithRequest?: JustpassVerifyWithRequest<MemoryUser, Request>
  /** The session store. Default: express-session's MemoryStore. */
  sessionStore?: session.Store
  /** Options of the callback route's justpassCallback (hooks, app answers). */
  callback?: Omit<JustpassCallbackOptions, 'authenticator'>
  /** Options of POST /logout's justpassLogout. */
  logout?: JustpassLogoutOptions
  /** Options of the confirmation guard of /test/sensitive. */
  confirmation?: JustpassConfirmationOptions
}

/** The site's reserved server; create the site with {@link buildTestApp} once the provider is up. */
export async function reserveTestApp(): Promise<LoopbackServer & { callbackURL: string }> {
  const server = await startLoopbackServer()
  return Object.assign(server, { callbackURL: `${server.origin}/justpass/callback` })
}

/** Build the site on a reserved server, against a provider. */
export function buildTestApp(
  server: LoopbackServer & { callbackURL: string },
  provider: { opURL: string; clientID: string; clientSecret: string },
  options: TestAppOptions = {},
): TestApp {
  const users = new MemoryUserStore(options.usernames ?? ['alice', 'bob'])
  const shorthand = { opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret }
  const strategyOptions: JustpassStrategyOptions<MemoryUser> = {
    ...(options.providerSettings ? { provider: justpassProvider({ ...shorthand, ...options.providerSettings }) } : shorthand),
    callbackURL: server.callbackURL,
    userStore: users,
    ...options.strategy,
  }
  const Strategy = options.strategyClass ?? JustpassStrategy<MemoryUser>
  const strategy = options.verifyWithRequest
    ? new (Strategy as typeof JustpassStrategy<MemoryUser, Request>)({ ...strategyOptions, passReqToCallback: true }, options.verifyWithRequest)
    : new Strategy(strategyOptions, options.verify)
  const authenticator = new Passport()
  authenticator.use(strategy)
  authenticator.serializeUser<string>((user, done) => done(null, (user as MemoryUser).username))
  authenticator.deserializeUser<string>((username, done) => {
    users.findByUsername(username).then((user) => done(null, user ?? false), done)
  })

  const errors: Error[] = []
  const app = express()
  const sessionStore = options.sessionStore ?? new session.MemoryStore()
  app.use(session({ name: 'shop.sid', secret: 'test-session-secret', resave: false, saveUninitialized: false, store: sessionStore }))
  app.use(authenticator.initialize())
  app.use(authenticator.session())

  // The password step, as a site would do it: a passkey user continues to the second factor.
  app.get('/test/password', async (req, res, next) => {
    const user = await users.findByUsername(String(req.query.username))
    if (!user) return void res.status(404).end()
    if (user.justpassEnabled) {
      req.session.base_username = user.username
      return void res.redirect('/justpass/login')
    }
    req.logIn(user, (err) => (err ? next(err) : res.redirect('/')))
  })
  // Logs a user in without any check: sets up REG tests.
  app.get('/test/login-as', async (req, res, next) => {
    const user = await users.findByUsername(String(req.query.username))
    if (!user) return void res.status(404).end()
    req.logIn(user, (err) => (err ? next(err) : res.redirect('/')))
  })
  // Logs a user in keeping the session's data (passport's keepSessionInfo), as some sites do.
  app.get('/test/login-as-keeping-session', async (req, res, next) => {
    const user = await users.findByUsername(String(req.query.username))
    if (!user) return void res.status(404).end()
    req.logIn(user, { session: true, keepSessionInfo: true }, (err) => (err ? next(err) : res.redirect('/')))
  })
  // Sets a session field (a number with &number=1): a cart, a language, an old confirmation.
  app.get('/test/set', (req, res) => {
    const value = req.query.number === '1' ? Number(req.query.value) : String(req.query.value)
    ;(req.session as unknown as Record<string, unknown>)[String(req.query.key)] = value
    res.json({ ok: true })
  })
  // A sensitive page and action, behind the confirmation guard.
  const guard = requireJustpassConfirmation({ ...options.confirmation, authenticator })
  app.get('/test/sensitive', guard, (req, res) => void res.json({ user: (req.user as MemoryUser).username, confirmedAt: req.session.justpassConfirmedAt }))
  app.post('/test/sensitive', guard, (_req, res) => void res.json({ done: true }))
  app.post('/logout', justpassLogout({ ...options.logout, authenticator }))
  app.get('/me', (req, res) => {
    res.json({ user: req.user ?? null, notice: takeJustpassNotice(req) ?? null, sessionID: req.sessionID })
  })
  // What the session holds, for tests that check what the strategy remembers.
  app.get('/test/session', (req, res) => void res.json(req.session))
  app.get('/', (_req, res) => void res.send('home'))
  app.get('/login', (_req, res) => void res.send('login page'))

  // REG and the URL-only starts through justpassStart, LOGIN and confirm through passport.authenticate: the two forms start the same flows.
  app.get('/justpass/reg', justpassStart({ authenticator, mode: 'register' }))
  app.get('/justpass/login', authenticator.authenticate('justpass', { mode: 'login' }))
  app.get('/justpass/confirm', authenticator.authenticate('justpass', { mode: 'confirm' }))
  // URL-only starts: JSON {url} instead of a redirect.
  app.get('/justpass/reg-url', justpassStart({ authenticator, mode: 'register', urlOnly: true }))
  app.get('/justpass/login-url', justpassStart({ authenticator, mode: 'login', urlOnly: true }))
  // failureFlash without a flash middleware: passport's failure handler throws.
  app.get('/justpass/flash-callback', authenticator.authenticate('justpass', { failureRedirect: '/login', failureFlash: true }))
  // The strategy alone, no outcome helper and no redirects: what passport itself answers.
  app.get('/justpass/plain-callback', authenticator.authenticate('justpass'))
  if (options.callbackStyle === 'redirects') {
    app.get('/justpass/callback', authenticator.authenticate('justpass', { successRedirect: '/welcome', failureRedirect: '/login?failed=1' }))
  } else {
    app.get('/justpass/callback', justpassCallback({ ...options.callback, authenticator }))
  }

  const onError: ErrorRequestHandler = (err: Error & { code?: string }, _req, res, _next) => {
    errors.push(err)
    res.status(502).json({ error: err.code ?? 'error', name: err.name })
  }
  app.use(onError)

  server.handle(app)
  return { origin: server.origin, callbackURL: server.callbackURL, users, strategy, errors, sessionStore, close: () => server.close() }
}
