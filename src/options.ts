/**
 * The strategy's options: their declaration, their defaults, and their validation into
 * one resolved value built once, at construction.
 *
 * @packageDocumentation
 */
import { createSecretKey, type KeyObject } from 'node:crypto'
import type { Request } from 'express'
import { JustpassConfigError } from './errors.js'
import type { JustpassUserStore } from './user-store.js'
import type { JustpassFlowStore, JustpassMode } from './flow-store/types.js'

export type { JustpassMode } from './flow-store/types.js'

/** The ID token signing algorithms the strategy can verify. */
export const ID_TOKEN_ALGORITHMS = [
  'HS256', 'HS384', 'HS512',
  'RS256', 'RS384', 'RS512',
  'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519',
] as const

/** One of {@link ID_TOKEN_ALGORITHMS}. */
export type IdTokenAlgorithm = (typeof ID_TOKEN_ALGORITHMS)[number]

/** Options of {@link JustpassStrategy}; only the first five are required. */
export interface JustpassStrategyOptions<User = unknown> {
  /**
   * The provider base URL, `https://<organization>.accounts.justpass.me/openid/`. The
   * issuer and the endpoints are derived from it as justpass.me lays them out. Plain
   * `http:` is refused unless the host is loopback or `allowInsecureHTTP` is set.
   * Required unless `organization` is given (not both).
   */
  opURL?: string
  /**
   * The organization's name at justpass.me, instead of `opURL`: `'acme'` stands for
   * `https://acme.accounts.justpass.me/openid/`.
   */
  organization?: string
  /**
   * The issuer ID tokens must carry, when it is not the one derived from `opURL` (a
   * provider behind a proxy, whose site URL setting names another host). Not with
   * `discovery`, where the metadata names the issuer.
   */
  issuer?: string
  /** The app's client id at justpass.me. */
  clientID: string
  /**
   * The app's client secret. It authenticates the code exchange, keys the request
   * `signature` and (with HS256) verifies ID tokens. Never logged, never in a message.
   */
  clientSecret: string
  /** The site's absolute callback URL, registered at justpass.me as a redirect URI. */
  callbackURL: string
  /**
   * The site's users. Required unless a verify callback is given: the default verify
   * looks LOGIN users up with it and sets the passkey flag on REG.
   */
  userStore?: JustpassUserStore<User>
  /** The field of `req.user` that holds the identifier sent to justpass.me. Default `'username'`. */
  usernameField?: string
  /**
   * The session key under which the password step stores the base username for a
   * second-factor LOGIN (`req.session[baseUsernameKey]`). Default `'base_username'`.
   */
  baseUsernameKey?: string
  /** Scopes to ask for; must include `openid`. Default `'openid'`. */
  scope?: string | readonly string[]
  /**
   * The algorithm the app's ID tokens are signed with at justpass.me. `HS256` (the
   * default) is keyed with the client secret; asymmetric algorithms take their keys
   * from the provider's JWKS endpoint. Any other algorithm, and `none`, is refused.
   */
  idTokenSignedResponseAlg?: IdTokenAlgorithm
  /**
   * Client authentication at the token endpoint. Default `'client_secret_post'`, as
   * justpass.me's clients use. With `'client_secret_basic'` the id and secret are
   * form-encoded first (RFC 6749, 2.3.1); provider software that does not decode them
   * (django-oidc-provider) refuses an id or secret with characters other than letters,
   * digits and `-._~`.
   */
  tokenEndpointAuthMethod?: 'client_secret_post' | 'client_secret_basic'
  /** `false` (the default): the verify callback does not receive the request. */
  passReqToCallback?: false
  /** The `max_age` sent, in seconds; the ID token's `auth_time` is checked against it. Default `60`. */
  maxAge?: number
  /** The `acr_values` sent. Default `'keys'`. */
  acrValues?: string
  /** The `hint_mode` sent. Default `'token'`. */
  hintMode?: string
  /**
   * The `ui_locales` sent: a fixed value, a function of the request, or `false` for
   * none. By default, the languages of the request's `Accept-Language` header.
   */
  uiLocales?: string | false | ((req: Request) => string | undefined)
  /** The request header in which a mobile app names its platform. Default `'amwal-platform'`. */
  platformHeader?: string
  /** The authorization parameter that forwards the platform. Default `'AMWALPLATFORM'`. */
  platformParam?: string
  /**
   * Where pending flows are kept between the redirect and the callback.
   * - `'cookie'` (the default): one sealed cookie per flow (AES-256-GCM, HttpOnly,
   *   SameSite=Lax, `__Host-` and Secure with an https `callbackURL`). Nothing is written
   *   on the server; concurrent tabs never lose a flow. Needs the response (`req.res`).
   * - `'session'`: in the session under `sessionKey`, for hosts where the response is not
   *   reachable from the request. Concurrent starts in one browser can overwrite each
   *   other (the session's last save wins) and an anonymous start creates a session.
   * - an object implementing {@link JustpassFlowStore}.
   */
  flowStore?: 'cookie' | 'session' | JustpassFlowStore
  /**
   * The secret flow cookies are sealed with (a key is derived from it with HKDF): at
   * least 32 characters. An array rotates: the first seals, every one opens. Default: a
   * key derived from the client secret under a label of its own.
   */
  cookieSecret?: string | readonly string[]
  /** Seconds a started flow may take before its callback is refused; also the flow cookie's `Max-Age`. Default `600`. */
  flowMaxAge?: number
  /**
   * Pending flows kept per browser (flow cookies, or flows in the session); the oldest is
   * dropped on the next start beyond it. Default `5`.
   */
  maxPendingFlows?: number
  /** The session key under which the session flow store keeps pending flows. Default `'justpass'`. */
  sessionKey?: string
  /** Milliseconds each call to the provider may take before it fails. Default `10000`. */
  timeout?: number
  /** Seconds of clock skew tolerated in ID token time checks. Default `30`. */
  clockTolerance?: number
  /**
   * Read the provider's metadata (`.well-known/openid-configuration`) instead of
   * deriving the endpoints: once, on first use, again after a failure. Default `false`.
   */
  discovery?: boolean
  /** Accept a plain `http:` `opURL` on a non-loopback host. Default `false`; never in production. */
  allowInsecureHTTP?: boolean
  /**
   * The longest time, in seconds, between the user's authentication at the provider
   * (the ID token's `auth_time`) and the callback; `false` to accept any age. One value
   * for both modes, or `{ register, login }`. Default: REG not enforced (the identity
   * binding protects REG, and some providers reuse a login session for it), LOGIN
   * `maxAge`. An older `auth_time` is refused with reason `auth_too_old`.
   */
  authTimeMaxAge?:
    | number
    | false
    | {
        /** REG's bound, in seconds, or `false` (the default) for none. */
        register?: number | false
        /** LOGIN's bound, in seconds, or `false` for none. Default `maxAge`. */
        login?: number | false
      }
  /**
   * A fetch-compatible function used for every call to the provider (token, userinfo,
   * JWKS, discovery) instead of the built-in keep-alive transport: for a site whose
   * egress goes through a proxy (undici's `fetch` with a `ProxyAgent` dispatcher). The
   * 1 MiB limit on provider answers still applies.
   */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>
}

/** Options of a {@link JustpassStrategy} whose verify callback receives the request first. */
export interface JustpassStrategyOptionsWithRequest<User = unknown> extends Omit<JustpassStrategyOptions<User>, 'passReqToCallback'> {
  /** Pass `req` as the first argument of the verify callback. */
  passReqToCallback: true
}

/** The provider's endpoints, derived from `opURL`. */
export interface JustpassEndpoints {
  /** The `iss` of the provider's ID tokens: `opURL` without its trailing slash. */
  issuer: string
  /** `opURL` + `authorize/`. */
  authorization: string
  /** `opURL` + `token/`. */
  token: string
  /** `opURL` + `userinfo/`. */
  userinfo: string
  /** `opURL` + `jwks`. */
  jwks: string
}

/** The options after validation, with defaults applied and keys imported. */
export interface ResolvedOptions<User = unknown> {
  endpoints: JustpassEndpoints
  /** Whether requests to the provider may use plain HTTP. */
  insecureHTTP: boolean
  clientID: string
  /** The client secret as text, for client authentication at the token endpoint. */
  clientSecret: string
  /**
   * The client secret (its UTF-8 bytes) as an HMAC key, imported once at construction:
   * it signs the request `signature` and verifies HS* ID tokens.
   */
  clientSecretKey: KeyObject
  callbackURL: string
  /** The path of `callbackURL`, to recognise a callback request that carries nothing. */
  callbackPath: string
  userStore: JustpassUserStore<User> | undefined
  usernameField: string
  baseUsernameKey: string
  scope: string
  idTokenAlg: IdTokenAlgorithm
  tokenEndpointAuthMethod: 'client_secret_post' | 'client_secret_basic'
  passReqToCallback: boolean
  maxAge: number
  acrValues: string
  hintMode: string
  uiLocales: string | false | ((req: Request) => string | undefined) | undefined
  /** Lower-cased, as Node.js presents header names. */
  platformHeader: string
  platformParam: string
  flowStore: 'cookie' | 'session' | JustpassFlowStore
  /** The secrets flow cookies are sealed with, the sealing one first; empty: derive from the client secret. */
  cookieSecrets: readonly string[]
  /** Whether `callbackURL` is https: flow cookies are then Secure and `__Host-` prefixed. */
  secureCallback: boolean
  flowMaxAge: number
  maxPendingFlows: number
  sessionKey: string
  timeout: number
  clockTolerance: number
  discovery: boolean
  /** The enforced age of `auth_time` per mode, in seconds, or `false` for none. */
  authTimeMaxAge: { register: number | false; login: number | false }
  /** The site's own fetch for provider calls, when it gave one. */
  fetch: ((url: string, init?: RequestInit) => Promise<Response>) | undefined
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]'])

/** Whether `hostname` (as `URL` presents it) names this machine. */
function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname)
}

function requiredString(options: Record<string, unknown>, name: string): string {
  const value = options[name]
  if (typeof value !== 'string' || value.trim() === '') {
    throw new JustpassConfigError(name, 'is required and must be a non-empty string')
  }
  return value
}

function optionalString(options: Record<string, unknown>, name: string, fallback: string, pattern?: RegExp): string {
  const value = options[name]
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value === '' || (pattern && !pattern.test(value))) {
    throw new JustpassConfigError(name, pattern ? `must be a string matching ${pattern}` : 'must be a non-empty string')
  }
  return value
}

function optionalNumber(options: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const value = options[name]
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new JustpassConfigError(name, `must be an integer from ${min} to ${max}`)
  }
  return value
}

function optionalBoolean(options: Record<string, unknown>, name: string): boolean {
  const value = options[name]
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw new JustpassConfigError(name, 'must be true or false')
  return value
}

function parseHttpURL(name: string, value: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new JustpassConfigError(name, 'must be an absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new JustpassConfigError(name, 'must be an http: or https: URL')
  }
  if (url.username || url.password) throw new JustpassConfigError(name, 'must not carry credentials')
  return url
}

/** Derive the issuer and endpoints from the provider base URL, as justpass.me lays them out. */
export function deriveEndpoints(opURL: URL | string): JustpassEndpoints {
  const href = new URL(opURL).href
  const base = href.endsWith('/') ? href : `${href}/`
  return {
    issuer: base.slice(0, -1),
    authorization: `${base}authorize/`,
    token: `${base}token/`,
    userinfo: `${base}userinfo/`,
    jwks: `${base}jwks`,
  }
}

function resolveScope(value: unknown): string {
  if (value === undefined) return 'openid'
  const scopes = typeof value === 'string' ? value.split(' ').filter(Boolean) : value
  if (!Array.isArray(scopes) || scopes.some((scope) => typeof scope !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))) {
    throw new JustpassConfigError('scope', 'must be a space-separated string or an array of scope names')
  }
  if (!scopes.includes('openid')) throw new JustpassConfigError('scope', 'must include "openid"')
  return scopes.join(' ')
}

function resolveUserStore<User>(value: unknown, hasVerify: boolean): JustpassUserStore<User> | undefined {
  if (value === undefined) {
    if (hasVerify) return undefined
    throw new JustpassConfigError('userStore', 'is required unless a verify callback is given')
  }
  const store = value as Partial<JustpassUserStore<User>> | null
  if (typeof store !== 'object' || store === null || typeof store.findByUsername !== 'function' || typeof store.setJustpassEnabled !== 'function') {
    throw new JustpassConfigError('userStore', 'must have findByUsername(username) and setJustpassEnabled(username, enabled) methods')
  }
  for (const method of ['createUser', 'isActive', 'justpassSubOf'] as const) {
    if (store[method] !== undefined && typeof store[method] !== 'function') {
      throw new JustpassConfigError('userStore', `${method}, when present, must be a function`)
    }
  }
  return store as JustpassUserStore<User>
}

/** The session key of pending flows: a plain property name, never one of Object.prototype's. */
function resolveSessionKey(options: Record<string, unknown>): string {
  const key = optionalString(options, 'sessionKey', 'justpass', KEY_NAME)
  if (key in Object.prototype) throw new JustpassConfigError('sessionKey', `must not be "${key}"`)
  return key
}

function resolveFlowStore(value: unknown): ResolvedOptions['flowStore'] {
  if (value === undefined) return 'cookie'
  if (value === 'cookie' || value === 'session') return value
  const store = value as Partial<JustpassFlowStore> | null
  if (typeof store !== 'object' || store === null || typeof store.put !== 'function' || typeof store.take !== 'function') {
    throw new JustpassConfigError('flowStore', "must be 'cookie', 'session' or an object with put(exchange, state, flow) and take(exchange, state) methods")
  }
  return store as JustpassFlowStore
}

/** The smallest cookie secret accepted, in characters. */
const COOKIE_SECRET_MIN = 32

function resolveCookieSecrets(value: unknown): readonly string[] {
  if (value === undefined) return []
  const secrets = typeof value === 'string' ? [value] : value
  if (!Array.isArray(secrets) || secrets.length === 0 || secrets.some((secret) => typeof secret !== 'string' || secret.length < COOKIE_SECRET_MIN)) {
    throw new JustpassConfigError('cookieSecret', `must be a string of at least ${COOKIE_SECRET_MIN} characters, or a non-empty array of them (the first seals, all open)`)
  }
  return [...secrets]
}

/** An organization name as it appears in a justpass.me host name: one DNS label. */
const ORGANIZATION = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i

/** The provider base URL, from `opURL` or from `organization` (exactly one of them). */
function resolveOpURL(options: Record<string, unknown>): URL {
  if (options.organization !== undefined) {
    if (options.opURL !== undefined) throw new JustpassConfigError('organization', 'and opURL name the provider twice: give one of them')
    if (typeof options.organization !== 'string' || !ORGANIZATION.test(options.organization)) {
      throw new JustpassConfigError('organization', 'must be the organization name of a justpass.me host (letters, digits and inner hyphens), as in "acme" for acme.accounts.justpass.me')
    }
    return new URL(`https://${options.organization.toLowerCase()}.accounts.justpass.me/openid/`)
  }
  if (options.opURL === undefined) throw new JustpassConfigError('opURL', 'is required (or give organization)')
  const opURL = parseHttpURL('opURL', requiredString(options, 'opURL'))
  if (opURL.search || opURL.hash) throw new JustpassConfigError('opURL', 'must not have a query or a fragment')
  return opURL
}

/** The endpoints derived from the provider base URL, with the `issuer` option in place of the derived issuer. */
function resolveEndpoints(options: Record<string, unknown>, opURL: URL): JustpassEndpoints {
  const endpoints = deriveEndpoints(opURL)
  if (options.issuer === undefined) return endpoints
  if (typeof options.issuer !== 'string' || options.issuer === '') throw new JustpassConfigError('issuer', 'must be a non-empty string (the exact "iss" of the provider\'s ID tokens)')
  const issuer = parseHttpURL('issuer', options.issuer)
  if (issuer.search || issuer.hash) throw new JustpassConfigError('issuer', 'must not have a query or a fragment')
  return { ...endpoints, issuer: options.issuer }
}

function ageOrFalse(value: unknown, name: string): number | false {
  if (value === false) return false
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 86_400) {
    throw new JustpassConfigError(name, 'must be false or an integer number of seconds from 0 to 86400')
  }
  return value
}

function resolveAuthTimeMaxAge(value: unknown, maxAge: number): ResolvedOptions['authTimeMaxAge'] {
  if (value === undefined) return { register: false, login: maxAge }
  if (typeof value === 'object' && value !== null) {
    const modes = value as Record<string, unknown>
    for (const key of Object.keys(modes)) {
      if (key !== 'register' && key !== 'login') throw new JustpassConfigError('authTimeMaxAge', `has an unknown mode "${key}": use register and login`)
    }
    return {
      register: modes.register === undefined ? false : ageOrFalse(modes.register, 'authTimeMaxAge'),
      login: modes.login === undefined ? maxAge : ageOrFalse(modes.login, 'authTimeMaxAge'),
    }
  }
  const age = ageOrFalse(value, 'authTimeMaxAge')
  return { register: age, login: age }
}

function resolveFetch(value: unknown): ResolvedOptions['fetch'] {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw new JustpassConfigError('fetch', 'must be a fetch-compatible function (url, init) => Promise<Response>')
  return value as ResolvedOptions['fetch']
}

const HEADER_NAME = /^[A-Za-z0-9-]+$/
const PARAM_NAME = /^[A-Za-z0-9_.-]+$/
const KEY_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/**
 * Validate the constructor's options and resolve them once: defaults applied, endpoints
 * derived, the client secret imported as an HMAC key.
 *
 * @throws {@link JustpassConfigError} naming the first option that is missing or malformed
 */
export function resolveOptions<User>(input: JustpassStrategyOptions<User> | JustpassStrategyOptionsWithRequest<User>, hasVerify: boolean): ResolvedOptions<User> {
  if (typeof input !== 'object' || input === null) {
    throw new JustpassConfigError('options', 'must be an object')
  }
  const options = input as unknown as Record<string, unknown>

  const opURL = resolveOpURL(options)
  const allowInsecureHTTP = optionalBoolean(options, 'allowInsecureHTTP')
  const insecureHTTP = opURL.protocol === 'http:'
  if (insecureHTTP && !isLoopback(opURL.hostname) && !allowInsecureHTTP) {
    throw new JustpassConfigError('opURL', 'must use https: (plain http: is accepted only for loopback hosts, or with allowInsecureHTTP: true)')
  }

  const passReqToCallback = optionalBoolean(options, 'passReqToCallback')
  if (passReqToCallback && !hasVerify) throw new JustpassConfigError('passReqToCallback', 'needs a verify callback (the second constructor argument)')
  const clientID = requiredString(options, 'clientID')
  const clientSecret = requiredString(options, 'clientSecret')
  const callbackURL = parseHttpURL('callbackURL', requiredString(options, 'callbackURL'))
  if (callbackURL.search || callbackURL.hash) throw new JustpassConfigError('callbackURL', 'must not have a query or a fragment')

  const idTokenAlg = options.idTokenSignedResponseAlg ?? 'HS256'
  if (!(ID_TOKEN_ALGORITHMS as readonly unknown[]).includes(idTokenAlg)) {
    throw new JustpassConfigError('idTokenSignedResponseAlg', `must be one of ${ID_TOKEN_ALGORITHMS.join(', ')}`)
  }
  const authMethod = options.tokenEndpointAuthMethod ?? 'client_secret_post'
  if (authMethod !== 'client_secret_post' && authMethod !== 'client_secret_basic') {
    throw new JustpassConfigError('tokenEndpointAuthMethod', 'must be "client_secret_post" or "client_secret_basic"')
  }
  const uiLocales = options.uiLocales
  if (uiLocales !== undefined && uiLocales !== false && typeof uiLocales !== 'function' && (typeof uiLocales !== 'string' || uiLocales === '')) {
    throw new JustpassConfigError('uiLocales', 'must be a non-empty string, a function of the request, or false')
  }

  const maxAge = optionalNumber(options, 'maxAge', 60, 0, 86_400)
  const discovery = optionalBoolean(options, 'discovery')
  if (discovery && options.issuer !== undefined) {
    throw new JustpassConfigError('issuer', 'cannot be combined with discovery: true (the discovered metadata names the issuer)')
  }
  const flowStore = resolveFlowStore(options.flowStore)
  const cookieSecrets = resolveCookieSecrets(options.cookieSecret)
  if (cookieSecrets.length > 0 && flowStore !== 'cookie') {
    throw new JustpassConfigError('cookieSecret', "applies only to the cookie flow store (flowStore: 'cookie', the default)")
  }

  return {
    endpoints: resolveEndpoints(options, opURL),
    insecureHTTP,
    clientID,
    clientSecret,
    clientSecretKey: createSecretKey(Buffer.from(clientSecret, 'utf8')),
    callbackURL: callbackURL.href,
    callbackPath: callbackURL.pathname,
    userStore: resolveUserStore<User>(options.userStore, hasVerify),
    usernameField: optionalString(options, 'usernameField', 'username'),
    baseUsernameKey: optionalString(options, 'baseUsernameKey', 'base_username'),
    scope: resolveScope(options.scope),
    idTokenAlg: idTokenAlg as IdTokenAlgorithm,
    tokenEndpointAuthMethod: authMethod,
    passReqToCallback,
    maxAge,
    acrValues: optionalString(options, 'acrValues', 'keys'),
    hintMode: optionalString(options, 'hintMode', 'token'),
    uiLocales: uiLocales as ResolvedOptions['uiLocales'],
    platformHeader: optionalString(options, 'platformHeader', 'amwal-platform', HEADER_NAME).toLowerCase(),
    platformParam: optionalString(options, 'platformParam', 'AMWALPLATFORM', PARAM_NAME),
    flowStore,
    cookieSecrets,
    secureCallback: callbackURL.protocol === 'https:',
    flowMaxAge: optionalNumber(options, 'flowMaxAge', 600, 1, 86_400),
    maxPendingFlows: optionalNumber(options, 'maxPendingFlows', 5, 1, 100),
    sessionKey: resolveSessionKey(options),
    timeout: optionalNumber(options, 'timeout', 10_000, 1, 600_000),
    clockTolerance: optionalNumber(options, 'clockTolerance', 30, 0, 600),
    discovery,
    authTimeMaxAge: resolveAuthTimeMaxAge(options.authTimeMaxAge, maxAge),
    fetch: resolveFetch(options.fetch),
  }
}
