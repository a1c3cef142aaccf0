/**
 * The provider settings: which justpass.me organization, which client, and how to talk
 * to it. Built once by {@link justpassProvider}, validated there, and handed whole to
 * the strategy (`provider: justpassProvider({...})`); the strategy's own options are
 * the site's.
 *
 * @packageDocumentation
 */
import { createSecretKey, type KeyObject } from 'node:crypto'
import { JustpassConfigError } from './errors.js'
import {
  optionalBoolean,
  optionalInteger,
  plainHttpURL,
  refuseUnknown,
  requiredString,
  settingsObject,
  type RawSettings,
} from './validate.js'

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

/** A fetch-compatible function, for provider calls that must go through the site's own egress. */
export type ProviderFetchFunction = (url: string, init?: RequestInit) => Promise<Response>

/** The settings of {@link justpassProvider}: the provider, the client, and the calls between them. */
export interface JustpassProviderSettings {
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
  /** The app's client id at justpass.me. */
  clientID: string
  /**
   * The app's client secret. It authenticates the code exchange, keys the request
   * `signature` and (with HS256) verifies ID tokens. Never logged, never in a message.
   */
  clientSecret: string
  /**
   * The issuer ID tokens must carry, when it is not the one derived from `opURL` (a
   * provider behind a proxy, whose site URL setting names another host). With
   * `discovery`, the issuer the metadata must announce, and where it is read from
   * (`<issuer>/.well-known/openid-configuration`): for one that ends in `/`, which `opURL`
   * without its slash cannot name.
   */
  issuer?: string
  /**
   * The algorithm the app's ID tokens are signed with at justpass.me. `HS256` (the
   * default) is keyed with the client secret; asymmetric algorithms take their keys
   * from the provider's JWKS endpoint. Any other algorithm, and `none`, is refused.
   */
  idTokenSignedResponseAlg?: IdTokenAlgorithm
  /**
   * Client authentication at the token endpoint. Default `'client_secret_post'`, as
   * justpass.me's clients use. With `'client_secret_basic'` openid-client
   * percent-encodes the id and secret first (RFC 6749, 2.3.1), every character but
   * letters and digits (`-`, `.`, `_` and `~` too: `justpass-site` is sent as
   * `justpass%2Dsite`); provider software that does not decode them (django-oidc-provider,
   * Glewlwyd) then refuses an id or secret with any other character.
   */
  tokenEndpointAuthMethod?: 'client_secret_post' | 'client_secret_basic'
  /**
   * Read the provider's metadata (`.well-known/openid-configuration`) instead of
   * deriving the endpoints: once, on first use, again after a failure. Default `false`.
   */
  discovery?: boolean
  /** Milliseconds each call to the provider may take before it fails, from 1 to 600000. Default `10000`. */
  timeout?: number
  /** Seconds of clock skew tolerated in ID token time checks, from 0 to 600. Default `30`. */
  clockTolerance?: number
  /**
   * A fetch-compatible function used for every call to the provider (token, userinfo,
   * JWKS, discovery) instead of the built-in keep-alive transport: for a site whose
   * egress goes through a proxy (undici's `fetch` with a `ProxyAgent` dispatcher). The
   * 1 MiB limit on provider answers still applies.
   */
  fetch?: ProviderFetchFunction
  /**
   * Accept a plain `http:` `opURL`, and the strategy's `callbackURL`, on a non-loopback
   * host. Default `false`; never in production: on plain http the flow cookies can be
   * neither `Secure` nor `__Host-`, so a sibling subdomain can plant one.
   */
  allowInsecureHTTP?: boolean
  /**
   * Refuse an ID token without `acr` when the request asked for `acr_values` (the
   * default asks `keys`). Default `false`, as justpass.me's Django client: an `acr` the
   * token does carry must always be one of those asked for.
   */
  requireAcr?: boolean
  /**
   * Where logout at the provider sends the browser (RP-initiated logout). Default:
   * `opURL` + `end-session/`, as justpass.me lays it out, or the metadata's
   * `end_session_endpoint` with `discovery`. `false`: logout ends the site's session
   * only.
   */
  endSessionURL?: string | false
}

/** The provider's endpoints, derived from `opURL`. */
export interface JustpassEndpoints {
  /** The `iss` of the provider's ID tokens: `opURL` without its trailing slash (or the `issuer` setting). */
  issuer: string
  /** `opURL` + `authorize/`. */
  authorization: string
  /** `opURL` + `token/`. */
  token: string
  /** `opURL` + `userinfo/`. */
  userinfo: string
  /** `opURL` + `jwks`. */
  jwks: string
  /** `opURL` + `end-session/`: RP-initiated logout. */
  endSession: string
}

/**
 * The provider settings, validated and resolved: what {@link justpassProvider} returns
 * and the strategy's `provider` option takes. Frozen. The client secret is kept out of
 * `JSON.stringify` and `util.inspect` (it is not enumerable).
 */
export interface JustpassProvider {
  /** The endpoints, derived from `opURL` (or the discovery URL's base, with `discovery`). */
  readonly endpoints: JustpassEndpoints
  /** Whether requests to the provider may use plain HTTP. */
  readonly insecureHTTP: boolean
  /** Whether plain `http:` is accepted off loopback (the `allowInsecureHTTP` setting), for `opURL` and the strategy's `callbackURL`. */
  readonly allowInsecureHTTP: boolean
  /** The app's client id at justpass.me. */
  readonly clientID: string
  /** The client secret as text, for client authentication at the token endpoint. Not enumerable. */
  readonly clientSecret: string
  /**
   * The client secret (its UTF-8 bytes) as an HMAC key, imported once: it signs the
   * request `signature` and verifies HS* ID tokens. Not enumerable.
   */
  readonly clientSecretKey: KeyObject
  /** The algorithm ID tokens must be signed with. */
  readonly idTokenAlg: IdTokenAlgorithm
  /** Client authentication at the token endpoint. */
  readonly tokenEndpointAuthMethod: 'client_secret_post' | 'client_secret_basic'
  /** Whether the endpoints come from the provider's discovery document (read on first use). */
  readonly discovery: boolean
  /** Milliseconds per provider call. */
  readonly timeout: number
  /** Seconds of clock skew tolerated. */
  readonly clockTolerance: number
  /** The site's own fetch for provider calls, when it gave one. */
  readonly fetch: ProviderFetchFunction | undefined
  /** Whether an ID token without `acr` is refused when `acr_values` were asked for. */
  readonly requireAcr: boolean
  /**
   * The end-session endpoint as the settings give it: a URL, `false` for logout at the
   * site only, or `undefined` for the default (derived, or discovered with `discovery`).
   */
  readonly endSessionURL: string | false | undefined
}

/** Every setting of {@link JustpassProviderSettings}, to refuse misspelt ones. */
export const PROVIDER_SETTINGS: ReadonlySet<string> = new Set([
  'opURL', 'organization', 'clientID', 'clientSecret', 'issuer', 'idTokenSignedResponseAlg',
  'tokenEndpointAuthMethod', 'discovery', 'timeout', 'clockTolerance', 'fetch', 'allowInsecureHTTP', 'endSessionURL', 'requireAcr',
])

/** The strategy's options that pass straight into the provider settings (the shorthand). */
export const PROVIDER_SHORTHAND = ['opURL', 'organization', 'clientID', 'clientSecret'] as const

/** The providers {@link justpassProvider} made: the strategy accepts no other. */
const MADE = new WeakSet<object>()

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]'])

/** Whether `hostname` (as `URL` presents it) names this machine. */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname)
}

/** Derive the issuer and endpoints from the provider base URL, as justpass.me lays them out. */
function deriveEndpoints(opURL: URL | string): JustpassEndpoints {
  const href = new URL(opURL).href
  const base = href.endsWith('/') ? href : `${href}/`
  return {
    issuer: base.slice(0, -1),
    authorization: `${base}authorize/`,
    token: `${base}token/`,
    userinfo: `${base}userinfo/`,
    jwks: `${base}jwks`,
    endSession: `${base}end-session/`,
  }
}

/** An organization name as it appears in a justpass.me host name: one DNS label. */
const ORGANIZATION = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i

/** The provider base URL, from `opURL` or from `organization` (exactly one of them). */
function resolveOpURL(settings: RawSettings): URL {
  if (settings.organization !== undefined) {
    if (settings.opURL !== undefined) throw new JustpassConfigError('organization', 'and opURL name the provider twice: give one of them')
    if (typeof settings.organization !== 'string' || !ORGANIZATION.test(settings.organization)) {
      throw new JustpassConfigError('organization', 'must be the organization name of a justpass.me host (letters, digits and inner hyphens), as in "acme" for acme.accounts.justpass.me')
    }
    return new URL(`https://${settings.organization.toLowerCase()}.accounts.justpass.me/openid/`)
  }
  if (settings.opURL === undefined) throw new JustpassConfigError('opURL', 'is required (or give organization)')
  return plainHttpURL('opURL', settings.opURL)
}

/** The endpoints derived from the provider base URL, with the `issuer` setting in place of the derived issuer. */
function resolveEndpoints(settings: RawSettings, opURL: URL, discovery: boolean): JustpassEndpoints {
  const endpoints = deriveEndpoints(opURL)
  if (settings.issuer === undefined) return endpoints
  if (typeof settings.issuer !== 'string' || settings.issuer === '') throw new JustpassConfigError('issuer', 'must be a non-empty string (the exact "iss" of the provider\'s ID tokens)')
  plainHttpURL('issuer', settings.issuer)
  return { ...endpoints, issuer: settings.issuer }
}

function resolveAlgorithm(value: unknown): IdTokenAlgorithm {
  if (value === undefined) return 'HS256'
  if (!(ID_TOKEN_ALGORITHMS as readonly unknown[]).includes(value)) {
    throw new JustpassConfigError('idTokenSignedResponseAlg', `must be one of ${ID_TOKEN_ALGORITHMS.join(', ')}`)
  }
  return value as IdTokenAlgorithm
}

function resolveAuthMethod(value: unknown): JustpassProvider['tokenEndpointAuthMethod'] {
  if (value === undefined) return 'client_secret_post'
  if (value !== 'client_secret_post' && value !== 'client_secret_basic') {
    throw new JustpassConfigError('tokenEndpointAuthMethod', 'must be "client_secret_post" or "client_secret_basic"')
  }
  return value
}

function resolveEndSessionURL(value: unknown): string | false | undefined {
  if (value === undefined || value === false) return value
  if (value === true) throw new JustpassConfigError('endSessionURL', 'must be the provider\'s end-session URL, or false for logout at the site only')
  return plainHttpURL('endSessionURL', value).href
}

function resolveFetch(value: unknown): ProviderFetchFunction | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'function') throw new JustpassConfigError('fetch', 'must be a fetch-compatible function (url, init) => Promise<Response>')
  return value as ProviderFetchFunction
}

/**
 * Validate the provider settings once and resolve them: endpoints derived, defaults
 * applied, the client secret imported as an HMAC key. Makes no network call.
 *
 * @example
 * ```ts
 * passport.use(new JustpassStrategy({
 *   provider: justpassProvider({ organization: 'acme', clientID, clientSecret, timeout: 5000 }),
 *   callbackURL: 'https://shop.example/auth/justpass/callback',
 *   userStore,
 * }))
 * ```
 * @throws {@link JustpassConfigError} naming the first setting that is missing or malformed
 */
export function justpassProvider(settings: JustpassProviderSettings): JustpassProvider {
  const raw = settingsObject(settings, 'provider')
  refuseUnknown(raw, PROVIDER_SETTINGS, {}, 'the provider')
  const opURL = resolveOpURL(raw)
  const insecureHTTP = opURL.protocol === 'http:'
  const allowInsecureHTTP = optionalBoolean(raw, 'allowInsecureHTTP')
  if (insecureHTTP && !isLoopback(opURL.hostname) && !allowInsecureHTTP) {
    throw new JustpassConfigError('opURL', 'must use https: (plain http: is accepted only for loopback hosts, or with allowInsecureHTTP: true)')
  }
  const clientID = requiredString(raw, 'clientID')
  const clientSecret = requiredString(raw, 'clientSecret')
  const discovery = optionalBoolean(raw, 'discovery')
  const provider = {
    endpoints: resolveEndpoints(raw, opURL, discovery),
    insecureHTTP,
    allowInsecureHTTP,
    clientID,
    idTokenAlg: resolveAlgorithm(raw.idTokenSignedResponseAlg),
    tokenEndpointAuthMethod: resolveAuthMethod(raw.tokenEndpointAuthMethod),
    discovery,
    timeout: optionalInteger(raw, 'timeout', 10_000, 1, 600_000),
    clockTolerance: optionalInteger(raw, 'clockTolerance', 30, 0, 600),
    fetch: resolveFetch(raw.fetch),
    endSessionURL: resolveEndSessionURL(raw.endSessionURL),
    requireAcr: optionalBoolean(raw, 'requireAcr'),
  }
  Object.defineProperties(provider, {
    clientSecret: { value: clientSecret, enumerable: false },
    clientSecretKey: { value: createSecretKey(Buffer.from(clientSecret, 'utf8')), enumerable: false },
  })
  MADE.add(provider)
  return Object.freeze(provider) as JustpassProvider
}

/** Whether `value` is a provider {@link justpassProvider} made. */
export function isJustpassProvider(value: unknown): value is JustpassProvider {
  return typeof value === 'object' && value !== null && MADE.has(value)
}
