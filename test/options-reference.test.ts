/**
 * docs/options.md is what tools/options-reference.ts writes from the TSDoc, and every
 * option it lists is one the validation accepts: the declaration, the reference and the
 * checks cannot drift apart.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { JustpassConfigError, JustpassStrategy, MemoryUserStore, justpassProvider } from '../src/index.ts'
import { OPTIONS_REFERENCE, optionsOf, optionsReference } from '../tools/options-reference.ts'

const CLIENT = { opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'client-1', clientSecret: 'a-client-secret-0123456789abcdef0123' }
const SITE = { callbackURL: 'https://shop.example/justpass/callback', userStore: new MemoryUserStore() }

/** Whether the validation refuses `name` as a setting it does not know (rather than accepting it, or refusing its value). */
function refusedAsUnknown(construct: () => unknown, name: string): boolean {
  try {
    construct()
    return false
  } catch (err) {
    return err instanceof JustpassConfigError && err.option.endsWith(name) && /is not a setting/.test(err.message)
  }
}

describe('the options reference', () => {
  test('docs/options.md is generated from the TSDoc: run `npm run docs:options` after changing an option', () => {
    assert.equal(readFileSync(OPTIONS_REFERENCE, 'utf8'), optionsReference())
  })

  test('every option of the strategy is one it accepts', () => {
    for (const { name } of optionsOf('src/options.ts', 'JustpassStrategyOptions')) {
      assert.equal(refusedAsUnknown(() => new JustpassStrategy({ ...CLIENT, ...SITE, [name]: undefined }), name), false, name)
    }
    assert.equal(refusedAsUnknown(() => new JustpassStrategy({ ...CLIENT, ...SITE, surprise: 1 } as never), 'surprise'), true, 'an undeclared one is refused')
  })

  test('every provider setting is one justpassProvider accepts', () => {
    for (const { name } of optionsOf('src/provider-settings.ts', 'JustpassProviderSettings')) {
      assert.equal(refusedAsUnknown(() => justpassProvider({ ...CLIENT, [name]: undefined }), name), false, name)
    }
    assert.equal(refusedAsUnknown(() => justpassProvider({ ...CLIENT, surprise: 1 } as never), 'surprise'), true)
  })

  for (const [type, name] of [['cookie', 'CookieFlowStoreSettings'], ['session', 'SessionFlowStoreSettings']] as const) {
    test(`every setting of the ${type} flow store is one it accepts`, () => {
      for (const setting of optionsOf('src/flow-store/index.ts', name)) {
        const flowStore = { type, [setting.name]: setting.name === 'type' ? type : undefined }
        assert.equal(refusedAsUnknown(() => new JustpassStrategy({ ...CLIENT, ...SITE, flowStore: flowStore as never }), setting.name), false, setting.name)
      }
      assert.equal(refusedAsUnknown(() => new JustpassStrategy({ ...CLIENT, ...SITE, flowStore: { type, surprise: 1 } as never }), 'surprise'), true)
    })
  }
})
