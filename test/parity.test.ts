/**
 * What a site migrating from justpass.me's Django client (or its Firebase extension)
 * had, here: outcome hooks, URL-only starts, disabled accounts, the provider's `sub`
 * recorded and bound, and the Django client's answers to mobile apps, byte for byte.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Request, Response } from 'express'
import { djangoJSON } from '../src/hosts/callback-answer.ts'
import { JustpassStrategy, type JustpassFlowStart, type MemoryUser } from '../src/index.ts'
import { Browser } from './support/browser.ts'
import { finishFlow, flowOutcome, runFlow, startFlow, harnessForSuite, startHarness, whoAmI, type Harness } from './support/harness.ts'

/** A hook that answers JSON naming itself, the info it got and who is logged in. */
function answering(name: string) {
  return (req: Request, res: Response, info: object) => {
    res.status(299).json({ hook: name, info, user: (req.user as MemoryUser | undefined) ?? null, sessionID: req.sessionID })
  }
}

describe('outcome hooks', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({
      callback: {
        onRegistered: answering('onRegistered'),
        onRegistrationFailed: answering('onRegistrationFailed'),
        onLoggedIn: async (req, res, info) => {
          await new Promise((resolve) => setTimeout(resolve, 5))
          answering('onLoggedIn')(req, res, info)
        },
        onLoginFailed: answering('onLoginFailed'),
      },
    })
  })
  after(() => harness.close())

  test('onRegistered answers after the flag is set and the session user refreshed', async () => {
    await harness.app.users.setJustpassEnabled('alice', false)
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
    const [answer] = await runFlow(browser, harness, '/justpass/reg')
    assert.equal(answer?.status, 299)
    const body = JSON.parse(answer!.body)
    assert.equal(body.hook, 'onRegistered')
    assert.deepEqual({ mode: body.info.mode, username: body.info.username }, { mode: 'register', username: 'alice' })
    assert.equal(body.user.justpassEnabled, true, 'req.user is the refreshed record')
    assert.equal((await whoAmI(browser, harness)).notice, null, 'the hook answered instead of the default notice')
  })

  test('onRegistrationFailed answers a cancelled REG; nothing changed', async () => {
    await harness.app.users.setJustpassEnabled('alice', false)
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
    await harness.provider.withBehaviour({ action: 'cancel' }, async () => {
      const [answer] = await runFlow(browser, harness, '/justpass/reg')
      const body = JSON.parse(answer!.body)
      assert.deepEqual([body.hook, body.info.mode, body.info.reason], ['onRegistrationFailed', 'register', 'provider_denied'])
      assert.equal(body.user.username, 'alice')
      assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, false)
    })
  })

  test('onLoggedIn (async) answers after the user is logged in on a regenerated session', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=bob')
    const before = (await whoAmI(browser, harness)).sessionID
    const [answer] = await finishFlow(browser, flow.callback!)
    const body = JSON.parse(answer!.body)
    assert.equal(body.hook, 'onLoggedIn')
    assert.deepEqual({ mode: body.info.mode, username: body.info.username, secondFactor: body.info.secondFactor }, { mode: 'login', username: 'bob', secondFactor: true })
    assert.equal(body.user.username, 'bob')
    assert.notEqual(body.sessionID, before)
    const me = await whoAmI(browser, harness)
    assert.equal(me.user?.username, 'bob')
    assert.equal(me.sessionID, body.sessionID)
  })

  test('onLoginFailed answers a refused LOGIN and an unknown flow; nobody is logged in', async () => {
    const browser = new Browser()
    const [answer] = await finishFlow(browser, `${harness.app.callbackURL}?code=x&state=never-issued`)
    const body = JSON.parse(answer!.body)
    assert.deepEqual([body.hook, body.info.reason, body.user], ['onLoginFailed', 'state_unknown', null])
  })

  test('a mobile app gets the hooks too', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = new Browser()
    browser.headers['amwal-platform'] = 'app'
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const [answer] = await runFlow(browser, harness, '/justpass/login')
      const body = JSON.parse(answer!.body)
      assert.deepEqual([body.hook, body.info.platform, body.user.username], ['onLoggedIn', 'app', 'alice'])
    })
  })
})

describe('outcome hooks that throw', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({
      callback: {
        onLoggedIn: () => {
          throw Object.assign(new Error('the site broke'), { code: 'site_broke' })
        },
        onLoginFailed: async () => {
          throw Object.assign(new Error('the failure page broke'), { code: 'failure_page_broke' })
        },
      },
    })
  })
  after(() => harness.close())

  test('a hook that throws goes to next(err); one that rejects too', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = new Browser()
    const [answer] = await runFlow(browser, harness, '/test/password?username=bob')
    assert.equal(answer?.status, 502)
    assert.equal(JSON.parse(answer!.body).error, 'site_broke')
    const [failed] = await finishFlow(new Browser(), `${harness.app.callbackURL}?code=x&state=never-issued`)
    assert.equal(failed?.status, 502)
    assert.equal(JSON.parse(failed!.body).error, 'failure_page_broke')
    assert.deepEqual(harness.app.errors.slice(-2).map((err) => err.message), ['the site broke', 'the failure page broke'])
  })
})

describe('URL-only starts', () => {
  const harness = harnessForSuite()

  /** The start's JSON answer: checked, and its URL. */
  async function urlFrom(browser: Browser, path: string): Promise<URL> {
    const answer = await browser.get(`${harness.app.origin}${path}`)
    assert.equal(answer.status, 200)
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/)
    assert.equal(answer.headers.get('cache-control'), 'no-store')
    assert.equal(answer.headers.get('location'), null)
    const body = JSON.parse(answer.body)
    assert.deepEqual(Object.keys(body), ['url'])
    const cookies = answer.headers.getSetCookie()
    assert.equal(cookies.length, 1)
    assert.match(cookies[0]!, /^justpass\./, 'the same answer carries the flow cookie')
    const url = new URL(body.url)
    assert.ok(url.href.startsWith(`${harness.provider.opURL}authorize/?`))
    return url
  }

  /** Go where the page would `location.assign`, through the provider, and back. */
  async function complete(browser: Browser, url: URL): Promise<void> {
    const { stoppedAt } = await browser.follow(url.href, (next) => next.href.startsWith(harness.app.callbackURL))
    await finishFlow(browser, stoppedAt!)
  }

  test('REG: {url} with prompt=create for the logged-in user, and the flow completes', async () => {
    await harness.app.users.setJustpassEnabled('alice', false)
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
    const url = await urlFrom(browser, '/justpass/reg-url')
    assert.deepEqual([url.searchParams.get('prompt'), url.searchParams.get('login_hint')], ['create', 'alice'])
    await complete(browser, url)
    assert.deepEqual((await whoAmI(browser, harness)).notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
    assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, true)
  })

  test('second-factor LOGIN: {url} with the base username, and the flow completes', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/password?username=bob`)
    const url = await urlFrom(browser, '/justpass/login-url')
    assert.deepEqual([url.searchParams.get('prompt'), url.searchParams.get('login_hint')], ['login', 'bob'])
    await complete(browser, url)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'bob')
  })

  test('single-factor LOGIN: {url} without a hint, and the flow completes', async () => {
    const browser = new Browser()
    const url = await urlFrom(browser, '/justpass/login-url')
    assert.equal(url.searchParams.get('login_hint'), null)
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      await complete(browser, url)
    })
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
  })

  test('REG URL-only without a logged-in user is refused with 401, no URL', async () => {
    const answer = await new Browser().get(`${harness.app.origin}/justpass/reg-url`)
    assert.equal(answer.status, 401)
    assert.ok(!answer.body.includes(harness.provider.opURL))
  })
})

describe('disabled accounts (isActive)', () => {
  const harness = harnessForSuite()

  test('single-factor LOGIN of a disabled account is refused: account_disabled, nobody logged in', async () => {
    harness.app.users.setActive('alice', false)
    harness.provider.behaviour = { action: 'approve', account: 'alice' }
    try {
      const { location, me } = await flowOutcome(harness, '/justpass/login')
      assert.deepEqual([location, me.user, me.notice?.reason], [`${harness.app.origin}/login`, null, 'account_disabled'])
    } finally {
      harness.provider.behaviour = { action: 'approve' }
      harness.app.users.setActive('alice', true)
    }
  })

  test('second-factor LOGIN of a disabled account is refused', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    harness.app.users.setActive('bob', false)
    try {
      const browser = new Browser()
      await runFlow(browser, harness, '/test/password?username=bob')
      const me = await whoAmI(browser, harness)
      assert.equal(me.user, null)
      assert.equal(me.notice?.reason, 'account_disabled')
    } finally {
      harness.app.users.setActive('bob', true)
    }
  })

  test('REG of an account disabled meanwhile is refused; the flag does not change', async () => {
    await harness.app.users.setJustpassEnabled('alice', false)
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
    const flow = await startFlow(browser, harness, '/justpass/reg')
    harness.app.users.setActive('alice', false)
    try {
      await finishFlow(browser, flow.callback!)
      assert.equal((await whoAmI(browser, harness)).notice?.reason, 'account_disabled')
      assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, false)
    } finally {
      harness.app.users.setActive('alice', true)
    }
  })
})

describe('passkey identity: the provider sub recorded at REG and bound at LOGIN', () => {
  const harness = harnessForSuite({ usernames: ['alice', 'bob', 'carol'] })

  async function register(username: string): Promise<void> {
    await harness.app.users.setJustpassEnabled(username, false)
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=${username}`)
    const flow = await startFlow(browser, harness, '/justpass/reg')
    await finishFlow(browser, flow.callback!)
    assert.deepEqual((await whoAmI(browser, harness)).notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
  }

  async function singleFactor(account: string): Promise<{ user: string | null; reason: string | undefined }> {
    return await harness.provider.withBehaviour({ action: 'approve', account }, async () => {
      const browser = new Browser()
      await runFlow(browser, harness, '/justpass/login')
      const me = await whoAmI(browser, harness)
      return { user: me.user?.username ?? null, reason: me.notice?.reason }
    })
  }

  test('REG records the provider sub of the passkey account; turning passkey login off forgets it', async () => {
    await register('alice')
    const alice = await harness.app.users.findByUsername('alice')
    assert.equal(alice?.justpassSub, harness.provider.subOf('alice'))
    await harness.app.users.setJustpassEnabled('alice', false)
    assert.equal((await harness.app.users.findByUsername('alice'))?.justpassSub, undefined)
  })

  test('LOGIN with the recorded sub succeeds; with another recorded sub it is identity_mismatch, in both factors', async () => {
    await register('bob')
    assert.deepEqual(await singleFactor('bob'), { user: 'bob', reason: undefined })
    await harness.app.users.setJustpassEnabled('bob', true, { sub: 'some-other-account' })
    assert.deepEqual(await singleFactor('bob'), { user: null, reason: 'identity_mismatch' })
    const browser = new Browser()
    await runFlow(browser, harness, '/test/password?username=bob')
    const me = await whoAmI(browser, harness)
    assert.deepEqual([me.user, me.notice?.reason], [null, 'identity_mismatch'])
  })

  test('a renamed account and a reused username: the old passkey does not log in the new owner', async () => {
    await register('alice')
    await register('carol')
    assert.ok(harness.app.users.rename('alice', 'alice-renamed'))
    assert.ok(harness.app.users.rename('carol', 'alice'), 'carol takes the freed name')
    // The provider still knows the first passkey as "alice": it now names carol's account.
    assert.deepEqual(await singleFactor('alice'), { user: null, reason: 'identity_mismatch' })
  })
})

describe("the Django client's app answers (appAnswers: 'django')", () => {
  const harness = harnessForSuite({ callback: { appAnswers: 'django' } })

  function app(): Browser {
    const browser = new Browser()
    browser.headers['amwal-platform'] = 'app'
    return browser
  }

  test('LOGIN success: 200, application/json, {"username": …, "token": <session key>} as Django writes it', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = app()
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const [answer] = await runFlow(browser, harness, '/justpass/login')
      assert.equal(answer?.status, 200)
      assert.equal(answer?.headers.get('content-type'), 'application/json')
      const { sessionID } = await whoAmI(browser, harness)
      assert.equal(answer?.body, `{"username": "alice", "token": "${sessionID}"}`)
    })
  })

  test('LOGIN failure: 200 {"err": "Failed"}', async () => {
    const browser = app()
    await harness.provider.withBehaviour({ action: 'cancel' }, async () => {
      const [answer] = await runFlow(browser, harness, '/justpass/login')
      assert.equal(answer?.status, 200)
      assert.equal(answer?.headers.get('content-type'), 'application/json')
      assert.equal(answer?.body, '{"err": "Failed"}')
    })
  })

  test('REG is answered as Django does: a redirect home, the flag set', async () => {
    await harness.app.users.setJustpassEnabled('bob', false)
    const browser = app()
    await browser.get(`${harness.app.origin}/test/login-as?username=bob`)
    const [answer] = await runFlow(browser, harness, '/justpass/reg')
    assert.equal(answer?.status, 302)
    assert.equal(answer?.location, `${harness.app.origin}/`)
    assert.equal((await harness.app.users.findByUsername('bob'))?.justpassEnabled, true)
  })

  test('bodies are formatted as Python json.dumps writes them, non-ASCII escaped', () => {
    assert.equal(djangoJSON({ username: 'émile\x7f😀\n', token: 'a/b"c' }), '{"username": "\\u00e9mile\\u007f\\ud83d\\ude00\\n", "token": "a/b\\"c"}')
  })
})

/** The Firebase extension's platform parameter, by overriding the authorizationParams hook. */
class FirebasePlatformStrategy extends JustpassStrategy<MemoryUser> {
  protected override authorizationParams(req: Request, flow: JustpassFlowStart): Record<string, string | undefined> {
    const { AMWALPLATFORM: _django, ...params } = super.authorizationParams(req, flow)
    return { ...params, justpass_me_platform: flow.platform }
  }
}

describe("the Firebase extension's platform header and parameter", () => {
  const harness = harnessForSuite({ strategy: { platformHeader: 'justpass-me-platform' }, strategyClass: FirebasePlatformStrategy })

  test('forwarded as justpass_me_platform, remembered, answered as JSON; the Django header is then ignored', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = new Browser()
    browser.headers['justpass-me-platform'] = 'app'
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const flow = await startFlow(browser, harness, '/justpass/login')
      assert.equal(flow.authorize?.get('justpass_me_platform'), 'app')
      assert.equal(flow.authorize?.get('AMWALPLATFORM'), null)
      const [answer] = await finishFlow(browser, flow.callback!)
      assert.deepEqual(JSON.parse(answer!.body), { username: 'alice' })
      const other = new Browser()
      other.headers['amwal-platform'] = 'app'
      const otherFlow = await startFlow(other, harness, '/justpass/login')
      assert.equal(otherFlow.authorize?.get('justpass_me_platform'), null)
      const [redirect] = await finishFlow(other, otherFlow.callback!)
      assert.equal(redirect?.status, 302)
    })
  })
})
