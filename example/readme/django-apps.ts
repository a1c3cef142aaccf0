/**
 * docs/migration.md's mobile apps already shipped against the Django client: the
 * callback answers them with the Django client's bytes (`appAnswers: 'django'`), and the
 * `token` after LOGIN is the value of the `sessionid` cookie, for apps that send it back
 * as that cookie.
 */
import { createHmac } from 'node:crypto'
import express from 'express'
import session from 'express-session'
import { Passport } from 'passport'
import { JustpassStrategy, justpassCallback } from 'passport-justpass'
import { onRegistered, onRegistrationFailed, type DjangoSiteConfig } from './django-site.js'
import type { User } from './user-store.js'

// #region token
/** express-session's cookie value for a session id, `s:<id>.<signature>`, signed as express-session signs it. */
export function signedSessionID(id: string, secret: string): string {
  return `s:${id}.${createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '')}`
}
// #endregion

/** The Django site's strategy and callback, answering shipped apps as Django did. */
export function createDjangoAppSite(config: DjangoSiteConfig): express.Express {
  const { users } = config
  const passport = new Passport()
  passport.use(new JustpassStrategy<User>({ opURL: config.opURL, clientID: config.clientID, clientSecret: config.clientSecret, callbackURL: config.callbackURL, userStore: users }))
  passport.serializeUser<string>((user, done) => done(null, (user as User).username))
  passport.deserializeUser<string>((username, done) => {
    users.findByUsername(username).then((user) => done(null, user ?? false), done)
  })

  const app = express()
  // #region session
  app.use(session({ name: 'sessionid', secret: config.sessionSecret, resave: false, saveUninitialized: false }))
  // #endregion
  app.use(passport.initialize())
  app.use(passport.session())
  app.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' }))
  // #region callback
  app.get('/oidc/callback/', justpassCallback({
    authenticator: passport,
    appAnswers: 'django', // LOGIN: 200 {"username": …, "token": …} or 200 {"err": "Failed"}; REG: redirects
    appToken: (req) => signedSessionID(req.sessionID, config.sessionSecret), // the sessionid cookie's value
    loginURL: '/accounts/login/',
    onRegistered,
    onRegistrationFailed,
  }))
  // #endregion
  return app
}
