/**
 * The site's users in SQLite (better-sqlite3): the password of the first factor, and
 * the `justpass_enabled` flag that passport-justpass sets after a passkey registration.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { JustpassUserStore } from 'passport-justpass'

/** A user of the site, as it ends up in `req.user`. */
export interface User {
  id: number
  username: string
  justpassEnabled: boolean
}

interface UserRow {
  id: number
  username: string
  password_hash: string
  justpass_enabled: number
}

function toUser(row: UserRow | undefined): User | undefined {
  return row && { id: row.id, username: row.username, justpassEnabled: row.justpass_enabled === 1 }
}

/** `salt:hash` of a password, with scrypt. */
function hashPassword(password: string, salt = randomBytes(16).toString('hex')): Promise<string> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, 32, (err, key) => (err ? reject(err) : resolve(`${salt}:${key.toString('hex')}`)))
  })
}

/** The `users` table, as passport-justpass and the password step need it. */
export class SqliteUserStore implements JustpassUserStore<User> {
  /** @param db - an open database; the `users` table is created when missing */
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS users (
      id INTEGER PRIMARY KEY,
      username TEXT NOT NULL UNIQUE,
      password_hash TEXT NOT NULL,
      justpass_enabled INTEGER NOT NULL DEFAULT 0
    )`)
  }

  /** LOGIN: the user a passkey belongs to (justpass.me's `preferred_username`). */
  async findByUsername(username: string): Promise<User | undefined> {
    return toUser(this.db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?').get(username))
  }

  /** REG: called with `true` once the user has registered a passkey; the site calls it with `false` to turn passkey login off. */
  async setJustpassEnabled(username: string, enabled: boolean): Promise<User | undefined> {
    const statement = this.db.prepare<[number, string], UserRow>('UPDATE users SET justpass_enabled = ? WHERE username = ? RETURNING *')
    return toUser(statement.get(enabled ? 1 : 0, username))
  }

  /**
   * LOGIN and confirmations: whether passkey login is on for the user, read afresh, so
   * that turning it off stops a passkey at once.
   */
  justpassEnabledOf(user: User): boolean {
    return this.db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?').get(user.id)?.justpass_enabled === 1
  }

  /** Add a user who logs in with `password`. */
  async addUser(username: string, password: string): Promise<User> {
    const statement = this.db.prepare<[string, string], UserRow>('INSERT INTO users (username, password_hash) VALUES (?, ?) RETURNING *')
    return toUser(statement.get(username, await hashPassword(password)))!
  }

  /** The first factor: the user when the password is right, otherwise `undefined`. */
  async checkPassword(username: string, password: string): Promise<User | undefined> {
    const row = this.db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?').get(username)
    if (!row) return undefined
    const [salt = ''] = row.password_hash.split(':')
    const given = await hashPassword(password, salt)
    return timingSafeEqual(Buffer.from(given), Buffer.from(row.password_hash)) ? toUser(row) : undefined
  }
}
