/**
 * The shop's users as passport-justpass needs them: found on LOGIN, flagged after REG.
 * No `createUser`: a passkey of someone without a shop account is refused (`unknown_user`).
 */
import type { JustpassUserStore } from '../../src/index.ts'
import type { ShopDatabase, ShopUser } from './db.ts'

/** A `JustpassUserStore` over the shop's users table. */
export function shopUserStore(db: ShopDatabase): JustpassUserStore<ShopUser> {
  return {
    async findByUsername(username) {
      return db.findByUsername(username)
    },
    async setJustpassEnabled(username, enabled) {
      return db.setJustpassEnabled(username, enabled)
    },
  }
}
