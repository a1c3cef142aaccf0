/**
 * The user store's checks fail closed, over HTTP against the local provider: `isActive`
 * lets a user in only when it answers `true`, a `justpassSubOf` that answers something
 * other than a string, `null` or `undefined` is a usage error (not a silent pass), and
 * the identity binding compares usernames exactly, case included.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassUsageError, MemoryUserStore, type JustpassUserStore, type MemoryUser } from '../src/index.ts'
import { Browser } from './support/browser.ts'
import { finishFlow, runFlow, startFlow, startHarness, whoAmI, type Harness } from './support/harness.ts'

/** A single-factor LOGIN with `account`'s passkey on `harness`; who is logged in, the notice, and the errors the site saw. */
async function passkeyLogin(harness: Harness, account: string): Promise<{ user: string | null; reason: string | undefined }> {
  return await harness.provider.withBehaviour({ action: 'approve', account }, async () => {
    const browser = new Browser()
    await runFlow(browser, harness, '/justpass/login')
    const me = await whoAmI(browser, harness)
    return { user: me.user?.username ?? null, reason: me.notice?.reason }
  })
}

/** A MemoryUserStore with `usernames` on passkey login, one of its methods replaced. */
function storeWith(usernames: string[], method: 'isActive' | 'justpassSubOf', answer: unknown): JustpassUserStore<MemoryUser> {
  const store = new MemoryUserStore()
  for (const username of usernames) store.add(username, true)
  Object.defineProperty(store, method, { value: async () => answer })
  return store
}

describe('isActive lets a user in only when it answers true', () => {
  for (const answer of [false, undefined, null, 'yes', 1, {}]) {
    test(`isActive answering ${JSON.stringify(answer) ?? 'undefined'}: account_disabled`, async () => {
      const harness = await startHarness({ strategy: { userStore: storeWith(['alice'], 'isActive', answer) } })
      try {
        assert.deepEqual(await passkeyLogin(harness, 'alice'), { user: null, reason: 'account_disabled' })
      } finally {
        await harness.close()
      }
    })
  }

  test('isActive answering true: logged in', async () => {
    const harness = await startHarness({ strategy: { userStore: storeWith(['alice'], 'isActive', true) } })
    try {
      assert.deepEqual(await passkeyLogin(harness, 'alice'), { user: 'alice', reason: undefined })
    } finally {
      await harness.close()
    }
  })
})

describe('justpassSubOf answering neither a string nor nothing is a usage error', () => {
  for (const answer of [42, true, { sub: 'x' }, ['x']]) {
    test(`justpassSubOf answering ${JSON.stringify(answer)}: nobody logged in, invalid_usage to the error handler`, async () => {
      const harness = await startHarness({ strategy: { userStore: storeWith(['alice'], 'justpassSubOf', answer) } })
      try {
        const result = await passkeyLogin(harness, 'alice')
        assert.equal(result.user, null)
        const error = harness.app.errors.at(-1)
        assert.ok(error instanceof JustpassUsageError, `the error handler got ${error?.name}`)
        assert.equal(error.code, 'invalid_usage')
        assert.match(error.message, /justpassSubOf/)
      } finally {
        await harness.close()
      }
    })
  }

  for (const answer of [null, undefined]) {
    test(`justpassSubOf answering ${answer}: nothing recorded, logged in`, async () => {
      const harness = await startHarness({ strategy: { userStore: storeWith(['alice'], 'justpassSubOf', answer) } })
      try {
        assert.equal((await passkeyLogin(harness, 'alice')).user, 'alice')
      } finally {
        await harness.close()
      }
    })
  }
})

describe('the identity binding compares usernames exactly', () => {
  let harness: Harness
  /** A store that finds users whatever the case of the username, as some sites' lookups do. */
  const caseless = new MemoryUserStore()
  const store: JustpassUserStore<MemoryUser> = {
    findByUsername: (username) => caseless.findByUsername(username.toLowerCase()),
    setJustpassEnabled: (username, enabled, details) => caseless.setJustpassEnabled(username.toLowerCase(), enabled, details),
    justpassEnabledOf: (user) => caseless.justpassEnabledOf(user),
  }
  before(async () => {
    caseless.add('alice', true)
    harness = await startHarness({ strategy: { userStore: store } })
  })
  after(() => harness.close())

  test("alice's password step and the passkey of the provider account 'Alice': identity_mismatch", async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/set?key=base_username&value=alice`)
    await harness.provider.withBehaviour({ action: 'approve', account: 'Alice' }, async () => {
      const started = await startFlow(browser, harness, '/justpass/login')
      assert.equal(started.authorize?.get('login_hint'), 'alice')
      await finishFlow(browser, started.callback!)
    })
    const me = await whoAmI(browser, harness)
    assert.equal(me.user, null)
    assert.equal(me.notice?.reason, 'identity_mismatch')
  })
})
