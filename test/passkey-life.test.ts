/**
 * A passkey's life at the site, on Express against the local provider over HTTP:
 * passkey login turned off refuses the passkey (`passkey_login_off`, both kinds of
 * LOGIN), `mode: 'confirm'` and its guard, `keepSessionData` at LOGIN, and
 * `justpassLogout`.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeJwt, jwtVerify } from 'jose'
import { JustpassConfigError, justpassCallback, justpassLogout, justpassProvider, requireJustpassConfirmation } from '../src/index.ts'
import { Browser, type Hop } from './support/browser.ts'
import { finishFlow, startFlow, harnessForSuite, startHarness, whoAmI, type Harness } from './support/harness.ts'

const now = () => Math.floor(Date.now() / 1000)

/** The session as the site holds it. */
async function sessionOf(browser: Browser, harness: Harness): Promise<Record<string, unknown>> {
  return browser.json(`${harness.app.origin}/test/session`)
}

/** Log `username` in without a passkey (the test site's shortcut), in a new browser. */
async function loggedIn(harness: Harness, username: string): Promise<Browser> {
  const browser = new Browser()
  await browser.get(`${harness.app.origin}/test/login-as?username=${username}`)
  assert.equal((await whoAmI(browser, harness)).user?.username, username)
  return browser
}

/** Run a flow from `path` to its end; the notice the site then shows. */
async function run(browser: Browser, harness: Harness, path: string): Promise<{ hops: Hop[]; notice: { mode: string; ok: boolean; reason?: string; message?: string } | null }> {
  const started = await startFlow(browser, harness, path)
  assert.ok(started.callback, `the provider sent the browser back (last hop ${started.hops.at(-1)?.status})`)
  const hops = await finishFlow(browser, started.callback)
  return { hops, notice: (await whoAmI(browser, harness)).notice as never }
}

describe('passkey login turned off (justpassEnabledOf)', () => {
  const harness = harnessForSuite()

  test('single-factor LOGIN with a passkey still registered at the provider is refused with passkey_login_off', async () => {
    await harness.app.users.setJustpassEnabled('alice', true, { sub: harness.provider.subOf('alice') })
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const browser = new Browser()
      const on = await run(browser, harness, '/justpass/login')
      assert.deepEqual(on.notice, { mode: 'login', ok: true, message: 'You are signed in with your passkey.' }, 'on: the passkey logs alice in')
      await harness.app.users.setJustpassEnabled('alice', false)
      const other = new Browser()
      const off = await run(other, harness, '/justpass/login')
      assert.equal(off.notice?.reason, 'passkey_login_off')
      assert.equal(off.notice?.message, 'Passkey login is turned off for this account. Sign in with your password.')
      assert.equal(off.hops[0]!.location, `${harness.app.origin}/login`)
      assert.equal((await whoAmI(other, harness)).user, null)
    })
  })

  test('second-factor LOGIN whose user turned passkey login off meanwhile is refused, and the password step is dropped', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = new Browser()
    const started = await startFlow(browser, harness, '/test/password?username=bob')
    assert.ok(started.callback)
    assert.equal(started.authorize?.get('login_hint'), 'bob')
    await harness.app.users.setJustpassEnabled('bob', false) // from another device, say
    await finishFlow(browser, started.callback)
    const me = await whoAmI(browser, harness)
    assert.equal(me.user, null)
    assert.equal(me.notice?.reason, 'passkey_login_off')
    assert.equal((await sessionOf(browser, harness)).base_username, undefined)
  })

  test('REG is not asked: it is how passkey login is turned on', async () => {
    await harness.app.users.setJustpassEnabled('alice', false)
    const browser = await loggedIn(harness, 'alice')
    const reg = await run(browser, harness, '/justpass/reg')
    assert.deepEqual(reg.notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
    assert.equal((await harness.app.users.findByUsername('alice'))?.justpassEnabled, true)
  })

  test('a store whose justpassEnabledOf answers anything but true refuses (fails closed)', async () => {
    const { MemoryUserStore } = await import('../src/index.ts')
    for (const answer of [false, undefined, 'yes', 1]) {
      const store = new MemoryUserStore(['alice'], {})
      await store.setJustpassEnabled('alice', true)
      Object.defineProperty(store, 'justpassEnabledOf', { value: async () => answer })
      const site = await startHarness({ strategy: { userStore: store } })
      try {
        site.provider.behaviour = { action: 'approve', account: 'alice' }
        const off = await run(new Browser(), site, '/justpass/login')
        assert.equal(off.notice?.reason, 'passkey_login_off', String(answer))
      } finally {
        await site.close()
      }
    }
  })

  test('a justpassEnabledOf that is not a function is refused when the strategy is built', async () => {
    const { JustpassStrategy } = await import('../src/index.ts')
    const store = { findByUsername: async () => undefined, setJustpassEnabled: async () => undefined, justpassEnabledOf: true }
    assert.throws(
      () => new JustpassStrategy({ opURL: harness.provider.opURL, clientID: 'c', clientSecret: 'a-client-secret-0123456789abcdef0123', callbackURL: harness.app.callbackURL, userStore: store as never }),
      (err: Error) => err instanceof JustpassConfigError && err.option === 'userStore' && /justpassEnabledOf/.test(err.message),
    )
  })
})

describe("confirm it is you (mode: 'confirm')", () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness()
    for (const name of ['alice', 'bob']) await harness.app.users.setJustpassEnabled(name, true, { sub: harness.provider.subOf(name) })
  })
  after(() => harness.close())

  test('without a logged-in user: refused at once with login_required, nothing sent to the provider', async () => {
    const browser = new Browser()
    const requests = harness.provider.authorizationRequests.length
    const hop = await browser.get(`${harness.app.origin}/justpass/confirm`)
    assert.equal(hop.status, 401)
    assert.equal(hop.location, undefined)
    assert.equal(harness.provider.authorizationRequests.length, requests)
  })

  test('the local provider answers acr keys and the passkey amr: a site with requireAcr logs in', async () => {
    const strict = await startHarness({ providerSettings: { requireAcr: true } })
    try {
      await strict.app.users.setJustpassEnabled('alice', true)
      strict.provider.behaviour = { action: 'approve', account: 'alice' }
      const browser = new Browser()
      const { notice } = await run(browser, strict, '/justpass/login')
      assert.deepEqual(notice, { mode: 'login', ok: true, message: 'You are signed in with your passkey.' })
      const claims = decodeJwt((await sessionOf(browser, strict)).justpassIdToken as string)
      assert.deepEqual({ acr: claims.acr, amr: claims.amr }, { acr: 'keys', amr: ['hwk', 'user'] })
    } finally {
      await strict.close()
    }
  })

  test('asks for a new authentication now: prompt=login, max_age=0, the logged-in username, the signature over both', async () => {
    const browser = await loggedIn(harness, 'alice')
    const started = await startFlow(browser, harness, '/justpass/confirm')
    const params = started.authorize!
    assert.equal(params.get('prompt'), 'login')
    assert.equal(params.get('max_age'), '0')
    assert.equal(params.get('login_hint'), 'alice')
    assert.equal(params.get('username'), 'alice')
    const { payload } = await jwtVerify(params.get('signature')!, new TextEncoder().encode(harness.provider.clientSecret))
    assert.deepEqual({ state: payload.state, login_hint: payload.login_hint }, { state: params.get('state'), login_hint: 'alice' })
  })

  test('success keeps the session, its data and its user, records justpassConfirmedAt and returns to ?next=', async () => {
    const browser = await loggedIn(harness, 'alice')
    await browser.get(`${harness.app.origin}/test/set?key=cart&value=3 apples`)
    const before = await whoAmI(browser, harness)
    const started = now()
    const { hops, notice } = await run(browser, harness, '/justpass/confirm?next=/orders')
    assert.equal(hops[0]!.location, `${harness.app.origin}/orders`)
    assert.deepEqual(notice, { mode: 'confirm', ok: true, message: 'Thank you: you confirmed it is you with your passkey.' })
    const after = await whoAmI(browser, harness)
    assert.equal(after.user?.username, 'alice')
    assert.equal(after.sessionID, before.sessionID, 'the session id is kept: nobody was logged in anew')
    const session = await sessionOf(browser, harness)
    assert.equal(session.cart, '3 apples')
    assert.ok(typeof session.justpassConfirmedAt === 'number' && session.justpassConfirmedAt >= started && session.justpassConfirmedAt <= now())
    assert.equal(typeof session.justpassIdToken, 'string', 'the newer ID token is kept for logout')
  })

  test("another user's passkey is refused with identity_mismatch; the session stays as it was", async () => {
    const browser = await loggedIn(harness, 'alice')
    const before = await sessionOf(browser, harness)
    await harness.provider.withBehaviour({ action: 'approve', account: 'bob' }, async () => {
      const { hops, notice } = await run(browser, harness, '/justpass/confirm?next=/orders')
      assert.equal(notice?.reason, 'identity_mismatch')
      assert.equal(hops[0]!.location, `${harness.app.origin}/`, 'a failed confirmation goes home, not to the page that asked for it')
    })
    const after = await sessionOf(browser, harness)
    assert.equal(after.justpassConfirmedAt, undefined)
    assert.deepEqual(after.passport, before.passport)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
  })

  test('the logged-in user changing during the confirmation is refused', async () => {
    // bob without a recorded sub: the check of the logged-in user at the callback is all that stands.
    await harness.app.users.setJustpassEnabled('bob', false)
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = await loggedIn(harness, 'alice')
    const started = await startFlow(browser, harness, '/justpass/confirm')
    await browser.get(`${harness.app.origin}/test/login-as-keeping-session?username=bob`)
    await finishFlow(browser, started.callback!)
    const me = await whoAmI(browser, harness)
    assert.equal(me.user?.username, 'bob')
    assert.equal(me.notice?.reason, 'identity_mismatch')
    assert.equal((await sessionOf(browser, harness)).justpassConfirmedAt, undefined)
  })

  test('passkey_login_off, account_disabled and the sub recorded at REG apply', async () => {
    const cases: Array<[string, () => Promise<unknown>, () => Promise<unknown>, string]> = [
      ['off', () => harness.app.users.setJustpassEnabled('alice', false), () => harness.app.users.setJustpassEnabled('alice', true, { sub: harness.provider.subOf('alice') }), 'passkey_login_off'],
      ['disabled', async () => harness.app.users.setActive('alice', false), async () => harness.app.users.setActive('alice', true), 'account_disabled'],
      ['other sub', () => harness.app.users.setJustpassEnabled('alice', true, { sub: 'another-account' }), () => harness.app.users.setJustpassEnabled('alice', true, { sub: harness.provider.subOf('alice') }), 'identity_mismatch'],
    ]
    for (const [name, breakIt, restore, reason] of cases) {
      const browser = await loggedIn(harness, 'alice')
      await breakIt()
      try {
        const { notice } = await run(browser, harness, '/justpass/confirm')
        assert.equal(notice?.reason, reason, name)
        assert.equal((await sessionOf(browser, harness)).justpassConfirmedAt, undefined, name)
      } finally {
        await restore()
      }
    }
  })

  test('a mobile app gets JSON: { username, confirmed: true }', async () => {
    const browser = await loggedIn(harness, 'alice')
    browser.headers = { 'amwal-platform': 'app' }
    const started = await startFlow(browser, harness, '/justpass/confirm')
    const answer = await browser.get(started.callback!)
    assert.equal(answer.status, 200)
    assert.equal(answer.headers.get('cache-control'), 'no-store')
    assert.deepEqual(JSON.parse(answer.body), { username: 'alice', confirmed: true })
  })
})

describe('the confirmation guard (requireJustpassConfirmation)', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({ confirmation: { maxAge: 120, returnTo: '/account' } })
    for (const name of ['alice', 'bob']) await harness.app.users.setJustpassEnabled(name, true)
  })
  after(() => harness.close())

  test('asks for a confirmation, returns to the page afterwards, then lets it through', async () => {
    const browser = await loggedIn(harness, 'alice')
    const asked = await browser.get(`${harness.app.origin}/test/sensitive?tab=email`)
    assert.equal(asked.status, 302)
    const authorize = new URL(asked.location!)
    assert.equal(authorize.searchParams.get('prompt'), 'login')
    assert.equal(authorize.searchParams.get('max_age'), '0')
    const { hops } = await run(browser, harness, '/test/sensitive?tab=email')
    assert.equal(hops[0]!.location, `${harness.app.origin}/test/sensitive?tab=email`)
    const page = await browser.get(`${harness.app.origin}/test/sensitive?tab=email`)
    assert.equal(page.status, 200)
    assert.equal(JSON.parse(page.body).user, 'alice')
  })

  test('a stale confirmation is asked again; one from the future is not trusted', async () => {
    const browser = await loggedIn(harness, 'alice')
    for (const at of [now() - 121, now() + 600]) {
      await browser.get(`${harness.app.origin}/test/set?key=justpassConfirmedAt&value=${at}&number=1`)
      const hop = await browser.get(`${harness.app.origin}/test/sensitive`)
      assert.equal(hop.status, 302, String(at))
      assert.ok(hop.location?.startsWith(`${harness.provider.opURL}authorize/?`))
    }
    await browser.get(`${harness.app.origin}/test/set?key=justpassConfirmedAt&value=${now() - 100}&number=1`)
    assert.equal((await browser.get(`${harness.app.origin}/test/sensitive`)).status, 200)
  })

  test('a POST goes back to the returnTo page; an app gets 401 JSON; nobody logged in is refused', async () => {
    const fresh = await loggedIn(harness, 'alice')
    const posted = await fresh.post(`${harness.app.origin}/test/sensitive`, {})
    assert.equal(posted.status, 302)
    const { stoppedAt } = await fresh.follow(posted.location!, (next) => next.href.startsWith(harness.app.callbackURL))
    const back = await finishFlow(fresh, stoppedAt!)
    assert.equal(back[0]!.location, `${harness.app.origin}/account`)

    const app = await loggedIn(harness, 'alice')
    app.headers = { 'amwal-platform': 'app' }
    const answer = await app.get(`${harness.app.origin}/test/sensitive`)
    assert.equal(answer.status, 401)
    assert.deepEqual(JSON.parse(answer.body), { err: 'Confirm it is you with your passkey, then try again.', reason: 'confirmation_required' })

    const nobody = await new Browser().get(`${harness.app.origin}/test/sensitive`)
    assert.equal(nobody.status, 401)
  })

  test('a LOGIN drops the confirmation: it belongs to the session it was made in', async () => {
    const browser = await loggedIn(harness, 'alice')
    await run(browser, harness, '/justpass/confirm')
    assert.equal(typeof (await sessionOf(browser, harness)).justpassConfirmedAt, 'number')
    const before = (await whoAmI(browser, harness)).sessionID
    const login = await run(browser, harness, '/test/password?username=alice')
    assert.deepEqual(login.notice, { mode: 'login', ok: true, message: 'You are signed in with your passkey.' })
    const after = await whoAmI(browser, harness)
    assert.equal(after.user?.username, 'alice')
    assert.notEqual(after.sessionID, before)
    assert.equal((await sessionOf(browser, harness)).justpassConfirmedAt, undefined)
  })

  test('malformed options are refused by name', () => {
    for (const [option, value] of [['maxAge', 0], ['maxAge', 'soon'], ['returnTo', 'https://evil.example/'], ['returnTo', '//evil.example'], ['platformHeader', 'a b'], ['maxAgee', 1]] as const) {
      assert.throws(() => requireJustpassConfirmation({ [option]: value } as never), (err: Error) => err instanceof JustpassConfigError && err.option === option, `${option}: ${value}`)
    }
  })
})

describe('keepSessionData at LOGIN', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({ callback: { keepSessionData: ['cart', 'locale'] } })
    await harness.app.users.setJustpassEnabled('alice', true)
  })
  after(() => harness.close())

  test('the named fields survive the passkey LOGIN, an unnamed one does not, and the session id changes', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/set?key=cart&value=3 apples`)
    await browser.get(`${harness.app.origin}/test/set?key=locale&value=fr`)
    await browser.get(`${harness.app.origin}/test/set?key=scratch&value=left behind`)
    const before = await whoAmI(browser, harness)
    await harness.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      await run(browser, harness, '/justpass/login')
    })
    const after = await whoAmI(browser, harness)
    assert.equal(after.user?.username, 'alice')
    assert.notEqual(after.sessionID, before.sessionID)
    const session = await sessionOf(browser, harness)
    assert.equal(session.cart, '3 apples')
    assert.equal(session.locale, 'fr')
    assert.equal(session.scratch, undefined)
  })

  test('without it, LOGIN drops every field, as before', async () => {
    const plain = await startHarness()
    try {
      await plain.app.users.setJustpassEnabled('alice', true)
      const browser = new Browser()
      await browser.get(`${plain.app.origin}/test/set?key=cart&value=3 apples`)
      await run(browser, plain, '/test/password?username=alice')
      assert.equal((await whoAmI(browser, plain)).user?.username, 'alice')
      const session = await sessionOf(browser, plain)
      assert.equal(session.cart, undefined)
      assert.equal(session.base_username, undefined, 'the password step is over: the next LOGIN names nobody')
    } finally {
      await plain.close()
    }
  })

  test('names that passport, the session or passport-justpass own are refused when the handler is built', () => {
    for (const name of ['passport', 'cookie', 'justpass_notice', 'justpass', 'base_username', 'justpassConfirmedAt', 'justpassIdToken', '__proto__', 'my_notice']) {
      assert.throws(() => justpassCallback({ keepSessionData: [name], noticeKey: 'my_notice' }), (err: Error) => err instanceof JustpassConfigError && err.option === 'keepSessionData' && err.message.includes(name), name)
    }
    for (const value of ['cart', [1], [''], null]) {
      assert.throws(() => justpassCallback({ keepSessionData: value as never }), (err: Error) => err instanceof JustpassConfigError && err.option === 'keepSessionData', JSON.stringify(value))
    }
  })
})

describe('logout at the provider (justpassLogout)', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({ logout: { postLogoutRedirectURL: 'http://127.0.0.1:9/signed-out' } })
    await harness.app.users.setJustpassEnabled('alice', true)
  })
  after(() => harness.close())

  test("ends the site's session, then sends the browser to end-session with the session's ID token", async () => {
    const browser = new Browser()
    await run(browser, harness, '/test/password?username=alice')
    const before = await whoAmI(browser, harness)
    assert.equal(before.user?.username, 'alice')
    const kept = (await sessionOf(browser, harness)).justpassIdToken as string
    assert.ok(kept.length > 0 && kept.length < 2048, `the kept ID token is ${kept.length} bytes`)
    const claims = decodeJwt(kept)
    assert.deepEqual([claims.aud, claims.sub], [harness.provider.clientID, harness.provider.subOf('alice')])

    const hop = await browser.post(`${harness.app.origin}/logout`, {})
    assert.equal(hop.status, 302)
    assert.equal(hop.headers.get('cache-control'), 'no-store')
    const url = new URL(hop.location!)
    assert.equal(`${url.origin}${url.pathname}`, `${harness.provider.opURL}end-session/`)
    assert.equal(url.searchParams.get('id_token_hint'), kept)
    assert.equal(url.searchParams.get('post_logout_redirect_uri'), 'http://127.0.0.1:9/signed-out')
    assert.equal(url.searchParams.get('client_id'), harness.provider.clientID)
    assert.match(url.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{32}$/)
    const after = await whoAmI(browser, harness)
    assert.equal(after.user, null)
    assert.notEqual(after.sessionID, before.sessionID)
  })

  test('a session without a kept ID token (made before it was kept) logs out too, with client_id only', async () => {
    const browser = await loggedIn(harness, 'alice')
    const hop = await browser.post(`${harness.app.origin}/logout`, {})
    const url = new URL(hop.location!)
    assert.equal(url.searchParams.get('id_token_hint'), null)
    assert.equal(url.searchParams.get('client_id'), harness.provider.clientID)
    assert.equal((await whoAmI(browser, harness)).user, null)
  })

  test("endSessionURL: false logs out at the site only; endSessionURL names another endpoint", async () => {
    for (const [endSessionURL, expected] of [[false, '/bye'], ['https://id.example/logout', 'https://id.example/logout']] as const) {
      const site = await startHarness({ providerSettings: { endSessionURL }, logout: { homeURL: '/bye' } })
      try {
        const browser = await loggedIn(site, 'alice')
        const hop = await browser.post(`${site.app.origin}/logout`, {})
        const location = new URL(hop.location!)
        assert.equal(endSessionURL === false ? location.pathname : `${location.origin}${location.pathname}`, expected)
        assert.equal((await whoAmI(browser, site)).user, null)
      } finally {
        await site.close()
      }
    }
  })

  test('malformed options are refused by name', () => {
    assert.throws(() => justpassLogout({ postLogoutRedirectURL: '/relative' }), (err: Error) => err instanceof JustpassConfigError && err.option === 'postLogoutRedirectURL')
    assert.throws(() => justpassLogout({ homeUrl: '/' } as never), (err: Error) => err instanceof JustpassConfigError && err.option === 'homeUrl')
    assert.throws(() => justpassProvider({ opURL: 'https://a.example/openid/', clientID: 'c', clientSecret: 's', endSessionURL: true as never }), (err: Error) => err instanceof JustpassConfigError && err.option === 'endSessionURL')
    assert.throws(() => justpassProvider({ opURL: 'https://a.example/openid/', clientID: 'c', clientSecret: 's', endSessionURL: 'not a url' }), (err: Error) => err instanceof JustpassConfigError && err.option === 'endSessionURL')
  })
})
