/**
 * The authorization request, parameter by parameter, for each mode, as the provider
 * receives it; and the provider's refusal of a request signed with the wrong secret.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose'
import { signRequest } from '../src/authorize.ts'
import { resolveOptions } from '../src/options.ts'
import { createFlowStore } from '../src/flow-store/index.ts'
import type { CookieFlowStore } from '../src/flow-store/cookie.ts'
import type { PendingFlow } from '../src/flow-store/types.ts'
import { Browser } from './support/browser.ts'
import { finishFlow, startFlow, startHarness, whoAmI, type Harness } from './support/harness.ts'
import { buildTestApp, reserveTestApp } from './support/app.ts'

const COMMON = ['acr_values', 'client_id', 'code_challenge', 'code_challenge_method', 'hint_mode', 'max_age', 'nonce', 'prompt', 'redirect_uri', 'response_type', 'scope', 'signature', 'state']
const WITH_IDENTIFIER = [...COMMON, 'login_hint', 'username']

function keysOf(params: URLSearchParams): string[] {
  return [...new Set(params.keys())].sort()
}

async function signaturePayload(harness: Harness, params: URLSearchParams): Promise<Record<string, unknown>> {
  const signature = params.get('signature') ?? ''
  assert.deepEqual(decodeProtectedHeader(signature), { alg: 'HS256', typ: 'JWT' })
  const { payload } = await jwtVerify(signature, new TextEncoder().encode(harness.provider.clientSecret), { algorithms: ['HS256'] })
  return payload
}

function assertCommon(harness: Harness, params: URLSearchParams, prompt: string): void {
  assert.equal(params.get('response_type'), 'code')
  assert.equal(params.get('client_id'), harness.provider.clientID)
  assert.equal(params.get('redirect_uri'), harness.app.callbackURL)
  assert.equal(params.get('scope'), 'openid')
  assert.match(params.get('state') ?? '', /^[A-Za-z0-9_-]{44}$/)
  assert.match(params.get('nonce') ?? '', /^[A-Za-z0-9_-]{44}$/)
  assert.notEqual(params.get('state'), params.get('nonce'))
  assert.equal(params.get('prompt'), prompt)
  assert.equal(params.get('hint_mode'), 'token')
  assert.equal(params.get('acr_values'), 'keys')
  assert.equal(params.get('max_age'), '60')
  assert.equal(params.get('code_challenge_method'), 'S256')
  assert.match(params.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/)
  for (const key of keysOf(params)) assert.equal(params.getAll(key).length, 1, `${key} is sent once`)
}

describe('authorization request parameters', () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness()
  })
  after(() => harness.close())

  test('REG: prompt=create, the logged-in user as login_hint and username, signed over {state, login_hint}', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
    const flow = await startFlow(browser, harness, '/justpass/reg')
    const params = flow.authorize!
    assert.deepEqual(keysOf(params), WITH_IDENTIFIER.sort())
    assertCommon(harness, params, 'create')
    assert.equal(params.get('login_hint'), 'alice')
    assert.equal(params.get('username'), 'alice')
    assert.deepEqual(await signaturePayload(harness, params), { state: params.get('state'), login_hint: 'alice' })
    // The provider saw the same parameters, and the flow completes: PKCE verifier matched the challenge.
    assert.equal(harness.provider.authorizationRequests.at(-1)?.toString(), params.toString())
    const hops = await finishFlow(browser, flow.callback!)
    assert.equal(hops[0]?.location, `${harness.app.origin}/`)
  })

  test('LOGIN, second factor: prompt=login, the base username from the session as login_hint and username', async () => {
    await harness.app.users.setJustpassEnabled('bob', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=bob')
    const params = flow.authorize!
    assert.deepEqual(keysOf(params), WITH_IDENTIFIER.sort())
    assertCommon(harness, params, 'login')
    assert.equal(params.get('login_hint'), 'bob')
    assert.equal(params.get('username'), 'bob')
    assert.deepEqual(await signaturePayload(harness, params), { state: params.get('state'), login_hint: 'bob' })
  })

  test('LOGIN, single factor: prompt=login, no login_hint nor username, signed over {state} alone', async () => {
    harness.provider.behaviour = { action: 'approve', account: 'alice' }
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/justpass/login')
    harness.provider.behaviour = { action: 'approve' }
    const params = flow.authorize!
    assert.deepEqual(keysOf(params), COMMON.sort())
    assertCommon(harness, params, 'login')
    assert.deepEqual(await signaturePayload(harness, params), { state: params.get('state') })
  })

  test('ui_locales comes from Accept-Language, in order, without weights or wildcards', async () => {
    const browser = new Browser()
    browser.headers['accept-language'] = 'ar-EG,ar;q=0.9,en;q=0.8,*;q=0.1'
    harness.provider.behaviour = { action: 'approve', account: 'alice' }
    const flow = await startFlow(browser, harness, '/justpass/login')
    harness.provider.behaviour = { action: 'approve' }
    assert.equal(flow.authorize?.get('ui_locales'), 'ar-EG ar en')
  })

  test('the platform header is forwarded as AMWALPLATFORM and remembered: the LOGIN answer is JSON', async () => {
    const browser = new Browser()
    browser.headers['amwal-platform'] = 'app'
    harness.provider.behaviour = { action: 'approve', account: 'alice' }
    const flow = await startFlow(browser, harness, '/justpass/login')
    harness.provider.behaviour = { action: 'approve' }
    assert.equal(flow.authorize?.get('AMWALPLATFORM'), 'app')
    delete browser.headers['amwal-platform']
    const [answer] = await finishFlow(browser, flow.callback!)
    assert.equal(answer?.status, 200)
    assert.deepEqual(JSON.parse(answer!.body), { username: 'alice' })
    const me = await whoAmI(browser, harness)
    assert.equal(me.user?.username, 'alice', 'the session cookie of the answer logs the app in')
  })

  test('REG from a mobile app answers JSON', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=bob`)
    browser.headers['amwal-platform'] = 'app'
    const flow = await startFlow(browser, harness, '/justpass/reg')
    assert.equal(flow.authorize?.get('AMWALPLATFORM'), 'app')
    const [answer] = await finishFlow(browser, flow.callback!)
    assert.equal(answer?.status, 200)
    assert.deepEqual(JSON.parse(answer!.body), { username: 'bob', justpassEnabled: true })
  })

  test('the request builder is made once per strategy, not per request (passport runs each request on a copy of the strategy)', async () => {
    const holder = (harness.app.strategy as unknown as { authorization: { builder?: object } }).authorization
    await new Browser().get(`${harness.app.origin}/justpass/login`)
    const first = holder.builder
    assert.ok(first, 'the builder is kept on the strategy itself')
    await new Browser().get(`${harness.app.origin}/justpass/login`)
    assert.equal(holder.builder, first)
  })

  test('the PKCE challenge is the S256 hash of the verifier sealed in the flow cookie, with the nonce, under the state', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=alice`)
    const flow = await startFlow(browser, harness, '/justpass/reg')
    const state = flow.authorize!.get('state')!
    const store = createFlowStore(resolveOptions({ ...harness.provider, callbackURL: harness.app.callbackURL }, true)) as CookieFlowStore
    const cookies = browser.cookies.get('127.0.0.1')!
    const taken = store.open([...cookies].map(([name, value]) => `${name}=${value}`).join('; '), state)
    assert.equal(taken.status, 'found', 'the flow is kept in the cookie named after its state')
    const pending = (taken as { flow: PendingFlow }).flow
    assert.equal(flow.authorize!.get('code_challenge'), createHash('sha256').update(pending.verifier).digest('base64url'))
    assert.equal(pending.nonce, flow.authorize!.get('nonce'))
    assert.equal(pending.mode, 'register')
    assert.equal(pending.expected, 'alice')
    for (const hop of flow.hops) {
      assert.ok(!hop.url.includes(pending.verifier), 'the verifier never leaves the site in a URL')
      for (const line of hop.headers.getSetCookie()) assert.ok(!line.includes(pending.verifier) && !line.includes('alice'), 'the cookie carries the flow sealed')
    }
    const session = await browser.json(`${harness.app.origin}/test/session`)
    assert.equal(session.justpass, undefined, 'nothing of the flow is in the session')
  })
})

describe('a request signed with the wrong secret', () => {
  test('is refused by the provider, and the site reports a failed LOGIN', async () => {
    const server = await reserveTestApp()
    const { startTestProvider } = await import('./support/provider.ts')
    const provider = await startTestProvider({ redirectURIs: [server.callbackURL] })
    const app = buildTestApp(server, { ...provider, clientSecret: 'not-the-client-secret' })
    try {
      await app.users.setJustpassEnabled('alice', true)
      const browser = new Browser()
      const flow = await startFlow(browser, { app, provider, close: async () => {} }, '/test/password?username=alice')
      assert.equal(provider.interactions.length, 0, 'no passkey step was offered')
      const back = new URL(flow.callback!).searchParams
      assert.equal(back.get('error'), 'invalid_request')
      assert.match(back.get('error_description') ?? '', /signature/)
      const [answer] = await finishFlow(browser, flow.callback!)
      assert.equal(answer?.location, `${app.origin}/login`)
      const me = await browser.json<{ user: unknown; notice: { reason: string; mode: string } }>(`${app.origin}/me`)
      assert.equal(me.user, null)
      assert.equal(me.notice.mode, 'login')
      assert.equal(me.notice.reason, 'provider_denied')
    } finally {
      await app.close()
      await provider.close()
    }
  })
})

describe('the request signature', () => {
  test('is byte for byte the compact JWS jose makes, for any identifier and secret', async () => {
    for (const clientSecret of ['shop-secret', 'sécret-ключ-秘密']) {
      const options = resolveOptions({ opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'c', clientSecret, callbackURL: 'https://shop.example/cb' }, true)
      for (const identifier of ['alice', 'émile+test@例え.jp', '"quoted" \\ back', undefined]) {
        const payload = identifier === undefined ? { state: 'the-state' } : { state: 'the-state', login_hint: identifier }
        const expected = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(clientSecret))
        assert.equal(signRequest(options, 'the-state', identifier), expected)
      }
    }
  })
})
