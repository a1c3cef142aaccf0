/**
 * The shop's users as passport-justpass needs them: found on LOGIN, flagged (with the
 * provider `sub`) after REG, bound to that `sub` at LOGIN, refused when disabled.
 * No `createUser`: a passkey of someone without a shop account is refused (`unknown_user`).
 */
import type { JustpassUserStore } from '../../src/index.ts'
import type { ShopDatabase, ShopUser } from './db.ts'

/**
 * A `JustpassUserStore` over the shop's users table.
 *
 * A passkey logs in only a user who has passkey login on: for a user who never turned
 * it on, or turned it off, `findByUsername` finds nobody, so that a passkey still
 * registered at justpass.me does not log them in alone (`unknown_user`).
 */
export function shopUserStore(db: ShopDatabase): JustpassUserStore<ShopUser> {
  return {
    async findByUsername(username) {
      const user = db.findByUsername(username)
      return user?.justpassEnabled ? user : undefined
    },
    async setJustpassEnabled(username, enabled, details) {
      return db.setJustpassEnabled(username, enabled, details)
    },
    justpassSubOf(user) {
      return db.justpassSubOf(user.id)
    },
    isActive(user) {
      return db.isActive(user.id)
    },
  }
}
