/**
 * Initiation: the authorization request of a REG or LOGIN flow, with every parameter
 * justpass.me expects, its `signature`, and PKCE.
 *
 * @packageDocumentation
 */
import { createHash, createHmac, randomBytes } from 'node:crypto'
import type { Request } from 'express'
import type { ResolvedOptions } from './options.js'
import type { JustpassMode, NewFlow } from './flow-store/types.js'

/** A ready authorization request: where to send the browser, and what to remember. */
export interface AuthorizationRequest {
  /** The provider URL to redirect the browser to. */
  url: string
  /** The fresh `state`: the key the flow is remembered under. */
  state: string
  /** The flow to remember until the callback. */
  flow: NewFlow
}

/** Who the flow is for, decided by the strategy from the mode, the user and the session. */
export interface FlowSubject {
  mode: JustpassMode
  /** The identifier to send as `login_hint` and `username`; none for single-factor LOGIN. */
  identifier?: string
  /** The platform the request came from, when it named one. */
  platform?: string
  /** A same-origin path to return to after LOGIN. */
  returnTo?: string
}

const LANGUAGE_TAG = /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/

/**
 * The `ui_locales` value for an `Accept-Language` header: its language tags in the
 * order given (at most five, `*` and malformed entries left out), or `undefined`.
 */
export function uiLocalesFromAcceptLanguage(header: string | undefined): string | undefined {
  if (!header) return undefined
  const tags: string[] = []
  for (const part of header.split(',', 10)) {
    const tag = part.split(';', 1)[0]!.trim()
    if (LANGUAGE_TAG.test(tag) && !tags.includes(tag)) tags.push(tag)
    if (tags.length === 5) break
  }
  return tags.length ? tags.join(' ') : undefined
}

function uiLocalesFor(req: Request, option: ResolvedOptions['uiLocales']): string | undefined {
  if (option === false) return undefined
  if (typeof option === 'string') return option
  if (typeof option === 'function') return option(req) || undefined
  return uiLocalesFromAcceptLanguage(req.headers['accept-language'])
}

/** The signature's protected header, `{"alg":"HS256","typ":"JWT"}`, encoded once. */
const SIGNATURE_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')

/**
 * The request `signature`: a compact HS256 JWS (RFC 7515) keyed with the client secret
 * over `{"state", "login_hint"}` (`login_hint` only when there is an identifier).
 *
 * Made with node:crypto's HMAC rather than jose: jose signs through WebCrypto, an
 * asynchronous job that cost more than the rest of the initiation together (see the
 * benchmark). The result is the same JWS; the tests verify it with jose.
 */
export function signRequest(options: ResolvedOptions, state: string, identifier: string | undefined): string {
  const payload: { state: string; login_hint?: string } = { state }
  if (identifier !== undefined) payload.login_hint = identifier
  const signingInput = `${SIGNATURE_HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`
  return `${signingInput}.${createHmac('sha256', options.clientSecretKey).update(signingInput).digest('base64url')}`
}

/** Bytes drawn per flow: three 44-character base64url values (state, nonce, PKCE verifier). */
const RANDOM_BYTES = 99
const RANDOM_PART = 44

/** `name=value` pairs joined for a query string, each value percent-encoded. */
function query(params: ReadonlyArray<readonly [string, string]>): string {
  return params.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&')
}

/**
 * Builds the authorization requests of one provider and one client. The parameters that
 * never change (endpoint, client, redirect URI, scope, `hint_mode`, `acr_values`,
 * `max_age`) are encoded once, at construction; each request adds only its own.
 */
export class AuthorizationRequestBuilder {
  readonly #options: ResolvedOptions
  /** `<endpoint>?response_type=code&client_id=…&redirect_uri=…&scope=…&state=` */
  readonly #head: string
  /** `&hint_mode=…&acr_values=…&max_age=…` */
  readonly #fixed: string
  /** `&<platform parameter>=` */
  readonly #platform: string

  /**
   * @param authorizationEndpoint - the provider's authorization endpoint (derived or discovered)
   * @param options - resolved strategy options
   */
  constructor(authorizationEndpoint: string, options: ResolvedOptions) {
    this.#options = options
    const endpoint = new URL(authorizationEndpoint)
    endpoint.hash = ''
    const separator = endpoint.search ? '&' : '?'
    this.#head = `${endpoint.href}${separator}${query([
      ['response_type', 'code'],
      ['client_id', options.clientID],
      ['redirect_uri', options.callbackURL],
      ['scope', options.scope],
    ])}&state=`
    this.#fixed = `&${query([
      ['hint_mode', options.hintMode],
      ['acr_values', options.acrValues],
      ['max_age', String(options.maxAge)],
    ])}`
    this.#platform = `&${encodeURIComponent(options.platformParam)}=`
  }

  /**
   * The authorization request for `subject`: fresh state, nonce and PKCE verifier (one
   * random draw), the signed request, and the flow to remember. Makes no network call.
   * State, nonce, verifier, signature and challenge are base64url: they need no encoding.
   */
  build(req: Request, subject: FlowSubject): AuthorizationRequest {
    const random = randomBytes(RANDOM_BYTES).toString('base64url')
    const state = random.slice(0, RANDOM_PART)
    const nonce = random.slice(RANDOM_PART, 2 * RANDOM_PART)
    const verifier = random.slice(2 * RANDOM_PART)
    // S256 (RFC 7636) with node:crypto's SHA-256: no WebCrypto round trip per initiation.
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    const identifier = subject.identifier

    let url = `${this.#head}${state}&nonce=${nonce}&prompt=${subject.mode === 'register' ? 'create' : 'login'}`
    if (identifier !== undefined) {
      const encoded = encodeURIComponent(identifier)
      url += `&login_hint=${encoded}&username=${encoded}`
    }
    url += this.#fixed
    const uiLocales = uiLocalesFor(req, this.#options.uiLocales)
    if (uiLocales) url += `&ui_locales=${encodeURIComponent(uiLocales)}`
    url += `&signature=${signRequest(this.#options, state, identifier)}`
    if (subject.platform !== undefined) url += `${this.#platform}${encodeURIComponent(subject.platform)}`
    url += `&code_challenge=${challenge}&code_challenge_method=S256`

    const flow: NewFlow = { mode: subject.mode, verifier, nonce }
    if (identifier !== undefined) flow.expected = identifier
    if (subject.platform !== undefined) flow.platform = subject.platform
    if (subject.returnTo !== undefined) flow.returnTo = subject.returnTo
    return { url, state, flow }
  }
}
