/**
 * The flow store a strategy uses, chosen and built once from its `flowStore` option,
 * with the settings that belong to it.
 *
 * @packageDocumentation
 */
import { JustpassConfigError } from '../errors.js'
import type { JustpassProvider } from '../provider-settings.js'
import { optionalInteger, optionalString, refuseUnknown, type RawSettings } from '../validate.js'
import { CookieFlowStore } from './cookie.js'
import { deriveSealKey, Sealer } from './seal.js'
import { SessionFlowStore } from './session.js'
import type { JustpassFlowStore } from './types.js'

/** The sealed cookie store (the default) and its settings. */
export interface CookieFlowStoreSettings {
  /** Selects the cookie store. */
  type: 'cookie'
  /**
   * The secret flow cookies are sealed with (a key is derived from it with HKDF): at
   * least 32 characters. An array rotates: the first seals, every one opens. Default: a
   * key derived from the client secret under a label of its own, when the client secret
   * has 32 characters or more (a shorter one is refused: give the store a secret).
   */
  secret?: string | readonly string[]
  /** Seconds (1 to 86400) a started flow may take before its callback is refused; also the cookie's `Max-Age`. Default `600`. */
  maxAge?: number
  /**
   * Flow cookies kept per browser (1 to 20: each is about 240 bytes of every request's
   * `Cookie` header, which servers and proxies cap at 8 to 16 KB); the oldest is dropped
   * on the next start beyond it. Default `5`.
   */
  maxPending?: number
}

/** The session store and its settings. */
export interface SessionFlowStoreSettings {
  /** Selects the session store. */
  type: 'session'
  /** The session key under which pending flows are kept: a plain property name. Default `'justpass'`. */
  key?: string
  /** Seconds (1 to 86400) a started flow may take before its callback is refused. Default `600`. */
  maxAge?: number
  /** Pending flows kept per session (1 to 100); the oldest is dropped on the next start beyond it. Default `5`. */
  maxPending?: number
}

/**
 * Where pending flows are kept between the redirect and the callback:
 * - `'cookie'` or {@link CookieFlowStoreSettings} (the default): one sealed cookie per
 *   flow (AES-256-GCM, HttpOnly, SameSite=Lax, `__Host-` and Secure with an https
 *   `callbackURL`). Nothing is written on the server; concurrent tabs never lose a
 *   flow. Needs the response (`req.res`, or a host adapter).
 * - `'session'` or {@link SessionFlowStoreSettings}: in the session, for hosts where the
 *   response is not reachable from the request. Concurrent starts in one browser can
 *   overwrite each other (the session's last save wins) and an anonymous start creates
 *   a session.
 * - an object implementing {@link JustpassFlowStore}.
 */
export type JustpassFlowStoreOption = 'cookie' | 'session' | CookieFlowStoreSettings | SessionFlowStoreSettings | JustpassFlowStore

/** What binds a cookie store's key to one client and one site. */
export interface FlowStoreBinding {
  provider: JustpassProvider
  callbackURL: string
  /** Whether the callback URL is https: `Secure` and `__Host-` cookies. */
  secureCallback: boolean
}

/** The default number of seconds a flow stays valid. */
export const DEFAULT_FLOW_MAX_AGE = 600
const DEFAULT_MAX_PENDING = 5
/** The most flow cookies a browser is asked to hold. */
const MAX_PENDING_COOKIES = 20
/** The smallest cookie secret accepted, in characters. */
const COOKIE_SECRET_MIN = 32
const KEY_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/
const COOKIE_SETTINGS = new Set(['type', 'secret', 'maxAge', 'maxPending'])
const SESSION_SETTINGS = new Set(['type', 'key', 'maxAge', 'maxPending'])

function cookieSecrets(value: unknown): readonly string[] {
  if (value === undefined) return []
  const secrets = typeof value === 'string' ? [value] : value
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.some((secret) => typeof secret !== 'string' || secret.length < COOKIE_SECRET_MIN)) {
    throw new JustpassConfigError('flowStore.secret', `must be a string of at least ${COOKIE_SECRET_MIN} characters, or a non-empty array of them (the first seals, all open)`)
  }
  return secrets as string[]
}

/** The session key of pending flows: a plain property name, never one of Object.prototype's. */
function sessionKey(settings: RawSettings): string {
  const key = optionalString(settings, 'key', 'justpass', KEY_NAME, 'flowStore.key')
  if (key in Object.prototype) throw new JustpassConfigError('flowStore.key', `must not be "${key}"`)
  return key
}

function cookieStore(settings: RawSettings, binding: FlowStoreBinding): CookieFlowStore {
  refuseUnknown(settings, COOKIE_SETTINGS, { key: "the cookie store has no session key (that is flowStore: { type: 'session', key })" }, "the cookie flow store (flowStore: { type: 'cookie', … })", 'flowStore.')
  const { provider, callbackURL } = binding
  const secrets = cookieSecrets(settings.secret)
  if (secrets.length === 0 && provider.clientSecret.length < COOKIE_SECRET_MIN) {
    // Without a secret of their own, the flow cookies are sealed with a key derived from the client secret.
    throw new JustpassConfigError(
      'clientSecret',
      `is shorter than ${COOKIE_SECRET_MIN} characters, and without a secret of their own the flow cookies are sealed with a key derived from it: give the cookie flow store a secret, flowStore: { type: 'cookie', secret: <${COOKIE_SECRET_MIN} random characters or more> }`,
    )
  }
  const keys =
    secrets.length > 0
      ? secrets.map((secret) => deriveSealKey(secret, 'cookieSecret', provider.clientID, callbackURL))
      : [deriveSealKey(provider.clientSecret, 'clientSecret', provider.clientID, callbackURL)]
  return new CookieFlowStore({
    sealer: new Sealer(keys),
    secure: binding.secureCallback,
    maxAge: optionalInteger(settings, 'maxAge', DEFAULT_FLOW_MAX_AGE, 1, 86_400, 'flowStore.maxAge'),
    maxPending: optionalInteger(settings, 'maxPending', DEFAULT_MAX_PENDING, 1, MAX_PENDING_COOKIES, 'flowStore.maxPending'),
  })
}

function sessionStore(settings: RawSettings): SessionFlowStore {
  refuseUnknown(settings, SESSION_SETTINGS, { secret: 'flows in the session are not sealed: a secret applies only to the cookie store' }, "the session flow store (flowStore: { type: 'session', … })", 'flowStore.')
  return new SessionFlowStore(
    sessionKey(settings),
    optionalInteger(settings, 'maxAge', DEFAULT_FLOW_MAX_AGE, 1, 86_400, 'flowStore.maxAge'),
    optionalInteger(settings, 'maxPending', DEFAULT_MAX_PENDING, 1, 100, 'flowStore.maxPending'),
  )
}

/**
 * The store `option` names, built once: the sealed cookie store (keys derived here), the
 * session store, or the site's own.
 *
 * @throws {@link JustpassConfigError} for an unknown choice or a malformed setting
 */
export function createFlowStore(option: unknown, binding: FlowStoreBinding): JustpassFlowStore {
  if (option === undefined || option === 'cookie') return cookieStore({ type: 'cookie' }, binding)
  if (option === 'session') return sessionStore({ type: 'session' })
  if (typeof option === 'object' && option !== null) {
    const settings = option as RawSettings
    if (settings.type === 'cookie') return cookieStore(settings, binding)
    if (settings.type === 'session') return sessionStore(settings)
    const store = option as Partial<JustpassFlowStore>
    if (typeof store.put === 'function' && typeof store.take === 'function') {
      if (store.maxAge !== undefined && (typeof store.maxAge !== 'number' || !Number.isInteger(store.maxAge) || store.maxAge < 1 || store.maxAge > 86_400)) {
        throw new JustpassConfigError('flowStore', 'maxAge, when a store has it, must be an integer number of seconds from 1 to 86400')
      }
      return store as JustpassFlowStore
    }
  }
  throw new JustpassConfigError(
    'flowStore',
    "must be 'cookie', 'session', { type: 'cookie', secret?, maxAge?, maxPending? }, { type: 'session', key?, maxAge?, maxPending? }, or an object with put(exchange, state, flow) and take(exchange, state) methods",
  )
}
