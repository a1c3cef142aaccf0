/**
 * The flows every host must complete, over HTTP against the local provider, for a site
 * built by the host's test: REG, second-factor LOGIN, single-factor LOGIN, cancel, the
 * identity binding, a replayed callback, a mobile app's JSON answers, a URL-only start,
 * passkey login turned off, a confirmation before a sensitive page, a cart kept through
 * LOGIN, and logout at the provider. The site has the example sites' routes: POST /login
 * (the password step), the justpass routes (reg, login, confirm, callback),
 * /justpass/login-url, GET /login and GET / (JSON pages with the notice), GET /account
 * (behind the confirmation guard), GET and POST /cart, and POST /logout.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryUserStore } from 'passport-justpass'
import { Browser, type Hop } from './browser.ts'
import { startTestProvider, type TestProvider } from './provider.ts'
import { startLoopbackServer, type LoopbackServer } from './server.ts'

/** What the host's test builds: the site on `server`, trusting `provider`. */
export interface HostSiteInput {
  server: LoopbackServer
  callbackURL: string
  provider: TestProvider
  users: MemoryUserStore
  passwords: Map<string, string>
  flowStore: 'cookie' | 'session'
}

/** Builds the site and installs it on `input.server`; returns what to close besides the server. */
export type HostSiteBuilder = (input: HostSiteInput) => Promise<() => Promise<void>>

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'ken', 'liam', 'mia', 'nina']

/** The flows, on a site built by `build`, with the `flowStore` given. */
export function hostFlowSuite(name: string, flowStore: 'cookie' | 'session', build: HostSiteBuilder): void {
  describe(`${name} (flowStore: '${flowStore}')`, () => {
    let server: LoopbackServer
    let provider: TestProvider
    let closeSite: () => Promise<void>
    const users = new MemoryUserStore(USERS)
    const passwords = new Map(USERS.map((user) => [user, `${user}-password`]))
    const callbackURL = () => `${server.origin}/justpass/callback`

    before(async () => {
      server = await startLoopbackServer()
      provider = await startTestProvider({ redirectURIs: [callbackURL()] })
      closeSite = await build({ server, callbackURL: callbackURL(), provider, users, passwords, flowStore })
    })
    after(async () => {
      await server.close()
      await closeSite()
      await provider.close()
    })

    const flowCookies = (browser: Browser) => [...(browser.cookies.get('127.0.0.1')?.keys() ?? [])].filter((cookie) => cookie.startsWith('justpass.'))

    /** POST the password step; returns its redirect. */
    async function password(browser: Browser, username: string): Promise<Hop> {
      const hop = await browser.post(`${server.origin}/login`, { username, password: `${username}-password` })
      assert.equal(hop.status, 302, hop.body)
      return hop
    }

    /** Follow `path` through the provider, stopping before the site's callback; returns the callback URL and the hops. */
    async function toCallback(browser: Browser, path: string): Promise<{ callback: string; hops: Hop[] }> {
      const { hops, stoppedAt } = await browser.follow(`${server.origin}${path}`, (next) => next.href.startsWith(callbackURL()))
      assert.ok(stoppedAt, `the provider sent the browser back (last hop: ${hops.at(-1)?.status} ${hops.at(-1)?.body})`)
      return { callback: stoppedAt, hops }
    }

    /** Request the callback (one hop: the page it sends to shows the notice, once). */
    async function finish(browser: Browser, callback: string): Promise<Hop[]> {
      return [await browser.get(callback)]
    }

    /** The login page: whether it shows a failure, and the notice's reason. */
    async function loginPage(browser: Browser): Promise<{ failed: boolean; reason?: string }> {
      return browser.json(`${server.origin}/login`)
    }

    async function home(browser: Browser): Promise<{ user: string | null; justpassEnabled: boolean; notice: { mode: string; ok: boolean; reason?: string } | null }> {
      return browser.json(`${server.origin}/`)
    }

    async function withBehaviour<T>(behaviour: TestProvider['behaviour'], run: () => Promise<T>): Promise<T> {
      provider.behaviour = behaviour
      try {
        return await run()
      } finally {
        provider.behaviour = { action: 'approve' }
      }
    }

    test('REG: a logged-in user enables passkey login; the flow is kept where the site chose', async () => {
      const browser = new Browser()
      const login = await password(browser, 'alice')
      assert.equal(login.location, `${server.origin}/`)
      const { callback, hops } = await toCallback(browser, '/justpass/reg')
      assert.equal(hops[0]!.status, 302)
      assert.ok(hops[0]!.location?.startsWith(`${provider.opURL}authorize/?`))
      assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), 'alice')
      const started = hops[0]!.headers.getSetCookie().filter((line) => line.startsWith('justpass.'))
      if (flowStore === 'cookie') {
        assert.equal(started.length, 1, 'the start sets one flow cookie')
        assert.match(started[0]!, /; HttpOnly; SameSite=Lax/)
      } else {
        assert.equal(started.length, 0, 'the session flow store sets no flow cookie')
      }
      const pages = await finish(browser, callback)
      assert.equal(pages[0]!.location, `${server.origin}/`)
      assert.deepEqual(flowCookies(browser), [], 'the callback clears the flow cookie')
      const me = await home(browser)
      assert.deepEqual(me, { user: 'alice', justpassEnabled: true, notice: { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' } })
      assert.equal((await users.findByUsername('alice'))?.justpassEnabled, true)
    })

    test('a start on another host name than the callback URL\'s goes to the callback URL\'s host first; sent back again, it is refused', async () => {
      await users.setJustpassEnabled('ken', true)
      const browser = new Browser()
      const other = server.origin.replace('127.0.0.1', 'localhost')
      const requests = provider.authorizationRequests.length
      const moved = await browser.get(`${other}/justpass/login?next=/orders`)
      assert.equal(moved.status, 302)
      assert.equal(moved.location, `${server.origin}/justpass/login?next=/orders&justpass_host=1`)
      assert.deepEqual(moved.headers.getSetCookie().filter((line) => line.startsWith('justpass.') || line.startsWith('__Host-justpass.')), [], 'no flow at the other host')
      const loop = await browser.get(`${other}/justpass/login?justpass_host=1`)
      assert.equal(loop.status, 401, 'a host that still differs after the redirect is refused, not redirected again')
      assert.equal(loop.location, undefined)
      assert.equal(provider.authorizationRequests.length, requests)
      const pages = await withBehaviour({ action: 'approve', account: 'ken' }, async () => finish(browser, (await toCallback(browser, '/justpass/login?next=/orders&justpass_host=1')).callback))
      assert.equal(pages[0]!.location, `${server.origin}/orders`)
      assert.equal((await home(browser)).user, 'ken')
    })

    test('a signed-in user back on a callback already used goes home, with no notice', async () => {
      await users.setJustpassEnabled('bob', true)
      const browser = new Browser()
      await password(browser, 'bob')
      const { callback } = await toCallback(browser, '/justpass/login')
      await finish(browser, callback)
      assert.equal((await home(browser)).user, 'bob')
      const again = await browser.get(callback)
      assert.equal(again.location, `${server.origin}/`)
      assert.deepEqual(await home(browser), { user: 'bob', justpassEnabled: true, notice: null })
      const stranger = new Browser()
      const refused = await stranger.get(callback)
      assert.equal(refused.location, `${server.origin}/login`, 'signed out, the same link is a failure with its notice')
      assert.equal((await loginPage(stranger)).reason, 'state_unknown')
    })

    test('REG needs a logged-in user', async () => {
      const browser = new Browser()
      const requests = provider.authorizationRequests.length
      const hop = await browser.get(`${server.origin}/justpass/reg`)
      assert.equal(hop.status, 401)
      assert.equal(hop.location, undefined)
      assert.deepEqual(flowCookies(browser), [])
      await new Promise((resolve) => setTimeout(resolve, 50))
      assert.equal(provider.authorizationRequests.length, requests)
    })

    test('LOGIN as a second factor: the password step, then the passkey of the same user', async () => {
      await users.setJustpassEnabled('bob', true)
      const browser = new Browser()
      const step = await password(browser, 'bob')
      assert.equal(step.location, `${server.origin}/justpass/login`)
      assert.equal((await home(browser)).user, null, 'the password alone logs nobody in')
      const { callback } = await toCallback(browser, '/justpass/login')
      assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), 'bob')
      const pages = await finish(browser, callback)
      assert.equal(pages[0]!.location, `${server.origin}/`)
      assert.deepEqual(await home(browser), { user: 'bob', justpassEnabled: true, notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' } })
      assert.deepEqual(flowCookies(browser), [])
    })

    test('LOGIN, single factor: the passkey alone', async () => {
      await users.setJustpassEnabled('carol', true)
      const browser = new Browser()
      const me = await withBehaviour({ action: 'approve', account: 'carol' }, async () => {
        const { callback } = await toCallback(browser, '/justpass/login')
        assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), null)
        await finish(browser, callback)
        return home(browser)
      })
      assert.equal(me.user, 'carol')
      assert.deepEqual(me.notice, { mode: 'login', ok: true, message: 'You are signed in with your passkey.' })
    })

    test('cancel: the login page with the reason; nobody logged in; the password step must be done again', async () => {
      await users.setJustpassEnabled('dave', true)
      const browser = new Browser()
      await password(browser, 'dave')
      const pages = await withBehaviour({ action: 'cancel' }, async () => finish(browser, (await toCallback(browser, '/justpass/login')).callback))
      assert.equal(pages[0]!.location, `${server.origin}/login`)
      const page = await loginPage(browser)
      assert.equal(page.failed, true)
      assert.equal(page.reason, 'provider_denied')
      assert.equal((await home(browser)).user, null)
      // The base username was dropped: a new LOGIN is single-factor.
      await withBehaviour({ action: 'cancel' }, () => toCallback(browser, '/justpass/login'))
      assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), null)
    })

    test('the identity binding: another user\'s passkey is refused, for REG and for a second-factor LOGIN', async () => {
      const browser = new Browser()
      await password(browser, 'erin')
      const reg = await withBehaviour({ action: 'approve', account: 'frank' }, async () => finish(browser, (await toCallback(browser, '/justpass/reg')).callback))
      assert.equal(reg[0]!.location, `${server.origin}/`)
      const afterReg = await home(browser)
      assert.equal(afterReg.notice?.reason, 'identity_mismatch')
      assert.equal(afterReg.user, 'erin')
      assert.equal((await users.findByUsername('erin'))?.justpassEnabled, false)

      await users.setJustpassEnabled('frank', true)
      const other = new Browser()
      await password(other, 'frank')
      const login = await withBehaviour({ action: 'approve', account: 'erin' }, async () => finish(other, (await toCallback(other, '/justpass/login')).callback))
      assert.equal(login[0]!.location, `${server.origin}/login`)
      assert.equal((await loginPage(other)).reason, 'identity_mismatch')
      assert.equal((await home(other)).user, null)
    })

    test('a callback replayed with the flow it carried is refused, and reaches the token endpoint once', async () => {
      await users.setJustpassEnabled('grace', true)
      const browser = new Browser()
      await password(browser, 'grace')
      const { callback } = await toCallback(browser, '/justpass/login')
      const saved = new Map(browser.cookies.get('127.0.0.1'))
      const tokens = provider.tokenRequests
      await finish(browser, callback)
      assert.equal((await home(browser)).user, 'grace')
      const replay = new Browser()
      replay.cookies.set('127.0.0.1', saved)
      const pages = await finish(replay, callback)
      assert.equal(pages[0]!.location, `${server.origin}/login`)
      assert.equal((await loginPage(replay)).reason, 'state_unknown')
      assert.equal(provider.tokenRequests, tokens + 1)
    })

    test('a mobile app (platform header) gets JSON: LOGIN and REG success, and a refusal', async () => {
      await users.setJustpassEnabled('heidi', true)
      const app = new Browser()
      app.headers = { 'amwal-platform': 'app' }
      await password(app, 'heidi')
      const { callback } = await toCallback(app, '/justpass/login')
      assert.equal(provider.authorizationRequests.at(-1)?.get('AMWALPLATFORM'), 'app')
      const answer = await app.get(callback)
      assert.equal(answer.status, 200)
      assert.match(answer.headers.get('content-type') ?? '', /^application\/json/)
      assert.equal(answer.headers.get('cache-control'), 'no-store')
      assert.deepEqual(JSON.parse(answer.body), { username: 'heidi' })
      assert.equal((await home(app)).user, 'heidi', 'the answer\'s session cookie logs the app in')

      const reg = await app.get((await toCallback(app, '/justpass/reg')).callback)
      assert.equal(reg.status, 200)
      assert.deepEqual(JSON.parse(reg.body), { username: 'heidi', justpassEnabled: true })

      const denied = await withBehaviour({ action: 'cancel' }, async () => app.get((await toCallback(app, '/justpass/login')).callback))
      assert.equal(denied.status, 401)
      assert.equal(denied.headers.get('cache-control'), 'no-store')
      assert.deepEqual(JSON.parse(denied.body), { err: 'The passkey step was cancelled. Nothing was changed.', reason: 'provider_denied' })
    })

    test('a URL-only start answers {url} as JSON, and the flow it stored completes', async () => {
      const browser = new Browser()
      await password(browser, 'alice')
      const start = await browser.get(`${server.origin}/justpass/login-url`)
      assert.equal(start.status, 200, start.body)
      assert.match(start.headers.get('content-type') ?? '', /^application\/json/)
      assert.equal(start.headers.get('cache-control'), 'no-store')
      const { url } = JSON.parse(start.body) as { url: string }
      assert.ok(url.startsWith(`${provider.opURL}authorize/?`), url)
      assert.equal(flowCookies(browser).length, flowStore === 'cookie' ? 1 : 0)
      const { stoppedAt } = await browser.follow(url, (next) => next.href.startsWith(callbackURL()))
      assert.ok(stoppedAt)
      await finish(browser, stoppedAt)
      const me = await home(browser)
      assert.equal(me.user, 'alice')
      assert.deepEqual(me.notice, { mode: 'login', ok: true, message: 'You are signed in with your passkey.' })
    })

    test('passkey login turned off: the passkey still registered at the provider is refused, in both kinds of LOGIN', async () => {
      await users.setJustpassEnabled('ivan', true)
      await users.setJustpassEnabled('ivan', false)
      const single = new Browser()
      await withBehaviour({ action: 'approve', account: 'ivan' }, async () => finish(single, (await toCallback(single, '/justpass/login')).callback))
      const page = await loginPage(single)
      assert.deepEqual([page.failed, page.reason], [true, 'passkey_login_off'])
      assert.equal((await home(single)).user, null)

      await users.setJustpassEnabled('ivan', true)
      const second = new Browser()
      await password(second, 'ivan')
      const { callback } = await toCallback(second, '/justpass/login')
      await users.setJustpassEnabled('ivan', false) // turned off meanwhile, from another device
      await finish(second, callback)
      assert.equal((await loginPage(second)).reason, 'passkey_login_off')
      assert.equal((await home(second)).user, null)
    })

    test('a sensitive page asks the logged-in user to confirm it is them, then shows; another user\'s passkey is refused', async () => {
      // Each browser meets the provider with one account only (switching accounts there needs its script).
      const other = new Browser()
      await password(other, 'judy') // passkey login off: the password logs judy in
      assert.equal((await home(other)).user, 'judy')
      const refused = await withBehaviour({ action: 'approve', account: 'ken' }, async () => finish(other, (await toCallback(other, '/account')).callback))
      assert.equal(refused[0]!.location, `${server.origin}/`)
      const notice = (await home(other)).notice
      assert.deepEqual([notice?.mode, notice?.ok, notice?.reason], ['confirm', false, 'identity_mismatch'])
      assert.equal((await home(other)).user, 'judy', 'a refused confirmation changes nothing')

      const browser = new Browser()
      await password(browser, 'judy')
      await users.setJustpassEnabled('judy', true)
      const { callback, hops } = await toCallback(browser, '/account')
      const authorize = new URL(hops.find((hop) => hop.url.startsWith(`${provider.opURL}authorize/`))!.url)
      assert.deepEqual([authorize.searchParams.get('prompt'), authorize.searchParams.get('max_age'), authorize.searchParams.get('login_hint')], ['login', '0', 'judy'])
      const back = await finish(browser, callback)
      assert.equal(back[0]!.location, `${server.origin}/account`)
      const account = await browser.json<{ user: string; confirmedAt: number }>(`${server.origin}/account`)
      assert.equal(account.user, 'judy')
      assert.ok(Math.abs(account.confirmedAt - Date.now() / 1000) < 30)
      assert.equal((await home(browser)).user, 'judy', 'still logged in, as the same user')
    })

    test('a mobile app meeting the confirmation guard gets 401 JSON, not a redirect', async () => {
      const app = new Browser()
      app.headers = { 'amwal-platform': 'app' }
      await password(app, 'nina') // passkey login off: the password logs nina in
      assert.equal((await home(app)).user, 'nina')
      const answer = await app.get(`${server.origin}/account`)
      assert.equal(answer.status, 401)
      assert.equal(answer.headers.get('cache-control'), 'no-store')
      assert.deepEqual(JSON.parse(answer.body), { err: 'Confirm it is you with your passkey, then try again.', reason: 'confirmation_required' })
    })

    test('the cart survives a passkey LOGIN (keepSessionData), the rest of the anonymous session does not', async () => {
      await users.setJustpassEnabled('liam', true)
      const browser = new Browser()
      await browser.post(`${server.origin}/cart`, { item: 'apples' })
      await password(browser, 'liam') // leaves base_username in the anonymous session
      await finish(browser, (await toCallback(browser, '/justpass/login')).callback)
      assert.equal((await home(browser)).user, 'liam')
      assert.deepEqual(await browser.json(`${server.origin}/cart`), { cart: ['apples'] })
      // The password step's base username was not kept: the next LOGIN names nobody.
      const next = await browser.get(`${server.origin}/justpass/login`)
      assert.equal(new URL(next.location!).searchParams.get('login_hint'), null)
    })

    test('logout ends the session here, then sends the browser to the provider with the session\'s ID token', async () => {
      await users.setJustpassEnabled('mia', true)
      const browser = new Browser()
      await password(browser, 'mia')
      await finish(browser, (await toCallback(browser, '/justpass/login')).callback)
      assert.equal((await home(browser)).user, 'mia')
      const hop = await browser.post(`${server.origin}/logout`, {})
      assert.equal(hop.status, 302)
      const url = new URL(hop.location!)
      assert.equal(`${url.origin}${url.pathname}`, `${provider.opURL}end-session/`)
      assert.equal(url.searchParams.get('client_id'), provider.clientID)
      const hint = url.searchParams.get('id_token_hint')
      assert.ok(hint, 'the ID token of the LOGIN is sent as id_token_hint')
      const claims = JSON.parse(Buffer.from(hint.split('.')[1]!, 'base64url').toString()) as { sub: string; aud: string }
      assert.deepEqual([claims.sub, claims.aud], [provider.subOf('mia'), provider.clientID])
      assert.equal((await home(browser)).user, null)
    })
  })
}
