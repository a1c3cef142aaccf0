/**
 * The local provider's accounts and passkeys, in SQLite: a file, so that a restart keeps
 * them, or `:memory:` for tests.
 */
import Database from 'better-sqlite3'
import { randomBytes } from 'node:crypto'

/** An account at the provider: its stable `sub` (handle) and the site's identifier. */
export interface Account {
  handle: string
  username: string
}

/** A WebAuthn challenge waiting for the browser's answer. */
export interface PendingChallenge {
  mode: 'register' | 'login'
  challenge: string
  /** The user it is for, when the site named one. */
  username: string | undefined
  /** When it stops being accepted, in ms since the epoch. */
  expires: number
}

/** A registered passkey. */
export interface StoredPasskey {
  /** The credential id, base64url. */
  id: string
  handle: string
  username: string
  publicKey: Uint8Array
  counter: number
  transports: string[]
}

interface PasskeyRow {
  id: string
  user_handle: string
  username: string
  public_key: Buffer
  counter: number
  transports: string
}

function toPasskey(row: PasskeyRow): StoredPasskey {
  return {
    id: row.id,
    handle: row.user_handle,
    username: row.username,
    publicKey: new Uint8Array(row.public_key),
    counter: row.counter,
    transports: JSON.parse(row.transports) as string[],
  }
}

/** Accounts and their passkeys. */
export class PasskeyStore {
  readonly #db: Database.Database

  /** @param file - SQLite file path, or `:memory:` */
  constructor(file: string) {
    this.#db = new Database(file)
    this.#db.pragma('journal_mode = WAL')
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS accounts (
        handle TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE
      );
      CREATE TABLE IF NOT EXISTS passkeys (
        id TEXT PRIMARY KEY,
        user_handle TEXT NOT NULL REFERENCES accounts(handle),
        public_key BLOB NOT NULL,
        counter INTEGER NOT NULL,
        transports TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS webauthn_challenges (
        uid TEXT PRIMARY KEY,
        mode TEXT NOT NULL,
        challenge TEXT NOT NULL,
        username TEXT,
        expires_at INTEGER NOT NULL
      );
    `)
    this.#db.pragma('busy_timeout = 5000')
  }

  /** The account of `username`, created when there is none. */
  ensureAccount(username: string): Account {
    const found = this.accountByUsername(username)
    if (found) return found
    const account = { handle: randomBytes(16).toString('base64url'), username }
    this.#db.prepare('INSERT INTO accounts (handle, username) VALUES (?, ?)').run(account.handle, account.username)
    return account
  }

  /** The account of `username`, if any. */
  accountByUsername(username: string): Account | undefined {
    return this.#db.prepare('SELECT handle, username FROM accounts WHERE username = ?').get(username) as Account | undefined
  }

  /** The account of `handle` (the `sub`), if any. */
  accountByHandle(handle: string): Account | undefined {
    return this.#db.prepare('SELECT handle, username FROM accounts WHERE handle = ?').get(handle) as Account | undefined
  }

  /** Every passkey of `username`. */
  passkeysOf(username: string): StoredPasskey[] {
    const rows = this.#db
      .prepare('SELECT p.*, a.username FROM passkeys p JOIN accounts a ON a.handle = p.user_handle WHERE a.username = ? ORDER BY p.created_at')
      .all(username) as PasskeyRow[]
    return rows.map(toPasskey)
  }

  /** The passkey with credential id `id`, if any. */
  passkey(id: string): StoredPasskey | undefined {
    const row = this.#db.prepare('SELECT p.*, a.username FROM passkeys p JOIN accounts a ON a.handle = p.user_handle WHERE p.id = ?').get(id) as PasskeyRow | undefined
    return row && toPasskey(row)
  }

  /** Store a new passkey for an account. */
  addPasskey(account: Account, passkey: { id: string; publicKey: Uint8Array; counter: number; transports: string[] }): void {
    this.#db
      .prepare('INSERT INTO passkeys (id, user_handle, public_key, counter, transports, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(passkey.id, account.handle, Buffer.from(passkey.publicKey), passkey.counter, JSON.stringify(passkey.transports), Date.now())
  }

  /** Record the signature counter a passkey reported. */
  updateCounter(id: string, counter: number): void {
    this.#db.prepare('UPDATE passkeys SET counter = ? WHERE id = ?').run(counter, id)
  }

  /** Keep the pending WebAuthn challenge of an interaction (one per interaction; a new one replaces it). */
  rememberChallenge(uid: string, pending: PendingChallenge): void {
    const now = Date.now()
    this.#db.prepare('DELETE FROM webauthn_challenges WHERE expires_at <= ?').run(now)
    this.#db
      .prepare('INSERT OR REPLACE INTO webauthn_challenges (uid, mode, challenge, username, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(uid, pending.mode, pending.challenge, pending.username ?? null, pending.expires)
  }

  /** Take (read and remove, at once) the pending challenge of an interaction: each is used once. */
  takeChallenge(uid: string): PendingChallenge | undefined {
    const row = this.#db.prepare('DELETE FROM webauthn_challenges WHERE uid = ? RETURNING mode, challenge, username, expires_at').get(uid) as
      | { mode: PendingChallenge['mode']; challenge: string; username: string | null; expires_at: number }
      | undefined
    return row && { mode: row.mode, challenge: row.challenge, username: row.username ?? undefined, expires: row.expires_at }
  }

  /** Close the database. */
  close(): void {
    this.#db.close()
  }
}
