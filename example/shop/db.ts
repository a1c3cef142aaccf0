/**
 * The example shop's users, in SQLite (better-sqlite3): username, scrypt password hash,
 * the `justpass_enabled` flag of the Django integration, the provider `sub` recorded at
 * REG (`justpass_sub`), and whether the account may log in at all (`active`); and the
 * one-time recovery links of users who lost their passkey (kept as hashes only).
 */
import Database from 'better-sqlite3'
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

/** A shop user, as the site sees it (never with the password hash). */
export interface ShopUser {
  /** The row id. */
  id: number
  /** The unique name the user logs in with; also the passkey's username at justpass.me. */
  username: string
  /** Whether passkey login is on (the `justpass_enabled` column). */
  justpassEnabled: boolean
  /** Whether the account may log in (the `active` column); a shop admin disables an account with {@link ShopDatabase.setActive}. */
  active: boolean
}

interface UserRow {
  id: number
  username: string
  password_hash: string
  justpass_enabled: number
  justpass_sub: string | null
  active: number
}

/** Columns added after the first version of the table, with how to add them to an older database. */
const ADDED_COLUMNS: ReadonlyArray<readonly [name: string, definition: string]> = [
  ['justpass_sub', 'justpass_sub TEXT'],
  ['active', 'active INTEGER NOT NULL DEFAULT 1'],
]

/** What a recovery link's token turned out to be when it was used. */
export type RecoveryUse = { username: string } | 'unknown' | 'expired' | 'used'

/** The SHA-256 of a recovery token, the only form the database keeps. */
function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

const SALT_BYTES = 16
const KEY_LENGTH = 32

/** scrypt on libuv's thread pool, so that a login does not block the event loop. */
function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, KEY_LENGTH, (err, key) => (err ? reject(err) : resolve(key))))
}

/** `scrypt$<salt b64>$<hash b64>`, with a fresh random salt. */
async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  return `scrypt$${salt.toString('base64')}$${(await derive(password, salt)).toString('base64')}`
}

let dummyHash: Promise<string> | undefined
/** Compared against when the user does not exist, so that both cases cost the same. */
function dummy(): Promise<string> {
  return (dummyHash ??= hashPassword(randomBytes(16).toString('base64')))
}

/** Whether `password` matches a stored hash; a malformed hash matches nothing. */
async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  if (expected.length !== KEY_LENGTH) return false
  return timingSafeEqual(await derive(password, Buffer.from(salt, 'base64')), expected)
}

function toUser(row: UserRow): ShopUser {
  return { id: row.id, username: row.username, justpassEnabled: row.justpass_enabled === 1, active: row.active === 1 }
}

/** The shop's users table, opened on a SQLite file or `:memory:`. */
export class ShopDatabase {
  readonly #db: Database.Database
  readonly #byUsername: Database.Statement<[string], UserRow>
  readonly #byId: Database.Statement<[number], UserRow>

  /** @param file - SQLite file path, or `:memory:` */
  constructor(file: string) {
    this.#db = new Database(file)
    // Several shop instances may share one file (see test/scale): WAL and a busy wait.
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('busy_timeout = 5000')
    // Create the table, or bring one made by an earlier version up to date. In one
    // write transaction, so that instances starting together do not both add a column.
    this.#db.transaction(() => {
      this.#db.exec(`CREATE TABLE IF NOT EXISTS users (
        id INTEGER PRIMARY KEY,
        username TEXT UNIQUE NOT NULL,
        password_hash TEXT NOT NULL,
        justpass_enabled INTEGER NOT NULL DEFAULT 0,
        justpass_sub TEXT,
        active INTEGER NOT NULL DEFAULT 1
      )`)
      this.#db.exec(`CREATE TABLE IF NOT EXISTS recovery_links (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        expires INTEGER NOT NULL,
        used INTEGER NOT NULL DEFAULT 0
      )`)
      const columns = new Set(this.#db.prepare<[], string>("SELECT name FROM pragma_table_info('users')").pluck().all())
      for (const [name, definition] of ADDED_COLUMNS) {
        if (!columns.has(name)) this.#db.exec(`ALTER TABLE users ADD COLUMN ${definition}`)
      }
    }).immediate()
    this.#byUsername = this.#db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?')
    this.#byId = this.#db.prepare<[number], UserRow>('SELECT * FROM users WHERE id = ?')
  }

  /** Add a user with a password, passkey login off; rejects when the username is empty or taken. */
  async createUser(username: string, password: string): Promise<ShopUser> {
    if (username === '') throw new TypeError('a username must not be empty')
    const hash = await hashPassword(password)
    const info = this.#db.prepare('INSERT INTO users (username, password_hash) VALUES (?, ?)').run(username, hash)
    return { id: Number(info.lastInsertRowid), username, justpassEnabled: false, active: true }
  }

  /**
   * The user when the password is right, `undefined` otherwise; the same work whether the
   * user exists or not. A disabled account is returned too (with `active: false`): the
   * caller refuses it, and can say why to someone who knows the password.
   */
  async verifyPassword(username: string, password: string): Promise<ShopUser | undefined> {
    const row = this.#byUsername.get(username)
    const matches = await passwordMatches(password, row?.password_hash ?? (await dummy()))
    // Read again: the flag may have changed while scrypt ran.
    return matches && row ? this.findByUsername(username) : undefined
  }

  /** The user of `username`, or `undefined`. */
  findByUsername(username: string): ShopUser | undefined {
    const row = this.#byUsername.get(username)
    return row && toUser(row)
  }

  /**
   * Turn passkey login on or off; returns the updated user, or `undefined` when there is
   * no such user. On, with the REG's `details`: the provider `sub` is recorded (without
   * details, a recorded one is kept). Off: the recorded `sub` is forgotten.
   */
  setJustpassEnabled(username: string, enabled: boolean, details?: { sub: string }): ShopUser | undefined {
    if (!enabled) this.#db.prepare('UPDATE users SET justpass_enabled = 0, justpass_sub = NULL WHERE username = ?').run(username)
    else if (details === undefined) this.#db.prepare('UPDATE users SET justpass_enabled = 1 WHERE username = ?').run(username)
    else this.#db.prepare('UPDATE users SET justpass_enabled = 1, justpass_sub = ? WHERE username = ?').run(details.sub, username)
    return this.findByUsername(username)
  }

  /** The provider `sub` recorded at the REG of the user with this row id, or `undefined` when none is. */
  justpassSubOf(id: number): string | undefined {
    return this.#byId.get(id)?.justpass_sub ?? undefined
  }

  /** Whether passkey login is on for the user with this row id, read now: `false` when it is off and for no account at all. */
  isJustpassEnabled(id: number): boolean {
    return this.#byId.get(id)?.justpass_enabled === 1
  }

  /** Whether the user with this row id may log in: `false` for a disabled account and for no account at all. */
  isActive(id: number): boolean {
    return this.#byId.get(id)?.active === 1
  }

  /** Disable (or enable again) an account; returns the updated user, or `undefined` when there is no such user. */
  setActive(username: string, active: boolean): ShopUser | undefined {
    this.#db.prepare('UPDATE users SET active = ? WHERE username = ?').run(active ? 1 : 0, username)
    return this.findByUsername(username)
  }

  // #region tokens
  /**
   * A one-time recovery link's token for `username`, valid `ttlSeconds`: 32 random bytes,
   * of which the database keeps only the SHA-256.
   */
  createRecoveryToken(username: string, ttlSeconds: number): string {
    const token = randomBytes(32).toString('base64url')
    this.#db.prepare('DELETE FROM recovery_links WHERE expires < ?').run(Math.floor(Date.now() / 1000))
    this.#db.prepare('INSERT INTO recovery_links (token_hash, username, expires) VALUES (?, ?, ?)').run(tokenHash(token), username, Math.floor(Date.now() / 1000) + ttlSeconds)
    return token
  }

  /** What `token` is, without using it: whose live link, or why it is not one. */
  peekRecoveryToken(token: string): RecoveryUse {
    const row = this.#db.prepare<[string], { username: string; expires: number; used: number }>('SELECT username, expires, used FROM recovery_links WHERE token_hash = ?').get(tokenHash(token))
    if (!row) return 'unknown'
    if (row.used === 1) return 'used'
    if (row.expires < Math.floor(Date.now() / 1000)) return 'expired'
    return { username: row.username }
  }

  /** Use `token` once: marked used in the same statement that checks it, so that two uses at once cannot both succeed. */
  useRecoveryToken(token: string): RecoveryUse {
    const now = Math.floor(Date.now() / 1000)
    const used = this.#db.prepare<[string, number], { username: string }>('UPDATE recovery_links SET used = 1 WHERE token_hash = ? AND used = 0 AND expires >= ? RETURNING username').get(tokenHash(token), now)
    return used ? { username: used.username } : this.peekRecoveryToken(token)
  }
  // #endregion

  /** Close the database. */
  close(): void {
    if (this.#db.open) this.#db.close()
  }
}
