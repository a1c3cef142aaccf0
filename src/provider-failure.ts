/**
 * What went wrong in a call to the provider, sorted by the error's class and code only
 * (openid-client's `ClientError` codes, oauth4webapi's processing errors beneath them,
 * jose's error codes, the transport's own errors): never by message text, which upstream
 * may reword. An outage becomes a {@link JustpassProviderError}, an answer that fails a
 * check a {@link JustpassRefusal}. No text the provider sent reaches a message, but for
 * an `error` code matching {@link PROVIDER_ERROR_CODE}.
 *
 * @packageDocumentation
 */
import * as client from 'openid-client'
import { errors as joseErrors } from 'jose'
import { JustpassProviderError, JustpassRefusal } from './errors.js'
import type { RefusalReason } from './flow.js'
import { findTransportError, MAX_RESPONSE_SIZE, TransportConnectionError } from './transport.js'

/**
 * The `error` codes a provider's answer may bring into a message: letters, digits, `_`,
 * `.`, `-`. Anything else is replaced by {@link INVALID_ERROR_CODE}.
 */
export const PROVIDER_ERROR_CODE = /^[A-Za-z0-9_.-]{1,64}$/

/** What stands for a provider `error` that is not a well-formed code (markup, prose, ...). */
export const INVALID_ERROR_CODE = 'invalid_error'

/** The provider's `error` code when well-formed, {@link INVALID_ERROR_CODE} otherwise. */
export function safeErrorCode(code: unknown): string {
  return typeof code === 'string' && PROVIDER_ERROR_CODE.test(code) ? code : INVALID_ERROR_CODE
}

/** A claim name when it is a plain word, else what stands for it. */
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

/** Fixed descriptions of openid-client's failures, by its error code. */
const CLIENT_FAILURES: Record<string, string> = {
  OAUTH_INVALID_RESPONSE: 'a malformed value',
  OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED: 'an unexpected value',
  OAUTH_KEY_SELECTION_FAILED: 'no single key of the provider matches',
  OAUTH_UNSUPPORTED_OPERATION: 'something unsupported',
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

/** The structured detail oauth4webapi attaches beneath openid-client's error (its processing error's cause). */
function processingDetail(err: client.ClientError): unknown {
  return err.cause instanceof Error ? err.cause.cause : undefined
}

/** The claim a processing error names in its structured detail, as a plain word. */
function claimOf(err: client.ClientError): string {
  const detail = processingDetail(err)
  return typeof detail === 'object' && detail !== null ? word((detail as { claim?: unknown }).claim, 'a claim') : 'a claim'
}

/**
 * A short, printable description of an underlying failure, made only of fixed words
 * and claim names, chosen by error class and code: never a token, a claim value or
 * other provider text.
 */
export function describeFailure(err: unknown): string {
  const chain = causes(err)
  const claim = chain.find((each) => each instanceof joseErrors.JWTClaimValidationFailed || each instanceof joseErrors.JWTExpired) as
    | joseErrors.JWTClaimValidationFailed
    | undefined
  if (claim) return `${word(claim.claim, 'a claim')}: ${word(claim.reason, 'check_failed')}`
  const jose = chain.find((each) => each instanceof joseErrors.JOSEError) as joseErrors.JOSEError | undefined
  if (jose) return JOSE_FAILURES[jose.code] ?? 'the token could not be verified'
  if (err instanceof client.ClientError) return clientFailureWords(err)
  return 'an unexpected failure'
}

/** Fixed words for an openid-client failure, from its code and the shape of oauth4webapi's detail. */
function clientFailureWords(err: client.ClientError): string {
  if (err.code === 'OAUTH_JWT_CLAIM_COMPARISON_FAILED') return `${claimOf(err)}: unexpected value`
  if (err.code === 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED') return `${claimOf(err)}: time check failed`
  const detail = processingDetail(err)
  if (typeof detail === 'object' && detail !== null) {
    // The algorithm check names what it expected; the other header checks (typ, crit) do not.
    if ('header' in detail) return 'expected' in detail ? 'alg: not the configured algorithm' : 'a header parameter: unexpected or unsupported'
    if ('alg' in detail) return 'alg: unsupported'
    if ('claims' in detail) return 'a claim: missing or of the wrong type'
    if ('attribute' in detail) return `${word((detail as { attribute?: unknown }).attribute, 'an attribute')}: unexpected value`
    if ('parameters' in detail) return 'a parameter of the authorization response (iss, state): unexpected value'
    if (err.code === 'OAUTH_UNSUPPORTED_OPERATION' && 'body' in detail) return 'token_type: unsupported'
  }
  return (err.code !== undefined && CLIENT_FAILURES[err.code]) || 'an unexpected failure'
}

/** The members of a token response that oauth4webapi checks before it looks for an ID token. */
function tokenBodyBeforeIdToken(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false
  const { access_token: access, token_type: type, expires_in: expires, refresh_token: refresh, scope } = body as Record<string, unknown>
  return (
    typeof access === 'string' && access !== '' &&
    typeof type === 'string' && type !== '' &&
    (expires === undefined || typeof expires === 'number') &&
    (refresh === undefined || (typeof refresh === 'string' && refresh !== '')) &&
    (scope === undefined || typeof scope === 'string')
  )
}

/**
 * Whether a failure of the token step is an ID token that is not a JWT at all: the
 * compact JWS (the detail oauth4webapi attaches) has the wrong number of parts, or a
 * header or claims that are not JSON objects. Like a body that is not JSON, that is an
 * answer outside the protocol, not one that fails a check.
 */
function idTokenIsNoJwt(err: client.ClientError): boolean {
  return err.code === 'OAUTH_PARSE_ERROR' || ((err.code === 'OAUTH_INVALID_RESPONSE' || err.code === 'OAUTH_UNSUPPORTED_OPERATION') && typeof processingDetail(err) === 'string')
}

/**
 * Whether a failure of the token step is about the ID token rather than the token
 * response around it. The claim and key checks only ever concern a JWT, which in the
 * token step is the ID token. For the rest, oauth4webapi attaches structured detail to
 * each check: a check of the ID token carries its `claims`, its `header` or its `alg`; a
 * check of the response body carries the `body`, which is the ID token's fault only
 * when every member checked before it is well-formed and the ID token is missing or not
 * a string (`idTokenExpected`).
 */
function concernsIdToken(err: client.ClientError): boolean {
  switch (err.code) {
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
    case 'OAUTH_KEY_SELECTION_FAILED':
      return true
    case 'OAUTH_INVALID_RESPONSE':
    case 'OAUTH_UNSUPPORTED_OPERATION': {
      const detail = processingDetail(err)
      if (typeof detail !== 'object' || detail === null) return false
      if ('claims' in detail || 'header' in detail || 'alg' in detail) return true
      const body = (detail as { body?: unknown }).body
      return err.code === 'OAUTH_INVALID_RESPONSE' && tokenBodyBeforeIdToken(body) && typeof (body as { id_token?: unknown }).id_token !== 'string'
    }
    default:
      return false
  }
}

/** The request was cut short by the timeout. */
function isTimeout(err: unknown): boolean {
  return causes(err).some((each) => each instanceof Error && (each.name === 'TimeoutError' || each.name === 'AbortError'))
}

/**
 * The error for a failure of the transport itself: `provider_unreachable` when the
 * connection failed, `provider_bad_response` for an answer larger than the transport
 * reads or one that is not HTTP. `undefined` when `err` is no transport failure.
 *
 * @param endpoint - the endpoint's role, as messages name it (`the token endpoint`)
 */
export function transportFailure(err: unknown, endpoint: string): JustpassProviderError | undefined {
  const failure = findTransportError(err)
  if (failure === undefined) return undefined
  if (failure instanceof TransportConnectionError) return new JustpassProviderError('provider_unreachable', `${endpoint} could not be reached`, { cause: failure })
  return failure.code === 'ERR_RESPONSE_TOO_LARGE'
    ? new JustpassProviderError('provider_bad_response', `${endpoint} answered more than ${MAX_RESPONSE_SIZE}`, { cause: failure })
    : new JustpassProviderError('provider_bad_response', `${endpoint} did not answer HTTP`, { cause: failure })
}

/** What a provider call was for: the code exchange or userinfo. */
export type ProviderStep = 'token' | 'userinfo'

/**
 * Turn what openid-client threw during `step` into the error the strategy reports:
 * a {@link JustpassProviderError} for an outage (timeout, unreachable, 5xx, an answer
 * that is not JSON or does not parse), a {@link JustpassRefusal} for an answer that fails
 * a check. Anything unrecognised is returned unchanged (an Error).
 */
export function classifyProviderFailure(err: unknown, step: ProviderStep): Error {
  const endpoint = `the ${step} endpoint`
  const Endpoint = `The ${step} endpoint`
  const refused: RefusalReason = step === 'token' ? 'token_rejected' : 'userinfo_invalid'
  if (isTimeout(err)) return new JustpassProviderError('provider_timeout', `${endpoint} did not answer in time`)
  const transport = transportFailure(err, endpoint)
  if (transport) return transport
  if (err instanceof client.ResponseBodyError) {
    if (err.status >= 500) return new JustpassProviderError('provider_server_error', `${endpoint} answered HTTP ${err.status}`)
    const code = safeErrorCode(err.error)
    return new JustpassRefusal(refused, `${Endpoint} refused the request (${code}, HTTP ${err.status}). Start again.`, { providerError: code })
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    if (err.status >= 500) return new JustpassProviderError('provider_server_error', `${endpoint} answered HTTP ${err.status}`)
    return new JustpassRefusal(refused, `${Endpoint} refused the request (HTTP ${err.status}). Start again.`)
  }
  if (!(err instanceof client.ClientError)) return err instanceof Error ? err : new Error(String(err))
  switch (err.code) {
    case 'OAUTH_RESPONSE_IS_NOT_CONFORM': {
      const status = err.cause instanceof Response ? err.cause.status : 0
      return status >= 500
        ? new JustpassProviderError('provider_server_error', `${endpoint} answered HTTP ${status}`)
        : new JustpassRefusal(refused, `${Endpoint} answered HTTP ${status || 'with an unexpected status'}. Start again.`)
    }
    case 'OAUTH_RESPONSE_IS_NOT_JSON':
      return new JustpassProviderError('provider_bad_response', `${endpoint} did not answer JSON`)
    case 'OAUTH_HTTP_REQUEST_FORBIDDEN':
    case 'OAUTH_REQUEST_PROTOCOL_FORBIDDEN':
      return new JustpassProviderError('provider_metadata', `the provider metadata names ${endpoint} with a scheme the provider settings do not allow`)
  }
  if (step === 'token' && idTokenIsNoJwt(err)) {
    // A body that is not JSON is one too (OAUTH_PARSE_ERROR): the library does not say which.
    return new JustpassProviderError('provider_bad_response', `${endpoint} answered something that does not parse: its body, or the ID token in it, is not JSON or not a JWT`)
  }
  if (err.code === 'OAUTH_PARSE_ERROR') return new JustpassProviderError('provider_bad_response', `${endpoint} did not answer JSON`)
  if (step === 'userinfo') return new JustpassRefusal('userinfo_invalid', `The userinfo answer failed a check (${describeFailure(err)}). Start again.`)
  if (concernsIdToken(err)) return new JustpassRefusal('id_token_invalid', `The ID token failed a check (${describeFailure(err)}). Start again.`)
  return new JustpassRefusal('response_invalid', `The provider's answer failed a check (${describeFailure(err)}). Start again.`)
}
