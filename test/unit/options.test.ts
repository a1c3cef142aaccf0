/**
 * Construction: every wrong option is refused at once, by name, without leaking the
 * secret; nothing touches the network before a callback; usage errors are clear.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import express from 'express'
import { Passport } from 'passport'
import { JustpassConfigError, JustpassStrategy, MemoryUserStore, justpassProvider, type JustpassStrategyOptions } from '../../src/index.ts'
import { resolveOptions } from '../../src/options.ts'
import { Browser } from '../support/browser.ts'
import { harnessForSuite } from '../support/harness.ts'
import { startLoopbackServer } from '../support/server.ts'

const SECRET = 'very-secret-client-secret-value-0123'
const VALID: JustpassStrategyOptions = {
  opURL: 'https://acme.accounts.justpass.me/openid/',
  clientID: 'client-1',
  clientSecret: SECRET,
  callbackURL: 'https://shop.example/justpass/callback',
  userStore: new MemoryUserStore(),
}

function refused(options: Record<string, unknown>, option: string): void {
  assert.throws(
    () => new JustpassStrategy(options as unknown as JustpassStrategyOptions),
    (err: unknown) => {
      assert.ok(err instanceof JustpassConfigError, `expected a JustpassConfigError, got ${String(err)}`)
      assert.equal(err.option, option)
      assert.equal(err.code, 'invalid_option')
      assert.match(err.message, new RegExp(`"${option}"`))
      assert.doesNotMatch(err.message, new RegExp(SECRET))
      return true
    },
  )
}

describe('options', () => {
  test('a valid set constructs, with defaults', () => {
    const strategy = new JustpassStrategy(VALID)
    assert.equal(strategy.name, 'justpass')
  })

  for (const option of ['opURL', 'clientID', 'clientSecret', 'callbackURL', 'userStore'] as const) {
    test(`missing ${option} is refused by name`, () => {
      const options: Record<string, unknown> = { ...VALID }
      delete options[option]
      refused(options, option)
    })
  }

  const malformed: Array<[string, unknown]> = [
    ['opURL', 'not a url'],
    ['opURL', 'ftp://acme.example/openid/'],
    ['opURL', 'http://acme.example/openid/'],
    ['opURL', 'https://acme.example/openid/?x=1'],
    ['opURL', 'https://user:pw@acme.example/openid/'],
    ['clientID', ''],
    ['clientSecret', 42],
    ['callbackURL', '/justpass/callback'],
    ['callbackURL', 'https://shop.example/cb#frag'],
    ['callbackURL', 'https://shop.example/cb?via=justpass'],
    ['callbackURL', 'http://shop.example/justpass/callback'],
    ['userStore', { findByUsername() {}, setJustpassEnabled() {}, justpassEnabledOf: true }],
    ['userStore', { findByUsername() {} }],
    ['userStore', { findByUsername() {}, setJustpassEnabled() {}, createUser: 'yes' }],
    ['scope', 'profile email'],
    ['scope', 42],
    ['usernameField', ''],
    ['baseUsernameKey', 7],
    ['maxAge', -1],
    ['maxAge', 1.5],
    ['platformHeader', 'bad header'],
    ['passReqToCallback', 'true'],
    ['provider', { opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'c', clientSecret: 's' }],
    ['flowStore', 'memory'],
    ['flowStore', { type: 'redis' }],
  ]
  for (const [option, value] of malformed) {
    test(`${option} = ${JSON.stringify(value)} is refused by name`, () => refused({ ...VALID, [option]: value }, option))
  }

  test('a client secret under 32 characters may not key the flow cookies: refused, naming the fix; with a flow-store secret or the session store it is accepted', () => {
    const short = { ...VALID, clientSecret: 'a-short-secret' }
    assert.throws(() => new JustpassStrategy(short), (err: Error) => err instanceof JustpassConfigError && err.option === 'clientSecret' && /flowStore: \{ type: 'cookie', secret/.test(err.message))
    assert.doesNotThrow(() => new JustpassStrategy({ ...short, flowStore: { type: 'cookie', secret: 'a-flow-cookie-secret-0123456789abcdef' } }))
    assert.doesNotThrow(() => new JustpassStrategy({ ...short, flowStore: 'session' }))
    assert.doesNotThrow(() => new JustpassStrategy({ ...short, clientSecret: 'x'.repeat(32) }))
  })

  test('callbackURL on plain http: accepted on loopback hosts, and elsewhere only with allowInsecureHTTP', () => {
    for (const callbackURL of ['http://localhost:3000/justpass/callback', 'http://127.0.0.1:3000/justpass/callback', 'http://[::1]:3000/justpass/callback']) {
      assert.doesNotThrow(() => new JustpassStrategy({ ...VALID, callbackURL }), callbackURL)
    }
    const insecure = { ...VALID, callbackURL: 'http://shop.internal/justpass/callback' }
    assert.throws(() => new JustpassStrategy(insecure), (err: Error) => err instanceof JustpassConfigError && err.option === 'callbackURL' && /https:/.test(err.message) && /allowInsecureHTTP/.test(err.message))
    const { opURL: op, clientID: id, clientSecret: secret, ...rest } = insecure
    assert.doesNotThrow(() => new JustpassStrategy({ ...rest, provider: justpassProvider({ opURL: op!, clientID: id!, clientSecret: secret!, allowInsecureHTTP: true }) }))
  })

  const { opURL, clientID, clientSecret, ...site } = VALID
  const malformedProvider: Array<[string, unknown]> = [
    ['idTokenSignedResponseAlg', 'none'],
    ['idTokenSignedResponseAlg', 'HS1'],
    ['tokenEndpointAuthMethod', 'private_key_jwt'],
    ['timeout', 0],
    ['timeout', '10s'],
    ['clockTolerance', -5],
    ['discovery', 'yes'],
    ['allowInsecureHTTP', 1],
    ['issuer', 42],
    ['fetch', 'proxy'],
    ['acrValues', 'keys'],
  ]
  for (const [setting, value] of malformedProvider) {
    test(`provider setting ${setting} = ${JSON.stringify(value)} is refused by name`, () => {
      assert.throws(
        () => new JustpassStrategy({ ...site, provider: justpassProvider({ opURL, clientID: clientID!, clientSecret: clientSecret!, [setting]: value }) }),
        (err: unknown) => err instanceof JustpassConfigError && err.option === setting && !err.message.includes(SECRET),
      )
    })
  }

  const malformedFlowStore: Array<[Record<string, unknown>, string]> = [
    [{ type: 'cookie', maxAge: 0 }, 'flowStore.maxAge'],
    [{ type: 'cookie', maxPending: 1000 }, 'flowStore.maxPending'],
    [{ type: 'cookie', maxPending: 21 }, 'flowStore.maxPending'],
    [{ type: 'session', maxPending: 101 }, 'flowStore.maxPending'],
    [{ type: 'cookie', secret: 'too short' }, 'flowStore.secret'],
    [{ type: 'cookie', key: 'justpass' }, 'flowStore.key'],
    [{ type: 'session', key: 'a.b' }, 'flowStore.key'],
    [{ type: 'session', key: '__proto__' }, 'flowStore.key'],
    [{ type: 'session', key: 'constructor' }, 'flowStore.key'],
    [{ type: 'session', secret: 'x'.repeat(40) }, 'flowStore.secret'],
    [{ type: 'session', maxAge: 1.5 }, 'flowStore.maxAge'],
  ]
  for (const [flowStore, setting] of malformedFlowStore) {
    test(`flowStore ${JSON.stringify(flowStore)} is refused naming ${setting}`, () => refused({ ...VALID, flowStore }, setting))
  }

  test('up to 20 flow cookies per browser, and up to 100 flows in a session', () => {
    assert.doesNotThrow(() => new JustpassStrategy({ ...VALID, flowStore: { type: 'cookie', maxPending: 20 } }))
    assert.doesNotThrow(() => new JustpassStrategy({ ...VALID, flowStore: { type: 'session', maxPending: 100 } }))
  })

  /** Options that belong to the provider, the flow store or a hook: each refusal says where it went. */
  const moved: Array<[string, unknown, RegExp]> = [
    ['issuer', 'https://a.example/openid', /justpassProvider/],
    ['idTokenSignedResponseAlg', 'RS256', /justpassProvider/],
    ['tokenEndpointAuthMethod', 'client_secret_basic', /justpassProvider/],
    ['discovery', true, /justpassProvider/],
    ['timeout', 5000, /justpassProvider/],
    ['clockTolerance', 5, /justpassProvider/],
    ['fetch', fetch, /justpassProvider/],
    ['allowInsecureHTTP', true, /justpassProvider/],
    ['sessionKey', 'flows', /flowStore: \{ type: 'session', key \}/],
    ['acrValues', 'keys', /authorizationParams\(req, flow\)/],
    ['uiLocales', 'fr', /authorizationParams\(req, flow\)/],
    // Names no release had: refused plainly, like any unknown option.
    ['cookieSecret', 'x'.repeat(40), /is not a setting of the strategy$/],
    ['maxPendingFlows', 2, /is not a setting of the strategy$/],
    ['hintMode', 'token', /is not a setting of the strategy$/],
    ['usernamefield', 'email', /is not a setting of the strategy: did you mean usernameField\?$/],
    ['callbackUrl', 'https://shop.example/cb', /did you mean callbackURL\?$/],
    ['passReq', true, /is not a setting of the strategy$/],
  ]
  for (const [option, value, where] of moved) {
    test(`${option} among the strategy's options is refused, naming where it belongs`, () => {
      assert.throws(() => new JustpassStrategy({ ...VALID, [option]: value } as JustpassStrategyOptions), (err: unknown) => {
        assert.ok(err instanceof JustpassConfigError)
        assert.equal(err.option, option)
        assert.match(err.message, where)
        return true
      })
    })
  }

  test('the provider and the shorthand together are refused', () => {
    refused({ ...VALID, provider: justpassProvider({ opURL: opURL!, clientID: clientID!, clientSecret: clientSecret! }) }, 'opURL')
  })

  test('the provider keeps the client secret out of JSON and inspection', async () => {
    const provider = justpassProvider({ opURL: opURL!, clientID: clientID!, clientSecret: clientSecret! })
    assert.equal(provider.clientSecret, SECRET)
    assert.doesNotMatch(JSON.stringify(provider), new RegExp(SECRET))
    const { inspect } = await import('node:util')
    assert.doesNotMatch(inspect(provider, { depth: 5 }), new RegExp(SECRET))
    assert.ok(Object.isFrozen(provider))
  })

  test('options that are not an object are refused', () => refused(null as never, 'options'))

  test('a verify that is not a function is refused', () => {
    assert.throws(() => new JustpassStrategy(VALID, 'verify' as never), /verify callback/)
  })

  test('plain http is accepted for loopback hosts, and elsewhere only with allowInsecureHTTP', () => {
    for (const opURL of ['http://localhost:8000/openid/', 'http://127.0.0.1/openid/', 'http://[::1]:9/openid/']) {
      assert.doesNotThrow(() => new JustpassStrategy({ ...VALID, opURL }))
    }
    const { opURL: _opURL, clientID, clientSecret, ...site } = VALID
    assert.doesNotThrow(() => new JustpassStrategy({ ...site, provider: justpassProvider({ clientID: clientID!, clientSecret: clientSecret!, opURL: 'http://idp.internal/openid/', allowInsecureHTTP: true }) }))
  })

  test('passReqToCallback without a verify callback is refused by name', () => refused({ ...VALID, passReqToCallback: true }, 'passReqToCallback'))

  test('userStore is optional when a verify callback is given', () => {
    const { userStore: _ignored, ...rest } = VALID
    assert.doesNotThrow(() => new JustpassStrategy(rest, (_tokens, _userinfo, _info, done) => done(null, false)))
  })

  test('endpoints are derived from opURL (with or without the trailing slash) or organization as justpass.me lays them out', () => {
    const expected = {
      issuer: 'https://acme.accounts.justpass.me/openid',
      authorization: 'https://acme.accounts.justpass.me/openid/authorize/',
      token: 'https://acme.accounts.justpass.me/openid/token/',
      userinfo: 'https://acme.accounts.justpass.me/openid/userinfo/',
      jwks: 'https://acme.accounts.justpass.me/openid/jwks',
      endSession: 'https://acme.accounts.justpass.me/openid/end-session/',
    }
    const endpointsOf = (opURL: string) => justpassProvider({ opURL, clientID: 'c', clientSecret: 'a-client-secret-0123456789abcdef0123' }).endpoints
    assert.deepEqual(endpointsOf('https://acme.accounts.justpass.me/openid/'), expected)
    assert.deepEqual(endpointsOf('https://acme.accounts.justpass.me/openid'), expected)
    const { opURL: _, ...withoutOpURL } = VALID
    assert.deepEqual(resolveOptions({ ...withoutOpURL, organization: 'acme' }, true).provider.endpoints, expected, 'organization: the same endpoints')
  })
})

describe('no network before the callback', () => {
  const harness = harnessForSuite()

  test('construction and initiation make no request to the provider', async () => {
    const count = harness.provider.requestCount
    const strategy = new JustpassStrategy({ ...VALID, opURL: harness.provider.opURL, callbackURL: harness.app.callbackURL })
    assert.ok(strategy)
    const browser = new Browser()
    const hop = await browser.get(`${harness.app.origin}/justpass/login`)
    assert.equal(hop.status, 302)
    assert.ok(hop.location?.startsWith(`${harness.provider.opURL}authorize/?`))
    assert.equal(harness.provider.requestCount, count)
  })
})

describe('discovery: true', () => {
  const harness = harnessForSuite({ providerSettings: { discovery: true } })

  test('is lazy, reports a failure as an error, and retries on the next request', async () => {
    assert.equal(harness.provider.requestCount, 0, 'nothing fetched at construction')
    harness.provider.unavailable = true
    const browser = new Browser()
    let hop = await browser.get(`${harness.app.origin}/justpass/login`)
    assert.equal(hop.status, 502)
    assert.deepEqual(JSON.parse(hop.body), { error: 'provider_metadata', name: 'JustpassProviderError' })
    harness.provider.unavailable = false
    hop = await browser.get(`${harness.app.origin}/justpass/login`)
    assert.equal(hop.status, 302)
    assert.ok(hop.location?.startsWith(`${harness.provider.opURL}authorize/?`))
    const count = harness.provider.requestCount
    await browser.get(`${harness.app.origin}/justpass/login`)
    assert.equal(harness.provider.requestCount, count, 'the metadata is read once')
  })
})

describe('usage errors', () => {
  async function siteWithout(session: boolean, mode: string) {
    const server = await startLoopbackServer()
    const authenticator = new Passport()
    authenticator.use(new JustpassStrategy({ ...VALID, opURL: 'http://127.0.0.1:9/openid/' }))
    const app = express()
    if (session) app.use((req, _res, next) => ((req as unknown as { session: object }).session = {}, next()))
    app.use(authenticator.initialize())
    app.get('/start', authenticator.authenticate('justpass', { mode: mode as 'login' }))
    app.use(((err, _req, res, _next) => void res.status(500).json({ code: err.code, message: err.message })) as express.ErrorRequestHandler)
    server.handle(app)
    return server
  }

  test('no session middleware: a clear error naming the fix', async () => {
    const server = await siteWithout(false, 'login')
    try {
      const hop = await new Browser().get(`${server.origin}/start`)
      assert.equal(hop.status, 500)
      const body = JSON.parse(hop.body)
      assert.equal(body.code, 'invalid_usage')
      assert.match(body.message, /session middleware/)
    } finally {
      await server.close()
    }
  })

  test('an unknown mode: a clear error', async () => {
    const server = await siteWithout(true, 'signup')
    try {
      const hop = await new Browser().get(`${server.origin}/start`)
      assert.equal(hop.status, 500)
      assert.match(JSON.parse(hop.body).message, /unknown mode "signup"/)
    } finally {
      await server.close()
    }
  })
})
