/**
 * The session fields passport-justpass writes under fixed names, and the names a site
 * may not ask `keepSessionData` to carry across a LOGIN because passport, the session
 * middleware or passport-justpass own them.
 *
 * @packageDocumentation
 */

/** The time (seconds since the epoch) of the session user's last successful confirmation (`mode: 'confirm'`). */
export const CONFIRMED_AT_KEY = 'justpassConfirmedAt'

/** The ID token of the LOGIN or REG that made the session (or of its last confirmation): the `id_token_hint` of logout at the provider. */
export const ID_TOKEN_KEY = 'justpassIdToken'

/**
 * Session fields that belong to passport (`passport`) or to the session middleware
 * (express-session, @fastify/session, koa-session: the cookie and the session's own
 * members). A LOGIN keeps them; it drops every other field but those the site asked to
 * keep.
 */
export const SESSION_OWN_FIELDS: ReadonlySet<string> = new Set([
  'passport', 'cookie', 'id', 'regenerate', 'destroy', 'reload', 'save', 'touch', 'resetMaxAge',
  'sessionId', 'encryptedSessionId', 'isNew', 'length', 'populated', 'maxAge', 'externalKey', 'toJSON', 'inspect',
  'get', 'set', 'delete', 'options', 'isModified',
])

/**
 * Session fields a LOGIN must not carry over from the session it replaces: the session's
 * own, and those passport-justpass writes (under their fixed names and the defaults of
 * the configurable ones).
 */
export const OWNED_SESSION_FIELDS: ReadonlySet<string> = new Set([
  ...SESSION_OWN_FIELDS,
  CONFIRMED_AT_KEY, ID_TOKEN_KEY, 'justpass', 'justpass_notice', 'base_username',
])
