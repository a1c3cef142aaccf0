/**
 * The local provider's state in SQLite: oidc-provider's models (sessions, interactions,
 * grants, authorization codes, tokens), its cookie and signing keys, and the authorization
 * requests already used (each signed request is accepted once), kept in the same file as
 * the passkeys. A restart keeps sign-ins in progress, and several instances sharing
 * the file (behind one address) serve one site.
 */
import Database from 'better-sqlite3'
import { createHash, randomBytes } from 'node:crypto'
import type { Adapter, AdapterPayload } from 'oidc-provider'

/** The models a grant's revocation removes (as oidc-provider's own adapter): never an interaction or a session. */
const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode'])

interface ModelRow {
  payload: string
  expires_at: number | null
  consumed_at: number | null
}

/** oidc-provider's stored models and the provider's own keys, in one SQLite database. */
export class ProviderState {
  readonly #db: Database.Database

  /** @param file - SQLite file path (shared with the passkeys), or `:memory:` */
  constructor(file: string) {
    this.#db = new Database(file)
    this.#db.pragma('journal_mode = WAL')
    this.#db.pragma('busy_timeout = 5000')
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS oidc_models (
        model TEXT NOT NULL,
        id TEXT NOT NULL,
        payload TEXT NOT NULL,
        grant_id TEXT,
        user_code TEXT,
        uid TEXT,
        expires_at INTEGER,
        consumed_at INTEGER,
        PRIMARY KEY (model, id)
      );
      CREATE INDEX IF NOT EXISTS oidc_models_grant ON oidc_models (grant_id);
      CREATE INDEX IF NOT EXISTS oidc_models_uid ON oidc_models (model, uid);
      CREATE INDEX IF NOT EXISTS oidc_models_user_code ON oidc_models (model, user_code);
      CREATE TABLE IF NOT EXISTS provider_secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS used_request_states (
        key TEXT PRIMARY KEY,
        expires_at INTEGER
      );
      CREATE INDEX IF NOT EXISTS used_request_states_expiry ON used_request_states (expires_at);
    `)
  }

  /**
   * A secret kept in the database, made by `make` the first time: the same value for every
   * instance and after every restart (cookie keys, the signing key).
   */
  secret(name: string, make: () => string): string {
    this.#db.prepare('INSERT OR IGNORE INTO provider_secrets (name, value) VALUES (?, ?)').run(name, make())
    return (this.#db.prepare('SELECT value FROM provider_secrets WHERE name = ?').get(name) as { value: string }).value
  }

  /** The cookie signing key, one for every instance. */
  cookieKey(): string {
    return this.secret('cookie-key', () => randomBytes(32).toString('base64url'))
  }

  /** Remove expired models and used request states (run now and then; `find` ignores expired models anyway). */
  sweep(now = Date.now()): void {
    this.#db.prepare('DELETE FROM oidc_models WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now)
    this.#db.prepare('DELETE FROM used_request_states WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now)
  }

  /**
   * Record that the authorization request of `clientID` with `state` was used: true the
   * first time, false ever after, for every instance sharing the file and after a
   * restart. Kept (hashed) until `expiresAt` (ms since the epoch), once the request's
   * signature is refused for its age anyway; `null` keeps it for good (a signature that
   * carries no time never gets too old).
   */
  useRequestState(clientID: string, state: string, expiresAt: number | null): boolean {
    const key = createHash('sha256').update(JSON.stringify([clientID, state])).digest('base64url')
    return this.#db.prepare('INSERT OR IGNORE INTO used_request_states (key, expires_at) VALUES (?, ?)').run(key, expiresAt).changes === 1
  }

  /** The adapter class for oidc-provider's `adapter` setting. */
  adapter(): new (name: string) => Adapter {
    const db = this.#db
    const upsert = db.prepare(
      `INSERT INTO oidc_models (model, id, payload, grant_id, user_code, uid, expires_at, consumed_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
       ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
         uid = excluded.uid, expires_at = excluded.expires_at, consumed_at = NULL`,
    )
    const byId = db.prepare('SELECT payload, expires_at, consumed_at FROM oidc_models WHERE model = ? AND id = ?')
    const byUid = db.prepare('SELECT payload, expires_at, consumed_at FROM oidc_models WHERE model = ? AND uid = ?')
    const byUserCode = db.prepare('SELECT payload, expires_at, consumed_at FROM oidc_models WHERE model = ? AND user_code = ?')
    const consume = db.prepare('UPDATE oidc_models SET consumed_at = ? WHERE model = ? AND id = ?')
    const destroy = db.prepare('DELETE FROM oidc_models WHERE model = ? AND id = ?')
    const revoke = db.prepare('DELETE FROM oidc_models WHERE grant_id = ?')

    const read = (row: ModelRow | undefined): AdapterPayload | undefined => {
      if (!row || (row.expires_at !== null && row.expires_at <= Date.now())) return undefined
      const payload = JSON.parse(row.payload) as AdapterPayload
      return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(row.consumed_at / 1000) }
    }

    return class SqliteAdapter implements Adapter {
      readonly #model: string
      /** @param name - the oidc-provider model this instance stores */
      constructor(name: string) {
        this.#model = name
      }
      async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
        const expires = expiresIn ? Date.now() + expiresIn * 1000 : null
        const grantId = GRANTABLE.has(this.#model) ? (payload.grantId ?? null) : null
        upsert.run(this.#model, id, JSON.stringify(payload), grantId, payload.userCode ?? null, payload.uid ?? null, expires)
      }
      async find(id: string): Promise<AdapterPayload | undefined> {
        return read(byId.get(this.#model, id) as ModelRow | undefined)
      }
      async findByUid(uid: string): Promise<AdapterPayload | undefined> {
        return read(byUid.get(this.#model, uid) as ModelRow | undefined)
      }
      async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
        return read(byUserCode.get(this.#model, userCode) as ModelRow | undefined)
      }
      async consume(id: string): Promise<void> {
        consume.run(Date.now(), this.#model, id)
      }
      async destroy(id: string): Promise<void> {
        destroy.run(this.#model, id)
      }
      async revokeByGrantId(grantId: string): Promise<void> {
        revoke.run(grantId)
      }
    }
  }

  /** Close the database. */
  close(): void {
    this.#db.close()
  }
}
