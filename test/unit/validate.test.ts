/**
 * The option checks every settings object goes through: each names the option at fault
 * and says what it must be; unknown names are refused with a hint where one helps.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassConfigError } from '../../src/errors.ts'
import { optionalBoolean, optionalInteger, optionalString, plainHttpURL, refuseUnknown, requiredString, settingsObject } from '../../src/validate.ts'

/** Assert that `run` throws a JustpassConfigError for `option` whose message says `says`. */
function refuses(run: () => unknown, option: string, says: RegExp): void {
  assert.throws(run, (err: unknown) => err instanceof JustpassConfigError && err.option === option && says.test(err.message), `${option}: ${says}`)
}

describe('the option checks', () => {
  test('values that pass, and the defaults of those left out', () => {
    const settings = { name: 'shop', count: 3, on: true }
    assert.equal(settingsObject(settings, 'options'), settings)
    assert.equal(requiredString(settings, 'name'), 'shop')
    assert.deepEqual([optionalString(settings, 'name', 'x', /^[a-z]+$/), optionalString({}, 'name', 'fallback')], ['shop', 'fallback'])
    assert.deepEqual([optionalInteger(settings, 'count', 9, 1, 5), optionalInteger({}, 'count', 9, 1, 5)], [3, 9])
    assert.deepEqual([optionalBoolean(settings, 'on'), optionalBoolean({}, 'on')], [true, false])
    assert.equal(plainHttpURL('url', 'https://shop.example/cb').href, 'https://shop.example/cb')
  })

  test('each refusal names the option and says what it must be', () => {
    refuses(() => settingsObject([], 'provider'), 'provider', /must be an object/)
    refuses(() => requiredString({ clientID: ' ' }, 'clientID'), 'clientID', /is required and must be a non-empty string/)
    refuses(() => optionalString({ key: 'a-b' }, 'key', 'k', /^\w+$/, 'flowStore.key'), 'flowStore.key', /must be a string matching/)
    refuses(() => optionalInteger({ maxAge: 1.5 }, 'maxAge', 1, 1, 10), 'maxAge', /must be an integer from 1 to 10/)
    refuses(() => optionalBoolean({ discovery: 'yes' }, 'discovery'), 'discovery', /must be true or false/)
    for (const [value, says] of [['', /non-empty/], ['/cb', /absolute URL/], ['ftp://shop.example/', /http: or https:/], ['https://u:p@shop.example/', /credentials/], ['https://shop.example/?a=1', /query or a fragment/]] as const) {
      refuses(() => plainHttpURL('callbackURL', value), 'callbackURL', says)
    }
  })

  test('an unknown name is refused, with the hint it was given or the known name it differs from only by case', () => {
    const known = new Set(['callbackURL', 'clientID'])
    assert.doesNotThrow(() => refuseUnknown({ callbackURL: 'x' }, known, {}, 'the strategy'))
    refuses(() => refuseUnknown({ callbackUrl: 'x' }, known, {}, 'the strategy'), 'callbackUrl', /is not a setting of the strategy: did you mean callbackURL\?$/)
    refuses(() => refuseUnknown({ acrValues: 'x' }, known, { acrValues: 'use acr_values' }, 'the strategy'), 'acrValues', /the strategy: use acr_values$/)
    refuses(() => refuseUnknown({ secret: 'x' }, known, {}, 'the session store', 'flowStore.'), 'flowStore.secret', /is not a setting of the session store$/)
  })
})
