/**
 * Koa with koa-passport and koa-session: the example site (example/koa) completes every
 * flow over HTTP against the local provider, with the cookie flow store (through
 * justpassSetup) and with the session flow store; without justpassSetup, the strategy refuses
 * what needs the response with a usage error that names the fix.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Koa from 'koa'
import session from 'koa-session'
import koaPassport from 'koa-passport'
import './support/package-from-source.ts'
import { JustpassStrategy, JustpassUsageError, MemoryUserStore } from '../src/index.ts'
import { justpassStart } from '../src/hosts/koa.ts'
import { Browser } from './support/browser.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'
import type { HostSiteInput } from './support/host-flows.ts'

const { createKoaSite } = await import('../example/koa/site.ts')
const { hostFlowSuite } = await import('./support/host-flows.ts')
// The package as the example imports it (src/, typed from dist/).
const justpass = await import('passport-justpass')

async function buildKoaSite(input: HostSiteInput): Promise<() => Promise<void>> {
  const app = createKoaSite({
    opURL: input.provider.opURL,
    clientID: input.provider.clientID,
    clientSecret: input.provider.clientSecret,
    callbackURL: input.callbackURL,
    sessionKeys: ['koa-session-key-0123456789abcdef'],
    users: input.users,
    passwords: input.passwords,
    flowStore: input.flowStore,
  })
  input.server.handle(app.callback())
  return async () => {}
}

hostFlowSuite('Koa', 'cookie', buildKoaSite)
hostFlowSuite('Koa', 'session', buildKoaSite)

describe('Koa without justpassSetup', () => {
  let provider: TestProvider
  let server: LoopbackServer
  const errors: Error[] = []

  before(async () => {
    server = await startLoopbackServer()
    const callbackURL = `${server.origin}/justpass/callback`
    provider = await startTestProvider({ redirectURIs: [callbackURL] })
    const app = new Koa()
    app.keys = ['koa-session-key-0123456789abcdef']
    app.use(async (ctx, next) => {
      try {
        await next()
      } catch (err) {
        errors.push(err as Error)
        ctx.status = 500
        ctx.body = { name: (err as Error).name }
      }
    })
    app.use(session({ key: 'shop.sess' }, app))
    for (const flowStore of ['cookie', 'session'] as const) {
      const passport = new koaPassport.KoaPassport()
      passport.use(new JustpassStrategy({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL, userStore: new MemoryUserStore(), flowStore }))
      const initialize = passport.initialize()
      const login = justpassStart({ authenticator: passport, mode: 'login' })
      const loginURL = justpassStart({ authenticator: passport, mode: 'login', urlOnly: true })
      app.use(async (ctx, next) => {
        if (ctx.path === `/${flowStore}/login`) return initialize(ctx, () => login(ctx, next))
        if (ctx.path === `/${flowStore}/login-url`) return initialize(ctx, () => loginURL(ctx, next))
        return next()
      })
    }
    server.handle(app.callback())
  })
  after(async () => {
    await server.close()
    await provider.close()
  })

  test('the cookie flow store refuses to start, naming the session store', async () => {
    const answer = await new Browser().get(`${server.origin}/cookie/login`)
    assert.equal(answer.status, 500)
    assert.ok(errors.at(-1) instanceof JustpassUsageError)
    assert.match(errors.at(-1)!.message, /flowStore: 'session'/)
    assert.deepEqual(answer.headers.getSetCookie().filter((line) => line.startsWith('justpass.')), [])
  })

  test('the session flow store starts a flow; a URL-only start is refused, naming justpassSetup', async () => {
    const browser = new Browser()
    const start = await browser.get(`${server.origin}/session/login`)
    assert.equal(start.status, 302)
    assert.ok(start.location?.startsWith(`${provider.opURL}authorize/?`))
    const answer = await browser.get(`${server.origin}/session/login-url`)
    assert.equal(answer.status, 500)
    assert.ok(errors.at(-1) instanceof JustpassUsageError)
    assert.match(errors.at(-1)!.message, /justpassSetup/)
  })
})

describe('example/koa/site.ts on https: a __Host- session cookie', () => {
  let server: LoopbackServer
  let app: Koa
  const https = { 'x-forwarded-proto': 'https' }

  before(async () => {
    server = await startLoopbackServer()
    app = createKoaSite({
      opURL: 'https://acme.accounts.justpass.me/openid/',
      clientID: 'shop',
      clientSecret: 'shop-client-secret-0123456789abcdef',
      callbackURL: 'https://shop.example.com/justpass/callback',
      sessionKeys: ['koa-session-key-0123456789abcdef'],
      users: new justpass.MemoryUserStore(['alice']),
      passwords: new Map([['alice', 'alice-password']]),
    })
    // Behind a proxy that terminates TLS: Koa believes its X-Forwarded-Proto.
    app.proxy = true
    app.silent = true
    server.handle(app.callback())
  })
  after(async () => {
    await server.close()
  })

  test('the password step sets __Host-shop.sess and its signature: Secure, Path=/, no Domain, SameSite=Lax', async () => {
    const login = await new Browser().post(`${server.origin}/login`, { username: 'alice', password: 'alice-password' }, { headers: https })
    assert.equal(login.location, `${server.origin}/`)
    const lines = login.headers.getSetCookie()
    assert.deepEqual(lines.map((line) => line.slice(0, line.indexOf('='))), ['__Host-shop.sess', '__Host-shop.sess.sig'])
    for (const line of lines) {
      const attributes = line.split('; ').slice(1).map((attribute) => attribute.toLowerCase())
      for (const attribute of ['path=/', 'secure', 'httponly', 'samesite=lax']) assert.ok(attributes.includes(attribute), `${attribute} in ${line}`)
      assert.ok(!attributes.some((attribute) => attribute.startsWith('domain=')), 'no Domain')
    }
  })

  test('a request Koa takes for plain http cannot save the session: 500, no cookie (hence app.proxy)', async () => {
    const login = await new Browser().post(`${server.origin}/login`, { username: 'alice', password: 'alice-password' })
    assert.equal(login.status, 500)
    assert.deepEqual(login.headers.getSetCookie(), [])
  })
})
