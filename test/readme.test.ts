/**
 * The example files the README and the guides show (under example/readme/) run: the
 * README's minimal site as its own process, REG then LOGIN through the local provider;
 * the complete site with REG, second-factor and single-factor LOGIN, the SQLite user
 * store, a custom verify, passReqToCallback, plain redirects, a mobile app's JSON
 * answers, the NestJS bootstrap, and the messages docs/troubleshooting.md quotes. That
 * each block equals its file is checked by test/docs-examples.test.ts. Needs `npm run
 * build` first: the examples import the package by its name, which resolves to dist/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import express from 'express'
import { Passport } from 'passport'
import { JustpassConfigError, JustpassStrategy, MemoryUserStore } from 'passport-justpass'
import type { INestApplication } from '@nestjs/common'
import { createSite, type JustpassSettings } from '../example/readme/site.ts'
import { SqliteUserStore } from '../example/readme/user-store.ts'
import { createVerifyStrategy } from '../example/readme/verify.ts'
import { createRequestStrategy } from '../example/readme/with-request.ts'
import { createRedirectSite } from '../example/readme/redirects.ts'
import { demoUsers, openUsers } from '../example/readme/memory-store.ts'
import { createNestSite } from '../example/readme/nest-main.ts'
import { guideSiteForSuite } from './support/guide-site.ts'
import { Browser, type Hop } from './support/browser.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
// ---------------------------------------------------------------------------------
// Running the examples

const SESSION_SECRET = 'readme-session-secret'

/** The site's session cookie (express-session's default name), as the browser holds it. */
function sessionCookie(browser: Browser): string | undefined {
  return browser.cookies.get('127.0.0.1')?.get('connect.sid')
}

/** The password step, as the browser posts the login form: where the site sends it next, as a path. */
async function logIn(browser: Browser, origin: string, username: string, password = `${username}-password`): Promise<string | undefined> {
  const hop = await browser.post(`${origin}/login`, { username, password })
  assert.equal(hop.status, 302)
  return hop.location?.slice(origin.length)
}

/** Follow `url` through justpass.me and back to the site, to the first answer that is not a redirect. */
async function throughJustpass(browser: Browser, url: string, callbackURL: string): Promise<{ callback: Hop; last: Hop }> {
  const { hops } = await browser.follow(url)
  const callback = hops.find((hop) => hop.url.startsWith(`${callbackURL}?`))
  assert.ok(callback, `justpass.me sent the browser back to ${callbackURL}`)
  return { callback, last: hops.at(-1)! }
}

/** The same, for a mobile app: the request that starts the flow names its platform. */
async function throughJustpassAsApp(browser: Browser, url: string, callbackURL: string): Promise<{ callback: Hop; last: Hop }> {
  const start = await browser.get(url, { headers: { 'AMWAL-PLATFORM': 'app' } })
  assert.equal(start.status, 302)
  return throughJustpass(browser, start.location!, callbackURL)
}

/** A provider that knows the callback URL (`/justpass/callback`) of each of these sites. */
async function startProviderFor(servers: LoopbackServer[], options: { idTokenAlg?: 'HS256' | 'RS256' } = {}): Promise<TestProvider> {
  return startTestProvider({ redirectURIs: servers.map((server) => `${server.origin}/justpass/callback`), ...options })
}

/** The strategy settings of the site on `server`, against `provider`. */
function settingsFor(provider: TestProvider, server: LoopbackServer): JustpassSettings {
  return { opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL: `${server.origin}/justpass/callback` }
}

/** The SQLite store over a fresh in-memory database, with users who log in with `<name>-password`. */
async function sqliteUsers(...usernames: string[]): Promise<{ db: Database.Database; users: SqliteUserStore }> {
  const db = new Database(':memory:')
  const users = new SqliteUserStore(db)
  for (const username of usernames) await users.addUser(username, `${username}-password`)
  return { db, users }
}

/** The `justpass_enabled` column of a user, as stored. */
function flagOf(db: Database.Database, username: string): unknown {
  return db.prepare('SELECT justpass_enabled FROM users WHERE username = ?').pluck().get(username)
}

/** A MemoryUserStore whose users have passkey login on. */
function passkeyUsers(...usernames: string[]): MemoryUserStore {
  const users = new MemoryUserStore()
  for (const username of usernames) users.add(username, true)
  return users
}

/** A free port on 127.0.0.1, for a process that listens on it itself. */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as { port: number }
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

describe('example/readme/minimal.ts: the README\'s minimal site, run as its own process', () => {
  let provider: TestProvider
  let site: ChildProcess
  let origin: string
  let callbackURL: string
  let output = ''

  /** The home page: the logged-in user's record, and the notice. */
  type Home = { user: { username: string; justpassEnabled: boolean; justpassSub?: string } | null; notice: unknown }

  before(async () => {
    const port = await freePort()
    origin = `http://127.0.0.1:${port}`
    callbackURL = `${origin}/justpass/callback`
    provider = await startTestProvider({ redirectURIs: [callbackURL] })
    site = spawn(process.execPath, ['--import', 'tsx', 'example/readme/minimal.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        JUSTPASS_OP_URL: provider.opURL,
        JUSTPASS_CLIENT_ID: provider.clientID,
        JUSTPASS_CLIENT_SECRET: provider.clientSecret,
        JUSTPASS_CALLBACK_URL: callbackURL,
        SESSION_SECRET,
        PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    site.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    site.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const deadline = Date.now() + 30_000
    for (;;) {
      if (site.exitCode !== null) assert.fail(`the site exited with ${site.exitCode}: ${output}`)
      try {
        if ((await fetch(`${origin}/`)).ok) break
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) assert.fail(`the site did not start: ${output}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  })
  after(async () => {
    if (site.exitCode === null) {
      const exited = new Promise((resolve) => site.once('exit', resolve))
      site.kill()
      await exited
    }
    await provider.close()
  })

  test('it says where to open it when it starts; /dev-login stands in for the password step, then REG adds a passkey', async () => {
    assert.match(output, new RegExp(`^Open ${origin}/dev-login, then ${origin}/justpass/reg to add a passkey\\.$`, 'm'))
    const browser = new Browser()
    const login = await browser.get(`${origin}/dev-login?username=dora`)
    assert.equal(login.location, `${origin}/`)
    assert.deepEqual((await browser.json<Home>(`${origin}/`)).user, { username: 'dora', justpassEnabled: false })
    const reg = await throughJustpass(browser, `${origin}/justpass/reg`, callbackURL)
    assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), 'dora')
    assert.equal(reg.callback.location, `${origin}/`)
    assert.equal((JSON.parse(reg.last.body) as Home).user?.justpassEnabled, true)
    await browser.get(`${origin}/dev-login?username=dora`)
    assert.equal((await browser.json<Home>(`${origin}/`)).user?.justpassEnabled, true, 'logging in again keeps the user as it is')
  })

  test('REG needs a logged-in user: 401, and nothing sent to justpass.me', async () => {
    const requests = provider.authorizationRequests.length
    const hop = await new Browser().get(`${origin}/justpass/reg`)
    assert.equal(hop.status, 401)
    assert.equal(provider.authorizationRequests.length, requests)
  })

  test('REG, then LOGIN with the passkey registered', async () => {
    // alice is logged in first; here by her first passkey LOGIN, which creates her
    // (createOnLogin), on a real site by its own password step.
    provider.behaviour = { action: 'approve', account: 'alice' }
    const browser = new Browser()
    try {
      await throughJustpass(browser, `${origin}/justpass/login`, callbackURL)
    } finally {
      provider.behaviour = { action: 'approve' }
    }
    assert.equal((await browser.json<Home>(`${origin}/`)).user?.username, 'alice')

    const reg = await throughJustpass(browser, `${origin}/justpass/reg`, callbackURL)
    assert.equal(provider.authorizationRequests.at(-1)?.get('prompt'), 'create')
    assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), 'alice')
    assert.equal(reg.callback.location, `${origin}/`)
    assert.deepEqual(JSON.parse(reg.last.body), {
      user: { username: 'alice', justpassEnabled: true, justpassSub: provider.subOf('alice') },
      notice: { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' },
    })

    await provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const other = new Browser()
      const login = await throughJustpass(other, `${origin}/justpass/login`, callbackURL)
      assert.equal(provider.authorizationRequests.at(-1)?.get('prompt'), 'login')
      assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), null, 'nobody identified: the passkey says who')
      assert.equal(login.callback.location, `${origin}/`)
      assert.deepEqual(JSON.parse(login.last.body), {
        user: { username: 'alice', justpassEnabled: true, justpassSub: provider.subOf('alice') },
        notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' },
      })
    })
  })

  test('LOGIN cancelled at the provider: refused, to /login with provider_denied; nobody created', async () => {
    await provider.withBehaviour({ action: 'cancel' }, async () => {
      const browser = new Browser()
      const { callback, last: page } = await throughJustpass(browser, `${origin}/justpass/login`, callbackURL)
      assert.equal(callback.location, `${origin}/login`)
      assert.equal(page.url, `${origin}/login`)
      assert.equal(page.status, 200, 'the site has the /login page a failed LOGIN goes to')
      assert.deepEqual(JSON.parse(page.body), {
        user: null,
        notice: { mode: 'login', ok: false, reason: 'provider_denied', message: 'The passkey step was cancelled. Nothing was changed.', providerError: 'access_denied' },
      })
    })
  })
})

describe('example/readme/site.ts with example/readme/user-store.ts (SQLite :memory:)', () => {
  const site = guideSiteForSuite({
    usernames: ['alice', 'bob', 'carol'],
    site: ({ provider, users, callbackURL }) =>
      createSite({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL, sessionSecret: SESSION_SECRET, users }),
  })

  test('the password step logs a user without a passkey in; a wrong password does not', async () => {
    const browser = new Browser()
    assert.equal(await logIn(browser, site.origin, 'alice', 'wrong'), '/login?failed=1')
    assert.equal((await browser.json(`${site.origin}/`)).user, null)
    assert.equal(await logIn(browser, site.origin, 'alice'), '/')
    assert.deepEqual(await browser.json(`${site.origin}/`), { user: 'alice', justpassEnabled: false })
  })

  test('REG: the logged-in user registers a passkey; the flag is set in the database', async () => {
    const browser = new Browser()
    await logIn(browser, site.origin, 'alice')
    const { callback, last } = await throughJustpass(browser, `${site.origin}/justpass/reg`, site.callbackURL)
    assert.equal(site.provider.authorizationRequests.at(-1)?.get('prompt'), 'create')
    assert.equal(site.provider.authorizationRequests.at(-1)?.get('login_hint'), 'alice')
    assert.equal(callback.location, `${site.origin}/`)
    assert.deepEqual(JSON.parse(last.body), { user: 'alice', justpassEnabled: true, notice: { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' } })
    assert.equal(flagOf(site.db, 'alice'), 1)
    assert.equal(flagOf(site.db, 'bob'), 0)
  })

  test('LOGIN as a second factor: the password leads to the passkey, and only then is the user logged in', async () => {
    const browser = new Browser()
    assert.equal(await logIn(browser, site.origin, 'alice'), '/justpass/login')
    assert.equal((await browser.json(`${site.origin}/`)).user, null, 'the password alone logs nobody in')
    const before = sessionCookie(browser)
    const { callback, last } = await throughJustpass(browser, `${site.origin}/justpass/login`, site.callbackURL)
    assert.equal(site.provider.authorizationRequests.at(-1)?.get('prompt'), 'login')
    assert.equal(site.provider.authorizationRequests.at(-1)?.get('login_hint'), 'alice')
    assert.equal(callback.location, `${site.origin}/`)
    assert.deepEqual(JSON.parse(last.body), { user: 'alice', justpassEnabled: true, notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' } })
    assert.notEqual(sessionCookie(browser), before, 'a new session')
  })

  test('LOGIN as a second factor with another user\'s passkey fails, back to the login page', async () => {
    await site.provider.withBehaviour({ action: 'approve', account: 'bob' }, async () => {
      const browser = new Browser()
      await logIn(browser, site.origin, 'alice')
      const { callback, last } = await throughJustpass(browser, `${site.origin}/justpass/login`, site.callbackURL)
      assert.equal(callback.location, `${site.origin}/login`)
      assert.deepEqual(JSON.parse(last.body), { failed: true, message: 'The passkey belongs to another user than the one this login was for. Use your own passkey.' })
      assert.equal((await browser.json(`${site.origin}/`)).user, null)
    })
  })

  test('LOGIN as the only factor: the passkey says who the user is', async () => {
    await site.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const browser = new Browser()
      const { callback, last } = await throughJustpass(browser, `${site.origin}/justpass/login?next=/orders`, site.callbackURL)
      assert.equal(site.provider.authorizationRequests.at(-1)?.get('login_hint'), null)
      assert.equal(callback.location, `${site.origin}/orders`)
      assert.equal(last.status, 404, 'the example has no /orders page')
      assert.deepEqual(await browser.json(`${site.origin}/`), { user: 'alice', justpassEnabled: true, notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' } })
    })
  })

  test('LOGIN of a passkey the site has no user for: the login page shows the notice', async () => {
    await site.provider.withBehaviour({ action: 'approve', account: 'zed' }, async () => {
      const browser = new Browser()
      const { callback, last } = await throughJustpass(browser, `${site.origin}/justpass/login`, site.callbackURL)
      assert.equal(callback.location, `${site.origin}/login`)
      assert.deepEqual(JSON.parse(last.body), { failed: true, message: 'No account on this site matches this passkey. Sign in with your password.' })
      assert.deepEqual(await browser.json(`${site.origin}/login`), { failed: false }, 'the notice is shown once')
    })
  })

  test('a mobile app gets JSON: LOGIN answers the username, and its session cookie logs the app in', async () => {
    await site.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const browser = new Browser()
      const { callback } = await throughJustpassAsApp(browser, `${site.origin}/justpass/login`, site.callbackURL)
      assert.equal(site.provider.authorizationRequests.at(-1)?.get('AMWALPLATFORM'), 'app')
      assert.equal(callback.status, 200)
      assert.equal(callback.headers.get('cache-control'), 'no-store')
      assert.deepEqual(JSON.parse(callback.body), { username: 'alice' }, 'no token without appToken')
      assert.ok(callback.headers.getSetCookie().some((line) => line.startsWith('connect.sid=')), 'the answer sets the new session cookie')
      assert.equal((await browser.json(`${site.origin}/`)).user, 'alice', 'the cookie of the answer logs the app in')
    })
  })

  test('a mobile app gets JSON: REG answers the flag, a failure answers 401 with err and reason', async () => {
    const browser = new Browser()
    await logIn(browser, site.origin, 'carol')
    const reg = await throughJustpassAsApp(browser, `${site.origin}/justpass/reg`, site.callbackURL)
    assert.equal(reg.callback.status, 200)
    assert.deepEqual(JSON.parse(reg.callback.body), { username: 'carol', justpassEnabled: true })
    assert.equal(flagOf(site.db, 'carol'), 1)

    await site.provider.withBehaviour({ action: 'cancel' }, async () => {
      const failed = await throughJustpassAsApp(new Browser(), `${site.origin}/justpass/login`, site.callbackURL)
      assert.equal(failed.callback.status, 401)
      assert.deepEqual(JSON.parse(failed.callback.body), { err: 'The passkey step was cancelled. Nothing was changed.', reason: 'provider_denied' })
    })
  })

  test('justpass.me unavailable at the callback: the login page says so in plain words, no error page', async () => {
    site.provider.behaviour = { action: 'approve', account: 'alice' }
    const browser = new Browser()
    const { stoppedAt } = await browser.follow(`${site.origin}/justpass/login`, (next) => next.href.startsWith(`${site.callbackURL}?`))
    assert.ok(stoppedAt)
    site.provider.unavailable = true
    try {
      const answer = await browser.get(stoppedAt)
      assert.equal(answer.location, `${site.origin}/login`)
      const page = await browser.json<{ failed: boolean; message: string }>(`${site.origin}/login`)
      assert.deepEqual(page, { failed: true, message: 'The passkey service did not answer, so nothing was changed. Try again in a few minutes.' })
    } finally {
      site.provider.unavailable = false
      site.provider.behaviour = { action: 'approve' }
    }
  })
})

/** A site of example/readme/site.ts whose strategy comes from `makeStrategy`, over a SQLite store of `username`. */
async function startStrategySite(username: string, makeStrategy: (settings: JustpassSettings, users: SqliteUserStore) => ReturnType<typeof createVerifyStrategy>) {
  const server = await startLoopbackServer()
  const provider = await startProviderFor([server])
  const { db, users } = await sqliteUsers(username)
  const settings = settingsFor(provider, server)
  server.handle(createSite({ ...settings, sessionSecret: SESSION_SECRET, users, strategy: makeStrategy(settings, users) }))
  return {
    server,
    provider,
    db,
    users,
    callbackURL: settings.callbackURL,
    close: async () => {
      await server.close()
      await provider.close()
      db.close()
    },
  }
}

describe('example/readme/site.ts on https: a __Host- session cookie', () => {
  // The site behind a proxy that terminates TLS: its callbackURL is https, and the proxy
  // says so in X-Forwarded-Proto, which express-session believes with trust proxy.
  let server: LoopbackServer
  let db: Database.Database
  const https = { 'x-forwarded-proto': 'https' }

  before(async () => {
    server = await startLoopbackServer()
    let users: SqliteUserStore
    ;({ db, users } = await sqliteUsers('alice'))
    const app = createSite({
      opURL: 'https://acme.accounts.justpass.me/openid/',
      clientID: 'shop',
      clientSecret: 'shop-client-secret-0123456789abcdef',
      callbackURL: 'https://shop.example.com/justpass/callback',
      sessionSecret: SESSION_SECRET,
      users,
    })
    app.set('trust proxy', 'loopback')
    server.handle(app)
  })
  after(async () => {
    await server.close()
    db.close()
  })

  test('the password step sets __Host-connect.sid: Secure, Path=/, no Domain, SameSite=Lax', async () => {
    const login = await new Browser().post(`${server.origin}/login`, { username: 'alice', password: 'alice-password' }, { headers: https })
    assert.equal(login.location, `${server.origin}/`)
    const lines = login.headers.getSetCookie()
    assert.equal(lines.length, 1)
    const [pair, ...attributes] = lines[0]!.split('; ')
    assert.match(pair!, /^__Host-connect\.sid=s%3A/)
    for (const attribute of ['Path=/', 'Secure', 'HttpOnly', 'SameSite=Lax']) assert.ok(attributes.includes(attribute), attribute)
    assert.ok(!attributes.some((attribute) => /^domain=/i.test(attribute)), 'no Domain')
  })

  test('the site reads only the prefixed name: the same session planted as connect.sid logs nobody in', async () => {
    const login = await new Browser().post(`${server.origin}/login`, { username: 'alice', password: 'alice-password' }, { headers: https })
    const value = login.headers.getSetCookie()[0]!.split('; ')[0]!.slice('__Host-connect.sid='.length)
    const as = async (cookie: string) => {
      const home = await new Browser().get(`${server.origin}/`, { headers: { ...https, cookie } })
      return (JSON.parse(home.body) as { user: string | null }).user
    }
    assert.equal(await as(`__Host-connect.sid=${value}`), 'alice')
    assert.equal(await as(`connect.sid=${value}`), null)
  })

  test('without the proxy saying https, express-session sets no cookie at all (hence trust proxy)', async () => {
    const login = await new Browser().post(`${server.origin}/login`, { username: 'alice', password: 'alice-password' })
    assert.equal(login.location, `${server.origin}/`)
    assert.deepEqual(login.headers.getSetCookie(), [])
  })
})

describe('example/readme/verify.ts: a custom verify callback', () => {
  let site: Awaited<ReturnType<typeof startStrategySite>>
  before(async () => {
    site = await startStrategySite('alice', createVerifyStrategy)
  })
  after(() => site.close())

  test('REG sets the flag, and the passkey then logs the user in', async () => {
    const browser = new Browser()
    await logIn(browser, site.server.origin, 'alice')
    const reg = await throughJustpass(browser, `${site.server.origin}/justpass/reg`, site.callbackURL)
    assert.deepEqual(JSON.parse(reg.last.body), { user: 'alice', justpassEnabled: true, notice: { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' } })
    assert.equal(flagOf(site.db, 'alice'), 1)

    const other = new Browser()
    assert.equal(await logIn(other, site.server.origin, 'alice'), '/justpass/login')
    const login = await throughJustpass(other, `${site.server.origin}/justpass/login`, site.callbackURL)
    assert.deepEqual(JSON.parse(login.last.body), { user: 'alice', justpassEnabled: true, notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' } })
  })

  test('turned off, passkey login refuses the passkey with passkey_login_off', async () => {
    await site.users.setJustpassEnabled('alice', true)
    await site.users.setJustpassEnabled('alice', false)
    await site.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const { callback, last } = await throughJustpass(new Browser(), `${site.server.origin}/justpass/login`, site.callbackURL)
      assert.equal(callback.location, `${site.server.origin}/login`)
      assert.deepEqual(JSON.parse(last.body), { failed: true, message: 'Passkey login is turned off for this account. Sign in with your password.' })
    })
  })

  test('refuses an unknown user with its own message', async () => {
    await site.provider.withBehaviour({ action: 'approve', account: 'zed' }, async () => {
      const { callback, last } = await throughJustpass(new Browser(), `${site.server.origin}/justpass/login`, site.callbackURL)
      assert.equal(callback.location, `${site.server.origin}/login`)
      assert.deepEqual(JSON.parse(last.body), { failed: true, message: 'no account matches this passkey' })
    })
  })
})

describe('example/readme/with-request.ts: passReqToCallback', () => {
  let site: Awaited<ReturnType<typeof startStrategySite>>
  before(async () => {
    site = await startStrategySite('bob', createRequestStrategy)
  })
  after(() => site.close())

  test('REG flags the logged-in user (req.user); LOGIN finds the passkey\'s user', async () => {
    const browser = new Browser()
    await logIn(browser, site.server.origin, 'bob')
    const reg = await throughJustpass(browser, `${site.server.origin}/justpass/reg`, site.callbackURL)
    assert.deepEqual(JSON.parse(reg.last.body), { user: 'bob', justpassEnabled: true, notice: { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' } })
    assert.equal(flagOf(site.db, 'bob'), 1)

    await site.provider.withBehaviour({ action: 'approve', account: 'bob' }, async () => {
      const login = await throughJustpass(new Browser(), `${site.server.origin}/justpass/login`, site.callbackURL)
      assert.deepEqual(JSON.parse(login.last.body), { user: 'bob', justpassEnabled: true, notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' } })
      await site.users.setJustpassEnabled('bob', false)
      const off = await throughJustpass(new Browser(), `${site.server.origin}/justpass/login`, site.callbackURL)
      assert.equal(off.callback.location, `${site.server.origin}/login`, 'turned off, the passkey no longer logs bob in')
      assert.deepEqual(JSON.parse(off.last.body), { failed: true, message: 'Passkey login is turned off for this account. Sign in with your password.' })
    })
  })
})

describe('example/readme/redirects.ts and memory-store.ts: plain successRedirect and failureRedirect', () => {
  let open: LoopbackServer
  let demo: LoopbackServer
  let provider: TestProvider
  const openStore = openUsers()
  const demoStore = demoUsers()

  before(async () => {
    open = await startLoopbackServer()
    demo = await startLoopbackServer()
    provider = await startProviderFor([open, demo])
    open.handle(createRedirectSite({ ...settingsFor(provider, open), sessionSecret: SESSION_SECRET, users: openStore }))
    demo.handle(createRedirectSite({ ...settingsFor(provider, demo), sessionSecret: SESSION_SECRET, users: demoStore }))
  })
  after(async () => {
    await open.close()
    await demo.close()
    await provider.close()
  })

  test('the memory stores start as documented', () => {
    assert.deepEqual(demoUsers().list(), [
      { username: 'alice', justpassEnabled: false },
      { username: 'bob', justpassEnabled: false },
      { username: 'carol', justpassEnabled: true },
    ])
    assert.deepEqual(openUsers().list(), [])
    assert.equal(typeof openUsers().createUser, 'function')
    assert.equal(demoUsers().createUser, undefined)
  })

  test('success goes to /welcome, logged in; an unknown user goes to /login?failed=1', async () => {
    await provider.withBehaviour({ action: 'approve', account: 'carol' }, async () => {
      const browser = new Browser()
      const { callback, last } = await throughJustpass(browser, `${demo.origin}/justpass/login`, `${demo.origin}/justpass/callback`)
      assert.equal(callback.location, `${demo.origin}/welcome`)
      assert.deepEqual(JSON.parse(last.body), { user: 'carol' })

      provider.behaviour = { action: 'approve', account: 'zed' }
      const refused = await throughJustpass(new Browser(), `${demo.origin}/justpass/login`, `${demo.origin}/justpass/callback`)
      assert.equal(refused.callback.location, `${demo.origin}/login?failed=1`)
      assert.deepEqual(JSON.parse(refused.last.body), { failed: true })
    })
  })

  test('createOnLogin: a first passkey LOGIN creates the user; a cancel goes to failureRedirect', async () => {
    await provider.withBehaviour({ action: 'approve', account: 'dave' }, async () => {
      const browser = new Browser()
      const { callback, last } = await throughJustpass(browser, `${open.origin}/justpass/login`, `${open.origin}/justpass/callback`)
      assert.equal(callback.location, `${open.origin}/welcome`)
      assert.deepEqual(JSON.parse(last.body), { user: 'dave' })
      assert.deepEqual(openStore.list(), [{ username: 'dave', justpassEnabled: true }], 'created with passkey login on: the passkey is theirs')

      provider.behaviour = { action: 'cancel' }
      const other = new Browser()
      const cancelled = await throughJustpass(other, `${open.origin}/justpass/login`, `${open.origin}/justpass/callback`)
      assert.equal(cancelled.callback.location, `${open.origin}/login?failed=1`)
      assert.deepEqual(await other.json(`${open.origin}/welcome`), { user: null })
    })
  })
})

describe('example/readme/nest-main.ts: the NestJS bootstrap', () => {
  let server: LoopbackServer
  let provider: TestProvider
  let app: INestApplication

  before(async () => {
    server = await startLoopbackServer()
    provider = await startProviderFor([server])
    app = await createNestSite({ ...settingsFor(provider, server), sessionSecret: SESSION_SECRET, users: passkeyUsers('alice') })
    await app.init()
    server.handle(app.getHttpAdapter().getInstance())
  })
  after(async () => {
    await server.close()
    await app.close()
    await provider.close()
  })

  test('a passkey LOGIN through the module\'s guards logs the user in', async () => {
    await provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const browser = new Browser()
      const { callback, last } = await throughJustpass(browser, `${server.origin}/justpass/login`, `${server.origin}/justpass/callback`)
      assert.equal(callback.status, 302)
      assert.equal(last.url, `${server.origin}/`)
      assert.deepEqual(JSON.parse(last.body), { user: 'alice' })
    })
  })
})

describe('docs/troubleshooting.md: what a user sees', () => {
  const HTTP_OP_URL = 'passport-justpass: option "opURL" must use https: (plain http: is accepted only for loopback hosts, or with allowInsecureHTTP: true)'
  const NO_SESSION = 'passport-justpass: no session on the request: add session middleware (express-session or similar) before passport'
  const WRONG_SECRET = 'The passkey step did not complete at justpass.me (invalid_request). Start again.'
  const WRONG_ALG = 'The ID token failed a check (alg: not the configured algorithm). Start again.'

  test('the guide quotes these messages exactly', () => {
    const TROUBLESHOOTING = readFileSync(`${ROOT}docs/troubleshooting.md`, 'utf8')
    for (const message of [HTTP_OP_URL, NO_SESSION, WRONG_SECRET, WRONG_ALG]) assert.ok(TROUBLESHOOTING.includes(message), message)
  })

  test('an http: opURL: the constructor throws JustpassConfigError', () => {
    assert.throws(
      () => new JustpassStrategy({ opURL: 'http://acme.accounts.justpass.me/openid/', clientID: 'c', clientSecret: 's', callbackURL: 'https://shop.example/justpass/callback', userStore: demoUsers() }),
      (err: unknown) => err instanceof JustpassConfigError && err.option === 'opURL' && err.message === HTTP_OP_URL,
    )
  })

  describe('a site without session middleware', () => {
    let server: LoopbackServer
    before(async () => {
      server = await startLoopbackServer()
      const passport = new Passport()
      passport.use(new JustpassStrategy({ opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'c', clientSecret: 'a-client-secret-0123456789abcdef0123', callbackURL: `${server.origin}/justpass/callback`, userStore: demoUsers() }))
      const app = express()
      app.use(passport.initialize())
      app.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' }))
      app.use(((err, _req, res, _next) => void res.status(500).send(`${err.name}: ${err.message}`)) as express.ErrorRequestHandler)
      server.handle(app)
    })
    after(() => server.close())

    test('the first flow goes to the error handler with a JustpassUsageError', async () => {
      const answer = await new Browser().get(`${server.origin}/justpass/login`)
      assert.equal(answer.status, 500)
      assert.equal(answer.body, `JustpassUsageError: ${NO_SESSION}`)
    })
  })

  describe('misconfigured sites against the provider', () => {
    let registered: LoopbackServer
    let unregistered: LoopbackServer
    let rs256: LoopbackServer
    let provider: TestProvider
    let rs256Provider: TestProvider
    let db: Database.Database
    let users: SqliteUserStore

    before(async () => {
      registered = await startLoopbackServer()
      unregistered = await startLoopbackServer()
      rs256 = await startLoopbackServer()
      provider = await startProviderFor([registered])
      rs256Provider = await startProviderFor([rs256], { idTokenAlg: 'RS256' })
      ;({ db, users } = await sqliteUsers('alice'))
      const site = { sessionSecret: SESSION_SECRET, users }
      registered.handle(createSite({ ...settingsFor(provider, registered), clientSecret: 'not-the-client-secret-0123456789abcdef', ...site }))
      unregistered.handle(createSite({ ...settingsFor(provider, unregistered), ...site }))
      rs256.handle(createSite({ ...settingsFor(rs256Provider, rs256), ...site }))
    })
    after(async () => {
      for (const server of [registered, unregistered, rs256]) await server.close()
      await provider.close()
      await rs256Provider.close()
      db.close()
    })

    test('a wrong client secret: error=invalid_request about the signature, then a LOGIN failure provider_denied', async () => {
        provider.behaviour = { action: 'approve', account: 'alice' }
      try {
        const browser = new Browser()
        const { hops, stoppedAt } = await browser.follow(`${registered.origin}/justpass/login`, (next) => next.origin === registered.origin && next.pathname === '/login')
        assert.ok(stoppedAt)
        const back = new URL(hops.find((hop) => hop.url.startsWith(`${registered.origin}/justpass/callback?`))!.url).searchParams
        assert.equal(back.get('error'), 'invalid_request')
        assert.match(back.get('error_description') ?? '', /signature/)
        assert.equal(provider.interactions.length, 0, 'no passkey step was offered')
        const home = await browser.json(`${registered.origin}/`)
        assert.deepEqual(home.notice, { mode: 'login', ok: false, reason: 'provider_denied', message: WRONG_SECRET, providerError: 'invalid_request' })
      } finally {
        provider.behaviour = { action: 'approve' }
      }
    })

    test('an unregistered callback URL: the provider shows an error page about redirect_uri', async () => {
      const { hops } = await new Browser().follow(`${unregistered.origin}/justpass/login`)
      const last = hops.at(-1)!
      assert.ok(last.url.startsWith(`${provider.opURL}authorize/?`))
      assert.equal(last.status, 400)
      assert.match(last.body, /redirect_uri/)
    })

    test('an ID token algorithm other than the configured one: id_token_invalid', async () => {
        rs256Provider.behaviour = { action: 'approve', account: 'alice' }
      const browser = new Browser()
      await browser.follow(`${rs256.origin}/justpass/login`, (next) => next.origin === rs256.origin && next.pathname === '/login')
      const home = await browser.json(`${rs256.origin}/`)
      assert.deepEqual(home.notice, { mode: 'login', ok: false, reason: 'id_token_invalid', message: WRONG_ALG })
    })
  })
})
