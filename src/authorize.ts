/**
 * Initiation: the authorization request of a REG or LOGIN flow, with every parameter
 * justpass.me expects, its `signature`, and PKCE.
 *
 * @packageDocumentation
 */
import { createHash, createHmac, randomBytes } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { JustpassUsageError } from './errors.js'
import type { JustpassFlowStart, NewFlow } from './flow.js'

/** A ready authorization request: where to send the browser, and what to remember. */
export interface AuthorizationRequest {
  /** The provider URL to redirect the browser to. */
  url: string
  /** The fresh `state`: the key the flow is remembered under. */
  state: string
  /** The flow to remember until the callback. */
  flow: NewFlow
}

const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/
/** A weight of zero: "not acceptable" (RFC 9110, 12.4.2). */
const ZERO_WEIGHT = /;\s*q\s*=\s*0(?:\.0{0,3})?\s*(?:;|$)/i

/**
 * The `ui_locales` value for an `Accept-Language` header: its language tags in the
 * order given (at most five; `*`, malformed entries, those weighted `q=0` and repeats in
 * any case left out), or `undefined`.
 */
export function uiLocalesFromAcceptLanguage(header: string | undefined): string | undefined {
  if (!header) return undefined
  const tags: string[] = []
  for (const part of header.split(',', 10)) {
    if (ZERO_WEIGHT.test(part)) continue
    const tag = part.split(';', 1)[0]!.trim()
    if (LANGUAGE_TAG.test(tag) && !tags.some((kept) => kept.toLowerCase() === tag.toLowerCase())) tags.push(tag)
    if (tags.length === 5) break
  }
  return tags.length ? tags.join(' ') : undefined
}

/** The signature's protected header, `{"alg":"HS256","typ":"JWT"}`, encoded once. */
const SIGNATURE_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

/**
 * The request `signature`: a compact HS256 JWS (RFC 7515) keyed with the client secret
 * over `{"state", "login_hint", "iat", "exp"}` (`login_hint` only when the flow has a
 * username): the request proves it came from the site's backend, and when, so that a
 * provider can refuse it once the flow it starts has expired (`exp`: `iat` plus the flow
 * store's `maxAge`). justpass.me's Firebase client signs an `iat` too; its Django client
 * signs only the first two, which justpass.me reads the same.
 *
 * Made with node:crypto's HMAC rather than jose: jose signs through WebCrypto, an
 * asynchronous job that cost more than the rest of the initiation together (see the
 * benchmark). The result is the same JWS; the tests verify it with jose.
 */
export function signRequest(key: KeyObject, state: string, username: string | undefined, issuedAt: number, lifetime: number): string {
  const payload: { state: string; login_hint?: string; iat?: number; exp?: number } = { state }
  if (username !== undefined) payload.login_hint = username
  payload.iat = issuedAt
  payload.exp = issuedAt + lifetime
  const signingInput = `${SIGNATURE_HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  return `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`
}

/** Bytes drawn per flow: three 44-character base64url values (state, nonce, PKCE verifier). */
const RANDOM_BYTES = 99
const RANDOM_PART = 44

/** `name=value` pairs joined for a query string, each value percent-encoded. */
function query(params: ReadonlyArray<readonly [string, string]>): string {
  return params.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&')
}

/** What the authorization request of every flow shares: the client, the callback, the scope, `max_age` (a confirmation's is `0`). */
export interface AuthorizationSettings {
  clientID: string
  /** The client secret as an HMAC key: it signs the request `signature`. */
  clientSecretKey: KeyObject
  /** The `redirect_uri`. */
  callbackURL: string
  scope: string
  /** The `max_age` sent by REG and LOGIN, in seconds; a confirmation sends `0`. */
  maxAge: number
  /** Seconds a flow stays valid (the flow store's `maxAge`): the signature's `exp` is this after its `iat`. */
  flowMaxAge: number
}

/**
 * The parameters the strategy sets itself: the protocol's, the request's signature, and
 * PKCE. The `authorizationParams` hook may not set them.
 */
export const RESERVED_PARAMS: ReadonlySet<string> = new Set([
  'response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'prompt', 'login_hint', 'username',
  'max_age', 'signature', 'code_challenge', 'code_challenge_method', 'request', 'request_uri', 'response_mode',
  'id_token_hint', 'claims', 'dpop_jkt', 'client_secret', 'client_assertion', 'client_assertion_type',
])

/** `&name=value…` for the hook's parameters, each checked and encoded. */
function extraParams(params: Readonly<Record<string, string | undefined>>): string {
  const proto: unknown = typeof params === 'object' && params !== null ? Object.getPrototypeOf(params) : undefined
  if (proto !== Object.prototype && proto !== null) {
    throw new JustpassUsageError('authorizationParams must return a plain object of parameters (not a promise: the hook is synchronous)')
  }
  let encoded = ''
  for (const name of Object.keys(params)) {
    const value = params[name]
    if (value === undefined) continue
    if (RESERVED_PARAMS.has(name)) throw new JustpassUsageError(`authorizationParams may not set "${name}": the strategy sets it`)
    if (typeof value !== 'string') throw new JustpassUsageError(`authorizationParams must give string values ("${name}" is not one)`)
    encoded += `&${encodeURIComponent(name)}=${encodeURIComponent(value)}`
  }
  return encoded
}

/**
 * Builds the authorization requests of one provider and one client. The parameters that
 * never change (endpoint, client, redirect URI, scope, `max_age`) are encoded once, at
 * construction; each request adds only its own, and the `authorizationParams` hook's.
 */
export class AuthorizationRequestBuilder {
  readonly #key: KeyObject
  readonly #flowMaxAge: number
  /** `<endpoint>?response_type=code&client_id=…&redirect_uri=…&scope=…&max_age=` */
  readonly #head: string
  /** `<max_age>&state=` for REG and LOGIN; a confirmation sends `max_age=0`. */
  readonly #maxAgeTail: string

  /**
   * @param authorizationEndpoint - the provider's authorization endpoint (derived or discovered)
   * @param settings - what every request of this client shares
   */
  constructor(authorizationEndpoint: string, settings: AuthorizationSettings) {
    this.#key = settings.clientSecretKey
    this.#flowMaxAge = settings.flowMaxAge
    const endpoint = new URL(authorizationEndpoint)
    endpoint.hash = ''
    const separator = endpoint.search ? '&' : '?'
    this.#head = `${endpoint.href}${separator}${query([
      ['response_type', 'code'],
      ['client_id', settings.clientID],
      ['redirect_uri', settings.callbackURL],
      ['scope', settings.scope],
    ])}&max_age=`
    this.#maxAgeTail = `${settings.maxAge}&state=`
  }

  /**
   * The authorization request for `start`: fresh state, nonce and PKCE verifier (one
   * random draw), the signed request, the hook's `params`, and the flow to remember.
   * Makes no network call. State, nonce, verifier, signature and challenge are
   * base64url: they need no encoding.
   *
   * @throws {@link JustpassUsageError} when `params` sets a reserved parameter or a value that is not a string
   */
  build(start: JustpassFlowStart, params: Readonly<Record<string, string | undefined>>): AuthorizationRequest {
    const random = randomBytes(RANDOM_BYTES).toString('base64url')
    const state = random.slice(0, RANDOM_PART)
    const nonce = random.slice(RANDOM_PART, 2 * RANDOM_PART)
    const verifier = random.slice(2 * RANDOM_PART)
    // S256 (RFC 7636) with node:crypto's SHA-256: no WebCrypto round trip per initiation.
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const username = start.username

    // A confirmation asks for a new authentication now: prompt=login with max_age=0.
    const confirm = start.mode === 'confirm'
    let url = `${this.#head}${confirm ? '0&state=' : this.#maxAgeTail}${state}&nonce=${nonce}&prompt=${start.mode === 'register' ? 'create' : 'login'}`
    if (username !== undefined) {
      const encoded = encodeURIComponent(username)
      url += `&login_hint=${encoded}&username=${encoded}`
    }
    url += extraParams(params)
    url += `&signature=${signRequest(this.#key, state, username, Math.floor(Date.now() / 1000), this.#flowMaxAge)}`
    url += `&code_challenge=${challenge}&code_challenge_method=S256`
    const flow: NewFlow = { ...start, verifier, nonce }
    const acrValues = params.acr_values
    if (typeof acrValues === 'string' && acrValues.trim() !== '') flow.acrValues = acrValues
    return { url, state, flow }
  }
}
