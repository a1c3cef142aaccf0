/**
 * docs/apps.md's single-page app example (example/readme/spa.ts) on a small Express site
 * against the local provider: the URL-only starts answer `{url}` and set the flow
 * cookie, and the callback's LOGIN hooks answer the site's own JSON. Needs `npm run
 * build` first: the example imports the package by its name, which resolves to dist/.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import express from 'express'
import session from 'express-session'
import { Passport } from 'passport'
import { JustpassStrategy, MemoryUserStore, type MemoryUser } from 'passport-justpass'
import { addSpaRoutes } from '../example/readme/spa.ts'
import { Browser } from './support/browser.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'

describe('example/readme/spa.ts: URL-only starts and LOGIN hooks', () => {
  let server: LoopbackServer
  let provider: TestProvider
  const users = new MemoryUserStore()
  users.add('alice', true) // passkey login on

  before(async () => {
    server = await startLoopbackServer()
    provider = await startTestProvider({ redirectURIs: [`${server.origin}/justpass/callback`] })
    const passport = new Passport()
    passport.use(new JustpassStrategy<MemoryUser>({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL: `${server.origin}/justpass/callback`, userStore: users }))
    passport.serializeUser<string>((user, done) => done(null, (user as MemoryUser).username))
    passport.deserializeUser<string>((username, done) => void users.findByUsername(username).then((user) => done(null, user ?? false), done))
    const app = express()
    app.use(session({ secret: 'spa-secret', resave: false, saveUninitialized: false }))
    app.use(passport.initialize())
    app.use(passport.session())
    addSpaRoutes(app, passport)
    server.handle(app)
  })
  after(async () => {
    await server.close()
    await provider.close()
  })

  /** The page's fetch, then its location.assign, through the provider to the callback. */
  async function signIn(browser: Browser, account: string, action: 'approve' | 'cancel' = 'approve') {
    const started = await browser.get(`${server.origin}/justpass/login-url`)
    assert.equal(started.status, 200)
    assert.equal(started.headers.getSetCookie().length, 1, 'the flow cookie, and no session')
    const { url } = JSON.parse(started.body) as { url: string }
    return await provider.withBehaviour({ action, account }, async () => {
      const { stoppedAt } = await browser.follow(url, (next) => next.href.startsWith(`${server.origin}/justpass/callback`))
      return await browser.get(stoppedAt!)
    })
  }

  test('a passkey LOGIN started with fetch answers the hook\'s JSON', async () => {
    const answer = await signIn(new Browser(), 'alice')
    assert.equal(answer.status, 200)
    assert.deepEqual(JSON.parse(answer.body), { username: 'alice', next: '/' })
  })

  test('a cancelled one answers the failure hook\'s JSON', async () => {
    const answer = await signIn(new Browser(), 'alice', 'cancel')
    assert.equal(answer.status, 401)
    assert.deepEqual(JSON.parse(answer.body), { reason: 'provider_denied', message: 'The passkey step was cancelled. Nothing was changed.' })
  })

  test('REG without a logged-in user answers 401 and no URL', async () => {
    const answer = await new Browser().get(`${server.origin}/justpass/reg-url`)
    assert.equal(answer.status, 401)
  })
})
