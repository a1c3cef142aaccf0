/**
 * The core flows on Express 4 (its `qs` query parser, its router), with a small site of
 * its own: REG, second-factor LOGIN, single-factor LOGIN, cancel, and a malformed
 * callback with array-shaped parameters.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import express4 from 'express4'
import session from 'express-session'
import { Passport } from 'passport'
import { JustpassStrategy, MemoryUserStore, justpassCallback, takeJustpassNotice, type MemoryUser } from '../src/index.ts'
import { Browser } from './support/browser.ts'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'

describe('Express 4', () => {
  let server: LoopbackServer
  let provider: TestProvider
  const users = new MemoryUserStore(['alice', 'bob'])
  const callbackURL = () => `${server.origin}/justpass/callback`

  before(async () => {
    server = await startLoopbackServer()
    provider = await startTestProvider({ redirectURIs: [callbackURL()] })
    const authenticator = new Passport()
    authenticator.use(new JustpassStrategy({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL: callbackURL(), userStore: users }))
    authenticator.serializeUser<string>((user, done) => done(null, (user as MemoryUser).username))
    authenticator.deserializeUser<string>((username, done) => void users.findByUsername(username).then((user) => done(null, user ?? false), done))
    // This repository's passport and express-session types are Express 5's; an Express 4
    // site has Express 4's. The casts bridge the two type versions, not the runtime.
    const app = express4()
    app.use(session({ name: 'shop4.sid', secret: 'express4-secret', resave: false, saveUninitialized: false }) as never)
    app.use(authenticator.initialize() as never)
    app.use(authenticator.session() as never)
    app.get('/password', (req, res) => {
      req.session.base_username = String(req.query.username)
      res.redirect('/justpass/login')
    })
    app.get('/login-as', (req, res, next) => {
      users.findByUsername(String(req.query.username)).then((user) => req.logIn(user!, (err) => (err ? next(err) : res.redirect('/'))), next)
    })
    app.get('/me', (req, res) => void res.json({ user: req.user ?? null, notice: takeJustpassNotice(req as never) ?? null }))
    app.get('/justpass/reg', authenticator.authenticate('justpass', { mode: 'register' }))
    app.get('/justpass/login', authenticator.authenticate('justpass', { mode: 'login' }))
    app.get('/justpass/callback', justpassCallback({ authenticator }) as never)
    server.handle(app)
  })
  after(async () => {
    await server.close()
    await provider.close()
  })

  async function run(browser: Browser, path: string): Promise<{ user: MemoryUser | null; notice: { ok: boolean; reason?: string } | null }> {
    const { stoppedAt } = await browser.follow(`${server.origin}${path}`, (next) => next.href.startsWith(callbackURL()))
    assert.ok(stoppedAt)
    await browser.follow(stoppedAt)
    return browser.json(`${server.origin}/me`)
  }

  test('REG', async () => {
    const browser = new Browser()
    await browser.get(`${server.origin}/login-as?username=alice`)
    const me = await run(browser, '/justpass/reg')
    assert.deepEqual(me.notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
    assert.equal((await users.findByUsername('alice'))?.justpassEnabled, true)
  })

  test('LOGIN, second factor', async () => {
    const me = await run(new Browser(), '/password?username=alice')
    assert.equal(me.user?.username, 'alice')
  })

  test('LOGIN, single factor', async () => {
    await users.setJustpassEnabled('bob', true)
    await provider.withBehaviour({ action: 'approve', account: 'bob' }, async () => {
      const me = await run(new Browser(), '/justpass/login')
      assert.equal(me.user?.username, 'bob')
    })
  })

  test('cancel', async () => {
    await provider.withBehaviour({ action: 'cancel' }, async () => {
      const me = await run(new Browser(), '/password?username=alice')
      assert.equal(me.user, null)
      assert.equal(me.notice?.reason, 'provider_denied')
    })
  })

  test('array-shaped and nested callback parameters are refused', async () => {
    const browser = new Browser()
    for (const query of ['state[]=a&code=b', 'state[a]=b&code=c', 'state=a&state=b&code=c']) {
      const hop = await browser.get(`${callbackURL()}?${query}`)
      assert.equal(hop.location, `${server.origin}/login`)
      const me = await browser.json<{ user: unknown; notice: { reason: string } }>(`${server.origin}/me`)
      assert.equal(me.user, null)
      assert.ok(['invalid_callback', 'state_unknown'].includes(me.notice.reason), me.notice.reason)
    }
  })
})
