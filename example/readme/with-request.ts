/**
 * A verify callback that receives the request first (`passReqToCallback: true`).
 */
import { JustpassStrategy } from 'passport-justpass'
import type { JustpassSettings } from './site.js'
import type { SqliteUserStore, User } from './user-store.js'

/** The strategy with a verify callback that reads the callback request. */
export function createRequestStrategy(settings: JustpassSettings, users: SqliteUserStore): JustpassStrategy<User> {
  return new JustpassStrategy<User>({ ...settings, passReqToCallback: true }, (req, _tokens, userinfo, info, done) => {
    if (info.mode === 'register') {
      // REG: req.user is the logged-in user; the strategy has checked the passkey is theirs.
      const user = req.user as User
      users.setJustpassEnabled(user.username, true).then((updated) => done(null, updated ?? user), done)
      return
    }
    // LOGIN and confirm: a passkey counts only while the user has passkey login on.
    users.findByUsername(userinfo.preferred_username).then((user) => {
      if (user && !users.justpassEnabledOf(user)) return done(null, false, { reason: 'passkey_login_off', message: 'Passkey login is turned off for this account. Sign in with your password.' })
      done(null, user ?? false)
    }, done)
  })
}
