/**
 * docs/migration.md's rewrite of the justpass.me Firebase extension: passkey REG for a
 * Firebase user named by a Bearer ID token, and passkey LOGIN answered with a Firebase
 * custom token. `auth` is firebase-admin's `getAuth()`, after `initializeApp()`.
 */
import express from 'express'
import session from 'express-session'
import { Passport } from 'passport'
import { JustpassStrategy, justpassCallback } from 'passport-justpass'

/** What the site uses of firebase-admin's `Auth`. */
export interface FirebaseAuth {
  createCustomToken(uid: string): Promise<string>
  verifyIdToken(idToken: string): Promise<{ uid: string }>
}

/** A Firebase user; after a passkey LOGIN, with the custom token to sign in with. */
export interface FirebaseUser {
  uid: string
  customToken?: string
}

/** The extension's parameters, and the rest of the site's settings. */
export interface FirebaseSiteConfig {
  /** `https://<JUSTPASSME_ORGANIZATION_NAME in lower case>.accounts.justpass.me/openid/` */
  opURL: string
  /** `JUSTPASSME_ID` */
  clientID: string
  /** `JUSTPASSME_API_SECRET` */
  clientSecret: string
  /** The absolute URL of `/justpass/callback` on this site, registered at justpass.me. */
  callbackURL: string
  sessionSecret: string
  /** firebase-admin's `getAuth()`. */
  auth: FirebaseAuth
}

/** The site as an Express app, serving the extension's `/register` and `/authenticate`. */
export function createFirebaseSite(config: FirebaseSiteConfig): express.Express {
  const { auth } = config
  const passport = new Passport()
  // #region strategy
  passport.use(new JustpassStrategy<FirebaseUser>({
    opURL: config.opURL,
    clientID: config.clientID,
    clientSecret: config.clientSecret,
    callbackURL: config.callbackURL,
    usernameField: 'uid',
    scope: 'openid token email profile',
    platformHeader: 'justpass-me-platform',
  }, (tokens, userinfo, info, done) => {
    const uid = userinfo.preferred_username // the Firebase uid the passkey was registered for
    if (info.mode === 'register') return done(null, { uid })
    auth.createCustomToken(uid).then((customToken) => done(null, { uid, customToken }), done)
  }))
  passport.serializeUser<string>((user, done) => done(null, (user as FirebaseUser).uid))
  passport.deserializeUser<string>((uid, done) => done(null, { uid }))
  // #endregion

  // #region bearer
  /** The extension's Bearer check; the user is also logged in to the session, for the REG callback. */
  async function firebaseUser(req: express.Request, res: express.Response, next: express.NextFunction): Promise<void> {
    const header = req.get('authorization') ?? ''
    if (!header.startsWith('Bearer ')) return next()
    let uid: string
    try {
      ({ uid } = await auth.verifyIdToken(header.slice('Bearer '.length)))
    } catch {
      return next() // an invalid token is ignored, as the extension does
    }
    req.logIn({ uid }, next)
  }
  // #endregion

  // #region routes
  const app = express()
  app.use(session({ secret: config.sessionSecret, resave: false, saveUninitialized: false }))
  app.use(passport.initialize())
  app.use(passport.session())

  app.get('/register', firebaseUser, (req, res, next) => {
    if (!req.user) return void res.status(401).json({ status: 'ERR', message: 'log in before registering a passkey' })
    next()
  }, passport.authenticate('justpass', { mode: 'register' }))
  app.get('/authenticate', passport.authenticate('justpass', { mode: 'login' }))
  app.get('/justpass/callback', justpassCallback({
    authenticator: passport,
    onRegistered: (req, res) => void res.json({ status: 'OK', message: 'passkey registered' }),
    onRegistrationFailed: (req, res, info) => void res.status(401).json({ status: 'ERR', message: info.message }),
    onLoggedIn: (req, res) => void res.json({ status: 'OK', message: 'logged in', token: (req.user as FirebaseUser).customToken }),
    onLoginFailed: (req, res, info) => void res.status(401).json({ status: 'ERR', message: info.message }),
  }))
  // #endregion
  return app
}
