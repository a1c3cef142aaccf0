/**
 * The example shop's users, in SQLite (better-sqlite3): username, scrypt password hash,
 * and the `justpass_enabled` flag of the Django integration.
 */
import Database from 'better-sqlite3'
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'

/** A shop user, as the site sees it (never with the password hash). */
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

const SALT_BYTES = 16
const KEY_LENGTH = 32
/** Compared against when the user does not exist, so that both cases cost the same. */
const DUMMY_HASH = hashPassword(randomBytes(16).toString('base64'))

/** `scrypt$<salt b64>$<hash b64>`, with a fresh random salt. */
function hashPassword(password: string): string {
  const salt = randomBytes(SALT_BYTES)
  return `scrypt$${salt.toString('base64')}$${scryptSync(password, salt, KEY_LENGTH).toString('base64')}`
}

/** Whether `password` matches a stored hash; a malformed hash matches nothing. */
function passwordMatches(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  if (expected.length !== KEY_LENGTH) return false
  const actual = scryptSync(password, Buffer.from(salt, 'base64'), KEY_LENGTH)
  return timingSafeEqual(actual, expected)
}

function toUser(row: UserRow): ShopUser {
  return { id: row.id, username: row.username, justpassEnabled: row.justpass_enabled === 1 }
}

/** The shop's users table, opened on a SQLite file or `:memory:`. */
export class ShopDatabase {
  readonly #db: Database.Database
  readonly #byUsername: Database.Statement<[string], UserRow>

  /** @param file - SQLite file path, or `:memory:` */
  constructor(file: string) {
    this.#db = new Database(file)
    // Several shop instances may share one file (see test/scale): WAL and a busy wait.
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('busy_timeout = 5000')
    this.#db.exec(`CREATE TABLE IF NOT EXISTS users (
      id INTEGER PRIMARY KEY,
      username TEXT UNIQUE NOT NULL,
      password_hash TEXT NOT NULL,
      justpass_enabled INTEGER NOT NULL DEFAULT 0
    )`)
    this.#byUsername = this.#db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?')
  }

  /** Add a user with a password, passkey login off; throws when the username is empty or taken. */
  createUser(username: string, password: string): ShopUser {
    if (username === '') throw new TypeError('a username must not be empty')
    const info = this.#db.prepare('INSERT INTO users (username, password_hash) VALUES (?, ?)').run(username, hashPassword(password))
    return { id: Number(info.lastInsertRowid), username, justpassEnabled: false }
  }

  /** The user when the password is right, `undefined` otherwise; the same work whether the user exists or not. */
  verifyPassword(username: string, password: string): ShopUser | undefined {
    const row = this.#byUsername.get(username)
    const matches = passwordMatches(password, row?.password_hash ?? DUMMY_HASH)
    return row && matches ? toUser(row) : undefined
  }

  /** The user of `username`, or `undefined`. */
  findByUsername(username: string): ShopUser | undefined {
    const row = this.#byUsername.get(username)
    return row && toUser(row)
  }

  /** Turn passkey login on or off; returns the updated user, or `undefined` when there is no such user. */
  setJustpassEnabled(username: string, enabled: boolean): ShopUser | undefined {
    this.#db.prepare('UPDATE users SET justpass_enabled = ? WHERE username = ?').run(enabled ? 1 : 0, username)
    return this.findByUsername(username)
  }

  /** Close the database. */
  close(): void {
    if (this.#db.open) this.#db.close()
  }
}
