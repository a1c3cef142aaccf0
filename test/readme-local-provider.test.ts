/**
 * docs/local-provider.md's examples (example/readme/local-provider.ts): the strategy
 * settings for `npm run provider` send the browser to that provider with the site's
 * client id and callback URL; and the provider a site's own tests start, with the
 * passkey step completed in code, serves the complete example site (REG, second-factor
 * and single-factor LOGIN). Needs `npm run build` first: the examples import the package
 * by its name, which resolves to dist/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import express from 'express'
import session from 'express-session'
import { Passport } from 'passport'
import { MemoryUserStore } from 'passport-justpass'
import { localStrategy, startProviderFor, TEST_CLIENT_SECRET } from '../example/readme/local-provider.ts'
import { createSite } from '../example/readme/site.ts'
import { guideSiteForSuite } from './support/guide-site.ts'
import { Browser } from './support/browser.ts'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'

describe('example/readme/local-provider.ts#strategy: a site configured for npm run provider', () => {
  let server: LoopbackServer
  let secret: string | undefined

  before(async () => {
    secret = process.env.JUSTPASS_CLIENT_SECRET
    process.env.JUSTPASS_CLIENT_SECRET = 'a-development-secret-of-32-characters'
    server = await startLoopbackServer()
    const passport = new Passport()
    passport.use(localStrategy(new MemoryUserStore(['alice'])))
    const app = express()
    app.use(session({ secret: 'local-provider-session', resave: false, saveUninitialized: false }))
    app.use(passport.initialize())
    app.use(passport.session())
    app.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' }))
    server.handle(app)
  })
  after(async () => {
    await server.close()
    if (secret === undefined) delete process.env.JUSTPASS_CLIENT_SECRET
    else process.env.JUSTPASS_CLIENT_SECRET = secret
  })

  test('LOGIN goes to the local provider, with the client id and callback URL the provider was given', async () => {
    const hop = await new Browser().get(`${server.origin.replace('127.0.0.1', 'localhost')}/justpass/login`)
    assert.equal(hop.status, 302)
    const location = new URL(hop.location!)
    assert.equal(`${location.origin}${location.pathname}`, 'http://localhost:4001/openid/authorize/')
    assert.equal(location.searchParams.get('client_id'), 'my-site')
    assert.equal(location.searchParams.get('redirect_uri'), 'http://localhost:4000/justpass/callback')
  })
})

describe('example/readme/local-provider.ts#tests: the provider in a site\'s own tests', () => {
  const site = guideSiteForSuite({
    provider: (callbackURL) => startProviderFor(new URL(callbackURL).origin),
    usernames: ['alice', 'bob'],
    site: ({ provider, users, callbackURL }) =>
      createSite({ opURL: provider.opURL, clientID: 'shop-test', clientSecret: TEST_CLIENT_SECRET, callbackURL, sessionSecret: 'local-provider-session', users }),
  })

  /** Follow `path` through the provider back to the site's page. */
  async function through(browser: Browser, path: string): Promise<Record<string, unknown>> {
    const { hops } = await browser.follow(`${site.origin}${path}`)
    assert.ok(hops.some((hop) => hop.url.startsWith(`${site.origin}/justpass/callback?`)), 'back at the callback')
    return JSON.parse(hops.at(-1)!.body) as Record<string, unknown>
  }

  test('REG for bob after his password, then the passkey as his second factor', async () => {
    const browser = new Browser()
    assert.equal((await browser.post(`${site.origin}/login`, { username: 'bob', password: 'bob-password' })).location, `${site.origin}/`)
    assert.deepEqual(await through(browser, '/justpass/reg'), { user: 'bob', justpassEnabled: true, notice: { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' } })

    const again = new Browser()
    assert.equal((await again.post(`${site.origin}/login`, { username: 'bob', password: 'bob-password' })).location, `${site.origin}/justpass/login`)
    assert.deepEqual(await through(again, '/justpass/login'), { user: 'bob', justpassEnabled: true, notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' } })
  })

  test('a passkey LOGIN with nobody named presents alice\'s passkey', async () => {
    await site.users.setJustpassEnabled('alice', true)
    const page = await through(new Browser(), '/justpass/login')
    assert.equal(page.user, 'alice')
  })
})
