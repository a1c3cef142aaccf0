/**
 * REG, second-factor LOGIN and single-factor LOGIN end to end, with the outcome helper,
 * with plain successRedirect/failureRedirect, with a custom verify, with discovery, and
 * with RS256 ID tokens verified against the provider's JWKS.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser } from './support/browser.ts'
import { finishFlow, startFlow, startHarness, whoAmI, type Harness } from './support/harness.ts'
import type { JustpassFlowInfo, JustpassUserinfo, MemoryUser } from '../src/index.ts'

describe('flows with the outcome helper', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness()
  })
  after(() => harness.close())

  test('REG: a logged-in user registers a passkey; the flag is set, the user stays logged in, a success notice', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
    const flow = await startFlow(browser, harness, '/justpass/reg')
    assert.equal(harness.provider.interactions.at(-1)?.prompt, 'create')
    const hops = await finishFlow(browser, flow.callback!)
    assert.equal(hops.at(-1)?.body, 'home')
    const me = await whoAmI(browser, harness)
    assert.equal(me.user?.username, 'alice')
    assert.equal(me.user?.justpassEnabled, true)
    assert.deepEqual(me.notice, { mode: 'register', ok: true })
    assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, true)
    assert.equal((await harness.app.users.findByUsername('bob'))?.justpassEnabled, false)
  })

  test('REG goes to the same-origin ?next= afterwards', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=bob`)
    const flow = await startFlow(browser, harness, '/justpass/reg?next=/settings')
    const [answer] = await finishFlow(browser, flow.callback!)
    assert.equal(answer?.location, `${harness.app.origin}/settings`)
    await harness.app.users.setJustpassEnabled('bob', false)
  })

  test('LOGIN, second factor: password step, then the passkey; a new session id, base username gone', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=bob')
    const before = browser.cookies.get('127.0.0.1')?.get('shop.sid')
    assert.equal((await whoAmI(browser, harness)).user, null, 'the password alone logs nobody in')
    const hops = await finishFlow(browser, flow.callback!)
    assert.equal(hops.at(-1)?.body, 'home')
    const me = await whoAmI(browser, harness)
    assert.equal(me.user?.username, 'bob')
    assert.deepEqual(me.notice, { mode: 'login', ok: true })
    assert.notEqual(browser.cookies.get('127.0.0.1')?.get('shop.sid'), before, 'login regenerates the session id')
    const session = await browser.json(`${harness.app.origin}/test/session`)
    assert.equal(session.base_username, undefined)
    assert.equal(session.justpass, undefined)
  })

  test('LOGIN, single factor: the passkey alone says who the user is', async () => {
    harness.provider.behaviour = { action: 'approve', account: 'alice' }
    try {
      const browser = new Browser()
      const flow = await startFlow(browser, harness, '/justpass/login')
      assert.equal(harness.provider.interactions.at(-1)?.login_hint, undefined)
      await finishFlow(browser, flow.callback!)
      assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
    } finally {
      harness.provider.behaviour = { action: 'approve' }
    }
  })

  test('LOGIN goes to the same-origin ?next= afterwards, and ignores one that leaves the site', async () => {
    harness.provider.behaviour = { action: 'approve', account: 'alice' }
    try {
      const browser = new Browser()
      let flow = await startFlow(browser, harness, `/justpass/login?next=${encodeURIComponent('/orders?id=7')}`)
      let [answer] = await finishFlow(browser, flow.callback!)
      assert.equal(answer?.location, `${harness.app.origin}/orders?id=7`)
      for (const next of ['https://evil.example/', '//evil.example/', '/\\evil.example/', 'javascript:alert(1)']) {
        flow = await startFlow(browser, harness, `/justpass/login?next=${encodeURIComponent(next)}`)
        ;[answer] = await finishFlow(browser, flow.callback!)
        assert.equal(answer?.location, `${harness.app.origin}/`, `next=${next} is not followed`)
      }
    } finally {
      harness.provider.behaviour = { action: 'approve' }
    }
  })

  test('LOGIN of a passkey user the site does not know fails with unknown_user', async () => {
    harness.provider.behaviour = { action: 'approve', account: 'carol' }
    try {
      const browser = new Browser()
      const flow = await startFlow(browser, harness, '/justpass/login')
      const [answer] = await finishFlow(browser, flow.callback!)
      assert.equal(answer?.location, `${harness.app.origin}/login`)
      const me = await whoAmI(browser, harness)
      assert.equal(me.user, null)
      assert.equal(me.notice?.reason, 'unknown_user')
    } finally {
      harness.provider.behaviour = { action: 'approve' }
    }
  })
})

describe('flows with plain successRedirect and failureRedirect', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({ callbackStyle: 'redirects' })
  })
  after(() => harness.close())

  test('success goes to successRedirect with the user logged in; cancel goes to failureRedirect', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = new Browser()
    let flow = await startFlow(browser, harness, '/test/password?username=alice')
    let [answer] = await finishFlow(browser, flow.callback!)
    assert.equal(answer?.location, `${harness.app.origin}/welcome`)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')

    harness.provider.behaviour = { action: 'cancel' }
    try {
      const other = new Browser()
      flow = await startFlow(other, harness, '/test/password?username=alice')
      ;[answer] = await finishFlow(other, flow.callback!)
      assert.equal(answer?.location, `${harness.app.origin}/login?failed=1`)
      assert.equal((await whoAmI(other, harness)).user, null)
    } finally {
      harness.provider.behaviour = { action: 'approve' }
    }
  })
})

describe('a custom verify callback', () => {
  const seen: Array<{ info: JustpassFlowInfo; userinfo: JustpassUserinfo; hasIdToken: boolean }> = []
  let harness: Harness
  before(async () => {
    harness = await startHarness({
      verify(tokens, userinfo, info, done) {
        seen.push({ info, userinfo, hasIdToken: typeof tokens.id_token === 'string' })
        if (userinfo.preferred_username === 'bob') return done(null, false, { reason: 'unknown_user', message: 'bob is suspended' })
        done(null, { username: `custom:${userinfo.preferred_username}`, justpassEnabled: true } satisfies MemoryUser)
      },
    })
  })
  after(() => harness.close())

  test('replaces the user store and receives tokens, userinfo and the flow info', async () => {
    harness.provider.behaviour = { action: 'approve', account: 'alice' }
    try {
      const browser = new Browser()
      const flow = await startFlow(browser, harness, '/justpass/login?next=/cart')
      await finishFlow(browser, flow.callback!)
      const last = seen.at(-1)!
      assert.equal(last.hasIdToken, true)
      assert.equal(last.userinfo.preferred_username, 'alice')
      assert.equal(last.userinfo.sub, harness.provider.subOf('alice'))
      assert.deepEqual(last.info, { mode: 'login', username: 'alice', returnTo: '/cart', secondFactor: false })
      assert.equal(harness.app.users.list().some((user) => user.justpassEnabled), false, 'the store was not used')
    } finally {
      harness.provider.behaviour = { action: 'approve' }
    }
  })

  test('can refuse with its own message', async () => {
    harness.provider.behaviour = { action: 'approve', account: 'bob' }
    try {
      const browser = new Browser()
      const flow = await startFlow(browser, harness, '/justpass/login')
      await finishFlow(browser, flow.callback!)
      const me = await whoAmI(browser, harness)
      assert.equal(me.user, null)
      assert.deepEqual(me.notice, { mode: 'login', ok: false, reason: 'unknown_user', message: 'bob is suspended' })
    } finally {
      harness.provider.behaviour = { action: 'approve' }
    }
  })
})

describe('passReqToCallback', () => {
  let harness: Harness
  const seenPaths: string[] = []
  before(async () => {
    harness = await startHarness({
      verifyWithRequest(req, _tokens, userinfo, _info, done) {
        seenPaths.push(req.path)
        done(null, { username: userinfo.preferred_username, justpassEnabled: true })
      },
    })
  })
  after(() => harness.close())

  test('gives the request first', async () => {
    harness.provider.behaviour = { action: 'approve', account: 'alice' }
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/justpass/login')
    await finishFlow(browser, flow.callback!)
    assert.deepEqual(seenPaths, ['/justpass/callback'])
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
  })
})

describe('discovery: true', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({ strategy: { discovery: true } })
  })
  after(() => harness.close())

  test('reads the metadata on first use and completes a flow', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=alice')
    assert.ok(flow.authorize, 'the discovered authorization endpoint was used')
    await finishFlow(browser, flow.callback!)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
  })
})

describe('RS256 ID tokens', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({ strategy: { idTokenSignedResponseAlg: 'RS256' } }, { idTokenAlg: 'RS256' })
  })
  after(() => harness.close())

  test('are verified with the provider JWKS', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=alice')
    await finishFlow(browser, flow.callback!)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
  })
})
