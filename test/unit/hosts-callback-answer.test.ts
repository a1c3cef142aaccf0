/**
 * The callback's host-neutral answer on its own: the notice reader every host shares, the
 * callback options checked once with their defaults, and Django's JSON formatting.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassConfigError } from '../../src/errors.ts'
import { djangoJSON, resolveHostCallbackOptions, takeJustpassNotice } from '../../src/hosts/callback-answer.ts'

const NOTICE = { mode: 'login', ok: true, message: 'You are signed in with your passkey.' }

describe('takeJustpassNotice', () => {
  test("takes the notice out of any holder's session once: req, request or ctx alike", () => {
    for (const holder of [{ session: { justpass_notice: NOTICE, cart: 3 } }, { session: { justpass_notice: NOTICE, cart: 3 }, method: 'GET', state: {} }]) {
      assert.deepEqual(takeJustpassNotice(holder), NOTICE)
      assert.equal(takeJustpassNotice(holder), undefined, 'gone for the next page')
      assert.deepEqual(holder.session, { cart: 3 }, 'the rest of the session stays')
    }
  })

  test('reads the key the callback was given, and nothing without a session', () => {
    const holder = { session: { notice: NOTICE, justpass_notice: 'other' } }
    assert.deepEqual(takeJustpassNotice(holder, 'notice'), NOTICE)
    assert.equal(holder.session.justpass_notice, 'other')
    for (const holder of [{}, { session: undefined }, { session: null }, { session: 'text' }]) assert.equal(takeJustpassNotice(holder), undefined)
  })
})

describe('resolveHostCallbackOptions', () => {
  test('fills in the defaults', () => {
    const resolved = resolveHostCallbackOptions({})
    assert.deepEqual(
      { strategy: resolved.strategy, homeURL: resolved.homeURL, loginURL: resolved.loginURL, noticeKey: resolved.noticeKey, appPlatform: resolved.appPlatform, keepSessionData: resolved.keepSessionData },
      { strategy: 'justpass', homeURL: '/', loginURL: '/login', noticeKey: 'justpass_notice', appPlatform: 'app', keepSessionData: [] },
    )
  })

  test('refuses a hook or appToken that is not a function, naming it', () => {
    for (const name of ['onRegistered', 'onRegistrationFailed', 'onLoggedIn', 'onLoginFailed', 'onConfirmed', 'onConfirmFailed', 'onProviderUnavailable', 'appToken']) {
      assert.throws(() => resolveHostCallbackOptions({ [name]: 'redirect' } as never), (err: unknown) => err instanceof JustpassConfigError && err.option === name && /must be a function/.test(err.message), name)
    }
  })

  test('keepSessionData: names of the site only, each kept once', () => {
    assert.deepEqual(resolveHostCallbackOptions({ keepSessionData: ['cart', 'locale', 'cart'] }).keepSessionData, ['cart', 'locale'])
    for (const value of ['cart', [''], [3], ['passport'], ['cookie'], ['justpass_notice'], ['_private'], ['notices']]) {
      const options = { keepSessionData: value, noticeKey: 'notices' } as never
      assert.throws(() => resolveHostCallbackOptions(options), (err: unknown) => err instanceof JustpassConfigError && err.option === 'keepSessionData', JSON.stringify(value))
    }
  })
})

describe('djangoJSON', () => {
  test("writes a flat object as Python's json.dumps does by default", () => {
    assert.equal(djangoJSON({ username: 'alice', ok: true }), '{"username": "alice", "ok": true}')
    assert.equal(djangoJSON({ err: 'Failed' }), '{"err": "Failed"}')
    assert.equal(djangoJSON({ name: 'Zoë ☃' }), '{"name": "Zo\\u00eb \\u2603"}')
  })
})
