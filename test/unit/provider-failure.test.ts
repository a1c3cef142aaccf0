/**
 * What a failed provider call becomes, sorted by error class and code: an outage is a
 * JustpassProviderError, an answer that fails a check a JustpassRefusal, and no text the
 * provider sent reaches a message but a well-formed error code.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as client from 'openid-client'
import { errors as joseErrors } from 'jose'
import { JustpassProviderError, JustpassRefusal } from '../../src/errors.ts'
import { classifyProviderFailure, describeFailure, INVALID_ERROR_CODE, safeErrorCode } from '../../src/provider-failure.ts'

/** openid-client's error for an OAuth error answer of `status` with `error`. */
const bodyError = (status: number, error: string) => new client.ResponseBodyError('error answer', { cause: { error }, response: new Response('{}', { status }) })
/** openid-client's error of `code`. */
const clientError = (code: string, cause?: unknown) => Object.assign(new client.ClientError('failed', { cause }), { code })

describe('safeErrorCode', () => {
  test('keeps a well-formed code, replaces anything else', () => {
    assert.equal(safeErrorCode('access_denied'), 'access_denied')
    for (const code of ['<script>alert(1)</script>', 'two words', '', 'x'.repeat(65), 42, undefined]) assert.equal(safeErrorCode(code), INVALID_ERROR_CODE, String(code))
  })
})

describe('describeFailure', () => {
  test('fixed words by error class and code, claim names only when they are plain words', () => {
    assert.equal(describeFailure(new joseErrors.JWTClaimValidationFailed('aud mismatch', {}, 'aud', 'check_failed')), 'aud: check_failed')
    assert.equal(describeFailure(new joseErrors.JWTClaimValidationFailed('x', {}, '<img src=x>', 'check_failed')), 'a claim: check_failed')
    assert.equal(describeFailure(new joseErrors.JWSSignatureVerificationFailed()), 'signature verification failed')
    assert.equal(describeFailure(clientError('OAUTH_KEY_SELECTION_FAILED')), 'no single key of the provider matches')
    assert.equal(describeFailure(new Error('token eyJhbGciOi... rejected')), 'an unexpected failure')
  })
})

describe('classifyProviderFailure', () => {
  test('outages: a timeout, a 5xx, an answer that is not JSON', () => {
    const cases: Array<[unknown, string]> = [
      [Object.assign(new Error('aborted'), { name: 'TimeoutError' }), 'provider_timeout'],
      [bodyError(502, 'server_error'), 'provider_server_error'],
      [clientError('OAUTH_RESPONSE_IS_NOT_JSON'), 'provider_bad_response'],
      [clientError('OAUTH_HTTP_REQUEST_FORBIDDEN'), 'provider_metadata'],
    ]
    for (const [err, code] of cases) {
      const classified = classifyProviderFailure(err, 'token')
      assert.ok(classified instanceof JustpassProviderError && classified.code === code, code)
    }
  })

  test("a refused request names the provider's code only when it is well-formed", () => {
    const refused = classifyProviderFailure(bodyError(400, 'invalid_grant'), 'token') as JustpassRefusal
    assert.ok(refused instanceof JustpassRefusal)
    assert.deepEqual([refused.code, refused.providerError, refused.message], ['token_rejected', 'invalid_grant', 'The token endpoint refused the request (invalid_grant, HTTP 400). Start again.'])
    const markup = classifyProviderFailure(bodyError(401, '<b>denied</b>'), 'userinfo') as JustpassRefusal
    assert.deepEqual([markup.code, markup.providerError], ['userinfo_invalid', INVALID_ERROR_CODE])
    assert.doesNotMatch(markup.message, /<b>/)
  })

  test('an answer that fails a check: the ID token, the response, or userinfo', () => {
    const claim = (code: string) => clientError(code, new Error('check', { cause: { claim: 'nonce' } }))
    const idToken = classifyProviderFailure(claim('OAUTH_JWT_CLAIM_COMPARISON_FAILED'), 'token') as JustpassRefusal
    assert.deepEqual([idToken.code, idToken.message], ['id_token_invalid', 'The ID token failed a check (nonce: unexpected value). Start again.'])
    assert.equal((classifyProviderFailure(clientError('OAUTH_INVALID_RESPONSE', new Error('bad', { cause: { body: { token_type: 5 } } })), 'token') as JustpassRefusal).code, 'response_invalid')
    assert.equal((classifyProviderFailure(claim('OAUTH_JWT_CLAIM_COMPARISON_FAILED'), 'userinfo') as JustpassRefusal).code, 'userinfo_invalid')
  })

  test('anything unrecognised is handed on as an Error', () => {
    const err = new RangeError('unexpected')
    assert.equal(classifyProviderFailure(err, 'token'), err)
    const wrapped = classifyProviderFailure('text', 'userinfo')
    assert.ok(wrapped instanceof Error && wrapped.message === 'text')
  })
})
