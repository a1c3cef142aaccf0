/**
 * docs/migration.md's examples run against the local provider: the Django site rewritten
 * for Express (example/readme/django-site.ts: its strategy, password step, routes, the
 * four handlers as hooks and URL-only starts, behind a TLS proxy), apps already shipped
 * against Django (example/readme/django-apps.ts: Django's answers, the sessionid cookie
 * as token), and the Firebase extension's rewrite (example/readme/firebase.ts, with a
 * stand-in for firebase-admin's Auth). Needs `npm run build` first: the examples import
 * the package by its name, which resolves to dist/.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createDjangoAppSite } from '../example/readme/django-apps.ts'
import { createDjangoSite } from '../example/readme/django-site.ts'
import { createFirebaseSite, type FirebaseAuth } from '../example/readme/firebase.ts'
import { guideSiteForSuite } from './support/guide-site.ts'
import { Browser } from './support/browser.ts'

const SESSION_SECRET = 'migration-session-secret'

describe('example/readme/django-site.ts: the Django site, step by step', () => {
  const site = guideSiteForSuite({
    callbackPath: '/oidc/callback/',
    usernames: ['alice', 'bob'],
    site: ({ provider, users, callbackURL }) =>
      createDjangoSite({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL, sessionSecret: SESSION_SECRET, users }),
  })

  /** A browser behind the site's TLS proxy: every request says it came over https. */
  const proxied = () => {
    const browser = new Browser()
    browser.headers = { 'x-forwarded-proto': 'https' }
    return browser
  }

  test('REG from a visitor goes to the login page; from a logged-in user, onRegistered sets reg', async () => {
    const visitor = await proxied().get(`${site.origin}/justpass/reg`)
    assert.equal(visitor.location, `${site.origin}/accounts/login/`)

    const browser = proxied()
    const login = await browser.post(`${site.origin}/accounts/login/`, { username: 'alice', password: 'alice-password' })
    assert.equal(login.location, `${site.origin}/`)
    assert.match(login.headers.getSetCookie().find((line) => line.startsWith('__Host-sessionid=')) ?? '', /; Path=\/; HttpOnly; Secure; SameSite=Lax$/, 'the session cookie is a __Host- one, Secure behind the proxy')
    const { hops } = await browser.follow(`${site.origin}/justpass/reg`)
    assert.ok(hops.some((hop) => hop.url.startsWith(`${site.origin}/oidc/callback/?`)))
    assert.deepEqual(JSON.parse(hops.at(-1)!.body), { user: 'alice', reg: true })
    assert.equal((await site.users.findByUsername('alice'))?.justpassEnabled, true)

    const failed = await site.provider.withBehaviour({ action: 'cancel' }, () => browser.follow(`${site.origin}/justpass/reg`))
    assert.deepEqual(JSON.parse(failed.hops.at(-1)!.body), { user: 'alice', reg: false })
  })

  test('the password step leads to the passkey; onLoggedIn returns to ?next=, onLoginFailed names the reason', async () => {
    await site.users.setJustpassEnabled('bob', true)
    const browser = proxied()
    const step = await browser.post(`${site.origin}/accounts/login/`, { username: 'bob', password: 'bob-password' })
    assert.equal(step.location, `${site.origin}/justpass/login`)
    const { hops } = await browser.follow(`${site.origin}/justpass/login?next=/orders`)
    assert.equal(site.provider.authorizationRequests.at(-1)?.get('login_hint'), 'bob')
    const callback = hops.find((hop) => hop.url.startsWith(`${site.origin}/oidc/callback/?`))
    assert.equal(callback?.location, `${site.origin}/orders`)
    assert.equal((await browser.json(`${site.origin}/`)).user, 'bob')

    const other = proxied()
    await other.post(`${site.origin}/accounts/login/`, { username: 'bob', password: 'bob-password' })
    const refused = await site.provider.withBehaviour({ action: 'approve', account: 'alice' }, () => other.follow(`${site.origin}/justpass/login`, (next) => next.pathname === '/accounts/login/'))
    assert.equal(refused.stoppedAt, `${site.origin}/accounts/login/?failed=identity_mismatch`)
  })

  test('the URL-only starts: a URL for LOGIN, 401 for REG without a user', async () => {
    await site.provider.withBehaviour({ action: 'approve', account: 'alice' }, async () => {
      const browser = proxied()
      const start = await browser.get(`${site.origin}/justpass/login-url`)
      assert.equal(start.status, 200)
      const { url } = JSON.parse(start.body) as { url: string }
      await browser.follow(url)
      assert.equal((await browser.json(`${site.origin}/`)).user, 'alice')
    })
    assert.equal((await proxied().get(`${site.origin}/justpass/reg-url`)).status, 401)
  })
})

describe('example/readme/django-apps.ts: apps shipped against the Django client', () => {
  const site = guideSiteForSuite({
    callbackPath: '/oidc/callback/',
    usernames: ['alice'],
    site: async ({ provider, users, callbackURL }) => {
      await users.setJustpassEnabled('alice', true)
      return createDjangoAppSite({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL, sessionSecret: SESSION_SECRET, users })
    },
  })

  /** An app's passkey LOGIN: the start names the platform; the callback's answer. */
  async function appLogin(app: Browser) {
    const start = await app.get(`${site.origin}/justpass/login`, { headers: { 'AMWAL-PLATFORM': 'app' } })
    const { stoppedAt } = await app.follow(start.location!, (next) => next.pathname === '/oidc/callback/')
    assert.ok(stoppedAt)
    return app.get(stoppedAt)
  }

  test('LOGIN: Django\'s bytes, with the sessionid cookie\'s value as token', async () => {
    const app = new Browser()
    const answer = await site.provider.withBehaviour({ action: 'approve', account: 'alice' }, () => appLogin(app))
    assert.equal(answer.status, 200)
    const cookie = app.cookies.get('127.0.0.1')?.get('sessionid')
    assert.ok(cookie, 'the answer sets the sessionid cookie')
    assert.equal(answer.body, JSON.stringify({ username: 'alice', token: decodeURIComponent(cookie) }).replace('","', '", "').replace(/":"/g, '": "'))
  })

  test('a refusal: 200 {"err": "Failed"}', async () => {
    const answer = await site.provider.withBehaviour({ action: 'cancel' }, () => appLogin(new Browser()))
    assert.equal(answer.status, 200)
    assert.equal(answer.body, '{"err": "Failed"}')
  })
})

describe('example/readme/firebase.ts: the Firebase extension\'s routes', () => {
  const site = guideSiteForSuite({
    site: ({ provider, callbackURL }) =>
      createFirebaseSite({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL, sessionSecret: SESSION_SECRET, auth }),
  })

  /** A stand-in for firebase-admin's Auth: `id-token-of:<uid>` is a valid ID token. */
  const auth: FirebaseAuth = {
    createCustomToken: async (uid) => `custom-token-for:${uid}`,
    verifyIdToken: async (idToken) => {
      if (!idToken.startsWith('id-token-of:')) throw new Error('invalid ID token')
      return { uid: idToken.slice('id-token-of:'.length) }
    },
  }

  test('/register without a valid ID token answers 401', async () => {
    for (const headers of [{}, { authorization: 'Bearer forged' }] as Array<Record<string, string>>) {
      const answer = await new Browser().get(`${site.origin}/register`, { headers })
      assert.equal(answer.status, 401)
      assert.deepEqual(JSON.parse(answer.body), { status: 'ERR', message: 'log in before registering a passkey' })
    }
  })

  test('/register for the uid of the ID token; /authenticate answers a custom token; a cancel answers 401', async () => {
    const browser = new Browser()
    const start = await browser.get(`${site.origin}/register`, { headers: { authorization: 'Bearer id-token-of:u123' } })
    assert.equal(start.status, 302)
    const reg = await browser.follow(start.location!)
    assert.equal(site.provider.authorizationRequests.at(-1)?.get('login_hint'), 'u123')
    assert.equal(site.provider.authorizationRequests.at(-1)?.get('scope'), 'openid token email profile')
    assert.deepEqual(JSON.parse(reg.hops.at(-1)!.body), { status: 'OK', message: 'passkey registered' })

    const login = await site.provider.withBehaviour({ action: 'approve', account: 'u123' }, () => new Browser().follow(`${site.origin}/authenticate`))
    assert.deepEqual(JSON.parse(login.hops.at(-1)!.body), { status: 'OK', message: 'logged in', token: 'custom-token-for:u123' })

    const cancelled = await site.provider.withBehaviour({ action: 'cancel' }, () => new Browser().follow(`${site.origin}/authenticate`))
    assert.equal(cancelled.hops.at(-1)!.status, 401)
    assert.deepEqual(JSON.parse(cancelled.hops.at(-1)!.body), { status: 'ERR', message: 'The passkey step was cancelled. Nothing was changed.' })
  })

  test('REG with another uid\'s passkey is refused', async () => {
    const browser = new Browser()
    const start = await browser.get(`${site.origin}/register`, { headers: { authorization: 'Bearer id-token-of:u456' } })
    const reg = await site.provider.withBehaviour({ action: 'approve', account: 'u123' }, () => browser.follow(start.location!))
    assert.equal(reg.hops.at(-1)!.status, 401)
    assert.equal(JSON.parse(reg.hops.at(-1)!.body).status, 'ERR')
  })
})
