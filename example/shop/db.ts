/**
 * The example shop's users, in SQLite (better-sqlite3): username, scrypt password hash,
 * and the `justpass_enabled` flag of the Django integration.
 */
import Database from 'better-sqlite3'
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'

/** A shop user, as the site sees it. */
export interface ShopUser {
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

const KEY_LENGTH = 32
/** Compared against when the user does not exist, so that both cases cost the same. */
const DUMMY_HASH = hashPassword('not-a-real-password')

function hashPassword(password: string): string {
  const salt = randomBytes(16)
  return `scrypt$${salt.toString('base64')}$${scryptSync(password, salt, KEY_LENGTH).toString('base64')}`
}

function passwordMatches(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = scryptSync(password, Buffer.from(salt, 'base64'), expected.length)
  return timingSafeEqual(actual, expected)
}

function toUser(row: UserRow): ShopUser {
  return { id: row.id, username: row.username, justpassEnabled: row.justpass_enabled === 1 }
}

/** The users table. */
export class ShopDatabase {
  readonly #db: Database.Database

  /** @param file - SQLite file path, or `:memory:` */
  constructor(file: string) {
    this.#db = new Database(file)
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('busy_timeout = 5000')
    this.#db.exec(`CREATE TABLE IF NOT EXISTS users (
      id INTEGER PRIMARY KEY,
      username TEXT UNIQUE NOT NULL,
      password_hash TEXT NOT NULL,
      justpass_enabled INTEGER NOT NULL DEFAULT 0
    )`)
  }

  /** Add a user with a password; throws when the username is taken. */
  createUser(username: string, password: string): ShopUser {
    const info = this.#db.prepare('INSERT INTO users (username, password_hash) VALUES (?, ?)').run(username, hashPassword(password))
    return { id: Number(info.lastInsertRowid), username, justpassEnabled: false }
  }

  /** The user when the password is right, `undefined` otherwise (same work either way). */
  verifyPassword(username: string, password: string): ShopUser | undefined {
    const row = this.#db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined
    const matches = passwordMatches(password, row?.password_hash ?? DUMMY_HASH)
    return row && matches ? toUser(row) : undefined
  }

  /** The user of `username`, if any. */
  findByUsername(username: string): ShopUser | undefined {
    const row = this.#db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined
    return row && toUser(row)
  }

  /** Set the passkey flag; returns the updated user, if any. */
  setJustpassEnabled(username: string, enabled: boolean): ShopUser | undefined {
    this.#db.prepare('UPDATE users SET justpass_enabled = ? WHERE username = ?').run(enabled ? 1 : 0, username)
    return this.findByUsername(username)
  }

  /** Close the database file. */
  close(): void {
    this.#db.close()
  }
}
