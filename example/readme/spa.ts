/**
 * A single-page app's routes: flows started with `fetch` (URL-only starts), and the
 * callback answering LOGIN with the site's own JSON through the outcome hooks.
 */
import type express from 'express'
import type { Passport } from 'passport'
import { justpassCallback } from 'passport-justpass'

/** Add the URL-only start routes and a callback with LOGIN hooks to `app`. */
export function addSpaRoutes(app: express.Express, passport: InstanceType<typeof Passport>): void {
  // #region url-only
  app.get('/justpass/reg-url', passport.authenticate('justpass', { mode: 'register', urlOnly: true }))
  app.get('/justpass/login-url', passport.authenticate('justpass', { mode: 'login', urlOnly: true }))
  // #endregion

  // #region hooks
  app.get('/justpass/callback', justpassCallback({
    authenticator: passport,
    onLoggedIn: (req, res, info) => void res.json({ username: info.username, next: info.returnTo ?? '/' }),
    onLoginFailed: (req, res, info) => void res.status(401).json({ reason: info.reason, message: info.message }),
  }))
  // #endregion
}
