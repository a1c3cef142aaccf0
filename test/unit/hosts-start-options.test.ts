/** The options of every host's justpassStart, checked when the route is made: what passes on to the strategy, and the option named when one is wrong. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassConfigError } from '../../src/errors.ts'
import { resolveStartOptions } from '../../src/hosts/start-options.ts'

describe('resolveStartOptions', () => {
  test('passes the flow options that were given, and the strategy name, leaving the authenticator out', () => {
    assert.deepEqual(resolveStartOptions({ authenticator: {}, mode: 'register', urlOnly: true }), { strategy: 'justpass', authenticate: { mode: 'register', urlOnly: true } })
    assert.deepEqual(resolveStartOptions({ strategy: 'justpass-eu', mode: 'confirm', returnTo: '/account' }), { strategy: 'justpass-eu', authenticate: { mode: 'confirm', returnTo: '/account' } })
    assert.deepEqual(resolveStartOptions(undefined), { strategy: 'justpass', authenticate: {} })
  })

  test('names the option that is unknown or malformed', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ mod: 'register' }, 'mod', /is not an option of justpassStart/],
      [{ mode: 'login', failureRedirect: '/login' }, 'failureRedirect', /use passport\.authenticate\('justpass', \{ mode, … \}\)$/],
      [{ mode: 'signup' }, 'mode', /must be 'register', 'login' or 'confirm'/],
      [{ returnTo: 'https://evil.example/' }, 'returnTo', /a path on this site/],
      [{ returnTo: '//evil.example' }, 'returnTo', /a path on this site/],
      [{ urlOnly: 'yes' }, 'urlOnly', /true or false/],
      [{ strategy: '' }, 'strategy', /non-empty string/],
      ['register', 'options', /must be an object/],
    ]
    for (const [options, option, says] of cases) {
      assert.throws(() => resolveStartOptions(options), (err: unknown) => err instanceof JustpassConfigError && err.option === option && says.test(err.message), JSON.stringify(options))
    }
  })
})
