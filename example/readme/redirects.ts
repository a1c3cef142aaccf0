/**
 * A small site whose callback route uses plain passport redirects instead of
 * justpassCallback: two fixed destinations, one for success and one for failure.
 */
import express from 'express'
import session from 'express-session'
import { Passport } from 'passport'
import { JustpassStrategy, type JustpassUserStore } from 'passport-justpass'
import type { JustpassSettings } from './site.js'

/** A user with the username sent to justpass.me. */
export interface SiteUser {
  username: string
}

/** What {@link createRedirectSite} needs. */
export interface RedirectSiteConfig extends JustpassSettings {
  sessionSecret: string
  users: JustpassUserStore<SiteUser>
}

/** A passkey-only site: "Log in with a passkey", then `/welcome` or `/login?failed=1`. */
export function createRedirectSite(config: RedirectSiteConfig): express.Express {
  const { users, sessionSecret, ...settings } = config
  const passport = new Passport()
  passport.use(new JustpassStrategy<SiteUser>({ ...settings, userStore: users }))
  passport.serializeUser<string>((user, done) => done(null, (user as SiteUser).username))
  passport.deserializeUser<string>((username, done) => {
    users.findByUsername(username).then((user) => done(null, user ?? false), done)
  })

  const app = express()
  app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }))
  app.use(passport.initialize())
  app.use(passport.session())
  app.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' }))
  // #region callback
  app.get('/justpass/callback', passport.authenticate('justpass', {
    successRedirect: '/welcome',
    failureRedirect: '/login?failed=1',
  }))
  // #endregion
  app.get('/welcome', (req, res) => {
    res.json({ user: (req.user as SiteUser | undefined)?.username ?? null })
  })
  app.get('/login', (req, res) => {
    res.json({ failed: req.query.failed === '1' })
  })
  return app
}
