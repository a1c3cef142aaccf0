/**
 * REG, second-factor LOGIN and single-factor LOGIN end to end, with the outcome helper,
 * with plain successRedirect/failureRedirect, with a custom verify, with discovery, with
 * RS256 ID tokens verified against the provider's JWKS, and a mobile app's JSON answers
 * with and without the appToken option.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import express from 'express'
import session from 'express-session'
import { Passport } from 'passport'
import { Browser, type Hop } from './support/browser.ts'
import { finishFlow, flowOutcome, runFlow, startFlow, harnessForSuite, startHarness, whoAmI, type Harness } from './support/harness.ts'
import { reserveTestApp } from './support/app.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'
import { JustpassStrategy, MemoryUserStore, justpassCallback, type JustpassFlowInfo, type JustpassUserinfo, type MemoryUser } from '../src/index.ts'

describe('flows with the outcome helper', () => {
  const harness = harnessForSuite()

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
    assert.deepEqual(me.notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
    assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, true)
    assert.equal((await harness.app.users.findByUsername('bob'))?.justpassEnabled, false)
  })

  test('REG goes to the same-origin ?next= afterwards', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=bob`)
    const [answer] = await runFlow(browser, harness, '/justpass/reg?next=/settings')
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
    assert.deepEqual(me.notice, { mode: 'login', ok: true, message: 'You are signed in with your passkey.' })
    assert.notEqual(browser.cookies.get('127.0.0.1')?.get('shop.sid'), before, 'login regenerates the session id')
    const session = await browser.json(`${harness.app.origin}/test/session`)
    assert.equal(session.base_username, undefined)
    assert.equal(session.justpass, undefined)
  })

  test('a start on another host name than the callback URL\'s goes there first; a URL-only start there is refused with wrong_host', async () => {
    const browser = new Browser()
    const other = harness.app.origin.replace('127.0.0.1', 'localhost')
    await browser.get(`${other}/test/login-as?username=alice`)
    const interactions = harness.provider.interactions.length
    const moved = await browser.get(`${other}/justpass/reg`)
    assert.equal(moved.status, 302)
    assert.equal(moved.location, `${harness.app.origin}/justpass/reg?justpass_host=1`)
    assert.deepEqual(moved.headers.getSetCookie(), [], 'no flow, and the session is not touched, at the other host')
    const loop = await browser.get(`${other}/justpass/reg?justpass_host=1`)
    assert.equal(loop.status, 401)
    const json = await browser.get(`${other}/justpass/reg-url`)
    assert.equal(json.status, 401)
    assert.equal(harness.provider.interactions.length, interactions, 'no passkey step began')
  })

  test('a signed-in user back on a callback already used goes home, with no notice; signed out, it is state_unknown', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=bob')
    await finishFlow(browser, flow.callback!)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'bob')
    const again = await browser.get(flow.callback!)
    assert.equal(again.location, `${harness.app.origin}/`)
    const me = await whoAmI(browser, harness)
    assert.deepEqual([me.user?.username, me.notice], ['bob', null])
    const stranger = new Browser()
    assert.equal((await stranger.get(flow.callback!)).location, `${harness.app.origin}/login`)
    assert.equal((await whoAmI(stranger, harness)).notice?.reason, 'state_unknown')
  })

  test('LOGIN, single factor: the passkey alone says who the user is', async () => {
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const browser = new Browser()
      const flow = await startFlow(browser, harness, '/justpass/login')
      assert.equal(harness.provider.interactions.at(-1)?.login_hint, undefined)
      await finishFlow(browser, flow.callback!)
      assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
    })
  })

  test('LOGIN goes to the same-origin ?next= afterwards, and ignores one that leaves the site', async () => {
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const browser = new Browser()
      let flow = await startFlow(browser, harness, `/justpass/login?next=${encodeURIComponent('/orders?id=7')}`)
      let [answer] = await finishFlow(browser, flow.callback!)
      assert.equal(answer?.location, `${harness.app.origin}/orders?id=7`)
      for (const next of ['https://evil.example/', '//evil.example/', '/\\evil.example/', 'javascript:alert(1)']) {
        flow = await startFlow(browser, harness, `/justpass/login?next=${encodeURIComponent(next)}`)
        ;[answer] = await finishFlow(browser, flow.callback!)
        assert.equal(answer?.location, `${harness.app.origin}/`, `next=${next} is not followed`)
      }
    })
  })

  test('LOGIN of a passkey user the site does not know fails with unknown_user', async () => {
    await harness.provider.withBehaviour({ action: 'approve', account: 'carol' }, async () => {
      const { location, me } = await flowOutcome(harness, '/justpass/login')
      assert.deepEqual([location, me.user, me.notice?.reason], [`${harness.app.origin}/login`, null, 'unknown_user'])
    })
  })
})

describe('flows with plain successRedirect and failureRedirect', () => {
  const harness = harnessForSuite({ callbackStyle: 'redirects' })

  test('success goes to successRedirect with the user logged in; cancel goes to failureRedirect', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = new Browser()
    let flow = await startFlow(browser, harness, '/test/password?username=alice')
    let [answer] = await finishFlow(browser, flow.callback!)
    assert.equal(answer?.location, `${harness.app.origin}/welcome`)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')

    await harness.provider.withBehaviour({ action: 'cancel' }, async () => {
      const other = new Browser()
      flow = await startFlow(other, harness, '/test/password?username=alice')
      ;[answer] = await finishFlow(other, flow.callback!)
      assert.equal(answer?.location, `${harness.app.origin}/login?failed=1`)
      assert.equal((await whoAmI(other, harness)).user, null)
    })
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
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const browser = new Browser()
      await runFlow(browser, harness, '/justpass/login?next=/cart')
      const last = seen.at(-1)!
      assert.equal(last.hasIdToken, true)
      assert.equal(last.userinfo.preferred_username, 'alice')
      assert.equal(last.userinfo.sub, harness.provider.subOf('alice'))
      assert.deepEqual(last.info, { mode: 'login', username: 'alice', returnTo: '/cart', secondFactor: false })
      assert.equal(harness.app.users.list().some((user) => user.justpassEnabled), false, 'the store was not used')
    })
  })

  test('can refuse with its own message', async () => {
    await harness.provider.withBehaviour({ action: 'approve', account: 'bob' }, async () => {
      const browser = new Browser()
      await runFlow(browser, harness, '/justpass/login')
      const me = await whoAmI(browser, harness)
      assert.equal(me.user, null)
      assert.deepEqual(me.notice, { mode: 'login', ok: false, reason: 'unknown_user', message: 'bob is suspended' })
    })
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
    await runFlow(browser, harness, '/justpass/login')
    assert.deepEqual(seenPaths, ['/justpass/callback'])
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
  })
})

describe('discovery: true', () => {
  const harness = harnessForSuite({ providerSettings: { discovery: true } })

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
  const harness = harnessForSuite({ providerSettings: { idTokenSignedResponseAlg: 'RS256' } }, { idTokenAlg: 'RS256' })

  test('are verified with the provider JWKS', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=alice')
    await finishFlow(browser, flow.callback!)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
  })
})

/**
 * Start a flow as a mobile app does (the platform header on the first request only), follow
 * it through the provider, and request the callback: returns the callback's answer.
 */
async function appFlow(browser: Browser, origin: string, callbackURL: string, path: string): Promise<Hop> {
  const start = await browser.get(`${origin}${path}`, { headers: { 'amwal-platform': 'app' } })
  assert.equal(start.status, 302, `the flow starts (got ${start.status})`)
  const { hops } = await browser.follow(start.location!)
  const callback = hops.find((hop) => hop.url.startsWith(`${callbackURL}?`))
  assert.ok(callback, 'the provider sent the app back to the callback')
  return callback
}

/** The JSON body of an app answer, after checking that it is JSON and never cached. */
function appAnswer(hop: Hop, status: number): Record<string, unknown> {
  assert.equal(hop.status, status, hop.body.slice(0, 200))
  assert.match(hop.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(hop.headers.get('cache-control'), 'no-store')
  return JSON.parse(hop.body) as Record<string, unknown>
}

describe('a mobile app\'s JSON answers, without appToken', () => {
  const harness = harnessForSuite()

  const flow = (browser: Browser, path: string) => appFlow(browser, harness.app.origin, harness.app.callbackURL, path)

  test('LOGIN: { username } without a token, no-store; the session cookie of the answer logs the app in', async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const browser = new Browser()
      const answer = await flow(browser, '/justpass/login')
      assert.deepEqual(appAnswer(answer, 200), { username: 'alice' })
      assert.ok(answer.headers.getSetCookie().some((line) => line.startsWith('shop.sid=')), 'the answer sets the new session cookie')
      assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
    })
  })

  test('second-factor LOGIN: { username } without a token, no-store', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/password?username=bob`)
    const answer = await flow(browser, '/justpass/login')
    assert.deepEqual(appAnswer(answer, 200), { username: 'bob' })
    assert.equal((await whoAmI(browser, harness)).user?.username, 'bob')
  })

  test('REG: { username, justpassEnabled: true }, no-store', async () => {
    await harness.app.users.setJustpassEnabled('alice', false)
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
    assert.deepEqual(appAnswer(await flow(browser, '/justpass/reg'), 200), { username: 'alice', justpassEnabled: true })
    assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, true)
  })

  test('a refusal (cancel at the provider): 401 { err, reason }, no-store, nobody logged in', async () => {
    await harness.provider.withBehaviour({ action: 'cancel' }, async () => {
      const browser = new Browser()
      const answer = await flow(browser, '/justpass/login')
      assert.deepEqual(appAnswer(answer, 401), { err: 'The passkey step was cancelled. Nothing was changed.', reason: 'provider_denied' })
      assert.equal((await whoAmI(browser, harness)).user, null)
    })
  })

  test('a refusal before the flow is found (the callback names the platform): 401, no-store', async () => {
    const browser = new Browser()
    const answer = await browser.get(`${harness.app.callbackURL}?code=abc&state=never-issued`, { headers: { 'amwal-platform': 'app' } })
    assert.deepEqual(appAnswer(answer, 401), { err: 'This sign-in link is unknown or was already used. Start again.', reason: 'state_unknown' })
  })
})

describe('a mobile app\'s JSON answers, with appToken', () => {
  let provider: TestProvider
  let close: () => Promise<void>
  let origin: string
  let callbackURL: string
  let users: MemoryUserStore
  /** The API tokens the site issued, to the username they stand for. */
  const apiTokens = new Map<string, string>()
  /** Each appToken call: the user it was given, and the user the request was logged in as. */
  const calls: Array<{ user: string; loggedIn: string | undefined }> = []

  before(async () => {
    const server = await reserveTestApp()
    provider = await startTestProvider({ redirectURIs: [server.callbackURL] })
    users = new MemoryUserStore(['alice', 'bob'])
    const authenticator = new Passport()
    authenticator.use(new JustpassStrategy<MemoryUser>({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL: server.callbackURL, userStore: users }))
    authenticator.serializeUser<string>((user, done) => done(null, (user as MemoryUser).username))
    authenticator.deserializeUser<string>((username, done) => {
      users.findByUsername(username).then((user) => done(null, user ?? false), done)
    })
    const app = express()
    app.use(session({ secret: 'app-token-session-secret', resave: false, saveUninitialized: false }))
    app.use(authenticator.initialize())
    app.use(authenticator.session())
    app.get('/test/login-as', async (req, res, next) => {
      const user = await users.findByUsername(String(req.query.username))
      if (!user) return void res.status(404).end()
      req.logIn(user, (err) => (err ? next(err) : res.redirect('/')))
    })
    app.get('/justpass/reg', authenticator.authenticate('justpass', { mode: 'register' }))
    app.get('/justpass/login', authenticator.authenticate('justpass', { mode: 'login' }))
    app.get('/justpass/callback', justpassCallback({
      authenticator,
      appToken: async (req, user) => {
        const username = (user as MemoryUser).username
        calls.push({ user: username, loggedIn: (req.user as MemoryUser | undefined)?.username })
        const token = randomBytes(24).toString('base64url')
        apiTokens.set(token, username)
        return token
      },
    }))
    // The site's API, for an app that sends its token instead of the session cookie.
    app.get('/api/me', (req, res) => {
      const username = apiTokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''))
      res.status(username ? 200 : 401).json({ username: username ?? null })
    })
    server.handle(app)
    origin = server.origin
    callbackURL = server.callbackURL
    close = async () => {
      await server.close()
      await provider.close()
    }
  })
  after(() => close())

  test('LOGIN: { username, token } with the token appToken issued for the logged-in user, no-store; the API accepts it', async () => {
    await users.setJustpassEnabled('alice', true)
    await provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      calls.length = 0
      const answer = appAnswer(await appFlow(new Browser(), origin, callbackURL, '/justpass/login'), 200)
      assert.deepEqual(Object.keys(answer).sort(), ['token', 'username'])
      assert.equal(answer.username, 'alice')
      assert.equal(apiTokens.get(answer.token as string), 'alice', 'the token is the one appToken issued')
      assert.deepEqual(calls, [{ user: 'alice', loggedIn: 'alice' }], 'appToken is called once, after the user is logged in')
      const api = await new Browser().get(`${origin}/api/me`, { headers: { authorization: `Bearer ${answer.token as string}` } })
      assert.deepEqual(JSON.parse(api.body), { username: 'alice' })
    })
  })

  test('REG: { username, justpassEnabled: true }, no token, no-store', async () => {
    calls.length = 0
    const browser = new Browser()
    await browser.get(`${origin}/test/login-as?username=bob`)
    assert.deepEqual(appAnswer(await appFlow(browser, origin, callbackURL, '/justpass/reg'), 200), { username: 'bob', justpassEnabled: true })
    assert.deepEqual(calls, [], 'no token is issued for REG')
  })

  test('a refusal: 401 { err, reason }, no token, no-store; appToken is not called', async () => {
    calls.length = 0
    await provider.withBehaviour({ action: 'cancel' }, async () => {
      const answer = await appFlow(new Browser(), origin, callbackURL, '/justpass/login')
      assert.deepEqual(appAnswer(answer, 401), { err: 'The passkey step was cancelled. Nothing was changed.', reason: 'provider_denied' })
      assert.deepEqual(calls, [])
    })
  })
})
