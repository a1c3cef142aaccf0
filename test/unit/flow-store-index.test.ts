/**
 * createFlowStore on its own: which store each `flowStore` choice builds, and the setting
 * it names when a choice or a setting is wrong.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassConfigError } from '../../src/errors.ts'
import { createFlowStore } from '../../src/flow-store/index.ts'
import { CookieFlowStore } from '../../src/flow-store/cookie.ts'
import { SessionFlowStore } from '../../src/flow-store/session.ts'
import { justpassProvider } from '../../src/provider-settings.ts'

const binding = (clientSecret = 'a-client-secret-0123456789abcdef0123') => ({
  provider: justpassProvider({ opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'shop', clientSecret }),
  callbackURL: 'https://shop.example/justpass/callback',
  secureCallback: true,
})

describe('createFlowStore', () => {
  test('builds the cookie store by default, the session store by name, and takes a store of the site', () => {
    assert.ok(createFlowStore(undefined, binding()) instanceof CookieFlowStore)
    assert.ok(createFlowStore({ type: 'cookie', maxAge: 60 }, binding()) instanceof CookieFlowStore)
    assert.ok(createFlowStore('session', binding()) instanceof SessionFlowStore)
    assert.equal(createFlowStore({ type: 'session', key: 'flows', maxPending: 2 }, binding()).maxAge, 600)
    const own = { maxAge: 120, put() {}, take: () => ({ status: 'unknown' as const }) }
    assert.equal(createFlowStore(own, binding()), own)
  })

  test('a short client secret keys no cookie store, unless the store has a secret of its own', () => {
    assert.throws(() => createFlowStore('cookie', binding('short-secret')), (err: unknown) => err instanceof JustpassConfigError && err.option === 'clientSecret' && /flowStore: \{ type: 'cookie', secret/.test(err.message))
    assert.ok(createFlowStore({ type: 'cookie', secret: 'x'.repeat(32) }, binding('short-secret')) instanceof CookieFlowStore)
  })

  test('names the setting that is wrong', () => {
    const cases: Array<[unknown, string]> = [
      ['redis', 'flowStore'],
      [{ type: 'memory' }, 'flowStore'],
      [{ put() {}, take() {}, maxAge: 0 }, 'flowStore'],
      [{ type: 'cookie', secret: 'too-short' }, 'flowStore.secret'],
      [{ type: 'cookie', secret: [] }, 'flowStore.secret'],
      [{ type: 'cookie', maxPending: 21 }, 'flowStore.maxPending'],
      [{ type: 'session', maxAge: 0 }, 'flowStore.maxAge'],
      [{ type: 'session', key: 'constructor' }, 'flowStore.key'],
      [{ type: 'session', key: 'a-b' }, 'flowStore.key'],
    ]
    for (const [option, name] of cases) {
      assert.throws(() => createFlowStore(option, binding()), (err: unknown) => err instanceof JustpassConfigError && err.option === name, JSON.stringify(option))
    }
  })
})
