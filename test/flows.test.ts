import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser } from './support/browser.ts'
import { finishFlow, startFlow, startHarness, whoAmI, type Harness } from './support/harness.ts'

describe('flows end to end against a justpass-compatible provider', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness()
  })
  after(() => harness.close())

  test('REG: a logged-in user registers a passkey; the store flag is set', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
    const flow = await startFlow(browser, harness, '/justpass/reg')
    assert.ok(flow.callback, `expected a redirect back to the callback, got ${JSON.stringify(flow.hops.map((h) => [h.status, h.url, h.location, h.body.slice(0, 200)]))}`)
    const hops = await finishFlow(browser, flow.callback)
    assert.equal(hops.at(-1)?.body, 'home')
    const me = await whoAmI(browser, harness)
    assert.equal(me.user?.username, 'alice')
    assert.deepEqual(me.notice, { mode: 'register', ok: true })
    assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, true)
  })
})
