/**
 * The example shop over HTTP, against the local provider with the passkey step done in
 * code: the password step, each mode, each failure message, the mobile-app JSON, the
 * provider `sub` recorded at REG and required at LOGIN, disabled accounts, passkey login
 * turned off (and its passkey refused), the passkey confirmation before the account page
 * and before turning passkey login off, logout here and at the provider, the database
 * migration, and the pages shown when the provider is down or anything else breaks.
 * (The browser journeys with real passkeys are in test/e2e.)
 */
import { after, before, describe, test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import session from 'express-session'
import { decodeJwt } from 'jose'
import { createShop } from '../example/shop/app.ts'
import { ShopDatabase } from '../example/shop/db.ts'
import { Browser, type Hop } from './support/browser.ts'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'

/** The username in `<strong>` of the current-user element, as it is in the HTML. */
function shownUser(html: string): string | undefined {
  return /data-testid="current-user"[^>]*>[\s\S]*?<strong>([^<]+)<\/strong>/.exec(html)?.[1]
}

/** The text of the element with `data-testid="id"`. */
function testid(html: string, id: string): string | undefined {
  return new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html)?.[1]
}

/** HTML text with the shop's and the provider's character references decoded. */
const unescapeHTML = (html: string) => html.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))

/** The passkey status sentence of the home page. */
function passkeyStatus(html: string): string | undefined {
  return /data-testid="passkey-status"[^>]*>\s*(?:<span>)?([^<]+)</.exec(html)?.[1]?.trim()
}

describe('the example shop', () => {
  let server: LoopbackServer
  let provider: TestProvider
  let shop: ReturnType<typeof createShop>
  let origin: string
  let serial = 0

  before(async () => {
    server = await startLoopbackServer()
    origin = server.origin
    provider = await startTestProvider({ redirectURIs: [`${origin}/justpass/callback`], postLogoutRedirectURIs: [`${origin}/login`] })
    shop = createShop({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, origin, database: ':memory:', sessionSecret: 'shop-test' })
    server.handle(shop.app)
  })
  after(async () => {
    await server.close()
    shop.close()
    await provider.close()
  })

  /** A new user of the shop for one test; `justpassEnabled` as if REG had happened. */
  async function newUser(justpassEnabled = false): Promise<{ username: string; password: string }> {
    const user = { username: `user${++serial}`, password: `password-${serial}` }
    await shop.db.createUser(user.username, user.password)
    if (justpassEnabled) shop.db.setJustpassEnabled(user.username, true)
    return user
  }

  /** Set what the provider's passkey step does, for the rest of this test only. */
  function providerWill(t: TestContext, behaviour: TestProvider['behaviour']): void {
    provider.behaviour = behaviour
    t.after(() => {
      provider.behaviour = { action: 'approve' }
    })
  }

  /** Follow redirects from `url` (through the provider and back); returns the last response. */
  async function through(browser: Browser, url: string): Promise<Hop> {
    const { hops } = await browser.follow(url)
    return hops.at(-1)!
  }

  /**
   * As {@link through}, and where the provider answers with a page that posts its form by
   * script (oidc-provider ending the provider session of one account before another's
   * passkey signs in there), posting it as a browser would, then following on.
   */
  async function throughForms(browser: Browser, url: string): Promise<Hop> {
    let hop = await through(browser, url)
    for (let i = 0; i < 3 && hop.url.startsWith(provider.opURL); i++) {
      const form = /<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/.exec(hop.body)
      if (!form || !/document\.forms\[0\]\.submit\(\)/.test(hop.body)) break
      const fields: Record<string, string> = {}
      for (const [, name, value] of form[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"\/?>/g)) fields[unescapeHTML(name!)] = unescapeHTML(value!)
      const posted = await browser.post(new URL(unescapeHTML(form[1]!), hop.url).href, fields)
      hop = posted.location ? await through(browser, posted.location) : posted
    }
    return hop
  }

  /** The password step. */
  function passwordLogin(browser: Browser, user: { username: string; password: string }): Promise<Hop> {
    return browser.post(`${origin}/login`, user)
  }

  /**
   * Log out as a browser does: the shop's POST /logout; when it sends the browser on to
   * the provider's sign-out, the page there and the form it submits by itself; then the
   * page the browser lands on. Every hop, in order.
   */
  async function logOut(browser: Browser): Promise<Hop[]> {
    const hops = [await browser.post(`${origin}/logout`, {})]
    if (hops[0]!.location?.startsWith(provider.opURL)) {
      const page = await browser.get(hops[0]!.location)
      hops.push(page)
      const form = /<form id="logout-form" method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(page.body)
      assert.ok(form, `the provider's sign-out page (${page.status})`)
      const fields: Record<string, string> = {}
      for (const [, name, value] of form[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[unescapeHTML(name!)] = unescapeHTML(value!)
      hops.push(await browser.post(new URL(unescapeHTML(form[1]!), page.url).href, fields))
    }
    const last = hops.at(-1)!
    if (last.location) hops.push(await browser.get(last.location))
    return hops
  }

  /** A browser logged in with the password (the user must have passkey login off). */
  async function loggedIn(user: { username: string; password: string }): Promise<Browser> {
    const browser = new Browser()
    const hop = await passwordLogin(browser, user)
    assert.equal(hop.location, `${origin}/`)
    return browser
  }

  test('GET /healthz answers 200 ok', async () => {
    const hop = await new Browser().get(`${origin}/healthz`)
    assert.equal(hop.status, 200)
    assert.equal(hop.body, 'ok')
  })

  test('nobody logged in: home redirects to the login page, which offers both ways in', async () => {
    const browser = new Browser()
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`)
    const page = await browser.get(`${origin}/login`)
    assert.equal(page.status, 200)
    assert.match(page.body, /<form method="post" action="\/login">/)
    assert.match(page.body, /<input[^>]*name="username"/)
    assert.match(page.body, /<input[^>]*name="password"[^>]*type="password"/)
    assert.match(page.body, /<button[^>]*type="submit">Log in<\/button>/)
    assert.match(page.body, /<a id="passkey-login"[^>]*href="\/justpass\/login">Log in with a passkey<\/a>/)
    assert.equal(testid(page.body, 'error'), undefined)
  })

  test('a wrong password or an unknown user: 401, the same message, nobody logged in', async () => {
    const user = await newUser()
    for (const attempt of [{ ...user, password: 'nope' }, { username: 'nobody', password: user.password }]) {
      const browser = new Browser()
      const hop = await passwordLogin(browser, attempt)
      assert.equal(hop.status, 401)
      assert.equal(testid(hop.body, 'error'), 'Wrong username or password.')
      assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`)
    }
  })

  test('password login of a user without a passkey: home shows the user, passkey login off', async () => {
    const user = await newUser()
    const browser = new Browser()
    const hop = await passwordLogin(browser, user)
    assert.equal(hop.status, 302)
    assert.equal(hop.location, `${origin}/`)
    const cookie = hop.headers.getSetCookie().find((line) => line.startsWith('shop.sid='))
    assert.ok(cookie, 'the session cookie is named shop.sid')
    assert.match(cookie, /; HttpOnly/i)
    assert.match(cookie, /; SameSite=Lax/i)

    const home = await browser.get(`${origin}/`)
    assert.equal(home.status, 200)
    assert.equal(shownUser(home.body), user.username)
    assert.match(home.body, /data-testid="current-user"[^>]*>Signed in as <strong>/)
    assert.equal(passkeyStatus(home.body), 'Passkey login is off')
    assert.match(home.body, /<a id="enable-passkey"[^>]*href="\/justpass\/reg">Enable passkey login<\/a>/)
    assert.match(home.body, /<form id="logout" method="post" action="\/logout">/)
    assert.match(home.body, /<a id="account-link"[^>]*href="\/account">Your account<\/a>/)
    assert.doesNotMatch(home.body, /id="turn-off-(passkey|with-password)"/, 'nothing to turn off')
    assert.equal(testid(home.body, 'notice'), undefined)
  })

  test('pages of a logged-in user are never cached (Cache-Control: no-store); the login page may be', async () => {
    const browser = await loggedIn(await newUser())
    for (const path of ['/', '/account']) {
      const page = await browser.get(`${origin}${path}`)
      assert.equal(page.status, 200, path)
      assert.equal(page.headers.get('cache-control'), 'no-store', path)
    }
    assert.equal((await new Browser().get(`${origin}/login`)).headers.get('cache-control'), null)
  })

  test('enable passkey login (REG): the notice once, justpass_enabled set, the status on', async () => {
    const user = await newUser()
    const browser = await loggedIn(user)
    const home = await through(browser, `${origin}/justpass/reg`)
    assert.equal(home.url, `${origin}/`)
    assert.equal(testid(home.body, 'notice'), 'Passkey login is now enabled for your account.')
    assert.equal(shownUser(home.body), user.username)
    assert.equal(passkeyStatus(home.body), 'Passkey login is on')
    assert.doesNotMatch(home.body, /id="enable-passkey"/)
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, true)
    assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), user.username, 'REG is for the logged-in user')

    const again = await browser.get(`${origin}/`)
    assert.equal(testid(again.body, 'notice'), undefined, 'a notice is shown once')
  })

  test('enable passkey login while logged out: sent to the login page, no flow started', async () => {
    const before = provider.authorizationRequests.length
    const hop = await new Browser().get(`${origin}/justpass/reg`)
    assert.equal(hop.location, `${origin}/login`)
    assert.equal(provider.authorizationRequests.length, before)
  })

  test('logout of a password-only session: back to the login page, logged out, no trip to the provider', async () => {
    const browser = await loggedIn(await newUser())
    const signOuts = provider.endSessionRequests.length
    const hop = await browser.post(`${origin}/logout`, {})
    assert.equal(hop.location, `${origin}/login`)
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`)
    assert.equal(provider.endSessionRequests.length, signOuts, 'no sign-in at the provider to end')
  })

  test('logout after a passkey sign-in: logged out here, then at the provider (id_token_hint, post_logout_redirect_uri, client_id, state), then the login page', async () => {
    const user = await newUser(true)
    const browser = new Browser()
    await through(browser, (await passwordLogin(browser, user)).location!)
    assert.equal(shownUser((await browser.get(`${origin}/`)).body), user.username)

    const hops = await logOut(browser)
    const toProvider = new URL(hops[0]!.location!)
    assert.equal(`${toProvider.origin}${toProvider.pathname}`, `${provider.opURL}end-session/`, 'the shop sends the browser to the provider\'s sign-out')
    assert.equal(hops[0]!.headers.get('cache-control'), 'no-store')
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`, 'the shop\'s session ended')
    const params = provider.endSessionRequests.at(-1)!
    assert.deepEqual([...params.keys()].sort(), ['client_id', 'id_token_hint', 'post_logout_redirect_uri', 'state'])
    assert.equal(params.get('client_id'), provider.clientID)
    assert.equal(params.get('post_logout_redirect_uri'), `${origin}/login`)
    const hint = decodeJwt(params.get('id_token_hint')!)
    assert.equal(hint.sub, provider.subOf(user.username), 'the ID token of this sign-in')
    assert.match(hops[1]!.body, /Signing you out/, 'the provider\'s page submits itself: the ID token named the site')
    const back = new URL(hops[2]!.location!)
    assert.equal(`${back.origin}${back.pathname}`, `${origin}/login`, 'the provider sends the browser back to the login page')
    assert.equal(back.searchParams.get('state'), params.get('state'))
    assert.equal(hops.at(-1)!.status, 200)
    assert.match(hops.at(-1)!.body, /<h1>Welcome back<\/h1>/)
  })

  test('npm start (example/start.ts) registers the shop\'s login page at the local provider as where its sign-out returns', async (t) => {
    /** A port nothing listens on now. */
    const freePort = () =>
      new Promise<number>((resolve, reject) => {
        const probe = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as { port: number }
          probe.close(() => resolve(port))
        })
      })
    const dir = mkdtempSync(join(tmpdir(), 'shop-start-'))
    const [shopPort, providerPort] = [await freePort(), await freePort()]
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(shopPort), PROVIDER_PORT: String(providerPort), DATA_DIR: dir }
    for (const name of ['JUSTPASS_OP_URL', 'JUSTPASS_CLIENT_ID', 'JUSTPASS_CLIENT_SECRET', 'REDIS_URL', 'SHOP_ORIGIN']) delete env[name]
    const child = spawn(process.execPath, ['--import', 'tsx', 'example/start.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    t.after(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    })
    let output = ''
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ctrl-C stops both.')) resolve()
      })
      child.once('exit', () => reject(new Error(`npm start stopped: ${output}`)))
    })
    const shopOrigin = `http://localhost:${shopPort}`
    const signOut = (returnTo: string) =>
      new Browser().get(`http://localhost:${providerPort}/openid/end-session/?${new URLSearchParams({ client_id: 'example-shop', post_logout_redirect_uri: returnTo })}`, { headers: { accept: 'text/html' } })
    const registered = await signOut(`${shopOrigin}/login`)
    assert.equal(registered.status, 200, registered.body)
    assert.match(registered.body, /<h1>Signing you out<\/h1>/)
    const other = await signOut(`${shopOrigin}/`)
    assert.match(other.body, /This site sent a wrong return address/, 'only the login page is registered')
  })

  test('REG, logout, then the password leads to the passkey (second factor), then home', async () => {
    const user = await newUser()
    const browser = await loggedIn(user)
    await through(browser, `${origin}/justpass/reg`)
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, true)
    assert.equal(new URL((await logOut(browser)).at(-1)!.url).pathname, '/login')

    const hop = await passwordLogin(browser, user)
    assert.equal(hop.location, `${origin}/justpass/login`, 'the password alone is not enough')
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`, 'nobody is logged in before the passkey')

    const home = await through(browser, hop.location!)
    assert.equal(home.url, `${origin}/`)
    assert.equal(shownUser(home.body), user.username)
    assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), user.username, 'the passkey asked for is the password user\'s')
  })

  test('a new password attempt drops a pending second factor', async (t) => {
    const first = await newUser(true)
    const second = await newUser(true)
    const browser = new Browser()
    assert.equal((await passwordLogin(browser, first)).location, `${origin}/justpass/login`)
    assert.equal((await passwordLogin(browser, { ...first, password: 'wrong' })).status, 401)
    providerWill(t, { action: 'approve', account: second.username })
    const home = await through(browser, `${origin}/justpass/login`)
    assert.equal(shownUser(home.body), second.username, 'a passkey alone, no longer the second factor of the first user')
    assert.equal(provider.authorizationRequests.at(-1)?.has('login_hint'), false)
  })

  test('"Log in with a passkey" alone (single factor): home shows the passkey\'s user', async (t) => {
    const user = await newUser(true)
    providerWill(t, { action: 'approve', account: user.username })
    const browser = new Browser()
    const login = await browser.get(`${origin}/login`)
    const href = /<a id="passkey-login"[^>]*href="([^"]+)"/.exec(login.body)?.[1]
    assert.equal(href, '/justpass/login')
    const home = await through(browser, new URL(href, origin).href)
    assert.equal(home.url, `${origin}/`)
    assert.equal(shownUser(home.body), user.username)
    assert.equal(provider.authorizationRequests.at(-1)?.has('login_hint'), false, 'single factor: no user named')
  })

  test('cancelled REG: the registration message, justpass_enabled unchanged', async (t) => {
    const user = await newUser()
    const browser = await loggedIn(user)
    providerWill(t, { action: 'cancel' })
    const home = await through(browser, `${origin}/justpass/reg`)
    assert.equal(home.url, `${origin}/`)
    assert.equal(testid(home.body, 'notice'), 'Passkey registration was cancelled.')
    assert.equal(shownUser(home.body), user.username, 'still logged in')
    assert.equal(passkeyStatus(home.body), 'Passkey login is off')
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, false)
  })

  test('cancelled LOGIN, second factor and single: the sign-in message, nobody logged in, justpass_enabled unchanged', async (t) => {
    const user = await newUser(true)
    providerWill(t, { action: 'cancel' })

    const second = new Browser()
    const hop = await passwordLogin(second, user)
    let page = await through(second, hop.location!)
    assert.equal(page.url, `${origin}/login`)
    assert.equal(testid(page.body, 'error'), 'Passkey sign-in was cancelled.')
    assert.equal((await second.get(`${origin}/`)).location, `${origin}/login`)

    const single = new Browser()
    page = await through(single, `${origin}/justpass/login`)
    assert.equal(testid(page.body, 'error'), 'Passkey sign-in was cancelled.')
    assert.equal((await single.get(`${origin}/`)).location, `${origin}/login`)

    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, true)
  })

  test('another user\'s passkey for the second factor: refused with its message', async (t) => {
    const user = await newUser(true)
    const other = await newUser(true)
    providerWill(t, { action: 'approve', account: other.username })
    const browser = new Browser()
    const hop = await passwordLogin(browser, user)
    const page = await through(browser, hop.location!)
    assert.equal(page.url, `${origin}/login`)
    assert.equal(testid(page.body, 'error'), 'That passkey belongs to another account.')
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`)
  })

  test('a passkey of someone without an account here: refused with its message', async (t) => {
    providerWill(t, { action: 'approve', account: 'stranger' })
    const browser = new Browser()
    const page = await through(browser, `${origin}/justpass/login`)
    assert.equal(testid(page.body, 'error'), 'No account here matches that passkey.')
    assert.equal(shop.db.findByUsername('stranger'), undefined, 'no account is created')
  })

  test('a stale or replayed callback link: the expired-link message', async () => {
    const browser = new Browser()
    const page = await through(browser, `${origin}/justpass/callback?code=abc&state=not-a-pending-state`)
    assert.equal(page.url, `${origin}/login`)
    assert.equal(testid(page.body, 'error'), 'That sign-in link expired or was already used. Please try again.')
  })

  test('every dynamic value is escaped', async () => {
    const user = { username: `<i>"x"&'y'</i>`, password: 'escape-password' }
    await shop.db.createUser(user.username, user.password)
    const home = await (await loggedIn(user)).get(`${origin}/`)
    assert.equal(shownUser(home.body), '&#60;i&#62;&#34;x&#34;&#38;&#39;y&#39;&#60;/i&#62;')
    assert.doesNotMatch(home.body, /<i>/)
  })

  test('a mobile app (AMWAL-PLATFORM: app) gets JSON { username }, logged in by the session cookie of the answer', async () => {
    const user = await newUser(true)
    const browser = new Browser()
    browser.headers['amwal-platform'] = 'app'
    const hop = await passwordLogin(browser, user)
    const page = await through(browser, hop.location!)
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type') ?? '', /^application\/json/)
    const body = JSON.parse(page.body) as Record<string, unknown>
    assert.equal(page.headers.get('cache-control'), 'no-store')
    assert.deepEqual(body, { username: user.username }, 'no token: the shop configures no appToken')
    assert.ok(page.headers.getSetCookie().some((line) => line.startsWith('shop.sid=')), 'the answer sets the new session cookie')
    const home = await browser.get(`${origin}/`)
    assert.equal(shownUser(home.body), user.username)
  })

  test('a mobile app whose user cancels gets JSON { err } with 401', async (t) => {
    const user = await newUser(true)
    providerWill(t, { action: 'cancel' })
    const browser = new Browser()
    browser.headers['amwal-platform'] = 'app'
    const page = await through(browser, (await passwordLogin(browser, user)).location!)
    assert.equal(page.status, 401)
    const body = JSON.parse(page.body) as Record<string, unknown>
    assert.equal(typeof body.err, 'string')
    assert.equal(body.reason, 'provider_denied')
  })

  // ---------------------------------------------------------------------------------
  // The provider's sub, disabled accounts, turning passkey login off

  /** The provider `sub` recorded for the user, as the shop's database holds it. */
  function recordedSub(username: string): string | undefined {
    return shop.db.justpassSubOf(shop.db.findByUsername(username)!.id)
  }

  /** A new user, logged in, who has registered a passkey (REG through the provider). */
  async function registered(): Promise<{ user: { username: string; password: string }; browser: Browser }> {
    const user = await newUser()
    const browser = await loggedIn(user)
    const home = await through(browser, `${origin}/justpass/reg`)
    assert.equal(passkeyStatus(home.body), 'Passkey login is on')
    return { user, browser }
  }

  /** The passkey LOGIN of a mobile app (second factor after `user`'s password, or single factor): the reason of its 401. */
  async function appRefusal(user?: { username: string; password: string }): Promise<unknown> {
    const browser = new Browser()
    browser.headers['amwal-platform'] = 'app'
    const page = await through(browser, user ? (await passwordLogin(browser, user)).location! : `${origin}/justpass/login`)
    assert.equal(page.status, 401, page.body)
    return (JSON.parse(page.body) as { reason?: unknown }).reason
  }

  /**
   * Post a turn-off form: with `password`, the password form; with `undefined`, the form
   * that asks for the passkey instead. By default as a browser posts it from the shop's
   * page (with the shop's Origin).
   */
  function turnOff(browser: Browser, password: string | undefined, headers: Record<string, string> = { origin }): Promise<Hop> {
    return browser.post(`${origin}/passkey/off`, password === undefined ? {} : { password }, { headers })
  }

  test('REG records the provider\'s sub of the passkey account; LOGIN with it succeeds in both factors', async (t) => {
    const user = await newUser()
    const browser = await loggedIn(user)
    assert.equal(recordedSub(user.username), undefined, 'no sub before REG')
    await through(browser, `${origin}/justpass/reg`)
    const sub = provider.subOf(user.username)
    assert.ok(sub)
    assert.equal(recordedSub(user.username), sub)

    const second = new Browser()
    const home = await through(second, (await passwordLogin(second, user)).location!)
    assert.equal(shownUser(home.body), user.username, 'second factor')
    providerWill(t, { action: 'approve', account: user.username })
    assert.equal(shownUser((await through(new Browser(), `${origin}/justpass/login`)).body), user.username, 'single factor')
  })

  test('a recorded sub of another passkey account: LOGIN is refused (identity_mismatch) in both factors, nobody logged in', async (t) => {
    const user = await newUser()
    shop.db.setJustpassEnabled(user.username, true, { sub: 'another-passkey-account' })
    assert.notEqual(provider.subOf(user.username), 'another-passkey-account')
    // The provider vouches for the username, with the sub of its own account for that name.
    providerWill(t, { action: 'approve', account: user.username })

    const second = new Browser()
    let page = await through(second, (await passwordLogin(second, user)).location!)
    assert.equal(page.url, `${origin}/login`)
    assert.equal(testid(page.body, 'error'), 'That passkey belongs to another account.')
    assert.equal((await second.get(`${origin}/`)).location, `${origin}/login`)

    const single = new Browser()
    page = await through(single, `${origin}/justpass/login`)
    assert.equal(page.url, `${origin}/login`)
    assert.equal(testid(page.body, 'error'), 'That passkey belongs to another account.')
    assert.equal((await single.get(`${origin}/`)).location, `${origin}/login`)

    assert.equal(await appRefusal(user), 'identity_mismatch')
    assert.equal(await appRefusal(), 'identity_mismatch')
    assert.equal(recordedSub(user.username), 'another-passkey-account', 'the recorded sub is unchanged')
  })

  test('a disabled account: the password step refuses it, with its message only for the right password', async () => {
    const user = await newUser()
    assert.equal(shop.db.findByUsername(user.username)?.active, true, 'accounts are active by default')
    assert.equal(shop.db.setActive(user.username, false)?.active, false)
    const browser = new Browser()
    let hop = await passwordLogin(browser, user)
    assert.equal(hop.status, 403)
    assert.equal(testid(hop.body, 'error'), 'This account is disabled.')
    hop = await passwordLogin(browser, { ...user, password: 'wrong' })
    assert.equal(hop.status, 401)
    assert.equal(testid(hop.body, 'error'), 'Wrong username or password.')
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`)

    shop.db.setActive(user.username, true)
    assert.equal((await passwordLogin(browser, user)).location, `${origin}/`, 'enabled again, it logs in')
  })

  test('a disabled account: single-factor LOGIN is refused (account_disabled), nobody logged in', async (t) => {
    const user = await newUser(true)
    shop.db.setActive(user.username, false)
    providerWill(t, { action: 'approve', account: user.username })
    const browser = new Browser()
    const page = await through(browser, `${origin}/justpass/login`)
    assert.equal(page.url, `${origin}/login`)
    assert.equal(testid(page.body, 'error'), 'This account is disabled.')
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`)
    assert.equal(await appRefusal(), 'account_disabled')

    shop.db.setActive(user.username, true)
    assert.equal(shownUser((await through(new Browser(), `${origin}/justpass/login`)).body), user.username, 'enabled again, the passkey logs in')
  })

  test('an account disabled between the password and the passkey: the second factor is refused (account_disabled)', async () => {
    const user = await newUser(true)
    const browser = new Browser()
    const app = new Browser()
    app.headers['amwal-platform'] = 'app'
    const start = (await passwordLogin(browser, user)).location!
    const appStart = (await passwordLogin(app, user)).location!
    assert.equal(start, `${origin}/justpass/login`)
    shop.db.setActive(user.username, false)

    const page = await through(browser, start)
    assert.equal(page.url, `${origin}/login`)
    assert.equal(testid(page.body, 'error'), 'This account is disabled.')
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`)
    const answer = await through(app, appStart)
    assert.equal(answer.status, 401)
    assert.equal((JSON.parse(answer.body) as { reason?: unknown }).reason, 'account_disabled')
  })

  test('an account disabled while logged in: REG is refused (account_disabled), no flag and no sub recorded', async () => {
    const user = await newUser()
    const browser = await loggedIn(user)
    shop.db.setActive(user.username, false)
    const home = await through(browser, `${origin}/justpass/reg`)
    assert.equal(home.url, `${origin}/`)
    assert.equal(testid(home.body, 'notice'), 'This account is disabled.')
    assert.equal(passkeyStatus(home.body), 'Passkey login is off')
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, false)
    assert.equal(recordedSub(user.username), undefined)
  })

  test('turn passkey login off with the password: flag and sub cleared, then the password alone logs in and the passkey alone does not', async (t) => {
    const { user, browser } = await registered()
    let home = await browser.get(`${origin}/`)
    const form = /<form id="turn-off-with-password" method="post" action="\/passkey\/off">([\s\S]*?)<\/form>/.exec(home.body)?.[1]
    assert.ok(form, 'the password form')
    assert.match(form, /<input[^>]*name="password"[^>]*type="password"[^>]*autocomplete="current-password"[^>]*required>/)
    assert.match(form, /<button[^>]*type="submit">Turn off with your password<\/button>/)

    const hop = await turnOff(browser, user.password)
    assert.equal(hop.status, 302)
    assert.equal(hop.location, `${origin}/`)
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, false)
    assert.equal(recordedSub(user.username), undefined, 'the sub is forgotten')
    home = await browser.get(`${origin}/`)
    assert.equal(shownUser(home.body), user.username, 'still logged in')
    assert.equal(testid(home.body, 'notice'), 'Passkey login is now off. Your password alone logs you in.')
    assert.equal(passkeyStatus(home.body), 'Passkey login is off')
    assert.doesNotMatch(home.body, /id="turn-off-(passkey|with-password)"/)
    assert.match(home.body, /id="enable-passkey"/)
    assert.equal(testid((await browser.get(`${origin}/`)).body, 'notice'), undefined, 'the notice is shown once')

    await logOut(browser)
    const before = provider.authorizationRequests.length
    assert.equal((await passwordLogin(browser, user)).location, `${origin}/`, 'no second factor')
    assert.equal(shownUser((await browser.get(`${origin}/`)).body), user.username)
    assert.equal(provider.authorizationRequests.length, before, 'no passkey step')

    providerWill(t, { action: 'approve', account: user.username })
    const single = new Browser()
    const page = await through(single, `${origin}/justpass/login`)
    assert.equal(testid(page.body, 'error'), 'Passkey login is turned off for this account. Sign in with your password.', 'the passkey still at the provider no longer logs in alone')
    assert.equal((await single.get(`${origin}/`)).location, `${origin}/login`)
  })

  test('turn passkey login off with a wrong password: 401 and the message, nothing changes', async () => {
    const { user, browser } = await registered()
    const sub = recordedSub(user.username)
    assert.ok(sub)
    const interactions = provider.interactions.length
    for (const password of ['not-the-password', '']) {
      const page = await turnOff(browser, password)
      assert.equal(page.status, 401)
      assert.equal(testid(page.body, 'notice'), 'That password is not right, so passkey login is still on.')
      assert.equal(passkeyStatus(page.body), 'Passkey login is on')
      assert.match(page.body, /id="turn-off-with-password"/, 'the form is offered again')
      assert.equal(page.headers.get('cache-control'), 'no-store')
    }
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, true)
    assert.equal(recordedSub(user.username), sub)
    assert.equal(shownUser((await browser.get(`${origin}/`)).body), user.username, 'still logged in')
    assert.equal((await passwordLogin(new Browser(), user)).location, `${origin}/justpass/login`, 'the password still leads to the passkey')
    assert.equal(provider.interactions.length, interactions, 'a wrong password is never sent on to a passkey confirmation')
  })

  test('turning passkey login off needs the logged-in session and a post from the shop\'s own page', async () => {
    const { user, browser } = await registered()
    const foreign = 'http://shop.example.net'
    const refused: Array<Record<string, string>> = [{}, { origin: foreign }, { origin: 'null' }, { referer: `${foreign}/` }, { origin: foreign, referer: `${origin}/` }, { referer: 'not a url' }]
    for (const headers of refused) {
      const hop = await turnOff(browser, user.password, headers)
      assert.equal(hop.status, 403, JSON.stringify(headers))
      assert.match(hop.body, /nothing was changed/)
      assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, true, JSON.stringify(headers))
    }

    const stranger = await turnOff(new Browser(), user.password)
    assert.equal(stranger.location, `${origin}/login`, 'nobody logged in: to the login page')
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, true)

    // The passkey form is refused the same way, before any confirmation starts.
    const requests = provider.authorizationRequests.length
    const foreignPasskey = await turnOff(browser, undefined, { origin: foreign })
    assert.equal(foreignPasskey.status, 403)
    assert.equal((await turnOff(new Browser(), undefined)).location, `${origin}/login`)
    assert.equal(provider.authorizationRequests.length, requests, 'no confirmation started')

    // A browser that sends no Origin but the shop's Referer is accepted.
    assert.equal((await turnOff(browser, user.password, { referer: `${origin}/` })).location, `${origin}/`)
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, false)
  })

  test('turn passkey login off with the passkey: the form without a password asks for a confirmation, then back home; pressed again, passkey login is off', async () => {
    const { user, browser } = await registered()
    const home = await browser.get(`${origin}/`)
    const form = /<form id="turn-off-passkey" method="post" action="\/passkey\/off">([\s\S]*?)<\/form>/.exec(home.body)?.[1]
    assert.ok(form, 'the passkey form')
    assert.doesNotMatch(form, /<input/, 'no password in it')
    assert.match(form, /<button[^>]*type="submit">Turn off passkey login<\/button>/)

    const asked = await turnOff(browser, undefined)
    assert.equal(asked.status, 302)
    const authorize = new URL(asked.location!)
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${provider.opURL}authorize/`, 'a confirmation starts at the provider')
    assert.equal(authorize.searchParams.get('prompt'), 'login')
    assert.equal(authorize.searchParams.get('max_age'), '0')
    assert.equal(authorize.searchParams.get('login_hint'), user.username)
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, true, 'nothing changed yet')

    const back = await through(browser, asked.location!)
    assert.equal(back.url, `${origin}/`, 'back to the page with the form')
    assert.equal(testid(back.body, 'notice'), 'You confirmed it is you.')
    assert.equal(passkeyStatus(back.body), 'Passkey login is on', 'a POST is not replayed: the user presses the button again')

    const requests = provider.authorizationRequests.length
    const done = await turnOff(browser, undefined)
    assert.equal(done.location, `${origin}/`)
    assert.equal(provider.authorizationRequests.length, requests, 'confirmed a moment ago: not asked again')
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, false)
    assert.equal(recordedSub(user.username), undefined)
    assert.equal(testid((await browser.get(`${origin}/`)).body, 'notice'), 'Passkey login is now off. Your password alone logs you in.')

    // Off already: the passkey form has nothing to turn off and starts no confirmation.
    assert.equal((await turnOff(browser, undefined)).location, `${origin}/`)
    assert.equal(provider.authorizationRequests.length, requests)
  })

  test('turn passkey login off with the passkey, cancelled at the provider: home says so, nothing changed, still logged in', async (t) => {
    const { user, browser } = await registered()
    providerWill(t, { action: 'cancel' })
    const home = await through(browser, (await turnOff(browser, undefined)).location!)
    assert.equal(home.url, `${origin}/`)
    assert.equal(testid(home.body, 'notice'), 'You did not confirm it is you, so nothing was changed.')
    assert.equal(shownUser(home.body), user.username)
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, true)
    assert.ok(recordedSub(user.username))
    assert.equal(new URL((await turnOff(browser, undefined)).location!).origin, new URL(provider.opURL).origin, 'still not confirmed: asked again')
  })

  // ---------------------------------------------------------------------------------
  // Passkey login turned off: the passkey still at the provider is refused

  test('passkey login turned off, the passkey still valid at the provider: refused with passkey_login_off in both kinds of LOGIN, in plain words', async (t) => {
    const { user } = await registered()
    const browser = new Browser()
    const start = (await passwordLogin(browser, user)).location!
    assert.equal(start, `${origin}/justpass/login`, 'on: the password leads to the passkey')
    const app = new Browser()
    app.headers['amwal-platform'] = 'app'
    const appStart = (await passwordLogin(app, user)).location!
    shop.db.setJustpassEnabled(user.username, false) // from another device, between the password and the passkey

    // Second factor.
    const second = await through(browser, start)
    assert.equal(second.url, `${origin}/login`)
    assert.equal(testid(second.body, 'error'), 'Passkey login is turned off for this account. Sign in with your password.')
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`, 'nobody logged in')
    const appAnswer = await through(app, appStart)
    assert.equal(appAnswer.status, 401)
    assert.equal((JSON.parse(appAnswer.body) as { reason?: unknown }).reason, 'passkey_login_off')

    // Single factor, with the passkey the provider still vouches for.
    providerWill(t, { action: 'approve', account: user.username })
    const single = new Browser()
    const page = await through(single, `${origin}/justpass/login`)
    assert.equal(page.url, `${origin}/login`)
    assert.equal(testid(page.body, 'error'), 'Passkey login is turned off for this account. Sign in with your password.')
    assert.doesNotMatch(page.body, /No account here/, 'the account exists: it is not hidden')
    assert.equal((await single.get(`${origin}/`)).location, `${origin}/login`)
    assert.equal(await appRefusal(), 'passkey_login_off')

    // Turned on again (REG), the same passkey logs in again.
    const again = await loggedIn(user)
    await through(again, `${origin}/justpass/reg`)
    assert.equal(shownUser((await through(new Browser(), `${origin}/justpass/login`)).body), user.username)
  })

  test('a user who never turned passkey login on, with a passkey at the provider: refused with passkey_login_off, not as unknown', async (t) => {
    const user = await newUser()
    providerWill(t, { action: 'approve', account: user.username })
    const page = await through(new Browser(), `${origin}/justpass/login`)
    assert.equal(testid(page.body, 'error'), 'Passkey login is turned off for this account. Sign in with your password.')
  })

  // ---------------------------------------------------------------------------------
  // Confirm it is you: the account page

  test('the account page of a user with passkey login on: a passkey confirmation first (prompt=login, max_age=0), then the page; again within the time, no question', async () => {
    const { user, browser } = await registered()
    const home = await browser.get(`${origin}/`)
    assert.match(home.body, /<a id="account-link"[^>]*href="\/account">Your account<\/a>/)

    const asked = await browser.get(`${origin}/account`)
    const authorize = new URL(asked.location!)
    assert.equal(`${authorize.origin}${authorize.pathname}`, `${provider.opURL}authorize/`)
    assert.equal(authorize.searchParams.get('prompt'), 'login')
    assert.equal(authorize.searchParams.get('max_age'), '0')
    assert.equal(authorize.searchParams.get('login_hint'), user.username)

    const before = await browser.get(`${origin}/`) // the session, as it was
    const page = await through(browser, asked.location!)
    assert.equal(page.url, `${origin}/account`, 'back to the page that asked')
    assert.equal(page.status, 200)
    assert.equal(testid(page.body, 'notice'), 'You confirmed it is you.')
    assert.equal(testid(page.body, 'account-username'), user.username)
    assert.equal(page.headers.get('cache-control'), 'no-store')
    assert.equal(shownUser(before.body), user.username)

    const requests = provider.authorizationRequests.length
    const again = await browser.get(`${origin}/account`)
    assert.equal(again.status, 200, 'confirmed a moment ago')
    assert.equal(testid(again.body, 'notice'), undefined, 'the notice is shown once')
    assert.equal(provider.authorizationRequests.length, requests, 'no new confirmation')
    assert.equal(shownUser((await browser.get(`${origin}/`)).body), user.username, 'still logged in, as the same user')
  })

  test('the account page of a user with passkey login off: shown on the session alone (there is no passkey to confirm with)', async () => {
    const user = await newUser()
    const browser = await loggedIn(user)
    const requests = provider.authorizationRequests.length
    const page = await browser.get(`${origin}/account`)
    assert.equal(page.status, 200)
    assert.equal(testid(page.body, 'account-username'), user.username)
    assert.equal(provider.authorizationRequests.length, requests)
  })

  test('the account page while logged out: the login page, no confirmation started', async () => {
    const requests = provider.authorizationRequests.length
    assert.equal((await new Browser().get(`${origin}/account`)).location, `${origin}/login`)
    assert.equal((await new Browser().get(`${origin}/justpass/confirm`)).location, `${origin}/login`)
    assert.equal(provider.authorizationRequests.length, requests)
  })

  test('a confirmation with another account\'s passkey: home says so, nothing changed, still logged in, the account page not shown', async (t) => {
    const { user, browser } = await registered()
    const other = await newUser(true)
    providerWill(t, { action: 'approve', account: other.username })
    const page = await throughForms(browser, `${origin}/account`)
    assert.equal(page.url, `${origin}/`, 'home, not the page that asked')
    assert.equal(testid(page.body, 'notice'), 'That passkey belongs to another account. Nothing was changed.')
    assert.equal(shownUser(page.body), user.username, 'still logged in as themselves')
    assert.equal(shop.db.findByUsername(user.username)?.justpassEnabled, true)
    const asked = await browser.get(`${origin}/account`)
    assert.equal(new URL(asked.location!).origin, new URL(provider.opURL).origin, 'not confirmed: asked again')
  })

  test('a confirmation cancelled at the provider: home says so, still logged in', async (t) => {
    const { user, browser } = await registered()
    providerWill(t, { action: 'cancel' })
    const page = await through(browser, `${origin}/account`)
    assert.equal(page.url, `${origin}/`)
    assert.equal(testid(page.body, 'notice'), 'You did not confirm it is you, so nothing was changed.')
    assert.equal(shownUser(page.body), user.username)
  })

  test('GET /justpass/confirm?next=/account confirms and returns there; a mobile app asking for the account page gets 401 JSON', async () => {
    const { user, browser } = await registered()
    const page = await through(browser, `${origin}/justpass/confirm?next=%2Faccount`)
    assert.equal(page.url, `${origin}/account`)
    assert.equal(testid(page.body, 'account-username'), user.username)

    const app = new Browser()
    app.headers['amwal-platform'] = 'app'
    const appUser = await newUser(true)
    await through(app, (await passwordLogin(app, appUser)).location!)
    const answer = await app.get(`${origin}/account`)
    assert.equal(answer.status, 401)
    assert.equal((JSON.parse(answer.body) as { reason?: unknown }).reason, 'confirmation_required')
  })

  test('a confirmation older than confirmMaxAge is asked for again', async (t) => {
    const site = await startLoopbackServer()
    const idp = await startTestProvider({ redirectURIs: [`${site.origin}/justpass/callback`] })
    const quick = createShop({ opURL: idp.opURL, clientID: idp.clientID, clientSecret: idp.clientSecret, origin: site.origin, database: ':memory:', sessionSecret: 'quick', confirmMaxAge: 1 })
    site.handle(quick.app)
    t.after(async () => {
      await site.close()
      quick.close()
      await idp.close()
    })
    await quick.db.createUser('quick', 'quick-password')
    const browser = new Browser()
    await browser.post(`${site.origin}/login`, { username: 'quick', password: 'quick-password' })
    await through(browser, `${site.origin}/justpass/reg`)
    const page = await through(browser, `${site.origin}/account`)
    assert.equal(page.url, `${site.origin}/account`)
    assert.equal(testid(page.body, 'account-username'), 'quick')
    await new Promise((resolve) => setTimeout(resolve, 2100))
    const asked = await browser.get(`${site.origin}/account`)
    assert.equal(new URL(asked.location!).origin, new URL(idp.opURL).origin, 'stale: asked again')
    assert.equal(new URL(asked.location!).searchParams.get('max_age'), '0')
  })

  test('a database of an earlier version gets the new columns when opened: every account active, no sub yet, the data kept', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'shop-migration-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    // The users table as the first version of the shop created it, with a user of then.
    const current = new ShopDatabase(join(dir, 'current.sqlite'))
    await current.createUser('early', 'early-password')
    current.close()
    const reader = new Database(join(dir, 'current.sqlite'), { readonly: true })
    const hash = reader.prepare('SELECT password_hash FROM users').pluck().get()
    reader.close()
    const file = join(dir, 'shop.sqlite')
    const old = new Database(file)
    old.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, username TEXT UNIQUE NOT NULL, password_hash TEXT NOT NULL, justpass_enabled INTEGER NOT NULL DEFAULT 0)')
    old.prepare('INSERT INTO users (username, password_hash, justpass_enabled) VALUES (?, ?, 1)').run('early', hash)
    old.close()

    const db = new ShopDatabase(file)
    try {
      assert.deepEqual(await db.verifyPassword('early', 'early-password'), { id: 1, username: 'early', justpassEnabled: true, active: true })
      assert.equal(db.justpassSubOf(1), undefined)
      assert.equal(db.isActive(1), true)
      db.setJustpassEnabled('early', true, { sub: 'early-sub' })
      assert.equal(db.justpassSubOf(1), 'early-sub')
      assert.equal((await db.createUser('later', 'later-password')).active, true)
    } finally {
      db.close()
    }
    const raw = new Database(file, { readonly: true })
    try {
      const columns = raw.prepare("SELECT name FROM pragma_table_info('users')").pluck().all()
      assert.deepEqual(columns, ['id', 'username', 'password_hash', 'justpass_enabled', 'justpass_sub', 'active'])
      assert.deepEqual(raw.prepare('SELECT username, justpass_enabled, justpass_sub, active FROM users ORDER BY id').all(), [
        { username: 'early', justpass_enabled: 1, justpass_sub: 'early-sub', active: 1 },
        { username: 'later', justpass_enabled: 0, justpass_sub: null, active: 1 },
      ])
    } finally {
      raw.close()
    }

    const again = new ShopDatabase(file)
    t.after(() => again.close())
    assert.equal(again.justpassSubOf(1), 'early-sub', 'opened again: nothing to add, nothing lost')
    assert.equal(again.setActive('early', false)?.active, false)
    assert.equal(again.isActive(1), false)
  })

  test('the provider down during the callback: the login page says so, nobody logged in, nothing logged with the code', async (t) => {
    const logged = t.mock.method(console, 'error', () => {})
    t.after(() => {
      provider.unavailable = false
    })
    const user = await newUser(true)
    const browser = new Browser()
    const hop = await passwordLogin(browser, user)
    const { stoppedAt } = await browser.follow(hop.location!, (next) => next.pathname === '/justpass/callback')
    assert.ok(stoppedAt, 'the provider sent the browser back to the callback')
    const callback = new URL(stoppedAt)
    assert.ok(callback.searchParams.get('code'))

    provider.unavailable = true
    const answer = await browser.get(stoppedAt)
    assert.equal(answer.location, `${origin}/login`)
    const page = await browser.get(answer.location!)
    assert.equal(testid(page.body, 'error'), 'justpass.me could not be reached, so nothing was changed. Please try again in a moment.')
    assert.doesNotMatch(page.body, /\n\s+at |Error:/, 'no stack trace')
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`, 'nobody logged in')
    const lines = logged.mock.calls.map((call) => call.arguments.map(String).join(' '))
    for (const line of lines) {
      assert.ok(!line.includes(callback.searchParams.get('code')!), 'the code is not logged')
      assert.ok(!line.includes(callback.searchParams.get('state')!), 'the state is not logged')
    }
  })

  test('nothing listening at the provider: the login page says so', async (t) => {
    t.mock.method(console, 'error', () => {})
    const dead = await startLoopbackServer()
    await dead.close()
    const site = await startLoopbackServer()
    const down = createShop({ opURL: `${dead.origin}/openid/`, clientID: 'c', clientSecret: 'a-client-secret-0123456789abcdef0123', origin: site.origin, database: ':memory:', sessionSecret: 'down' })
    site.handle(down.app)
    t.after(async () => {
      await site.close()
      down.close()
    })

    const browser = new Browser()
    const started = await browser.get(`${site.origin}/justpass/login`)
    assert.equal(started.status, 302, 'starting a flow needs no call to the provider')
    const state = new URL(started.location!).searchParams.get('state')
    const answer = await browser.get(`${site.origin}/justpass/callback?code=x&state=${state}`)
    assert.equal(answer.location, `${site.origin}/login`)
    const page = await browser.get(answer.location!)
    assert.match(testid(page.body, 'error') ?? '', /justpass\.me could not be reached/)
    assert.doesNotMatch(page.body, /\n\s+at /)
  })

  test('any other error: a 500 page, no stack trace', async (t) => {
    const logged = t.mock.method(console, 'error', () => {})
    /** A session store that saves but cannot read back: every request with a cookie fails. */
    class BrokenStore extends session.MemoryStore {
      override get(_sid: string, callback: (err: unknown) => void): void {
        callback(new Error('the session store is down'))
      }
    }
    const site = await startLoopbackServer()
    const broken = createShop({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, origin: site.origin, database: ':memory:', sessionSecret: 'broken', sessionStore: new BrokenStore() })
    await broken.db.createUser('demo', 'demo-password')
    site.handle(broken.app)
    t.after(async () => {
      await site.close()
      broken.close()
    })

    const browser = new Browser()
    assert.equal((await browser.post(`${site.origin}/login`, { username: 'demo', password: 'demo-password' })).location, `${site.origin}/`)
    const page = await browser.get(`${site.origin}/`)
    assert.equal(page.status, 500)
    assert.match(page.body, /Something went wrong\./)
    assert.doesNotMatch(page.body, /session store is down|\n\s+at /)
    assert.deepEqual(logged.mock.calls.map((call) => call.arguments.join(' ')), ['shop: Error'])
  })

  test('an unknown page: a 404 page in the shop\'s look', async () => {
    const page = await new Browser().get(`${origin}/nope`)
    assert.equal(page.status, 404)
    assert.match(page.body, /Page not found/)
  })
})
