/**
 * The NestJS example module (example/nestjs): PassportStrategy(JustpassStrategy,
 * 'justpass') behind guards, driven with @nestjs/testing and supertest, completing
 * LOGIN and REG against the local provider.
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
}

describe('NestJS', () => {
  let provider: TestProvider
  let app: INestApplication
  const users = new MemoryUserStore(['alice', 'bob'])

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
    provider.behaviour = { action: 'cancel' }
    try {
      const agent = request.agent(app.getHttpServer())
      await agent.get('/password?username=alice').expect(302)
      const callback = await throughProvider(agent, '/justpass/login')
      assert.equal(callback.status, 401)
      assert.equal(callback.body.reason, 'provider_denied')
      assert.equal((await agent.get('/me')).body.user, null)
    } finally {
      provider.behaviour = { action: 'approve' }
    }
  })
})
