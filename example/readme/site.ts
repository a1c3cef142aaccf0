/**
 * A complete Express site with passkey login through justpass.me: a password step
 * (the first factor), REG, second-factor and single-factor LOGIN, and the notices.
 */
import express from 'express'
import session from 'express-session'
import { Passport } from 'passport'
import { JustpassProviderError, JustpassStrategy, justpassCallback, takeJustpassNotice } from 'passport-justpass'
import type { SqliteUserStore, User } from './user-store.js'

/** The app's settings at justpass.me. */
export interface JustpassSettings {
  /** `https://<organization>.accounts.justpass.me/openid/` */
  opURL: string
  clientID: string
  clientSecret: string
  /** The absolute URL of `/justpass/callback` on this site, registered at justpass.me. */
  callbackURL: string
}

/** What {@link createSite} needs. */
export interface SiteConfig extends JustpassSettings {
  sessionSecret: string
  users: SqliteUserStore
  /** A strategy with a verify callback of its own; by default the user store decides. */
  strategy?: JustpassStrategy<User>
}

/** The site as an Express app; start it with `createSite(config).listen(3000)`. */
export function createSite(config: SiteConfig): express.Express {
  const { users } = config
  const passport = new Passport()
  passport.use(config.strategy ?? new JustpassStrategy<User>({
    opURL: config.opURL,
    clientID: config.clientID,
    clientSecret: config.clientSecret,
    callbackURL: config.callbackURL,
    userStore: users,
  }))
  passport.serializeUser<string>((user, done) => done(null, (user as User).username))
  passport.deserializeUser<string>((username, done) => {
    users.findByUsername(username).then((user) => done(null, user ?? false), done)
  })

  const app = express()
  // #region session
  // On https the session cookie is __Host- prefixed (Secure, Path=/, no Domain), so that no
  // other site under the same domain can plant one. Behind a proxy that terminates TLS, add
  // app.set('trust proxy', 1): express-session sets a Secure cookie only over https.
  const https = new URL(config.callbackURL).protocol === 'https:'
  // The session must come before passport: passport logs users in there.
  app.use(session({
    name: https ? '__Host-connect.sid' : 'connect.sid',
    secret: config.sessionSecret,
    resave: false,
    saveUninitialized: false,
    cookie: { secure: https, sameSite: 'lax', path: '/' },
  }))
  // #endregion
  app.use(passport.initialize())
  app.use(passport.session())

  // #region password
  app.post('/login', express.urlencoded({ extended: false }), async (req, res, next) => {
    const { username = '', password = '' } = req.body ?? {}
    const user = await users.checkPassword(String(username), String(password))
    if (!user) return res.redirect('/login?failed=1')
    if (user.justpassEnabled) {
      // The password was right; the passkey is the second factor.
      req.session.base_username = user.username
      return res.redirect('/justpass/login')
    }
    req.logIn(user, (err) => (err ? next(err) : res.redirect('/')))
  })
  // #endregion

  // #region routes
  app.get('/justpass/reg', passport.authenticate('justpass', { mode: 'register' }))
  app.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' }))
  app.get('/justpass/callback', justpassCallback({ authenticator: passport }))
  // #endregion

  // #region notice
  // The pages answer JSON to keep the example short; render your templates instead.
  app.get('/login', (req, res) => {
    const notice = takeJustpassNotice(req)
    res.json({ failed: req.query.failed === '1' || notice?.ok === false, message: notice?.message })
  })
  app.get('/', (req, res) => {
    const user = req.user as User | undefined
    res.json({ user: user?.username ?? null, justpassEnabled: user?.justpassEnabled ?? false, notice: takeJustpassNotice(req) })
  })
  // #endregion

  // #region errors
  app.use((err: Error, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (!(err instanceof JustpassProviderError)) return next(err)
    res.status(502).send('Passkey login is unavailable, try again later.')
  })
  // #endregion
  return app
}
