/**
 * The local provider's accounts and passkeys, in SQLite: a file, so that a restart keeps
 * them, or `:memory:` for tests.
 */
import Database from 'better-sqlite3'
import { createHash, randomBytes } from 'node:crypto'

/** An account at the provider: its stable `sub` (handle) and the site's username. */
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
  /** What the page calls it ("Passkey 1", "Passkey 2", …). */
  name: string
  /** When it was created, in ms since the epoch. */
  createdAt: number
  /** Where it was made ("Chrome on Linux"), when the browser said; undefined for passkeys made before this was kept. */
  device: string | undefined
  /** When it last signed in, in ms since the epoch; undefined when it never has. */
  lastUsedAt: number | undefined
}

/** A signed-in visit to the provider's passkey management page. */
export interface ManageSession {
  /** The account that signed in with a passkey. */
  account: Account
  /** The token every state-changing request of the page must send back. */
  csrf: string
  /**
   * The passkey (credential id) the session was opened with: the session lasts only as
   * long as it does. Undefined once this very session removed it (it stays open).
   */
  credentialID: string | undefined
}

interface PasskeyRow {
  id: string
  user_handle: string
  username: string
  public_key: Buffer
  counter: number
  transports: string
  name: string | null
  created_at: number
  last_used_at: number | null
  device: string | null
}

/** A token as it is kept: its SHA-256, so that the database alone signs nobody in. */
function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

function toPasskey(row: PasskeyRow): StoredPasskey {
  return {
    id: row.id,
    handle: row.user_handle,
    username: row.username,
    publicKey: new Uint8Array(row.public_key),
    counter: row.counter,
    transports: JSON.parse(row.transports) as string[],
    name: row.name ?? 'Passkey',
    createdAt: row.created_at,
    device: row.device ?? undefined,
    lastUsedAt: row.last_used_at ?? undefined,
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
        username TEXT NOT NULL UNIQUE,
        passkeys_named INTEGER NOT NULL DEFAULT 0
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
      CREATE TABLE IF NOT EXISTS manage_sessions (
        token_hash TEXT PRIMARY KEY,
        user_handle TEXT NOT NULL,
        csrf TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        credential_id TEXT
      );
    `)
    // Files made before passkeys had a name and a last use get the two columns.
    const columns = new Set((this.#db.prepare('PRAGMA table_info(passkeys)').all() as { name: string }[]).map((column) => column.name))
    if (!columns.has('name')) {
      // Named in the order each account created them: Passkey 1, Passkey 2, …
      this.#db.exec(`
        ALTER TABLE passkeys ADD COLUMN name TEXT;
        UPDATE passkeys SET name = 'Passkey ' || (SELECT COUNT(*) FROM passkeys earlier WHERE earlier.user_handle = passkeys.user_handle
          AND (earlier.created_at < passkeys.created_at OR (earlier.created_at = passkeys.created_at AND earlier.id <= passkeys.id)));
      `)
    }
    if (!columns.has('last_used_at')) this.#db.exec('ALTER TABLE passkeys ADD COLUMN last_used_at INTEGER')
    if (!columns.has('device')) this.#db.exec('ALTER TABLE passkeys ADD COLUMN device TEXT')
    // The highest passkey number each account was ever given (names are never reused);
    // files made before start from the names they have (see addPasskey).
    const accountColumns = new Set((this.#db.prepare('PRAGMA table_info(accounts)').all() as { name: string }[]).map((column) => column.name))
    if (!accountColumns.has('passkeys_named')) this.#db.exec('ALTER TABLE accounts ADD COLUMN passkeys_named INTEGER NOT NULL DEFAULT 0')
    // Management sessions bound to the passkey that opened them; those made before were not,
    // so they end (they last minutes; signing in again is one passkey away).
    const sessionColumns = new Set((this.#db.prepare('PRAGMA table_info(manage_sessions)').all() as { name: string }[]).map((column) => column.name))
    if (!sessionColumns.has('credential_id')) this.#db.exec('DELETE FROM manage_sessions; ALTER TABLE manage_sessions ADD COLUMN credential_id TEXT')
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

  /**
   * Store a new passkey for an account, named "Passkey N": N one more than the highest the
   * account was ever given, so that a name never comes back for another passkey (a removed
   * "Passkey 1" is not followed by a new "Passkey 1"), even across instances sharing the file.
   */
  addPasskey(account: Account, passkey: { id: string; publicKey: Uint8Array; counter: number; transports: string[]; device?: string | undefined }): void {
    this.#db
      .transaction(() => {
        const names = this.#db.prepare('SELECT name FROM passkeys WHERE user_handle = ?').all(account.handle) as { name: string | null }[]
        const highest = Math.max(0, ...names.map((row) => Number(/^Passkey (\d+)$/.exec(row.name ?? '')?.[1] ?? 0)))
        const { named } = this.#db
          .prepare('UPDATE accounts SET passkeys_named = MAX(passkeys_named, ?) + 1 WHERE handle = ? RETURNING passkeys_named AS named')
          .get(highest, account.handle) as { named: number }
        this.#db
          .prepare('INSERT INTO passkeys (id, user_handle, public_key, counter, transports, created_at, name, device) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(passkey.id, account.handle, Buffer.from(passkey.publicKey), passkey.counter, JSON.stringify(passkey.transports), Date.now(), `Passkey ${named}`, passkey.device ?? null)
      })
      .immediate()
  }

  /** Record a sign-in with a passkey: the signature counter it reported, and now as its last use. */
  updateCounter(id: string, counter: number): void {
    this.#db.prepare('UPDATE passkeys SET counter = ?, last_used_at = ? WHERE id = ?').run(counter, Date.now(), id)
  }

  /**
   * Remove the passkey `id` of the account `handle`, and end every management session of
   * that account but the one of `keepToken` (the session that removed it, which stays open
   * even when it was opened with that passkey); false, and nothing ended, when that account
   * has no such passkey.
   */
  removePasskey(handle: string, id: string, keepToken?: string): boolean {
    const keep = keepToken === undefined ? null : tokenHash(keepToken)
    return this.#db
      .transaction(() => {
        if (this.#db.prepare('DELETE FROM passkeys WHERE id = ? AND user_handle = ?').run(id, handle).changes !== 1) return false
        this.#db.prepare('DELETE FROM manage_sessions WHERE user_handle = ? AND token_hash IS NOT ?').run(handle, keep)
        this.#db.prepare('UPDATE manage_sessions SET credential_id = NULL WHERE token_hash = ? AND credential_id = ?').run(keep, id)
        return true
      })
      .immediate()
  }

  /**
   * Start a management session for `account`, opened with its passkey `credentialID` and
   * lasting `ttlMs`; returns its token (kept only hashed). The session ends with that passkey.
   */
  startManageSession(account: Account, credentialID: string, ttlMs: number): string {
    const token = randomBytes(32).toString('base64url')
    const now = Date.now()
    this.#db.prepare('DELETE FROM manage_sessions WHERE expires_at <= ?').run(now)
    this.#db
      .prepare('INSERT INTO manage_sessions (token_hash, user_handle, csrf, expires_at, credential_id) VALUES (?, ?, ?, ?, ?)')
      .run(tokenHash(token), account.handle, randomBytes(32).toString('base64url'), now + ttlMs, credentialID)
    return token
  }

  /**
   * The live management session of `token`, if any: not expired, and its passkey still the
   * account's (a session opened by a passkey that was removed since is over, even one
   * started while the removal ran).
   */
  manageSession(token: string | undefined): ManageSession | undefined {
    if (!token) return undefined
    const row = this.#db
      .prepare(
        `SELECT s.user_handle, s.csrf, s.credential_id FROM manage_sessions s WHERE s.token_hash = ? AND s.expires_at > ?
           AND (s.credential_id IS NULL OR EXISTS (SELECT 1 FROM passkeys p WHERE p.id = s.credential_id AND p.user_handle = s.user_handle))`,
      )
      .get(tokenHash(token), Date.now()) as { user_handle: string; csrf: string; credential_id: string | null } | undefined
    const account = row && this.accountByHandle(row.user_handle)
    return account && row ? { account, csrf: row.csrf, credentialID: row.credential_id ?? undefined } : undefined
  }

  /** End the management session of `token`. */
  endManageSession(token: string): void {
    this.#db.prepare('DELETE FROM manage_sessions WHERE token_hash = ?').run(tokenHash(token))
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
