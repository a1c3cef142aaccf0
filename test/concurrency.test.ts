/**
 * Pending flows under concurrency, as a browser with several tabs produces it: every
 * flow started at once completes, whatever the session store (memory, a store that
 * takes 20 ms per read and write, Redis); a start writes no session; a used state stays
 * used; one callback reaches the token endpoint once; the flow cookies stay bounded.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type session from 'express-session'
import { Browser } from './support/browser.ts'
import { finishFlow, startFlow, harnessForSuite, startHarness, whoAmI, type Harness } from './support/harness.ts'
import { DelayedStore, sessionCount, startRedisSessions, type RedisSessions } from './support/session-stores.ts'

/** The flow cookies a browser holds for the site. */
function flowCookies(browser: Browser): string[] {
  return [...(browser.cookies.get('127.0.0.1') ?? new Map()).keys()].filter((name) => name.startsWith('justpass.'))
}

const STORES = ['memory', 'delayed 20 ms', 'redis'] as const

/**
 * `n` requests to the site's start route at the same moment (the tabs), then each tab's
 * way through the provider, one after the other, up to its callback (not requested).
 */
async function startAtOnce(browser: Browser, harness: Harness, path: string, n: number): Promise<Array<{ state: string; callback: string; authorize: URLSearchParams }>> {
  const starts = await Promise.all(Array.from({ length: n }, () => browser.get(`${harness.app.origin}${path}`)))
  const flows = []
  for (const start of starts) {
    assert.equal(start.status, 302)
    const authorize = new URL(start.location!).searchParams
    const { stoppedAt } = await browser.follow(start.location!, (next) => next.href.startsWith(harness.app.callbackURL))
    assert.ok(stoppedAt, 'the provider sent the browser back')
    flows.push({ state: authorize.get('state')!, callback: stoppedAt, authorize })
  }
  return flows
}

for (const kind of STORES) {
  describe(`concurrent flows in one browser, sessions in ${kind}`, () => {
    let harness: Harness
    let redis: RedisSessions | undefined
    let delayed: DelayedStore | undefined
    before(async () => {
      let sessionStore: session.Store | undefined
      if (kind === 'redis') sessionStore = (redis = await startRedisSessions()).store
      if (kind === 'delayed 20 ms') sessionStore = delayed = new DelayedStore(20)
      harness = await startHarness({ sessionStore, strategy: { flowStore: { type: 'cookie', maxPending: 8 } } })
    })
    after(async () => {
      await harness.close()
      await redis?.close()
    })

    async function withAccount<T>(account: string, run: () => Promise<T>): Promise<T> {
      return await harness.provider.withBehaviour({ action: 'approve', account }, async () => {
        return await run()
      })
    }

    for (const n of [2, 4, 8]) {
      test(`${n} REG starts at once: every one completes`, async () => {
        await harness.app.users.setJustpassEnabled('alice', false)
        const browser = new Browser()
        await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
        const writes = delayed?.writes ?? 0
        const flows = await startAtOnce(browser, harness, '/justpass/reg', n)
        if (delayed) assert.equal(delayed.writes, writes, 'starting REG writes no session')
        for (const flow of flows) {
          await harness.app.users.setJustpassEnabled('alice', false)
          await finishFlow(browser, flow.callback)
          const me = await whoAmI(browser, harness)
          assert.deepEqual(me.notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
          assert.equal(me.user?.username, 'alice')
          assert.equal(me.user?.justpassEnabled, true)
        }
      })

      test(`${n} second-factor LOGIN starts at once: every one completes`, async () => {
        await harness.app.users.setJustpassEnabled('bob', true)
        const browser = new Browser()
        const password = await browser.get(`${harness.app.origin}/test/password?username=bob`)
        assert.equal(password.location, `${harness.app.origin}/justpass/login`)
        const writes = delayed?.writes ?? 0
        const flows = await startAtOnce(browser, harness, '/justpass/login', n)
        if (delayed) assert.equal(delayed.writes, writes, 'starting a second factor writes no session')
        for (const flow of flows) assert.equal(flow.authorize.get('login_hint'), 'bob')
        for (const flow of flows) {
          const [answer] = await finishFlow(browser, flow.callback)
          assert.equal(answer?.location, `${harness.app.origin}/`)
          assert.equal((await whoAmI(browser, harness)).user?.username, 'bob')
        }
      })

      test(`${n} single-factor LOGIN starts at once: every one completes`, async () => {
        const browser = new Browser()
        const flows = await withAccount('alice', () => startAtOnce(browser, harness, '/justpass/login', n))
        for (const flow of flows) {
          const [answer] = await finishFlow(browser, flow.callback)
          assert.equal(answer?.location, `${harness.app.origin}/`)
          assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
        }
      })
    }

    test('a callback racing a start: the new flow completes, the used state is refused', async () => {
      await harness.app.users.setJustpassEnabled('alice', false)
      const browser = new Browser()
      await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
      const first = await startFlow(browser, harness, '/justpass/reg')
      const [, [second]] = await Promise.all([finishFlow(browser, first.callback!), startAtOnce(browser, harness, '/justpass/reg', 1)])
      assert.deepEqual((await whoAmI(browser, harness)).notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
      await harness.app.users.setJustpassEnabled('alice', false)
      await finishFlow(browser, second!.callback)
      assert.deepEqual((await whoAmI(browser, harness)).notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
      await harness.app.users.setJustpassEnabled('alice', false)
      const exchanges = harness.provider.tokenRequests
      const [again] = await finishFlow(browser, first.callback!)
      // The used state is refused; a logged-in user is sent home without a notice.
      assert.equal(again?.location, `${harness.app.origin}/`)
      assert.equal((await whoAmI(browser, harness)).notice, null)
      assert.equal(harness.provider.tokenRequests, exchanges)
      assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, false)
    })

    test('the same callback twice at once: one token request, one login', async () => {
      await harness.app.users.setJustpassEnabled('bob', true)
      const browser = new Browser()
      const flow = await startFlow(browser, harness, '/test/password?username=bob')
      const exchanges = harness.provider.tokenRequests
      const answers = await Promise.all([browser.get(flow.callback!), browser.get(flow.callback!)])
      assert.deepEqual(answers.map((hop) => hop.location).sort(), [`${harness.app.origin}/`, `${harness.app.origin}/login`])
      assert.equal(harness.provider.tokenRequests, exchanges + 1)
    })

    test('100 anonymous starts create no session', async () => {
      const sessions = await sessionCount(harness.app.sessionStore)
      const answers = await Promise.all(Array.from({ length: 100 }, () => new Browser().get(`${harness.app.origin}/justpass/login`)))
      for (const answer of answers) {
        assert.equal(answer.status, 302)
        const cookies = answer.headers.getSetCookie()
        assert.equal(cookies.length, 1)
        assert.match(cookies[0]!, /^justpass\./)
      }
      assert.equal(await sessionCount(harness.app.sessionStore), sessions)
    })
  })
}

describe('flow cookies stay bounded', () => {
  const harness = harnessForSuite()

  test('200 starts in one browser: at most maxPendingFlows cookies, a bounded header, and the latest flow completes', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = new Browser()
    for (let i = 0; i < 199; i++) {
      const hop = await browser.get(`${harness.app.origin}/justpass/login`)
      assert.equal(hop.status, 302)
      assert.ok(flowCookies(browser).length <= 5)
    }
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const flow = await startFlow(browser, harness, '/justpass/login')
      assert.equal(flowCookies(browser).length, 5)
      const header = [...browser.cookies.get('127.0.0.1')!].map(([name, value]) => `${name}=${value}`).join('; ')
      assert.ok(header.length < 1_500, `the cookie header is ${header.length} bytes`)
      const [answer] = await finishFlow(browser, flow.callback!)
      assert.equal(answer?.location, `${harness.app.origin}/`)
      assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
      assert.equal(flowCookies(browser).length, 4, 'the callback cleared its own cookie')
    })
  })

  test('a callback replayed with a copy of its cookie reaches the token endpoint at most once', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=bob')
    const copy = new Map(browser.cookies.get('127.0.0.1'))
    await finishFlow(browser, flow.callback!)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'bob')
    const replayer = new Browser()
    replayer.cookies.set('127.0.0.1', copy)
    const exchanges = harness.provider.tokenRequests
    const [answer] = await finishFlow(replayer, flow.callback!)
    assert.equal(answer?.location, `${harness.app.origin}/login`)
    assert.equal((await whoAmI(replayer, harness)).notice?.reason, 'state_unknown')
    assert.equal(harness.provider.tokenRequests, exchanges)
  })
})
