/**
 * Initiation: the authorization request of a REG or LOGIN flow, with every parameter
 * justpass.me expects, its `signature`, and PKCE.
 *
 * @packageDocumentation
 */
import * as client from 'openid-client'
import { SignJWT } from 'jose'
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

/**
 * The request `signature`: a compact HS256 JWS keyed with the client secret over
 * `{"state", "login_hint"}` (`login_hint` only when there is an identifier).
 */
export function signRequest(options: ResolvedOptions, state: string, identifier: string | undefined): Promise<string> {
  const payload: { state: string; login_hint?: string } = { state }
  if (identifier !== undefined) payload.login_hint = identifier
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(options.secretKey)
}

/**
 * Build the authorization request for `subject`: fresh state, nonce and PKCE verifier,
 * the signed request, and the flow to remember. Makes no network call.
 */
export async function buildAuthorizationRequest(
  req: Request,
  config: client.Configuration,
  options: ResolvedOptions,
  subject: FlowSubject,
): Promise<AuthorizationRequest> {
  const state = client.randomState()
  const nonce = client.randomNonce()
  const verifier = client.randomPKCECodeVerifier()
  const [challenge, signature] = await Promise.all([
    client.calculatePKCECodeChallenge(verifier),
    signRequest(options, state, subject.identifier),
  ])

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
