/**
 * The shop's users as passport-justpass needs them: found on LOGIN, flagged (with the
 * provider `sub`) after REG, bound to that `sub` at LOGIN, refused when disabled or when
 * passkey login is off. No `createUser`: a passkey of someone without a shop account is
 * refused (`unknown_user`).
 */
import type { JustpassUserStore } from '../../src/index.ts'
import type { ShopDatabase, ShopUser } from './db.ts'

/**
 * A `JustpassUserStore` over the shop's users table.
 *
 * `findByUsername` finds every account, whether its passkey login is on or not, so that
 * a refusal says what is true: for a user who never turned passkey login on, or turned
 * it off, `justpassEnabledOf` answers `false` (read from the database at that moment),
 * and a passkey still registered at justpass.me is refused with `passkey_login_off`, in
 * either kind of LOGIN and when confirming it is them.
 */
export function shopUserStore(db: ShopDatabase): JustpassUserStore<ShopUser> {
  return {
    async findByUsername(username) {
      return db.findByUsername(username)
    },
    async setJustpassEnabled(username, enabled, details) {
      return db.setJustpassEnabled(username, enabled, details)
    },
    justpassEnabledOf(user) {
      return db.isJustpassEnabled(user.id)
    },
    justpassSubOf(user) {
      return db.justpassSubOf(user.id)
    },
    isActive(user) {
      return db.isActive(user.id)
    },
  }
}
