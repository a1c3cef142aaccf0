/**
 * What a site migrating from the Django client configures, and how the provider
 * software behind justpass.me's endpoints behaves: `organization` instead of `opURL`,
 * an `issuer` of its own, `auth_time` from an earlier login (enforced per mode with
 * `authTimeMaxAge`), userinfo without `preferred_username`, and a site's own `fetch`.
 * Against the hostile provider, which answers each of these on demand.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassConfigError, JustpassStrategy, justpassProvider, type JustpassProviderSettings } from '../src/index.ts'
import { resolveOptions } from '../src/options.ts'
import { JWKS_COOLDOWN_MS } from '../src/provider-connection.ts'
import { format } from 'node:util'
import createDebug from 'debug'
import { SignJWT, exportJWK, generateKeyPair } from 'jose'
import { Browser } from './support/browser.ts'
import { buildTestApp, reserveTestApp, type TestApp } from './support/app.ts'
import { siteOf } from './support/harness.ts'
import { startHostileProvider, type HostileProvider } from './support/hostile-provider.ts'
import type { JustpassStrategyOptions, MemoryUser } from '../src/index.ts'

const BASE = { clientID: 'c', clientSecret: 'a-client-secret-0123456789abcdef0123', callbackURL: 'https://shop.example/justpass/callback' }
const now = () => Math.floor(Date.now() / 1000)

interface Site {
  app: TestApp
  provider: HostileProvider
  close(): Promise<void>
}

async function startSite(strategy: Partial<JustpassStrategyOptions<MemoryUser>> = {}, providerSettings?: Partial<JustpassProviderSettings>): Promise<Site> {
  const server = await reserveTestApp()
  const provider = await startHostileProvider({ redirectURI: server.callbackURL, idTokenAlg: providerSettings?.idTokenSignedResponseAlg === 'RS256' ? 'RS256' : 'HS256' })
  return siteOf(server, provider, { strategy, providerSettings })
}

/** Run one flow of `mode` through the hostile provider; who is logged in, and the notice. */
async function flow(site: Site, mode: 'register' | 'login2' | 'login1' | 'confirm'): Promise<{ user: string | null; ok: boolean | undefined; reason: string | undefined; message: string | undefined }> {
  const browser = new Browser()
  let start = '/justpass/login'
  if (mode === 'register') {
    await site.app.users.setJustpassEnabled('alice', false)
    await browser.get(`${site.app.origin}/test/login-as?username=alice`)
    start = '/justpass/reg'
  }
  if (mode === 'login2') {
    await site.app.users.setJustpassEnabled('alice', true)
    start = '/test/password?username=alice'
  }
  if (mode === 'login1') {
    await site.app.users.setJustpassEnabled('alice', true)
    site.provider.breakage = { ...site.provider.breakage, account: 'alice' }
  }
  if (mode === 'confirm') {
    await site.app.users.setJustpassEnabled('alice', true)
    await browser.get(`${site.app.origin}/test/login-as?username=alice`)
    start = '/justpass/confirm'
  }
  const { stoppedAt } = await browser.follow(`${site.app.origin}${start}`, (next) => next.href.startsWith(site.app.callbackURL))
  assert.ok(stoppedAt)
  await browser.follow(stoppedAt)
  const me = await browser.json<{ user: { username: string } | null; notice: { ok: boolean; reason?: string; message?: string } | null }>(`${site.app.origin}/me`)
  return { user: me.user?.username ?? null, ok: me.notice?.ok, reason: me.notice?.reason, message: me.notice?.message }
}

describe('organization instead of opURL', () => {
  for (const [name, options] of [
    ['both organization and opURL', { organization: 'acme', opURL: 'https://acme.accounts.justpass.me/openid/' }],
    ['an organization that is not a host label', { organization: 'acme.evil.example/x' }],
    ['an empty organization', { organization: '' }],
    ['neither', {}],
  ] as const) {
    test(`${name} is refused by name`, () => {
      assert.throws(() => resolveOptions({ ...BASE, ...options } as JustpassStrategyOptions, true), (err: Error) => err instanceof JustpassConfigError && /organization|opURL/.test(err.message))
    })
  }
})

describe('an issuer of its own (a provider behind a proxy)', () => {
  let site: Site
  before(async () => {
    site = await startSite({}, { issuer: 'https://accounts.shop.example/openid' })
  })
  after(() => site.close())

  test('the ID token must carry the configured issuer, not the derived one', async () => {
    site.provider.breakage = { claims: (claims) => ({ ...claims, iss: 'https://accounts.shop.example/openid' }) }
    assert.deepEqual(await flow(site, 'login2'), { user: 'alice', ok: true, reason: undefined, message: 'You are signed in with your passkey.' })
    site.provider.breakage = {}
    const refused = await flow(site, 'login2')
    assert.deepEqual([refused.user, refused.reason], [null, 'id_token_invalid'])
  })

  test('with discovery it names the issuer to discover and expect; it must be a URL', () => {
    const { callbackURL: _site, ...client } = BASE
    assert.equal(justpassProvider({ ...client, opURL: 'https://a.example/openid/', issuer: 'https://a.example/openid/', discovery: true }).endpoints.issuer, 'https://a.example/openid/')
    assert.throws(() => justpassProvider({ ...client, opURL: 'https://a.example/openid/', issuer: 'not a url' }), (err: Error) => err instanceof JustpassConfigError && err.option === 'issuer')
  })
})

describe('auth_time from an earlier login at the provider (authTimeMaxAge)', () => {
  const olderLogin = { claims: (claims: Record<string, unknown>) => ({ ...claims, auth_time: now() - 300 }) }

  test('by default REG accepts it and LOGIN refuses it with auth_too_old', async () => {
    const site = await startSite()
    try {
      site.provider.breakage = olderLogin
      assert.equal((await flow(site, 'register')).ok, true)
      site.provider.breakage = olderLogin
      const login = await flow(site, 'login2')
      assert.deepEqual([login.user, login.reason], [null, 'auth_too_old'])
      site.provider.breakage = olderLogin
      assert.equal((await flow(site, 'login1')).reason, 'auth_too_old')
    } finally {
      await site.close()
    }
  })

  test('per mode: LOGIN may accept any age, REG may enforce one', async () => {
    const site = await startSite({ authTimeMaxAge: { register: 120, login: false } })
    try {
      site.provider.breakage = olderLogin
      assert.equal((await flow(site, 'login2')).user, 'alice')
      site.provider.breakage = olderLogin
      assert.equal((await flow(site, 'register')).reason, 'auth_too_old')
      site.provider.breakage = {}
      assert.equal((await flow(site, 'register')).ok, true, 'a fresh one passes')
    } finally {
      await site.close()
    }
  })

  test('a missing auth_time is refused only where an age is enforced', async () => {
    const site = await startSite()
    try {
      const withoutAuthTime = { claims: ({ auth_time: _, ...claims }: Record<string, unknown>) => claims }
      site.provider.breakage = withoutAuthTime
      assert.equal((await flow(site, 'register')).ok, true)
      site.provider.breakage = withoutAuthTime
      assert.equal((await flow(site, 'login2')).reason, 'id_token_invalid')
    } finally {
      await site.close()
    }
  })

  test('a confirmation (max_age=0) refuses an auth_time from before its start, whatever authTimeMaxAge says', async () => {
    const site = await startSite({ authTimeMaxAge: false }, { clockTolerance: 5 })
    try {
      site.provider.breakage = { claims: (claims) => ({ ...claims, auth_time: now() - 60 }) }
      const stale = await flow(site, 'confirm')
      assert.deepEqual([stale.user, stale.reason], ['alice', 'auth_too_old'], 'still logged in as before, not confirmed')
      site.provider.breakage = { claims: (claims) => ({ ...claims, auth_time: now() - 3 }) }
      assert.equal((await flow(site, 'confirm')).ok, true, 'within the clock tolerance')
      site.provider.breakage = { claims: ({ auth_time: _, ...claims }: Record<string, unknown>) => claims }
      assert.equal((await flow(site, 'confirm')).reason, 'id_token_invalid', 'auth_time is required')
      site.provider.breakage = {}
      assert.equal((await flow(site, 'confirm')).ok, true)
    } finally {
      await site.close()
    }
  })

  test('malformed values are refused by name', () => {
    for (const value of [-1, 1.5, 'old', { register: true }, { signup: 60 }, null]) {
      assert.throws(() => resolveOptions({ ...BASE, opURL: 'https://a.example/openid/', authTimeMaxAge: value } as JustpassStrategyOptions, true), (err: Error) => err instanceof JustpassConfigError && err.option === 'authTimeMaxAge', JSON.stringify(value))
    }
  })
})

describe('acr: the ID token must answer the acr_values asked for', () => {
  test('without acr: accepted by default (as the Django client does), refused with requireAcr', async () => {
    const lenient = await startSite()
    try {
      assert.equal((await flow(lenient, 'login2')).user, 'alice', 'the hostile provider sends no acr')
    } finally {
      await lenient.close()
    }
    const strict = await startSite({}, { requireAcr: true })
    try {
      const result = await flow(strict, 'login2')
      assert.deepEqual([result.user, result.reason], [null, 'id_token_invalid'])
      assert.match(result.message ?? '', /acr: missing/)
      strict.provider.breakage = { claims: (claims) => ({ ...claims, acr: 'keys' }) }
      assert.equal((await flow(strict, 'login2')).user, 'alice', 'with acr keys, as asked')
    } finally {
      await strict.close()
    }
  })

  test('acr_values changed by the authorizationParams hook: the acr must be one of those', async () => {
    class TwoLevels extends JustpassStrategy<MemoryUser> {
      protected override authorizationParams(req: Parameters<JustpassStrategy['authorizationParams']>[0], flow: Parameters<JustpassStrategy['authorizationParams']>[1]) {
        return { ...super.authorizationParams(req, flow), acr_values: 'keys hwk' }
      }
    }
    const server = await reserveTestApp()
    const provider = await startHostileProvider({ redirectURI: server.callbackURL })
    const site = { app: buildTestApp(server, provider, { strategyClass: TwoLevels as never }), provider, close: async () => { await site.app.close(); await provider.close() } }
    try {
      site.provider.breakage = { claims: (claims) => ({ ...claims, acr: 'hwk' }) }
      assert.equal((await flow(site, 'login2')).user, 'alice')
      site.provider.breakage = { claims: (claims) => ({ ...claims, acr: 'pwd' }) }
      assert.equal((await flow(site, 'login2')).reason, 'id_token_invalid')
    } finally {
      await site.close()
    }
  })
})

describe('a rotation of the provider\'s signing key (RS256)', () => {
  /** A new key pair under `kid`: the provider signs with it and publishes it alone. */
  async function rotateTo(site: Site, kid: string): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('RS256')
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }
    site.provider.breakage = {
      sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey),
      jwks: (res) => {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ keys: [jwk] }))
      },
    }
  }

  test('twice within 30 s: logins keep working, each new key fetched after a short pause, each fetch logged', async () => {
    const lines: string[] = []
    const originalLog = createDebug.log
    createDebug.log = (...args: unknown[]) => void lines.push(format(...args))
    createDebug.enable('passport-justpass')
    const site = await startSite({}, { idTokenSignedResponseAlg: 'RS256' })
    try {
      const started = Date.now()
      assert.equal((await flow(site, 'login2')).user, 'alice', 'the first key')
      for (const kid of ['second-key', 'third-key']) {
        await rotateTo(site, kid)
        await new Promise((resolve) => setTimeout(resolve, JWKS_COOLDOWN_MS + 300))
        const result = await flow(site, 'login2')
        assert.equal(result.user, 'alice', `after the rotation to ${kid}: ${result.reason} ${result.message}`)
      }
      assert.ok(Date.now() - started < 30_000)
      assert.equal(lines.filter((line) => line.includes('fetching the provider\'s key set')).length, 3)
    } finally {
      createDebug.disable()
      createDebug.log = originalLog
      await site.close()
    }
  })
})

describe('clock skew, as the debug log tells it', () => {
  test("an iat in the future and an old auth_time name this server's clock and the token's", async () => {
    const lines: string[] = []
    const originalLog = createDebug.log
    createDebug.log = (...args: unknown[]) => void lines.push(format(...args))
    createDebug.enable('passport-justpass')
    const site = await startSite()
    try {
      site.provider.breakage = { claims: (claims) => ({ ...claims, iat: now() + 600, exp: now() + 900 }) }
      assert.equal((await flow(site, 'login2')).reason, 'id_token_invalid')
      assert.ok(lines.some((line) => /the ID token's iat failed: this server's clock reads \d+, the token says iat \d+, exp \d+/.test(line)), lines.join('\n'))
      site.provider.breakage = { claims: (claims) => ({ ...claims, auth_time: now() - 3600 }) }
      assert.equal((await flow(site, 'login2')).reason, 'auth_too_old')
      assert.ok(lines.some((line) => /auth_time \d+ is \d+ s before this server's clock/.test(line)))
    } finally {
      createDebug.disable()
      createDebug.log = originalLog
      await site.close()
    }
  })
})

describe('userinfo without preferred_username (scope openid only)', () => {
  let site: Site
  before(async () => {
    site = await startSite()
  })
  after(() => site.close())

  test('is refused with a message naming the scope and the provider configuration', async () => {
    site.provider.breakage = { userinfoBody: ({ preferred_username: _, ...body }) => body }
    const result = await flow(site, 'login2')
    assert.deepEqual([result.user, result.reason], [null, 'userinfo_invalid'])
    assert.match(result.message ?? '', /preferred_username/)
    assert.match(result.message ?? '', /scope/)
  })
})

describe("a site's own fetch for provider calls", () => {
  const calls: string[] = []
  let site: Site
  before(async () => {
    site = await startSite({}, {
      fetch: (url, init) => {
        calls.push(new URL(url).pathname)
        return fetch(url, init)
      },
    })
  })
  after(() => site.close())

  test('carries the token and userinfo calls of a login', async () => {
    calls.length = 0
    assert.equal((await flow(site, 'login2')).user, 'alice')
    assert.deepEqual(calls, ['/openid/token/', '/openid/userinfo/'])
  })

  test('the 1 MiB limit still applies to what it answers', async () => {
    site.provider.breakage = { userinfoBody: (body) => ({ ...body, padding: 'x'.repeat(2 * 1024 * 1024) }) }
    const browser = new Browser()
    await site.app.users.setJustpassEnabled('alice', true)
    const { stoppedAt } = await browser.follow(`${site.app.origin}/test/password?username=alice`, (next) => next.href.startsWith(site.app.callbackURL))
    const errors = site.app.errors.length
    const [answer] = (await browser.follow(stoppedAt!)).hops
    assert.equal(answer?.location, `${site.app.origin}/login`, 'an outage is a notice, not an error page')
    assert.equal((await browser.json<{ notice: { reason: string } }>(`${site.app.origin}/me`)).notice.reason, 'provider_unavailable')
    assert.equal(site.app.errors.length, errors)
  })

  test('must be a function', () => {
    const { callbackURL: _site, ...client } = BASE
    assert.throws(() => justpassProvider({ ...client, opURL: 'https://a.example/openid/', fetch: 'proxy' as never }), (err: Error) => err instanceof JustpassConfigError && err.option === 'fetch')
  })
})
