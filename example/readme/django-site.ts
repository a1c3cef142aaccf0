/**
 * docs/migration.md's step by step: a Django site with justpass.me as a second factor
 * and as "log in with a passkey", rewritten with Express. It keeps its justpass.me
 * application (the same callback URL), its paths and its users' passkeys.
 */
import express from 'express'
import session from 'express-session'
import { Passport } from 'passport'
import { JustpassStrategy, justpassCallback, type JustpassFailureInfo, type JustpassFlowInfo } from 'passport-justpass'
import type { SqliteUserStore, User } from './user-store.js'

declare module 'express-session' {
  interface SessionData {
    /** Set by the REG hooks, as Django's handlers set `request.session["reg"]`. */
    reg?: boolean
  }
}

/** The Django settings the site keeps, and its users. */
export interface DjangoSiteConfig {
  /** `OIDC_OP_URL` */
  opURL: string
  /** `OIDC_RP_CLIENT_ID` */
  clientID: string
  /** `OIDC_RP_CLIENT_SECRET` */
  clientSecret: string
  /** The absolute URL of the callback already registered at justpass.me, such as `https://shop.example.com/oidc/callback/`. */
  callbackURL: string
  sessionSecret: string
  users: SqliteUserStore
}

// #region handlers
// AUTHENTICATION_SUCCESS: the user is logged in, on a new session id.
export function onLoggedIn(req: express.Request, res: express.Response, info: JustpassFlowInfo): void {
  res.redirect(info.returnTo ?? '/')
}

// AUTHENTICATION_FAILURE: info.message is fit to show; info.reason says which check.
export function onLoginFailed(req: express.Request, res: express.Response, info: Partial<JustpassFailureInfo>): void {
  res.redirect(`/accounts/login/?failed=${encodeURIComponent(info.reason ?? 'unknown')}`)
}

// REGISTRATION_SUCCESS: userStore.setJustpassEnabled has already set the flag.
export function onRegistered(req: express.Request, res: express.Response): void {
  req.session.reg = true
  res.redirect('/')
}

// REGISTRATION_FAILURE: nothing changed.
export function onRegistrationFailed(req: express.Request, res: express.Response): void {
  req.session.reg = false
  res.redirect('/')
}
// #endregion

/** The site as an Express app, behind one TLS-terminating proxy. */
export function createDjangoSite(config: DjangoSiteConfig): express.Express {
  const { users } = config
  const passport = new Passport()
  // #region strategy
  passport.use(new JustpassStrategy<User>({
    opURL: config.opURL, // OIDC_OP_URL: 'https://acme.accounts.justpass.me/openid/'
    clientID: config.clientID, // OIDC_RP_CLIENT_ID
    clientSecret: config.clientSecret, // OIDC_RP_CLIENT_SECRET
    callbackURL: config.callbackURL, // 'https://shop.example.com/oidc/callback/', already registered at justpass.me
    usernameField: 'username', // OIDC_USERNAME_FIELD
    scope: 'openid', // OIDC_RP_SCOPES
    userStore: users, // OIDCUserFinder
  }))
  passport.serializeUser<string>((user, done) => done(null, (user as User).username))
  passport.deserializeUser<string>((username, done) => {
    users.findByUsername(username).then((user) => done(null, user ?? false), done)
  })

  const app = express()
  app.set('trust proxy', 1) // USE_X_FORWARDED_HOST, SECURE_PROXY_SSL_HEADER: one TLS proxy in front
  // A __Host- session cookie: no sibling subdomain can plant one (SECURITY.md, "The site's session cookie").
  app.use(session({ name: '__Host-sessionid', secret: config.sessionSecret, resave: false, saveUninitialized: false, cookie: { secure: true, sameSite: 'lax', path: '/' } }))
  app.use(passport.initialize())
  app.use(passport.session())
  // #endregion

  // #region password
  app.post('/accounts/login/', express.urlencoded({ extended: false }), async (req, res, next) => {
    const user = await users.checkPassword(String(req.body?.username ?? ''), String(req.body?.password ?? ''))
    if (!user) return res.redirect('/accounts/login/?failed=1')
    if (!user.justpassEnabled) return req.logIn(user, (err) => (err ? next(err) : res.redirect('/')))
    req.session.base_username = user.username // request.session["base_username"]
    res.redirect('/justpass/login')
  })
  // #endregion

  // #region routes
  app.get('/justpass/reg', passport.authenticate('justpass', { mode: 'register', failureRedirect: '/accounts/login/' })) // start_reg
  app.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' })) // start_login
  app.get('/oidc/callback/', justpassCallback({ authenticator: passport, onLoggedIn, onLoginFailed, onRegistered, onRegistrationFailed }))
  // #endregion

  // #region url-only
  app.get('/justpass/login-url', passport.authenticate('justpass', { mode: 'login', urlOnly: true })) // get_login_link
  app.get('/justpass/reg-url', passport.authenticate('justpass', { mode: 'register', urlOnly: true })) // get_reg_link
  // #endregion

  // The home page answers JSON to keep the example short.
  app.get('/', (req, res) => {
    res.json({ user: (req.user as User | undefined)?.username ?? null, reg: req.session.reg ?? null })
  })
  return app
}
