/**
 * The authorization request, parameter by parameter, for each mode, as the provider
 * receives it, what the site remembers of the flow, and how the callback answers: one
 * table of starts (REG, LOGIN as a second factor, LOGIN as the only factor, from a
 * browser or a mobile app, in a given language) run through one loop against a real
 * site and the local provider. Then the provider's refusal of a request signed with the
 * wrong secret, and the signature's bytes.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose'
import { signRequest } from '../src/authorize.ts'
import { justpassProvider } from '../src/provider-settings.ts'
import { CookieFlowStore } from '../src/flow-store/cookie.ts'
import { deriveSealKey, Sealer } from '../src/flow-store/seal.ts'
import type { PendingFlow } from '../src/flow.ts'
import { Browser } from './support/browser.ts'
import { finishFlow, startFlow, harnessForSuite, whoAmI, type Harness } from './support/harness.ts'
import { buildTestApp, reserveTestApp } from './support/app.ts'

/** Parameters whose values are drawn per request, checked by their form and by what they are derived from. */
const DRAWN = ['code_challenge', 'nonce', 'signature', 'state']

/** One start of a flow, and everything it must lead to. */
interface Start {
  name: string
  /** Whether each user has passkey login enabled before the start. */
  users: Record<string, boolean>
  /** The user logged in before the start (REG). */
  loggedInAs?: string
  /** The user who passes the password step, whose name the session then holds as base username (second-factor LOGIN). */
  passwordStep?: string
  /** The site path the start request goes to (after the password step, if any). */
  path: string
  /** Request headers of the start (not of the callback). */
  headers?: Record<string, string>
  /** Whose passkey the user presents at the provider, when the request names nobody. */
  account?: string
  /** The parameters of the authorization request besides the ones every request carries and the drawn ones. */
  params: Record<string, string>
  /** The signed payload besides `state`. */
  signed: { login_hint?: string }
  /** What the site remembers of the flow, besides the PKCE verifier, nonce and start time. */
  flow: Omit<PendingFlow, 'verifier' | 'nonce' | 'started'>
  /** The site's answer to the callback: a redirect to a path, or JSON. */
  answer: { location: string } | { json: unknown }
  /** Who is logged in afterwards. */
  user: { username: string; justpassEnabled: boolean }
  /** The notice the site shows once afterwards. */
  notice: { mode: string; ok: boolean; message: string } | null
}

const STARTS: Start[] = [
  {
    name: 'REG: prompt=create, the logged-in user as login_hint and username, signed over {state, login_hint}',
    users: { alice: false },
    loggedInAs: 'alice',
    path: '/justpass/reg',
    params: { prompt: 'create', login_hint: 'alice', username: 'alice' },
    signed: { login_hint: 'alice' },
    flow: { mode: 'register', username: 'alice' },
    answer: { location: '/' },
    user: { username: 'alice', justpassEnabled: true },
    notice: { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' },
  },
  {
    name: 'LOGIN, second factor: prompt=login, the base username from the session as login_hint and username',
    users: { bob: true },
    passwordStep: 'bob',
    path: '/justpass/login',
    params: { prompt: 'login', login_hint: 'bob', username: 'bob' },
    signed: { login_hint: 'bob' },
    flow: { mode: 'login', username: 'bob' },
    answer: { location: '/' },
    user: { username: 'bob', justpassEnabled: true },
    notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' },
  },
  {
    name: 'LOGIN, single factor: prompt=login, no login_hint nor username, signed over {state} alone',
    users: { alice: true },
    path: '/justpass/login',
    account: 'alice',
    params: { prompt: 'login' },
    signed: {},
    flow: { mode: 'login' },
    answer: { location: '/' },
    user: { username: 'alice', justpassEnabled: true },
    notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' },
  },
  {
    name: 'LOGIN, single factor, with ?next=: the path is remembered, not sent, and the callback goes there',
    users: { alice: true },
    path: `/justpass/login?next=${encodeURIComponent('/orders?id=1')}`,
    account: 'alice',
    params: { prompt: 'login' },
    signed: {},
    flow: { mode: 'login', returnTo: '/orders?id=1' },
    answer: { location: '/orders?id=1' },
    user: { username: 'alice', justpassEnabled: true },
    notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' },
  },
  {
    name: 'ui_locales comes from Accept-Language, in order, without weights or wildcards',
    users: { alice: true },
    path: '/justpass/login',
    headers: { 'accept-language': 'ar-EG,ar;q=0.9,en;q=0.8,*;q=0.1' },
    account: 'alice',
    params: { prompt: 'login', ui_locales: 'ar-EG ar en' },
    signed: {},
    flow: { mode: 'login' },
    answer: { location: '/' },
    user: { username: 'alice', justpassEnabled: true },
    notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' },
  },
  {
    name: 'LOGIN from a mobile app: the platform header is forwarded as AMWALPLATFORM and remembered, the answer is JSON',
    users: { alice: true },
    path: '/justpass/login',
    headers: { 'amwal-platform': 'app' },
    account: 'alice',
    params: { prompt: 'login', AMWALPLATFORM: 'app' },
    signed: {},
    flow: { mode: 'login', platform: 'app' },
    answer: { json: { username: 'alice' } },
    user: { username: 'alice', justpassEnabled: true },
    notice: null,
  },
  {
    name: 'REG from a mobile app: AMWALPLATFORM, and the answer is JSON',
    users: { bob: false },
    loggedInAs: 'bob',
    path: '/justpass/reg',
    headers: { 'amwal-platform': 'app' },
    params: { prompt: 'create', login_hint: 'bob', username: 'bob', AMWALPLATFORM: 'app' },
    signed: { login_hint: 'bob' },
    flow: { mode: 'register', username: 'bob', platform: 'app' },
    answer: { json: { username: 'bob', justpassEnabled: true } },
    user: { username: 'bob', justpassEnabled: true },
    notice: null,
  },
  {
    name: 'LOGIN, second factor, from a mobile app in French: login_hint, ui_locales and AMWALPLATFORM together',
    users: { bob: true },
    passwordStep: 'bob',
    path: '/justpass/login',
    headers: { 'amwal-platform': 'app', 'accept-language': 'fr-CA, fr;q=0.9' },
    params: { prompt: 'login', login_hint: 'bob', username: 'bob', ui_locales: 'fr-CA fr', AMWALPLATFORM: 'app' },
    signed: { login_hint: 'bob' },
    flow: { mode: 'login', username: 'bob', platform: 'app' },
    answer: { json: { username: 'bob' } },
    user: { username: 'bob', justpassEnabled: true },
    notice: null,
  },
]

async function signaturePayload(harness: Harness, params: URLSearchParams): Promise<Record<string, unknown>> {
  const signature = params.get('signature') ?? ''
  assert.deepEqual(decodeProtectedHeader(signature), { alg: 'HS256', typ: 'JWT' })
  const { payload } = await jwtVerify(signature, new TextEncoder().encode(harness.provider.clientSecret), { algorithms: ['HS256'] })
  return payload
}

/** The site's flow cookie store as the strategy builds it by default: sealed with a key derived from the client secret. */
function defaultCookieStore(harness: Harness): CookieFlowStore {
  const key = deriveSealKey(harness.provider.clientSecret, 'clientSecret', harness.provider.clientID, harness.app.callbackURL)
  return new CookieFlowStore({ sealer: new Sealer([key]), secure: false, maxAge: 600, maxPending: 5 })
}

function isFlowCookie(line: string): boolean {
  return line.startsWith('justpass.') || line.startsWith('__Host-justpass.')
}

describe('authorization request parameters, flow and callback, by start', () => {
  const harness = harnessForSuite()

  for (const start of STARTS) {
    test(start.name, async () => {
      for (const [username, enabled] of Object.entries(start.users)) await harness.app.users.setJustpassEnabled(username, enabled)
      const browser = new Browser()
      if (start.loggedInAs !== undefined) await browser.get(`${harness.app.origin}/test/login-as?username=${start.loggedInAs}`)
      if (start.passwordStep !== undefined) {
        const step = await browser.get(`${harness.app.origin}/test/password?username=${start.passwordStep}`)
        assert.equal(step.location, `${harness.app.origin}${start.path}`, 'the password step hands over to the passkey step')
      }
      browser.headers = { ...start.headers }
      harness.provider.behaviour = start.account === undefined ? { action: 'approve' } : { action: 'approve', account: start.account }
      let flow
      try {
        flow = await startFlow(browser, harness, start.path)
      } finally {
        harness.provider.behaviour = { action: 'approve' }
        browser.headers = {}
      }

      // The request, as the browser carried it: every parameter once, the fixed ones, the row's own, and nothing else.
      const params = flow.authorize
      assert.ok(params, 'the start redirects to the provider')
      for (const key of new Set(params.keys())) assert.equal(params.getAll(key).length, 1, `${key} is sent once`)
      const named = Object.fromEntries([...params].filter(([key]) => !DRAWN.includes(key)))
      assert.deepEqual(named, {
        response_type: 'code',
        client_id: harness.provider.clientID,
        redirect_uri: harness.app.callbackURL,
        scope: 'openid',
        hint_mode: 'token',
        acr_values: 'keys',
        max_age: '60',
        code_challenge_method: 'S256',
        ...start.params,
      })
      for (const key of DRAWN) assert.ok(params.has(key), `${key} is sent`)
      assert.match(params.get('state')!, /^[A-Za-z0-9_-]{44}$/)
      assert.match(params.get('nonce')!, /^[A-Za-z0-9_-]{44}$/)
      assert.notEqual(params.get('state'), params.get('nonce'))
      assert.match(params.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/)
      const { iat, exp, ...signed } = await signaturePayload(harness, params)
      assert.deepEqual(signed, { state: params.get('state'), ...start.signed })
      assert.ok(typeof iat === 'number' && Math.abs(iat - Date.now() / 1000) < 5, 'iat: when the request was made')
      assert.equal(exp, iat + 600, 'exp: when the flow it starts expires (the flow store\'s maxAge)')
      assert.equal(harness.provider.authorizationRequests.at(-1)?.toString(), params.toString(), 'the provider saw the same parameters')

      // What the site remembers: sealed in a cookie named after the state, the PKCE verifier behind the challenge.
      const state = params.get('state')!
      const jar = browser.cookies.get('127.0.0.1')!
      const taken = defaultCookieStore(harness).open([...jar].map(([name, value]) => `${name}=${value}`).join('; '), state)
      assert.equal(taken.status, 'found', 'the flow is kept in the cookie named after its state')
      const { verifier, nonce, started, acrValues, ...kept } = (taken as { flow: PendingFlow }).flow
      assert.deepEqual(kept, start.flow)
      assert.equal(acrValues, params.get('acr_values'), 'the acr_values asked for are remembered, for the acr check')
      assert.equal(params.get('code_challenge'), createHash('sha256').update(verifier).digest('base64url'), 'the challenge is the S256 hash of the verifier')
      assert.equal(nonce, params.get('nonce'))
      assert.ok(Math.abs(started - Date.now() / 1000) < 60)
      const flowCookieLines = flow.hops.flatMap((hop) => hop.headers.getSetCookie()).filter(isFlowCookie)
      assert.equal(flowCookieLines.length, 1, 'one flow cookie is set')
      for (const hop of flow.hops) assert.ok(!hop.url.includes(verifier), 'the verifier never leaves the site in a URL')
      for (const secret of [verifier, ...(start.flow.username === undefined ? [] : [start.flow.username]), ...(start.flow.returnTo === undefined ? [] : [start.flow.returnTo])]) {
        assert.ok(!flowCookieLines[0]!.includes(secret), 'the cookie carries the flow sealed')
      }
      const session = await browser.json(`${harness.app.origin}/test/session`)
      assert.equal(session.justpass, undefined, 'nothing of the flow is in the session')

      // The callback, without the start's headers: the remembered flow decides the answer.
      assert.ok(flow.callback, 'the provider sends the browser back')
      const hops = await finishFlow(browser, flow.callback)
      const answer = hops[0]!
      if ('location' in start.answer) {
        assert.ok(answer.status >= 300 && answer.status < 400, `a redirect, not ${answer.status}`)
        assert.equal(answer.location, `${harness.app.origin}${start.answer.location}`)
      } else {
        assert.equal(answer.status, 200)
        assert.deepEqual(JSON.parse(answer.body), start.answer.json)
      }
      assert.ok(answer.headers.getSetCookie().some((line) => isFlowCookie(line) && /Max-Age=0/.test(line)), 'the callback clears the flow cookie')
      const me = await whoAmI(browser, harness)
      assert.ok(me.user, 'the session cookie of the answer logs the user in')
      assert.deepEqual({ username: me.user.username, justpassEnabled: me.user.justpassEnabled }, start.user)
      assert.deepEqual(me.notice, start.notice)
    })
  }

  test('the table covers every mode and subject, every optional parameter, and both kinds of answer', () => {
    const covers = (pick: (start: Start) => boolean) => STARTS.some(pick)
    assert.ok(covers((start) => start.flow.mode === 'register'))
    assert.ok(covers((start) => start.passwordStep !== undefined))
    assert.ok(covers((start) => start.flow.mode === 'login' && start.flow.username === undefined))
    for (const param of ['ui_locales', 'AMWALPLATFORM', 'login_hint']) assert.ok(covers((start) => param in start.params), param)
    assert.ok(covers((start) => 'json' in start.answer) && covers((start) => 'location' in start.answer))
  })

  test('the request builder is made once per strategy, not per request (passport runs each request on a copy of the strategy)', async () => {
    const holder = (harness.app.strategy as unknown as { tools: { current?: { authorization: object } } }).tools
    await new Browser().get(`${harness.app.origin}/justpass/login`)
    const first = holder.current?.authorization
    assert.ok(first, 'the builder is kept on the strategy itself')
    await new Browser().get(`${harness.app.origin}/justpass/login`)
    assert.equal(holder.current?.authorization, first)
  })
})

describe('a request signed with the wrong secret', () => {
  test('is refused by the provider, and the site reports a failed LOGIN', async () => {
    const server = await reserveTestApp()
    const { startTestProvider } = await import('./support/provider.ts')
    const provider = await startTestProvider({ redirectURIs: [server.callbackURL] })
    const app = buildTestApp(server, { ...provider, clientSecret: 'not-the-client-secret-0123456789abcdef' })
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
      const { clientSecretKey } = justpassProvider({ opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'c', clientSecret })
      for (const identifier of ['alice', 'émile+test@例え.jp', '"quoted" \\ back', undefined]) {
        const times = { iat: 1_800_000_000, exp: 1_800_000_600 }
        const payload = identifier === undefined ? { state: 'the-state', ...times } : { state: 'the-state', login_hint: identifier, ...times }
        const expected = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(clientSecret))
        assert.equal(signRequest(clientSecretKey, 'the-state', identifier, 1_800_000_000, 600), expected)
      }
    }
  })
})
