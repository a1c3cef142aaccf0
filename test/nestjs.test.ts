/**
 * The NestJS example module (example/nestjs): PassportStrategy(JustpassStrategy,
 * 'justpass') behind guards, driven with @nestjs/testing and supertest, completing
 * LOGIN, REG and confirmations against the local provider. Its `validate` returns
 * `verifyWithStore`, so the user store's checks (isActive, justpassEnabledOf, the `sub`
 * recorded at REG) decide, as they do without a verify callback.
 */
import 'reflect-metadata'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { Controller, Get, Req, Res, type INestApplication } from '@nestjs/common'
import { Test } from '@nestjs/testing'
import session from 'express-session'
import passport from 'passport'
import request from 'supertest'
import type { Request, Response } from 'express'
import { MemoryUserStore } from '../src/index.ts'
import { JustpassModule } from '../example/nestjs/justpass.module.ts'
import { Browser } from './support/browser.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'

// supertest sends requests to the app itself: the callback URL's host is only its name.
const CALLBACK = 'http://127.0.0.1:3000/justpass/callback'

/** The site's password step and a page that says who is logged in. */
@Controller()
class SiteController {
  @Get('password')
  password(@Req() req: Request, @Res() res: Response): void {
    req.session.base_username = String(req.query.username)
    res.redirect('/justpass/login')
  }

  @Get('login-as')
  loginAs(@Req() req: Request, @Res() res: Response): void {
    req.logIn({ username: String(req.query.username), justpassEnabled: false }, (err) => (err ? res.status(500).end() : res.redirect('/')))
  }

  @Get('me')
  me(@Req() req: Request): { user: unknown } {
    return { user: req.user ?? null }
  }

  /** What the session holds for the password step and the last confirmation. */
  @Get('session')
  session(@Req() req: Request): { base_username: string | null; justpassConfirmedAt: number | null } {
    return { base_username: req.session.base_username ?? null, justpassConfirmedAt: req.session.justpassConfirmedAt ?? null }
  }
}

const PASSKEY_LOGIN_OFF = 'Passkey login is turned off for this account. Sign in with your password.'

describe('NestJS', () => {
  let provider: TestProvider
  let app: INestApplication
  const users = new MemoryUserStore(['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'])

  before(async () => {
    provider = await startTestProvider({ redirectURIs: [CALLBACK] })
    const moduleRef = await Test.createTestingModule({
      imports: [JustpassModule.register({ strategy: { opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL: CALLBACK }, users })],
      controllers: [SiteController],
    }).compile()
    app = moduleRef.createNestApplication()
    app.use(session({ secret: 'nest-session-secret', resave: false, saveUninitialized: false }))
    app.use(passport.initialize())
    app.use(passport.session())
    await app.init()
  })
  after(async () => {
    await app.close()
    await provider.close()
  })

  /** Start a flow on the app, walk the provider with a browser, and bring the callback back to the app. */
  async function throughProvider(agent: ReturnType<typeof request.agent>, start: string) {
    const started = await agent.get(start).expect(302)
    assert.ok(started.headers.location?.startsWith(`${provider.opURL}authorize/?`), started.headers.location)
    const { stoppedAt } = await new Browser().follow(started.headers.location!, (next) => next.href.startsWith(CALLBACK))
    assert.ok(stoppedAt, 'the provider sent the browser back')
    const back = new URL(stoppedAt)
    return agent.get(`${back.pathname}${back.search}`)
  }

  /** A single-factor LOGIN with `account`'s passkey, in a new browser; the callback's answer and the agent. */
  async function singleFactorLogin(account: string) {
    return await provider.withBehaviour({ action: 'approve', account }, async () => {
      const agent = request.agent(app.getHttpServer())
      return { agent, callback: await throughProvider(agent, '/justpass/login') }
    })
  }

  /** A second-factor LOGIN after `username`'s password step, in a new browser. */
  async function secondFactorLogin(username: string) {
    const agent = request.agent(app.getHttpServer())
    await agent.get(`/password?username=${username}`).expect(302).expect('location', '/justpass/login')
    return { agent, callback: await throughProvider(agent, '/justpass/login') }
  }

  /** `username` logged in without a passkey (the site's password), in a new browser. */
  async function loggedInAs(username: string) {
    const agent = request.agent(app.getHttpServer())
    await agent.get(`/login-as?username=${username}`).expect(302)
    assert.equal((await agent.get('/me').expect(200)).body.user?.username, username)
    return agent
  }

  describe('validate returns verifyWithStore: the user store decides', () => {
    test("REG records the provider's sub, and a LOGIN with that passkey then logs the user in", async () => {
      const agent = await loggedInAs('carol')
      const callback = await throughProvider(agent, '/justpass/reg')
      assert.equal(callback.status, 302)
      const carol = await users.findByUsername('carol')
      assert.equal(carol?.justpassEnabled, true)
      assert.equal(users.justpassSubOf(carol!), provider.subOf('carol'))

      const login = await singleFactorLogin('carol')
      assert.equal(login.callback.status, 302)
      assert.equal((await login.agent.get('/me').expect(200)).body.user.username, 'carol')
    })

    test('REG of a disabled account is refused with account_disabled, and nothing is recorded', async () => {
      const agent = await loggedInAs('heidi')
      users.setActive('heidi', false)
      const callback = await throughProvider(agent, '/justpass/reg')
      assert.equal(callback.status, 401)
      assert.equal(callback.body.reason, 'account_disabled')
      assert.equal(callback.body.mode, 'register')
      const heidi = await users.findByUsername('heidi')
      assert.equal(heidi?.justpassEnabled, false)
      assert.equal(users.justpassSubOf(heidi!), undefined)
    })

    test('LOGIN of a disabled account is refused with account_disabled, and nobody is logged in', async () => {
      await users.setJustpassEnabled('dave', true, { sub: provider.subOf('dave') })
      users.setActive('dave', false)
      const { agent, callback } = await secondFactorLogin('dave')
      assert.equal(callback.status, 401)
      assert.equal(callback.body.reason, 'account_disabled')
      assert.equal(callback.body.mode, 'login')
      assert.equal((await agent.get('/me')).body.user, null)
    })

    test('LOGIN whose passkey is not the account recorded at REG is refused with identity_mismatch', async () => {
      // erin's username now names another account at the provider than the one registered (renamed, reused).
      await users.setJustpassEnabled('erin', true, { sub: provider.subOf('erin-before-the-rename') })
      const { agent, callback } = await singleFactorLogin('erin')
      assert.equal(callback.status, 401)
      assert.equal(callback.body.reason, 'identity_mismatch')
      assert.equal((await agent.get('/me')).body.user, null)
    })

    test('single-factor LOGIN after passkey login was turned off is refused with passkey_login_off', async () => {
      await users.setJustpassEnabled('frank', true, { sub: provider.subOf('frank') })
      const on = await singleFactorLogin('frank')
      assert.equal(on.callback.status, 302, 'on: the passkey logs frank in')
      assert.equal((await on.agent.get('/me')).body.user.username, 'frank')

      await users.setJustpassEnabled('frank', false) // the passkey is still registered at the provider
      const off = await singleFactorLogin('frank')
      assert.equal(off.callback.status, 401)
      assert.equal(off.callback.body.reason, 'passkey_login_off')
      assert.equal(off.callback.body.message, PASSKEY_LOGIN_OFF)
      assert.equal((await off.agent.get('/me')).body.user, null)
    })

    test('second-factor LOGIN after passkey login was turned off is refused with passkey_login_off, and the password step is dropped', async () => {
      await users.setJustpassEnabled('grace', true, { sub: provider.subOf('grace') })
      const on = await secondFactorLogin('grace')
      assert.equal(on.callback.status, 302, 'on: the passkey logs grace in')

      await users.setJustpassEnabled('grace', false)
      const { agent, callback } = await secondFactorLogin('grace')
      assert.equal(callback.status, 401)
      assert.equal(callback.body.reason, 'passkey_login_off')
      assert.equal(callback.body.message, PASSKEY_LOGIN_OFF)
      assert.equal((await agent.get('/me')).body.user, null)
      assert.equal((await agent.get('/session')).body.base_username, null)
    })
  })

  describe('confirm', () => {
    test('a confirmation keeps the logged-in user, records justpassConfirmedAt and returns to ?next=', async () => {
      await users.setJustpassEnabled('ivan', true, { sub: provider.subOf('ivan') })
      const agent = await loggedInAs('ivan')
      const before = Math.floor(Date.now() / 1000)
      const callback = await throughProvider(agent, '/justpass/confirm?next=/me')
      assert.equal(callback.status, 302)
      assert.equal(callback.headers.location, '/me')
      assert.equal((await agent.get('/me')).body.user.username, 'ivan')
      const confirmedAt = (await agent.get('/session')).body.justpassConfirmedAt
      assert.ok(typeof confirmedAt === 'number' && confirmedAt >= before, String(confirmedAt))
      const authorize = provider.authorizationRequests.at(-1)!
      assert.equal(authorize.get('prompt'), 'login')
      assert.equal(authorize.get('max_age'), '0')
    })

    test('a confirmation by a user who turned passkey login off is refused with passkey_login_off; the user stays logged in', async () => {
      await users.setJustpassEnabled('judy', true, { sub: provider.subOf('judy') })
      const agent = await loggedInAs('judy')
      await users.setJustpassEnabled('judy', false)
      const callback = await throughProvider(agent, '/justpass/confirm')
      assert.equal(callback.status, 401)
      assert.equal(callback.body.reason, 'passkey_login_off')
      assert.equal(callback.body.mode, 'confirm')
      assert.equal((await agent.get('/me')).body.user.username, 'judy')
      assert.equal((await agent.get('/session')).body.justpassConfirmedAt, null)
    })
  })

  test('LOGIN as a second factor completes, and the user is logged in', async () => {
    await users.setJustpassEnabled('alice', true)
    const agent = request.agent(app.getHttpServer())
    await agent.get('/password?username=alice').expect(302).expect('location', '/justpass/login')
    const callback = await throughProvider(agent, '/justpass/login')
    assert.equal(callback.status, 302)
    assert.equal(callback.headers.location, '/')
    const me = await agent.get('/me').expect(200)
    assert.equal(me.body.user.username, 'alice')
  })

  test("the strategy's authorizationParams override sends the site's language before the browser's", async () => {
    const agent = request.agent(app.getHttpServer())
    const chosen = await agent.get('/justpass/login?lang=fr').set('accept-language', 'de-CH, de;q=0.9').expect(302)
    assert.equal(new URL(chosen.headers.location!).searchParams.get('ui_locales'), 'fr')
    assert.equal(new URL(chosen.headers.location!).searchParams.get('acr_values'), 'keys', 'the defaults stay')
    const browsers = await agent.get('/justpass/login?lang=xx').set('accept-language', 'de-CH, de;q=0.9').expect(302)
    assert.equal(new URL(browsers.headers.location!).searchParams.get('ui_locales'), 'de-CH de')
  })

  test('REG sets the flag', async () => {
    const agent = request.agent(app.getHttpServer())
    await agent.get('/login-as?username=bob').expect(302)
    const callback = await throughProvider(agent, '/justpass/reg')
    assert.equal(callback.status, 302)
    assert.equal((await users.findByUsername('bob'))?.justpassEnabled, true)
  })

  test('a cancelled LOGIN is a 401 with its reason, and nobody is logged in', async () => {
    await provider.withBehaviour({ action: 'cancel' }, async () => {
      const agent = request.agent(app.getHttpServer())
      await agent.get('/password?username=alice').expect(302)
      const callback = await throughProvider(agent, '/justpass/login')
      assert.equal(callback.status, 401)
      assert.equal(callback.body.reason, 'provider_denied')
      assert.equal((await agent.get('/me')).body.user, null)
    })
  })
})
