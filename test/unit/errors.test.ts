/** The error classes: their names, stable codes, the option or provider code they carry, and messages free of the values at fault. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassConfigError, JustpassError, JustpassProviderError, JustpassRefusal, JustpassUsageError } from '../../src/errors.ts'

describe('the errors', () => {
  test('each is a JustpassError with its own name and a stable code', () => {
    const cause = new Error('socket hang up')
    const errors = [
      [new JustpassConfigError('clientSecret', 'is required'), 'JustpassConfigError', 'invalid_option', 'passport-justpass: option "clientSecret" is required'],
      [new JustpassUsageError('no session on the request'), 'JustpassUsageError', 'invalid_usage', 'passport-justpass: no session on the request'],
      [new JustpassProviderError('provider_timeout', 'the token endpoint did not answer in time', { cause }), 'JustpassProviderError', 'provider_timeout', 'the token endpoint did not answer in time'],
      [new JustpassRefusal('state_unknown', 'This sign-in link was already used.'), 'JustpassRefusal', 'state_unknown', 'This sign-in link was already used.'],
    ] as const
    for (const [err, name, code, message] of errors) {
      assert.ok(err instanceof JustpassError && err instanceof Error, name)
      assert.deepEqual([err.name, err.code, err.message], [name, code, message])
    }
    assert.equal(errors[2][0].cause, cause)
  })

  test('a config error names its option; a refusal carries the provider code and the cause it was given', () => {
    assert.equal(new JustpassConfigError('flowStore.maxAge', 'must be an integer').option, 'flowStore.maxAge')
    const cause = new Error('inner')
    const refusal = new JustpassRefusal('provider_denied', 'The passkey step was cancelled. Nothing was changed.', { providerError: 'access_denied', cause })
    assert.deepEqual([refusal.providerError, refusal.cause], ['access_denied', cause])
    const bare = new JustpassRefusal('invalid_callback', 'The sign-in link is incomplete. Start again.')
    assert.deepEqual([bare.providerError, 'cause' in bare], [undefined, false])
  })

  test('a provider error learns the mode and platform of the flow it interrupted', () => {
    const err = new JustpassProviderError('provider_unreachable', 'the token endpoint could not be reached')
    assert.deepEqual([err.mode, err.platform], [undefined, undefined])
    err.mode = 'register'
    err.platform = 'app'
    assert.deepEqual([err.mode, err.platform], ['register', 'app'])
  })
})
