/**
 * The shop's users as passport-justpass needs them.
 */
import type { JustpassUserStore } from 'passport-justpass'
import type { ShopDatabase, ShopUser } from './db.ts'

/** A JustpassUserStore over the shop's users table. */
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
