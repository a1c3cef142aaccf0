/**
 * ID token verification, in one place: the signature (HS* with the client secret, in
 * one synchronous step; asymmetric algorithms with the provider's JWKS), the claims
 * (`iss`, `aud`, `azp`, `exp`, `iat`, `nonce`) and, where one is enforced, the age of
 * `auth_time`. Failures are refusals with reason `id_token_invalid` or `auth_too_old`;
 * a JWKS that cannot be fetched is a provider error.
 *
 * Why HS* tokens skip jose's `jwtVerify`: jose verifies through WebCrypto, an
 * asynchronous job on libuv's thread pool. On a process with a core to itself the
 * benchmark measured that round trip at a tenth of a whole login's CPU time; the HMAC
 * itself is a few microseconds. The header and the claims are still read and checked
 * by jose (`decodeProtectedHeader`, and the claims-set validation `jwtVerify` itself
 * uses, reached through `UnsecuredJWT.decode` once the MAC has been checked here).
 *
 * @packageDocumentation
 */
import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto'
import {
  decodeProtectedHeader,
  errors,
  jwtVerify,
  UnsecuredJWT,
  type JWTClaimVerificationOptions,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose'
import { JustpassProviderError, JustpassRefusal } from './errors.js'
import type { JustpassMode, PendingFlow } from './flow.js'
import type { IdTokenAlgorithm } from './provider-settings.js'
import { describeFailure, transportFailure } from './provider-failure.js'
import { log } from './log.js'

/**
 * Say in the debug log when an ID token's time claims failed, with this server's clock
 * beside the token's: an operator can then tell a clock that is off from a stale token.
 */
function logClockSkew(err: errors.JOSEError): void {
  const timed = err instanceof errors.JWTExpired || (err instanceof errors.JWTClaimValidationFailed && ['iat', 'nbf', 'exp'].includes(err.claim))
  if (!timed) return
  const { payload } = err as errors.JWTClaimValidationFailed
  log('the ID token\'s %s failed: this server\'s clock reads %d, the token says iat %s, exp %s: if they are far apart, check the clocks', (err as errors.JWTClaimValidationFailed).claim, Math.floor(Date.now() / 1000), String(payload.iat), String(payload.exp))
}

/** The HMAC algorithms whose key is the client secret. */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512'

const DIGEST: Record<HmacAlgorithm, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

/** One segment of a compact JWS: unpadded base64url, never empty. */
const SEGMENT = /^[A-Za-z0-9_-]+$/

/** `{"alg":"none"}`, encoded: the header under which jose validates an already verified payload. */
const VERIFIED_PAYLOAD_HEADER = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')

/**
 * Verify a compact JWS JWT MACed with `alg` under `key`, then validate its claims.
 *
 * The header's `alg` must be exactly `alg` (never `none`, never another algorithm) and it
 * may carry no `crit` extension; the signature must be the canonical base64url of the
 * HMAC, compared in constant time. Only then is the payload parsed and its claims checked
 * against `claims`, by jose.
 *
 * @param key - the client secret's UTF-8 bytes as a secret KeyObject
 * @returns the verified claims
 * @throws a jose error: `JWSInvalid`, `JOSEAlgNotAllowed`, `JWSSignatureVerificationFailed`,
 *   `JWTInvalid`, `JWTClaimValidationFailed` or `JWTExpired`
 */
export function verifyHmacJwt(jwt: string, key: KeyObject, alg: HmacAlgorithm, claims: JWTClaimVerificationOptions): JWTPayload {
  const segments = jwt.split('.')
  if (segments.length !== 3 || !segments.every((segment) => SEGMENT.test(segment))) {
    throw new errors.JWSInvalid('the JWT is not a compact JWS of three base64url segments')
  }
  const [header, payload, signature] = segments as [string, string, string]
  let protectedHeader: ReturnType<typeof decodeProtectedHeader>
  try {
    protectedHeader = decodeProtectedHeader(jwt)
  } catch {
    throw new errors.JWSInvalid('the JWS protected header is not a JSON object')
  }
  if (protectedHeader.alg !== alg) throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed')
  if (protectedHeader.crit !== undefined) throw new errors.JWSInvalid('"crit" (Critical) Header Parameter: no extension is supported')

  const expected = Buffer.from(createHmac(DIGEST[alg], key).update(`${header}.${payload}`).digest('base64url'))
  const given = Buffer.from(signature)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new errors.JWSSignatureVerificationFailed()

  return UnsecuredJWT.decode(`${VERIFIED_PAYLOAD_HEADER}.${payload}.`, claims).payload
}

/** What verifies the provider's ID tokens: the client secret (HS*) or the provider's key set. */
export type IdTokenKey =
  | {
      /** An HS* algorithm: the MAC key is the client secret. */
      type: 'secret'
      alg: HmacAlgorithm
      /** The client secret as a secret KeyObject, imported once. */
      key: KeyObject
    }
  | {
      /** An asymmetric algorithm: the keys come from the provider's JWKS. */
      type: 'jwks'
      alg: IdTokenAlgorithm
      /** jose's remote key set: fetched on first use, cached, refreshed on an unknown `kid`. */
      keySet: JWTVerifyGetKey
    }

/** What an ID token must satisfy, besides its key: set once per provider context. */
export interface IdTokenRules {
  /** The issuer it must carry. */
  issuer: string
  /** This client: the audience, and `azp` when the audience has several values. */
  clientID: string
  /** Seconds of clock skew tolerated. */
  clockTolerance: number
  /** The oldest `iat` accepted, in seconds: a token is issued during its flow. */
  maxTokenAge: number
  /** Refuse a token without `acr` when the flow asked for `acr_values`. */
  requireAcr: boolean
  /** The enforced age of `auth_time` for REG and LOGIN, in seconds, or `false` for none (a confirmation's is its flow's start). */
  authTimeMaxAge: Record<Exclude<JustpassMode, 'confirm'>, number | false>
}

/**
 * Verifies the ID tokens of one provider context for one client. Built once per
 * context; `verify` reads nothing but the token and the flow.
 */
export class IdTokenVerifier {
  readonly #key: IdTokenKey
  readonly #rules: IdTokenRules
  readonly #claims: JWTClaimVerificationOptions

  /**
   * @param key - the client secret (HS*) or the provider's key set
   * @param rules - what every token must satisfy
   */
  constructor(key: IdTokenKey, rules: IdTokenRules) {
    this.#key = key
    this.#rules = rules
    this.#claims = {
      issuer: rules.issuer,
      audience: rules.clientID,
      maxTokenAge: rules.maxTokenAge,
      clockTolerance: rules.clockTolerance,
      requiredClaims: ['sub', 'exp', 'iat', 'nonce'],
    }
  }

  /**
   * Verify `idToken` for `flow`: signature and algorithm, `iss`, `aud`, `azp`, `exp`,
   * `iat`, the flow's `nonce`, and `auth_time` where the flow's mode enforces an age (a
   * confirmation: no earlier than the flow's start).
   *
   * @returns the verified claims
   * @throws {@link JustpassRefusal} `id_token_invalid` or `auth_too_old`;
   *   {@link JustpassProviderError} when the JWKS cannot be fetched or read
   */
  async verify(idToken: string, flow: PendingFlow): Promise<JWTPayload> {
    const claims = await this.#checkSignature(idToken)
    const refuse = (detail: string): JustpassRefusal => new JustpassRefusal('id_token_invalid', `The ID token failed a check (${detail}). Start again.`)
    if (claims.nonce !== flow.nonce) throw refuse('nonce: does not match the flow')
    if (Array.isArray(claims.aud) && claims.aud.length > 1 && claims.azp !== this.#rules.clientID) {
      throw refuse('azp: must be the client id when aud has several values')
    }
    checkAcr(claims, flow.acrValues, this.#rules.requireAcr)
    if (flow.mode === 'confirm') checkAuthTimeSince(claims, flow.started, this.#rules.clockTolerance)
    else checkAuthTime(claims, this.#rules.authTimeMaxAge[flow.mode], this.#rules.clockTolerance)
    return claims
  }

  /** The claims of a token whose signature, algorithm and registered claims hold. */
  async #checkSignature(idToken: string): Promise<JWTPayload> {
    const key = this.#key
    try {
      return key.type === 'secret'
        ? verifyHmacJwt(idToken, key.key, key.alg, this.#claims)
        : (await jwtVerify(idToken, key.keySet, { ...this.#claims, algorithms: [key.alg] })).payload
    } catch (err) {
      if (err instanceof errors.JWKSTimeout) throw new JustpassProviderError('provider_timeout', 'the JWKS endpoint did not answer in time')
      if (err instanceof errors.JWKSInvalid || (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC')) {
        throw new JustpassProviderError('provider_bad_response', 'the JWKS endpoint could not be read', { cause: err })
      }
      const transport = transportFailure(err, 'the JWKS endpoint')
      if (transport) throw transport
      if (!(err instanceof errors.JOSEError)) throw err
      logClockSkew(err)
      throw new JustpassRefusal('id_token_invalid', `The ID token failed a check (${describeFailure(err)}). Start again.`)
    }
  }
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
  if (typeof authTime !== 'number') throw new JustpassRefusal('id_token_invalid', 'The ID token failed a check (auth_time: missing while max_age was sent). Start again.')
  const now = Math.floor(Date.now() / 1000)
  if (now - authTime > maxAge + tolerance) {
    log('auth_time %d is %d s before this server\'s clock (%d), more than %d s: a provider that reused an older session, or a clock that is off', authTime, now - authTime, now, maxAge + tolerance)
    throw new JustpassRefusal('auth_too_old', `The passkey step was completed more than ${maxAge} s before this sign-in (auth_time). Start again.`)
  }
}

/**
 * Check that `auth_time` is present and no earlier than `since` (seconds since the epoch,
 * less `tolerance` for the provider's clock): a confirmation asked for a new
 * authentication (`max_age=0`), and a provider that reused an older session instead is
 * caught here.
 *
 * @throws {@link JustpassRefusal} `id_token_invalid` when it is missing or malformed, `auth_too_old` when it is earlier
 */
export function checkAuthTimeSince(claims: JWTPayload, since: number, tolerance: number): void {
  const authTime = claims.auth_time
  if (typeof authTime !== 'number') throw new JustpassRefusal('id_token_invalid', 'The ID token failed a check (auth_time: missing while max_age was sent). Start again.')
  if (authTime < since - tolerance) {
    log('auth_time %d is before the confirmation started (%d by this server\'s clock): a provider that reused an older session, or a clock that is off', authTime, since)
    throw new JustpassRefusal('auth_too_old', 'The provider did not ask for your passkey again (auth_time is older than this confirmation). Try again.')
  }
}

/**
 * Check `acr` against the `acr_values` the flow asked for (OpenID Connect Core 3.1.3.7:
 * a client that requested `acr` SHOULD check it): a token that carries one must carry one
 * of those; a token without one is refused only with `required`. A flow that asked for
 * none is not checked.
 *
 * @throws {@link JustpassRefusal} `id_token_invalid`
 */
export function checkAcr(claims: JWTPayload, requested: string | undefined, required: boolean): void {
  if (requested === undefined) return
  const acr = claims.acr
  if (acr === undefined) {
    if (required) throw new JustpassRefusal('id_token_invalid', `The ID token failed a check (acr: missing, while ${requested} was asked for). Start again.`)
    return
  }
  if (typeof acr !== 'string' || !requested.split(' ').includes(acr)) {
    throw new JustpassRefusal('id_token_invalid', `The ID token failed a check (acr: not one of those asked for, ${requested}). Start again.`)
  }
}
