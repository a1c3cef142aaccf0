/**
 * The way back: the code exchanged, the ID token verified, userinfo fetched, and the
 * identity bound to the flow. Returns a verified result or throws a typed refusal.
 *
 * @packageDocumentation
 */
import * as client from 'openid-client'
import { errors as joseErrors, jwtVerify, type JWTPayload } from 'jose'
import { JustpassProviderError, JustpassRefusal, type RefusalReason } from './errors.js'
import { verifyHmacJwt } from './hmac-jwt.js'
import type { ResolvedOptions } from './options.js'
import type { PendingFlow } from './flow-store/types.js'
import type { ProviderContext } from './provider.js'
import { findTransportError, MAX_RESPONSE_SIZE, TransportConnectionError } from './transport.js'

/** The token endpoint's answer, as openid-client returns it. */
export type JustpassTokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers

/** The userinfo endpoint's answer, with the identifier justpass.me vouches for. */
export type JustpassUserinfo = client.UserInfoResponse & {
  /** The identifier the passkey belongs to: the site looks its user up by it. */
  preferred_username: string
}

/** A flow whose every check has passed. */
export interface VerifiedFlow {
  /** The token endpoint's answer. */
  tokens: JustpassTokens
  /** The verified ID token claims. */
  claims: JWTPayload
  /** The userinfo endpoint's answer. */
  userinfo: JustpassUserinfo
  /** The identifier the passkey belongs to (`preferred_username`). */
  username: string
}

/** What a provider call was for, to name it in errors. */
type Step = 'token' | 'userinfo'

/**
 * The `error` codes a provider's answer may bring into a message, as the strategy checks
 * the authorization response's: letters, digits, `_`, `.`, `-`. Anything else is
 * replaced by {@link INVALID_ERROR_CODE}.
 */
export const PROVIDER_ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/

/** What stands for a provider `error` that is not a well-formed code (markup, prose, ...). */
export const INVALID_ERROR_CODE = 'invalid_error'

const SAFE_DETAIL = /[^\x20-\x7e]/g

/** `text` cut short and reduced to printable ASCII, fit for a message. */
function printable(text: string): string {
  return text.replace(SAFE_DETAIL, '?').slice(0, 120)
}

/** The provider's `error` code when well-formed, {@link INVALID_ERROR_CODE} otherwise. */
function safeErrorCode(code: unknown): string {
  return typeof code === 'string' && PROVIDER_ERROR_CODE.test(code) ? code : INVALID_ERROR_CODE
}

/** A claim name or a jose reason when it is a plain word, else what stands for it. */
function word(value: unknown, otherwise: string): string {
  return typeof value === 'string' && PROVIDER_ERROR_CODE.test(value) ? value : otherwise
}

/**
 * Fixed descriptions of jose's failures, by error code. jose's own messages are not used:
 * some quote the token (an unrecognised `crit` extension name, an unsupported `alg`).
 */
const JOSE_FAILURES: Record<string, string> = {
  ERR_JWS_INVALID: 'not a valid JWS',
  ERR_JWT_INVALID: 'not a valid JWT claims set',
  ERR_JOSE_ALG_NOT_ALLOWED: 'alg: not allowed',
  ERR_JOSE_NOT_SUPPORTED: 'an unsupported algorithm or header parameter',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'signature verification failed',
  ERR_JWKS_NO_MATCHING_KEY: 'no key of the provider matches',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'several keys of the provider match',
  ERR_JWK_INVALID: 'a key of the provider is invalid',
}

/** openid-client's message for a failure it could not place: its cause is not the library's. */
const UNPLACED_FAILURE = 'something went wrong'

/**
 * The words of openid-client (and of oauth4webapi beneath it) about a failure: their
 * message templates name claims, parameters and endpoints, never a value the provider sent.
 * A cause of any other kind (a `SyntaxError` quoting the body, ...) is not used.
 */
function libraryWords(chain: unknown[]): string | undefined {
  const processing = chain.find((each): each is Error => each instanceof Error && (each.name === 'OperationProcessingError' || each.name === 'UnsupportedOperationError'))
  if (processing) return processing.message
  const outer = chain[0]
  return outer instanceof client.ClientError && outer.message !== UNPLACED_FAILURE ? outer.message : undefined
}

/**
 * A short, printable description of an underlying failure, made only of the libraries'
 * fixed words and claim names: never a token, a claim value or other provider text.
 */
function detail(err: unknown): string {
  const chain = causes(err)
  const claim = chain.find((each) => each instanceof joseErrors.JWTClaimValidationFailed || each instanceof joseErrors.JWTExpired) as
    | joseErrors.JWTClaimValidationFailed
    | undefined
  if (claim) return `${word(claim.claim, 'a claim')}: ${word(claim.reason, 'check_failed')}`
  const jose = chain.find((each) => each instanceof joseErrors.JOSEError) as joseErrors.JOSEError | undefined
  if (jose) return JOSE_FAILURES[jose.code] ?? 'the token could not be verified'
  const words = libraryWords(chain)
  return words === undefined ? 'an unexpected failure' : printable(words)
}

/** `err` and its causes, outermost first. */
function causes(err: unknown): unknown[] {
  const chain: unknown[] = []
  for (let current = err; current !== undefined && chain.length < 8; current = (current as { cause?: unknown }).cause) {
    chain.push(current)
    if (!(current instanceof Error)) break
  }
  return chain
}

/** The request was cut short by the timeout. */
function isTimeout(err: unknown): boolean {
  return causes(err).some((each) => each instanceof Error && (each.name === 'TimeoutError' || each.name === 'AbortError'))
}

/** openid-client refused the ID token itself (its form, header or claims). */
function concernsIdToken(err: unknown): boolean {
  return causes(err).some((each) => each instanceof Error && /\bJWT\b|ID Token|"id_token"/.test(each.message))
}

/**
 * The error for a failure of the transport itself: `provider_unreachable` when the
 * connection failed, `provider_bad_response` for an answer larger than the transport
 * reads or one that is not HTTP. `undefined` when `err` is no transport failure.
 *
 * @param endpoint - the endpoint's role, as messages name it (`the token endpoint`)
 */
function transportFailure(err: unknown, endpoint: string): JustpassProviderError | undefined {
  const failure = findTransportError(err)
  if (failure === undefined) return undefined
  if (failure instanceof TransportConnectionError) return new JustpassProviderError('provider_unreachable', `${endpoint} could not be reached`, { cause: failure })
  return failure.code === 'ERR_RESPONSE_TOO_LARGE'
    ? new JustpassProviderError('provider_bad_response', `${endpoint} answered more than ${MAX_RESPONSE_SIZE}`, { cause: failure })
    : new JustpassProviderError('provider_bad_response', `${endpoint} did not answer HTTP`, { cause: failure })
}

/**
 * Turn what openid-client threw during `step` into the error the strategy reports:
 * a {@link JustpassProviderError} for an outage, a {@link JustpassRefusal} for an
 * answer that fails a check. Anything unrecognised is rethrown unchanged. No text the
 * provider sent reaches a message, but for an `error` code matching
 * {@link PROVIDER_ERROR_CODE}.
 */
export function classifyProviderFailure(err: unknown, step: Step): Error {
  const endpoint = `the ${step} endpoint`
  const refused: RefusalReason = step === 'token' ? 'token_rejected' : 'userinfo_invalid'
  if (isTimeout(err)) return new JustpassProviderError('provider_timeout', `${endpoint} did not answer in time`)
  const transport = transportFailure(err, endpoint)
  if (transport) return transport
  if (err instanceof client.ResponseBodyError) {
    if (err.status >= 500) return new JustpassProviderError('provider_server_error', `${endpoint} answered HTTP ${err.status}`)
    return new JustpassRefusal(refused, `${endpoint} refused the request (${safeErrorCode(err.error)}, HTTP ${err.status})`)
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    return new JustpassRefusal(refused, `${endpoint} refused the request (HTTP ${err.status})`)
  }
  if (!(err instanceof client.ClientError)) return err instanceof Error ? err : new Error(String(err))
  switch (err.code) {
    case 'OAUTH_RESPONSE_IS_NOT_CONFORM': {
      const status = err.cause instanceof Response ? err.cause.status : 0
      return status >= 500
        ? new JustpassProviderError('provider_server_error', `${endpoint} answered HTTP ${status}`)
        : new JustpassRefusal(refused, `${endpoint} answered HTTP ${status || 'with an unexpected status'}`)
    }
    case 'OAUTH_RESPONSE_IS_NOT_JSON':
      return new JustpassProviderError('provider_bad_response', `${endpoint} did not answer JSON`)
  }
  if (step === 'token' && concernsIdToken(err)) {
    return new JustpassRefusal('id_token_invalid', `the ID token failed a check (${detail(err)})`)
  }
  if (err.code === 'OAUTH_PARSE_ERROR') return new JustpassProviderError('provider_bad_response', `${endpoint} did not answer JSON`)
  if (step === 'userinfo') return new JustpassRefusal('userinfo_invalid', `userinfo failed a check (${detail(err)})`)
  return new JustpassRefusal('response_invalid', `the provider's response failed a check (${detail(err)})`)
}

/**
 * Verify the ID token's signature and claims: the algorithm must be the configured one,
 * `iss`, `aud`, `exp`, `iat` and `nonce` must hold, and `auth_time` must be within
 * `authTimeMaxAge` where one is enforced (see {@link checkAuthTime}). HS* tokens are checked by {@link verifyHmacJwt}
 * (node:crypto's HMAC, jose's header and claims checks); asymmetric ones by jose's
 * `jwtVerify` against the provider's JWKS.
 *
 * @param authTimeMaxAge - the enforced age of `auth_time` for the flow's mode; LOGIN's by default
 * @throws {@link JustpassRefusal} `id_token_invalid` or `auth_too_old`; {@link JustpassProviderError} when the JWKS cannot be fetched
 */
export async function verifyIdToken(
  idToken: string,
  context: ProviderContext,
  options: ResolvedOptions,
  nonce: string,
  authTimeMaxAge: number | false = options.authTimeMaxAge.login,
): Promise<JWTPayload> {
  const { idTokenKey: key, idTokenClaims } = context
  let claims: JWTPayload
  try {
    claims =
      key.type === 'secret'
        ? verifyHmacJwt(idToken, key.key, key.alg, idTokenClaims)
        : (await jwtVerify(idToken, key.keySet, { ...idTokenClaims, algorithms: [options.idTokenAlg] })).payload
  } catch (err) {
    if (err instanceof joseErrors.JWKSTimeout) {
      throw new JustpassProviderError('provider_timeout', 'the JWKS endpoint did not answer in time')
    }
    if (err instanceof joseErrors.JWKSInvalid || (err instanceof joseErrors.JOSEError && err.code === 'ERR_JOSE_GENERIC')) {
      throw new JustpassProviderError('provider_bad_response', 'the JWKS endpoint could not be read', { cause: err })
    }
    const transport = transportFailure(err, 'the JWKS endpoint')
    if (transport) throw transport
    throw new JustpassRefusal('id_token_invalid', `the ID token failed a check (${detail(err)})`)
  }
  if (claims.nonce !== nonce) throw new JustpassRefusal('id_token_invalid', 'the ID token failed a check (nonce: does not match the flow)')
  if (Array.isArray(claims.aud) && claims.aud.length > 1 && claims.azp !== options.clientID) {
    throw new JustpassRefusal('id_token_invalid', 'the ID token failed a check (azp: must be the client id when aud has several values)')
  }
  checkAuthTime(claims, authTimeMaxAge, options.clockTolerance)
  return claims
}

/**
 * Check `auth_time` where an age is enforced: it must be present (OpenID Connect Core
 * 3.1.2.1, since `max_age` is sent) and no older than `maxAge` seconds (with `tolerance`).
 * Where none is enforced (`false`), `auth_time` is not read: some providers fill it from
 * the account's last login and reuse a provider session without a new one.
 *
 * @throws {@link JustpassRefusal} `id_token_invalid` when it is missing or malformed, `auth_too_old` when it is too old
 */
export function checkAuthTime(claims: JWTPayload, maxAge: number | false, tolerance: number): void {
  if (maxAge === false) return
  const authTime = claims.auth_time
  if (typeof authTime !== 'number') throw new JustpassRefusal('id_token_invalid', 'the ID token failed a check (auth_time: missing while max_age was sent)')
  if (Math.floor(Date.now() / 1000) - authTime > maxAge + tolerance) {
    throw new JustpassRefusal('auth_too_old', `the passkey step was completed more than ${maxAge} s before this sign-in (auth_time); start again`)
  }
}

/**
 * Complete a flow: exchange the code (state, PKCE, nonce and `iss` checked by
 * openid-client), verify the ID token, fetch userinfo for the same `sub`, and bind the
 * identity: the passkey must belong to the identifier the flow was started for.
 *
 * @param callbackURL - the callback URL with the query the provider sent back
 * @throws {@link JustpassRefusal} when a check fails; {@link JustpassProviderError} on an outage
 */
export async function completeFlow(
  context: ProviderContext,
  options: ResolvedOptions,
  flow: PendingFlow,
  state: string,
  callbackURL: URL,
): Promise<VerifiedFlow> {
  const authTimeMaxAge = options.authTimeMaxAge[flow.mode]
  let tokens: JustpassTokens
  try {
    tokens = await client.authorizationCodeGrant(context.config, callbackURL, {
      pkceCodeVerifier: flow.verifier,
      expectedState: state,
      expectedNonce: flow.nonce,
      // No maxAge: auth_time is checked once, per mode, by verifyIdToken (auth_too_old).
      idTokenExpected: true,
    })
  } catch (err) {
    throw classifyProviderFailure(err, 'token')
  }
  if (typeof tokens.token_type !== 'string' || tokens.token_type.toLowerCase() !== 'bearer') {
    throw new JustpassRefusal('response_invalid', 'the token endpoint answered a token type other than Bearer')
  }
  // idTokenExpected: openid-client has refused an answer without an ID token.
  const claims = await verifyIdToken(tokens.id_token as string, context, options, flow.nonce, authTimeMaxAge)

  let userinfo: client.UserInfoResponse
  try {
    userinfo = await client.fetchUserInfo(context.config, tokens.access_token, claims.sub as string)
  } catch (err) {
    throw classifyProviderFailure(err, 'userinfo')
  }
  const username = userinfo.preferred_username
  if (typeof username !== 'string' || username === '') {
    throw new JustpassRefusal(
      'userinfo_invalid',
      'userinfo has no preferred_username: the provider releases it only for a scope that includes it, or when it is configured to add it to scope openid',
    )
  }
  if (flow.expected !== undefined && username !== flow.expected) {
    throw new JustpassRefusal('identity_mismatch', `the passkey belongs to another user than the one this ${flow.mode === 'register' ? 'registration' : 'login'} was for`)
  }
  return { tokens, claims, userinfo: userinfo as JustpassUserinfo, username }
}
