/**
 * Passkeys added to an existing passport-local app: its `users` table (made by the app's
 * first version, with users and their hashed passwords in it) gains the two columns
 * passport-justpass needs, by a migration; the user store is written against a
 * callback-style driver (the API of the `sqlite3` package, which passport's own example
 * app uses).
 */
import type { JustpassUserStore } from 'passport-justpass'

/** The calls of a callback-style SQLite driver that the store uses: `sqlite3`'s `Database` has them. */
export interface CallbackDatabase {
  get(sql: string, params: unknown[], callback: (err: Error | null, row?: unknown) => void): unknown
  all(sql: string, params: unknown[], callback: (err: Error | null, rows?: unknown[]) => void): unknown
  run(sql: string, params: unknown[], callback: (err: Error | null) => void): unknown
}

/** A user of the app, as it ends up in `req.user`. */
export interface User {
  id: number
  username: string
  justpassEnabled: boolean
}

// #region promises
/** The driver's calls as promises. */
function get<Row>(db: CallbackDatabase, sql: string, params: unknown[] = []): Promise<Row | undefined> {
  return new Promise((resolve, reject) => db.get(sql, params, (err, row) => (err ? reject(err) : resolve(row as Row | undefined))))
}
function all<Row>(db: CallbackDatabase, sql: string, params: unknown[] = []): Promise<Row[]> {
  return new Promise((resolve, reject) => db.all(sql, params, (err, rows) => (err ? reject(err) : resolve((rows ?? []) as Row[]))))
}
function run(db: CallbackDatabase, sql: string, params: unknown[] = []): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, params, (err) => (err ? reject(err) : resolve())))
}
// #endregion

// #region migration
/** The columns passkeys need, with how to add each to a table that lacks it. */
const PASSKEY_COLUMNS = [
  ['justpass_enabled', 'ALTER TABLE users ADD COLUMN justpass_enabled INTEGER NOT NULL DEFAULT 0'],
  ['justpass_sub', 'ALTER TABLE users ADD COLUMN justpass_sub TEXT'],
] as const

/**
 * Add the passkey columns to the app's existing `users` table, once: the columns it has
 * are read first, so that running it again (every start) changes nothing. Existing users
 * start with passkey login off.
 */
export async function migrate(db: CallbackDatabase): Promise<string[]> {
  const have = new Set((await all<{ name: string }>(db, "SELECT name FROM pragma_table_info('users')")).map((column) => column.name))
  if (have.size === 0) throw new Error('The users table does not exist: run the app\'s own schema first.')
  const added: string[] = []
  for (const [name, statement] of PASSKEY_COLUMNS) {
    if (have.has(name)) continue
    await run(db, statement)
    added.push(name)
  }
  return added
}
// #endregion

interface UserRow {
  id: number
  username: string
  justpass_enabled: number
  justpass_sub: string | null
}

const toUser = (row: UserRow | undefined): User | undefined => row && { id: row.id, username: row.username, justpassEnabled: row.justpass_enabled === 1 }

// #region store
/** The user store over the callback driver: every user is found, the flag is read afresh. */
export function callbackUserStore(db: CallbackDatabase): JustpassUserStore<User> {
  return {
    // Every user, passkey login on or off: this is the lookup deserializeUser uses too.
    async findByUsername(username) {
      return toUser(await get<UserRow>(db, 'SELECT id, username, justpass_enabled, justpass_sub FROM users WHERE username = ?', [username]))
    },
    async setJustpassEnabled(username, enabled, details?: { sub: string }) {
      if (!enabled) await run(db, 'UPDATE users SET justpass_enabled = 0, justpass_sub = NULL WHERE username = ?', [username])
      else await run(db, 'UPDATE users SET justpass_enabled = 1, justpass_sub = coalesce(?, justpass_sub) WHERE username = ?', [details?.sub ?? null, username])
      return this.findByUsername(username)
    },
    // Read from the table at each LOGIN, so that turning passkey login off stops a passkey at once.
    async justpassEnabledOf(user) {
      return (await get<UserRow>(db, 'SELECT justpass_enabled FROM users WHERE id = ?', [user.id]))?.justpass_enabled === 1
    },
    async justpassSubOf(user) {
      return (await get<UserRow>(db, 'SELECT justpass_sub FROM users WHERE id = ?', [user.id]))?.justpass_sub ?? undefined
    },
  }
}
// #endregion
