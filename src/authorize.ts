/**
 * Initiation: the authorization request of a REG or LOGIN flow, with every parameter
 * justpass.me expects, its `signature`, and PKCE.
 *
 * @packageDocumentation
 */
import * as client from 'openid-client'
import { createHash, createHmac } from 'node:crypto'
import type { Request } from 'express'
import type { JustpassMode, ResolvedOptions } from './options.js'
import type { PendingFlow } from './flow-state.js'

/** A ready authorization request: where to send the browser, and what to remember. */
export interface AuthorizationRequest {
  /** The provider URL to redirect the browser to. */
  url: URL
  /** The fresh `state`: the key the flow is remembered under. */
  state: string
  /** The flow to remember until the callback. */
  flow: Omit<PendingFlow, 'started'>
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

/**
 * Build the authorization request for `subject`: fresh state, nonce and PKCE verifier,
 * the signed request, and the flow to remember. Makes no network call.
 */
export function buildAuthorizationRequest(
  req: Request,
  config: client.Configuration,
  options: ResolvedOptions,
  subject: FlowSubject,
): AuthorizationRequest {
  const state = client.randomState()
  const nonce = client.randomNonce()
  const verifier = client.randomPKCECodeVerifier()
  // S256 (RFC 7636): node:crypto's SHA-256 gives openid-client's challenge without its
  // WebCrypto round trip, which the benchmark showed on every initiation.
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const signature = signRequest(options, state, subject.identifier)

  const params: Record<string, string> = {
    response_type: 'code',
    redirect_uri: options.callbackURL,
    scope: options.scope,
    state,
    nonce,
    prompt: subject.mode === 'register' ? 'create' : 'login',
  }
  if (subject.identifier !== undefined) {
    params.login_hint = subject.identifier
    params.username = subject.identifier
  }
  params.hint_mode = options.hintMode
  params.acr_values = options.acrValues
  params.max_age = String(options.maxAge)
  const uiLocales = uiLocalesFor(req, options.uiLocales)
  if (uiLocales) params.ui_locales = uiLocales
  params.signature = signature
  if (subject.platform !== undefined) params[options.platformParam] = subject.platform
  params.code_challenge = challenge
  params.code_challenge_method = 'S256'

  const flow: Omit<PendingFlow, 'started'> = { mode: subject.mode, verifier, nonce }
  if (subject.identifier !== undefined) flow.expected = subject.identifier
  if (subject.platform !== undefined) flow.platform = subject.platform
  if (subject.returnTo !== undefined) flow.returnTo = subject.returnTo
  return { url: client.buildAuthorizationUrl(config, params), state, flow }
}
