/**
 * A custom verify callback: it replaces the user store's default and decides which
 * user, if any, a verified passkey logs in.
 */
import { JustpassStrategy } from 'passport-justpass'
import type { JustpassSettings } from './site.js'
import type { SqliteUserStore, User } from './user-store.js'

/** The strategy with its own verify callback: refuses unknown users with its own message. */
export function createVerifyStrategy(settings: JustpassSettings, users: SqliteUserStore): JustpassStrategy<User> {
  return new JustpassStrategy<User>(settings, (tokens, userinfo, info, done) => {
    // tokens: the token response (id_token, access_token); userinfo: the passkey's owner.
    users.findByUsername(userinfo.preferred_username).then(async (user) => {
      if (!user) return done(null, false, { reason: 'unknown_user', message: 'no account matches this passkey' })
      if (info.mode === 'register') return done(null, await users.setJustpassEnabled(user.username, true))
      // LOGIN and confirm: a passkey counts only while the user has passkey login on.
      if (!users.justpassEnabledOf(user)) return done(null, false, { reason: 'passkey_login_off', message: 'Passkey login is turned off for this account. Sign in with your password.' })
      done(null, user)
    }).catch(done)
  })
}
