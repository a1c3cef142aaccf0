/**
 * What must fail, and that nothing changed when it did: cancel, identity mismatch,
 * replayed, expired, foreign and unknown state, malformed callbacks, REG without a
 * user, the provider down or slow.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Browser } from './support/browser.ts'
import { finishFlow, runFlow, startFlow, harnessForSuite, whoAmI, type Harness } from './support/harness.ts'
import { buildTestApp, reserveTestApp } from './support/app.ts'
import { startLoopbackServer } from './support/server.ts'
import type { Request, Response } from 'express'
import type { JustpassProviderError } from '../src/index.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('refusals against the provider', () => {
  const harness = harnessForSuite()

  const flags = () => harness.app.users.list().map((user) => `${user.username}:${user.justpassEnabled}`)

  async function loggedIn(username: string): Promise<Browser> {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=${username}`)
    return browser
  }

  async function passwordStep(username: string): Promise<Browser> {
    await harness.app.users.setJustpassEnabled(username, true)
    return new Browser()
  }

  test('cancel in REG: a failure notice, the user still logged in, no flag changed', async () => {
    const browser = await loggedIn('alice')
    const before = flags()
    await harness.provider.withBehaviour({ action: 'cancel' }, async () => {
      const flow = await startFlow(browser, harness, '/justpass/reg')
      assert.equal(new URL(flow.callback!).searchParams.get('error'), 'access_denied')
      const [answer] = await finishFlow(browser, flow.callback!)
      assert.equal(answer?.location, `${harness.app.origin}/`)
    })
    const me = await whoAmI(browser, harness)
    assert.equal(me.user?.username, 'alice')
    assert.equal(me.notice?.mode, 'register')
    assert.equal(me.notice?.ok, false)
    assert.equal(me.notice?.reason, 'provider_denied')
    assert.deepEqual(flags(), before)
  })

  test('cancel in LOGIN: back to the login page with a failure notice, nobody logged in', async () => {
    const browser = await passwordStep('bob')
    await harness.provider.withBehaviour({ action: 'cancel' }, async () => {
      const [answer] = await runFlow(browser, harness, '/test/password?username=bob')
      assert.equal(answer?.location, `${harness.app.origin}/login`)
    })
    const me = await whoAmI(browser, harness)
    assert.equal(me.user, null)
    assert.deepEqual({ mode: me.notice?.mode, ok: me.notice?.ok, reason: me.notice?.reason }, { mode: 'login', ok: false, reason: 'provider_denied' })
    const session = await browser.json(`${harness.app.origin}/test/session`)
    assert.equal(session.base_username, undefined, 'a failed second factor sends the user back to the password step')
  })

  test('a mobile app gets JSON for a refusal, even when the flow is unknown', async () => {
    const browser = new Browser()
    browser.headers['amwal-platform'] = 'app'
    const hop = await browser.get(`${harness.app.callbackURL}?code=abc&state=never-issued`)
    assert.equal(hop.status, 401)
    assert.deepEqual(JSON.parse(hop.body), { err: 'This sign-in link is unknown or was already used. Start again.', reason: 'state_unknown' })
  })

  test('identity mismatch in REG: a passkey of another user is refused, no flag changed', async () => {
    await harness.app.users.setJustpassEnabled('alice', false)
    await harness.app.users.setJustpassEnabled('bob', false)
    const browser = await loggedIn('alice')
    await harness.provider.withBehaviour({ action: 'approve', account: 'bob' }, async () => {
      await runFlow(browser, harness, '/justpass/reg')
    })
    const me = await whoAmI(browser, harness)
    assert.equal(me.user?.username, 'alice')
    assert.equal(me.notice?.reason, 'identity_mismatch')
    assert.deepEqual(flags(), ['alice:false', 'bob:false'])
  })

  test('identity mismatch in second-factor LOGIN: another user\'s passkey logs nobody in', async () => {
    const browser = await passwordStep('bob')
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const [answer] = await runFlow(browser, harness, '/test/password?username=bob')
      assert.equal(answer?.location, `${harness.app.origin}/login`)
    })
    const me = await whoAmI(browser, harness)
    assert.equal(me.user, null)
    assert.equal(me.notice?.reason, 'identity_mismatch')
  })

  test('the logged-in user changing during REG is refused before the exchange: bob\'s session never becomes alice\'s', async () => {
    await harness.app.users.setJustpassEnabled('alice', false)
    const browser = await loggedIn('alice')
    const flow = await startFlow(browser, harness, '/justpass/reg')
    await browser.get(`${harness.app.origin}/test/login-as?username=bob`)
    const before = flags()
    const exchanges = harness.provider.tokenRequests
    await finishFlow(browser, flow.callback!)
    const me = await whoAmI(browser, harness)
    assert.equal(me.notice?.reason, 'identity_mismatch', 'the flow cookie outlives the new session: the identity check refuses it')
    assert.equal(me.user?.username, 'bob')
    assert.equal(harness.provider.tokenRequests, exchanges, 'refused before the code exchange')
    assert.deepEqual(flags(), before)
  })

  test('a replayed callback is refused: each state is taken once', async () => {
    const browser = await loggedIn('alice')
    const flow = await startFlow(browser, harness, '/justpass/reg')
    await finishFlow(browser, flow.callback!)
    assert.equal((await whoAmI(browser, harness)).notice?.ok, true)
    await harness.app.users.setJustpassEnabled('alice', false)
    const tokenRequests = harness.provider.tokenRequests
    const [again] = await finishFlow(browser, flow.callback!)
    // Refused: nothing exchanged, nothing changed; alice, still logged in, goes home without a notice.
    assert.equal(again?.location, `${harness.app.origin}/`)
    assert.equal(harness.provider.tokenRequests, tokenRequests)
    assert.equal((await whoAmI(browser, harness)).notice, null)
    assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, false)
    // Logged out, the same used link is a failure with its notice.
    const stranger = new Browser()
    await finishFlow(stranger, flow.callback!)
    assert.equal((await whoAmI(stranger, harness)).notice?.reason, 'state_unknown')
  })

  test('a callback carrying another session\'s state is refused, and the owner can still finish', async () => {
    const owner = await passwordStep('bob')
    const flow = await startFlow(owner, harness, '/test/password?username=bob')
    const thief = new Browser()
    await finishFlow(thief, flow.callback!)
    const stolen = await whoAmI(thief, harness)
    assert.equal(stolen.user, null)
    assert.equal(stolen.notice?.reason, 'state_unknown')
    await finishFlow(owner, flow.callback!)
    assert.equal((await whoAmI(owner, harness)).user?.username, 'bob')
  })

  test('an unknown state, a missing state and a repeated state are refused', async () => {
    const browser = new Browser()
    let hop = await browser.get(`${harness.app.callbackURL}?code=abc&state=never-issued`)
    assert.equal(hop.location, `${harness.app.origin}/login`)
    assert.equal((await whoAmI(browser, harness)).notice?.reason, 'state_unknown')
    hop = await browser.get(`${harness.app.callbackURL}?code=abc`)
    assert.equal((await whoAmI(browser, harness)).notice?.reason, 'invalid_callback')
    hop = await browser.get(`${harness.app.callbackURL}?code=abc&state=a&state=b`)
    assert.equal((await whoAmI(browser, harness)).notice?.reason, 'invalid_callback')
    hop = await browser.get(`${harness.app.callbackURL}?code=abc&state=__proto__`)
    assert.equal((await whoAmI(browser, harness)).notice?.reason, 'state_unknown')
  })

  test('a route whose failure handler throws answers through the error handler, with no unhandled rejection', async () => {
    const rejections: unknown[] = []
    const onRejection = (reason: unknown) => void rejections.push(reason)
    process.on('unhandledRejection', onRejection)
    try {
      const errors = harness.app.errors.length
      const hop = await new Browser().get(`${harness.app.origin}/justpass/flash-callback?code=abc&state=forged`)
      assert.equal(hop.status, 502)
      assert.equal(harness.app.errors.length, errors + 1)
      await sleep(50)
      assert.deepEqual(rejections, [])
    } finally {
      process.off('unhandledRejection', onRejection)
    }
  })

  test('two callbacks with the same state at once: one finishes the flow, the other is refused', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=bob')
    const answers = await Promise.all([browser.get(flow.callback!), browser.get(flow.callback!)])
    const locations = answers.map((hop) => hop.location).sort()
    assert.deepEqual(locations, [`${harness.app.origin}/`, `${harness.app.origin}/login`], 'exactly one login succeeded')
  })

  test('a start route given a mode starts a flow, whatever its query carries', async () => {
    const hop = await new Browser().get(`${harness.app.origin}/justpass/login?state=abc&code=def`)
    assert.equal(hop.status, 302)
    assert.ok(hop.location?.startsWith(`${harness.provider.opURL}authorize/?`))
  })

  test('a stray callback with an unknown state does not create a session of its own', async () => {
    const hop = await new Browser().get(`${harness.app.origin}/justpass/plain-callback?code=abc&state=never-issued`)
    assert.equal(hop.status, 401)
    assert.equal(hop.headers.get('set-cookie'), null)
  })

  test('two concurrent flows in one session both complete, in either order', async () => {
    await harness.app.users.setJustpassEnabled('alice', false)
    const browser = await loggedIn('alice')
    const first = await startFlow(browser, harness, '/justpass/reg')
    const second = await startFlow(browser, harness, '/justpass/reg')
    assert.notEqual(first.authorize?.get('state'), second.authorize?.get('state'))
    await finishFlow(browser, second.callback!)
    assert.equal((await whoAmI(browser, harness)).notice?.ok, true)
    await harness.app.users.setJustpassEnabled('alice', false)
    await finishFlow(browser, first.callback!)
    assert.deepEqual((await whoAmI(browser, harness)).notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
    assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, true)
  })

  test('REG without a logged-in user fails with 401 before reaching the provider', async () => {
    const count = harness.provider.authorizationRequests.length
    const hop = await new Browser().get(`${harness.app.origin}/justpass/reg`)
    assert.equal(hop.status, 401)
    assert.equal(hop.location, undefined)
    assert.equal(harness.provider.authorizationRequests.length, count)
  })
})

describe('flow state limits', () => {
  const harness = harnessForSuite({ strategy: { flowStore: { type: 'cookie', maxAge: 1, maxPending: 2 } } })

  test('an expired state is refused, with the flow\'s mode', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=alice')
    await sleep(2_100)
    await finishFlow(browser, flow.callback!)
    const me = await whoAmI(browser, harness)
    assert.equal(me.user, null)
    assert.deepEqual({ mode: me.notice?.mode, reason: me.notice?.reason }, { mode: 'login', reason: 'state_expired' })
  })

  test('a browser keeps at most maxPendingFlows flow cookies; the oldest goes first', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=bob`)
    const flows = []
    for (let i = 0; i < 3; i++) flows.push(await startFlow(browser, harness, '/justpass/reg'))
    const names = [...browser.cookies.get('127.0.0.1')!.keys()].filter((name) => name.startsWith('justpass.'))
    assert.deepEqual(names.sort(), [flows[1]!, flows[2]!].map((flow) => `justpass.${flow.authorize!.get('state')!.slice(0, 16)}`).sort())
    await finishFlow(browser, flows[0]!.callback!)
    assert.equal((await whoAmI(browser, harness)).notice?.reason, 'state_unknown')
    await finishFlow(browser, flows[2]!.callback!)
    assert.deepEqual((await whoAmI(browser, harness)).notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
  })
})

describe('the session flow store', () => {
  const harness = harnessForSuite({ strategy: { flowStore: { type: 'session', maxPending: 2 } } })

  test('keeps at most maxPendingFlows flows in the session; the oldest goes first', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=bob`)
    const flows = []
    for (let i = 0; i < 3; i++) flows.push(await startFlow(browser, harness, '/justpass/reg'))
    const session = await browser.json<{ justpass: Record<string, unknown> }>(`${harness.app.origin}/test/session`)
    assert.deepEqual(Object.keys(session.justpass).sort(), [flows[1]!.authorize!.get('state'), flows[2]!.authorize!.get('state')].sort())
    await finishFlow(browser, flows[0]!.callback!)
    assert.equal((await whoAmI(browser, harness)).notice?.reason, 'state_unknown')
    await finishFlow(browser, flows[2]!.callback!)
    assert.deepEqual((await whoAmI(browser, harness)).notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
  })

  test('the logged-in user changing during REG, on a login that keeps session data, is refused before the exchange', async () => {
    await harness.app.users.setJustpassEnabled('alice', false)
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
    const flow = await startFlow(browser, harness, '/justpass/reg')
    await browser.get(`${harness.app.origin}/test/login-as-keeping-session?username=bob`)
    const exchanges = harness.provider.tokenRequests
    await finishFlow(browser, flow.callback!)
    const me = await whoAmI(browser, harness)
    assert.equal(me.notice?.reason, 'identity_mismatch')
    assert.equal(me.user?.username, 'bob')
    assert.equal(harness.provider.tokenRequests, exchanges)
    assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, false)
  })
})

describe('the provider down or slow', () => {
  /** A test site whose provider is gone: its address was given out and closed again. */
  async function siteWithDeadProvider() {
    const dead = await startLoopbackServer()
    await dead.close()
    const server = await reserveTestApp()
    return { dead, app: buildTestApp(server, { opURL: `${dead.origin}/openid/`, clientID: 'shop-client', clientSecret: 'shop-secret-0123456789abcdef0123456789' }) }
  }

  const unavailable = { reason: 'provider_unavailable', message: 'The passkey service did not answer, so nothing was changed. Try again in a few minutes.' }

  test('unreachable at the callback: a notice in plain words and the login page, not an error page, nobody logged in', async () => {
    const { app, dead } = await siteWithDeadProvider()
    try {
      await app.users.setJustpassEnabled('alice', true)
      const browser = new Browser()
      const { hops } = await browser.follow(`${app.origin}/test/password?username=alice`, (next) => next.origin === dead.origin)
      const location = new URL(hops.at(-1)!.location!)
      assert.equal(location.origin, dead.origin, 'initiation needed no network')
      const errors = app.errors.length
      const hop = await browser.get(`${app.callbackURL}?code=abc&state=${location.searchParams.get('state')}`)
      assert.equal(hop.status, 302)
      assert.equal(hop.location, `${app.origin}/login`)
      assert.equal(app.errors.length, errors, 'the error handler was not needed')
      const after = await whoAmI(browser, { app } as Harness)
      assert.deepEqual(after.notice, { mode: 'login', ok: false, ...unavailable })
      assert.equal(after.user, null)

      // A REG interrupted the same way goes home, the user still logged in.
      await browser.get(`${app.origin}/test/login-as?username=bob`)
      const reg = await browser.get(`${app.origin}/justpass/reg`)
      const state = new URL(reg.location!).searchParams.get('state')
      const regHop = await browser.get(`${app.callbackURL}?code=abc&state=${state}`)
      assert.equal(regHop.location, `${app.origin}/`)
      const afterReg = await whoAmI(browser, { app } as Harness)
      assert.deepEqual(afterReg.notice, { mode: 'register', ok: false, ...unavailable })
      assert.equal(afterReg.user?.username, 'bob')
    } finally {
      await app.close()
    }
  })

  test('unreachable at the callback of a mobile app: 503 JSON in plain words, never cached', async () => {
    const { app } = await siteWithDeadProvider()
    try {
      const browser = new Browser()
      const started = await browser.get(`${app.origin}/justpass/login`, { headers: { 'amwal-platform': 'app' } })
      const state = new URL(started.location!).searchParams.get('state')
      const hop = await browser.get(`${app.callbackURL}?code=abc&state=${state}`)
      assert.equal(hop.status, 503)
      assert.equal(hop.headers.get('cache-control'), 'no-store')
      assert.deepEqual(JSON.parse(hop.body), { err: unavailable.message, reason: unavailable.reason })
    } finally {
      await app.close()
    }
  })

  test('unreachable, with onProviderUnavailable: the hook answers; a hook that throws hands the error to the error handler', async () => {
    const dead = await startLoopbackServer()
    await dead.close()
    /** The callback's answer on a site whose callback route has `hook`. */
    async function callbackWith(hook: (req: Request, res: Response, err: JustpassProviderError) => void) {
      const server = await reserveTestApp()
      const app = buildTestApp(server, { opURL: `${dead.origin}/openid/`, clientID: 'shop-client', clientSecret: 'shop-secret-0123456789abcdef0123456789' }, { callback: { onProviderUnavailable: hook } })
      try {
        const browser = new Browser()
        const started = await browser.get(`${app.origin}/justpass/login`)
        return await browser.get(`${app.callbackURL}?code=abc&state=${new URL(started.location!).searchParams.get('state')}`)
      } finally {
        await app.close()
      }
    }
    const seen: string[] = []
    const own = await callbackWith((_req, res, err) => {
      seen.push(err.code)
      res.status(299).send('our own page')
    })
    assert.deepEqual([own.status, own.body, seen], [299, 'our own page', ['provider_unreachable']])
    const thrown = await callbackWith((_req, _res, err) => {
      throw err
    })
    assert.equal(thrown.status, 502)
    assert.deepEqual(JSON.parse(thrown.body), { error: 'provider_unreachable', name: 'JustpassProviderError' })
  })

  test('slow: the timeout option is honoured', async () => {
    const slow = await startLoopbackServer()
    const hanging: Array<() => void> = []
    slow.handle((req) => void hanging.push(() => req.destroy()))
    const server = await reserveTestApp()
    const rethrow = { onProviderUnavailable: (_req: unknown, _res: unknown, err: Error) => { throw err } }
    const app = buildTestApp(server, { opURL: `${slow.origin}/openid/`, clientID: 'shop-client', clientSecret: 'shop-secret-0123456789abcdef0123456789' }, { callback: rethrow, providerSettings: { timeout: 400 } })
    try {
      const browser = new Browser()
      const started = await browser.get(`${app.origin}/justpass/login`)
      const state = new URL(started.location!).searchParams.get('state')
      const t0 = performance.now()
      const hop = await browser.get(`${app.callbackURL}?code=abc&state=${state}`)
      const elapsed = performance.now() - t0
      assert.equal(hop.status, 502)
      assert.equal(JSON.parse(hop.body).error, 'provider_timeout')
      assert.ok(elapsed >= 340 && elapsed < 3_000, `answered after ${Math.round(elapsed)} ms`)
      assert.equal(hanging.length, 1, 'the token endpoint was called once')
    } finally {
      for (const end of hanging) end()
      await app.close()
      await slow.close()
    }
  })
})
