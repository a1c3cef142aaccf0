/**
 * Fastify with @fastify/passport and @fastify/session: the example site (example/fastify)
 * completes every flow over HTTP against the local provider, with the cookie flow store
 * (through justpassSetup) and with the session flow store; without the hook, the
 * strategy refuses what needs the reply with a usage error that names the fix.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { Authenticator } from '@fastify/passport'
import './support/package-from-source.ts'
import { JustpassStrategy, JustpassUsageError, MemoryUserStore } from '../src/index.ts'
import { justpassStart } from '../src/hosts/fastify.ts'
import { Browser } from './support/browser.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'
import type { HostSiteInput } from './support/host-flows.ts'

const { createFastifySite } = await import('../example/fastify/site.ts')
const { hostFlowSuite } = await import('./support/host-flows.ts')
// The package as the example imports it (src/, typed from dist/).
const justpass = await import('passport-justpass')

async function buildFastifySite(input: HostSiteInput): Promise<() => Promise<void>> {
  const app = createFastifySite({
    opURL: input.provider.opURL,
    clientID: input.provider.clientID,
    clientSecret: input.provider.clientSecret,
    callbackURL: input.callbackURL,
    sessionSecret: 'fastify-session-secret-0123456789abcdef',
    users: input.users,
    passwords: input.passwords,
    flowStore: input.flowStore,
  })
  await app.ready()
  input.server.handle((req, res) => app.routing(req, res))
  return () => app.close()
}

hostFlowSuite('Fastify', 'cookie', buildFastifySite)
hostFlowSuite('Fastify', 'session', buildFastifySite)

describe('Fastify without justpassSetup', () => {
  let provider: TestProvider
  let app: FastifyInstance
  let server: LoopbackServer
  const errors: Error[] = []
  const origin = () => server.origin

  before(async () => {
    server = await startLoopbackServer()
    provider = await startTestProvider({ redirectURIs: [`${origin()}/justpass/callback`] })
    app = Fastify()
    app.register(fastifyCookie)
    app.register(fastifySession, { secret: 'fastify-session-secret-0123456789abcdef', saveUninitialized: false, cookie: { secure: false } })
    for (const flowStore of ['cookie', 'session'] as const) {
      const passport = new Authenticator()
      passport.use(new JustpassStrategy({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL: `${origin()}/justpass/callback`, userStore: new MemoryUserStore(), flowStore }))
      app.register(async (scope) => {
        scope.register(passport.initialize())
        scope.register(passport.secureSession())
        scope.get(`/${flowStore}/login`, justpassStart({ authenticator: passport, mode: 'login' }))
        scope.get(`/${flowStore}/login-url`, justpassStart({ authenticator: passport, mode: 'login', urlOnly: true }))
      })
    }
    app.setErrorHandler((err: Error, _request, reply) => {
      errors.push(err)
      return reply.code(500).send({ name: err.name })
    })
    await app.ready()
    server.handle((req, res) => app.routing(req, res))
  })
  after(async () => {
    await server.close()
    await app.close()
    await provider.close()
  })

  test('the cookie flow store refuses to start, naming the session store', async () => {
    const answer = await new Browser().get(`${origin()}/cookie/login`)
    assert.equal(answer.status, 500)
    assert.ok(errors.at(-1) instanceof JustpassUsageError)
    assert.match(errors.at(-1)!.message, /flowStore: 'session'/)
    assert.deepEqual(answer.headers.getSetCookie(), [])
  })

  test('the session flow store starts a flow; a URL-only start is refused, naming the hook', async () => {
    const browser = new Browser()
    const start = await browser.get(`${origin()}/session/login`)
    assert.equal(start.status, 302)
    assert.ok(start.location?.startsWith(`${provider.opURL}authorize/?`))
    const answer = await browser.get(`${origin()}/session/login-url`)
    assert.equal(answer.status, 500)
    assert.ok(errors.at(-1) instanceof JustpassUsageError)
    assert.match(errors.at(-1)!.message, /justpassSetup/)
  })
})

describe('example/fastify/site.ts on https: a __Host- session cookie', () => {
  /** The example with an https callbackURL, and alice, whose password is right. */
  function httpsSite(): FastifyInstance {
    return createFastifySite({
      opURL: 'https://acme.accounts.justpass.me/openid/',
      clientID: 'shop',
      clientSecret: 'shop-client-secret-0123456789abcdef',
      callbackURL: 'https://shop.example.com/justpass/callback',
      sessionSecret: 'fastify-session-secret-0123456789abcdef',
      users: new justpass.MemoryUserStore(['alice']),
      passwords: new Map([['alice', 'alice-password']]),
    })
  }
  const passwordStep = { method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'username=alice&password=alice-password' } as const

  test('the password step sets __Host-sessionId: Secure, Path=/, no Domain, SameSite=Lax', async () => {
    const app = httpsSite()
    // The request came over TLS, as far as Fastify can tell.
    app.addHook('onRequest', async (request) => {
      ;(request.raw.socket as { encrypted?: boolean }).encrypted = true
    })
    try {
      const answer = await app.inject(passwordStep)
      assert.equal(answer.headers.location, '/')
      assert.deepEqual(answer.cookies.map((cookie) => cookie.name), ['__Host-sessionId'])
      const [cookie] = answer.cookies
      assert.equal(cookie!.secure, true)
      assert.equal(cookie!.path, '/')
      assert.equal(cookie!.domain, undefined)
      assert.equal(cookie!.sameSite, 'Lax')
      assert.equal(cookie!.httpOnly, true)
    } finally {
      await app.close()
    }
  })

  test('over plain http (no trustProxy), @fastify/session sets no cookie at all', async () => {
    const app = httpsSite()
    try {
      const answer = await app.inject(passwordStep)
      assert.equal(answer.headers.location, '/')
      assert.deepEqual(answer.cookies, [])
    } finally {
      await app.close()
    }
  })
})
