/**
 * The Express helpers of the main entry on their own: options checked when a helper is
 * built, so that a wrong one fails at start-up rather than on a user's request. (The
 * flows themselves run over HTTP in flows.test.ts, passkey-life.test.ts and parity.test.ts.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassConfigError } from '../../src/errors.ts'
import { justpassCallback, justpassLogout, justpassStart, requireJustpassConfirmation } from '../../src/hosts/express.ts'

describe('the Express helpers', () => {
  test('justpassCallback: appAnswers is justpass or django', () => {
    assert.equal(typeof justpassCallback({ appAnswers: 'django' }), 'function')
    assert.throws(() => justpassCallback({ appAnswers: 'rails' as never }), (err: unknown) => err instanceof JustpassConfigError && err.option === 'appAnswers')
  })

  test('the start, the guard and logout refuse options they do not have, and malformed ones', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => requireJustpassConfirmation({ maxAge: 0 }), 'maxAge'],
      [() => requireJustpassConfirmation({ returnTo: '//evil.example' }), 'returnTo'],
      [() => requireJustpassConfirmation({ homeURL: '/' } as never), 'homeURL'],
      [() => justpassLogout({ postLogoutRedirectURL: 'javascript:alert(1)' }), 'postLogoutRedirectURL'],
      [() => justpassLogout({ maxAge: 60 } as never), 'maxAge'],
      [() => justpassStart({ mod: 'register' } as never), 'mod'],
      [() => justpassStart({ mode: 'signup' } as never), 'mode'],
    ]
    for (const [build, option] of cases) assert.throws(build, (err: unknown) => err instanceof JustpassConfigError && err.option === option, option)
  })
})
