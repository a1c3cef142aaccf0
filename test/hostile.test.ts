/**
 * The hostile provider suite: per case, the provider breaks one thing, and the site
 * must refuse: `fail` (a refusal with its reason) or `error` (an outage), never a crash
 * or a 500 with a stack, with nobody logged in, the session without a new user, and the
 * user store untouched.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { createPublicKey } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { SignJWT, exportJWK, importJWK, type JWK } from 'jose'
import { Browser, type Hop } from './support/browser.ts'
import { buildTestApp, reserveTestApp, type TestApp } from './support/app.ts'
import { startHostileProvider, streamHugeBody, type Breakage, type HostileProvider, type HugeBodyCounter } from './support/hostile-provider.ts'
import { JustpassRefusal, justpassProvider, type RefusalReason } from '../src/index.ts'
import type { ProviderErrorCode } from '../src/errors.ts'
import { IdTokenVerifier } from '../src/id-token.ts'
import { staticProviderConnection } from '../src/provider-connection.ts'

type Mode = 'register' | 'login2' | 'login1'
type Expected = { fail: RefusalReason } | { error: ProviderErrorCode }

interface Site {
  app: TestApp
  provider: HostileProvider
}

const results: Array<{ name: string; refused: boolean }> = []
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const now = () => Math.floor(Date.now() / 1000)
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')

async function startSite(alg: 'HS256' | 'RS256' = 'HS256', strategy: Record<string, unknown> = {}, providerSettings: Record<string, unknown> = {}): Promise<Site> {
  const server = await reserveTestApp()
  const provider = await startHostileProvider({ redirectURI: server.callbackURL, idTokenAlg: alg })
  // An outage is handed to the error handler (the hook throws it), so that each case can
  // check how it was classified; the default answer to an outage is tested in refusals.test.ts.
  const callback = { onProviderUnavailable: (_req: unknown, _res: unknown, err: Error) => { throw err } }
  const app = buildTestApp(server, provider, { strategy, callback, providerSettings: { idTokenSignedResponseAlg: alg, timeout: 800, ...providerSettings } })
  return { app, provider }
}

async function closeSite(site: Site): Promise<void> {
  await site.app.close()
  await site.provider.close()
}

/** A browser at the start of `mode`: alice logged in (REG), alice past her password (2nd factor), or nobody. */
async function prepare(site: Site, mode: Mode): Promise<{ browser: Browser; start: string }> {
  const browser = new Browser()
  if (mode === 'register') {
    await browser.get(`${site.app.origin}/test/login-as?username=alice`)
    return { browser, start: '/justpass/reg' }
  }
  if (mode === 'login2') return { browser, start: '/test/password?username=alice' }
  return { browser, start: '/justpass/login' }
}

/** Follow from `start` through the provider to the callback URL, without requesting it. */
async function toCallback(site: Site, browser: Browser, start: string): Promise<string> {
  const { stoppedAt, hops } = await browser.follow(`${site.app.origin}${start}`, (next) => next.href.startsWith(site.app.callbackURL))
  assert.ok(stoppedAt, `the provider did not send the browser back: ${hops.map((hop) => `${hop.status} ${hop.url}`).join(' -> ')}`)
  return stoppedAt
}

async function me(site: Site, browser: Browser) {
  return browser.json<{ user: { username: string } | null; notice: { mode: string; ok: boolean; reason?: string; message?: string } | null }>(`${site.app.origin}/me`)
}

/** The hostile provider's public key, as the case that serves its own JWKS last saw it. */
let currentJwk: JWK = {}

/** What else a case checks of the refusal. */
interface RefusalChecks {
  /** Text the provider sent, which must appear nowhere in what the site answers or says. */
  providerText?: string
  /** What the refusal's message (a `fail`) or the error's (an `error`) must say. */
  message?: RegExp
}

/** Request the callback and check every invariant of a refusal; returns the callback's answer. */
async function assertRefused(site: Site, browser: Browser, callback: string, mode: Mode, expected: Expected, storeBefore: string, checks: RefusalChecks = {}): Promise<Hop> {
  const errorsBefore = site.app.errors.length
  const answer = await browser.get(callback)
  assert.notEqual(answer.status, 500, 'never a 500')
  assert.doesNotMatch(answer.body, /\n\s+at /, 'no stack trace reaches the browser')
  assert.doesNotMatch(answer.body, /<script/i, 'no provider markup reaches the browser')
  const state = await me(site, browser)
  let message: string
  if ('fail' in expected) {
    assert.equal(answer.status, 302, `a refusal redirects (got ${answer.status}: ${answer.body.slice(0, 200)})`)
    assert.equal(state.notice?.ok, false)
    assert.equal(state.notice?.reason, expected.fail, `refused for ${expected.fail}: ${state.notice?.message}`)
    message = state.notice?.message ?? ''
    assert.doesNotMatch(message, /[<>]/)
  } else {
    assert.equal(answer.status, 502, `an outage is an error (got ${answer.status}: ${answer.body.slice(0, 200)})`)
    assert.equal(JSON.parse(answer.body).error, expected.error)
    message = site.app.errors.slice(errorsBefore).at(-1)?.message ?? ''
  }
  if (checks.message) assert.match(message, checks.message)
  if (checks.providerText !== undefined) {
    for (const said of [answer.body, message, JSON.stringify(state.notice)]) {
      assert.ok(!said.includes(checks.providerText), `the provider's text reaches the site's answer: ${said.slice(0, 200)}`)
      assert.doesNotMatch(said, /</, 'no markup in what the site answers')
    }
  }
  assert.equal(state.user?.username ?? null, mode === 'register' ? 'alice' : null, 'nobody new is logged in')
  assert.equal(JSON.stringify(site.app.users.list()), storeBefore, 'the user store is untouched')
  return answer
}

/**
 * openid-client checks an ID token's claims before passport-justpass verifies it with
 * jose, so an end-to-end refusal may be the former's. This asks passport-justpass's own
 * verification directly, so that each of its checks is needed on its own.
 */
async function assertOwnVerificationRefuses(site: Site, alg: 'HS256' | 'RS256', reason: RefusalReason, providerText?: string): Promise<void> {
  const { idToken, nonce } = site.provider.issued
  assert.equal(typeof idToken, 'string', 'the provider issued an ID token')
  const provider = justpassProvider({ opURL: site.provider.opURL, clientID: site.provider.clientID, clientSecret: site.provider.clientSecret, idTokenSignedResponseAlg: alg })
  const context = staticProviderConnection(provider)
  const verifier = new IdTokenVerifier(context.idTokenKey, { issuer: context.issuer, clientID: provider.clientID, clockTolerance: 30, maxTokenAge: 600, authTimeMaxAge: { register: false, login: 60 }, requireAcr: false })
  const flow = { mode: 'login' as const, username: 'alice', verifier: 'v'.repeat(44), nonce: nonce!, started: now(), acrValues: 'keys' }
  await assert.rejects(verifier.verify(idToken!, flow), (err: unknown) => {
    assert.ok(err instanceof JustpassRefusal)
    assert.equal(err.code, reason)
    assert.doesNotMatch(err.message, /</, 'no markup in the refusal')
    if (providerText !== undefined) assert.ok(!err.message.includes(providerText), `the token's text reaches the refusal: ${err.message}`)
    return true
  })
}

interface Case extends RefusalChecks {
  name: string
  mode?: Mode
  alg?: 'HS256' | 'RS256'
  breakage: Breakage
  expected: Expected
  /** Run on a site of its own: a strategy that has not fetched the JWKS yet. */
  fresh?: boolean
  /** A huge answer: the site's memory must stay within {@link RSS_BUDGET}, and the answer be cut short. */
  huge?: HugeBodyCounter
}

const otherSecret = new TextEncoder().encode('not-the-client-secret-0123456789abcdef')

/** Markup a hostile provider puts where text is expected. */
const MARKUP = '<img src=x onerror=alert(1)>'
/** An `error` that is prose rather than a code. */
const PROSE = 'Your account at Example Corp is locked, call 555 0100'
const json = { 'content-type': 'application/json' }

/** The size of a huge answer: 100 MiB. */
const HUGE_BYTES = 100 * 1024 * 1024
/** How much the site's resident memory may grow while refusing a huge answer. */
const RSS_BUDGET = 64 * 1024 * 1024

/** A case where `endpoint` answers 100 MiB, made lazily, with or without a Content-Length. */
function hugeCase(endpoint: 'token' | 'userinfo' | 'jwks', contentLength: boolean): Case {
  const counter: HugeBodyCounter = { sent: 0 }
  const answer = (res: ServerResponse) => streamHugeBody(res, { bytes: HUGE_BYTES, contentLength, counter })
  const label = endpoint === 'jwks' ? 'JWKS' : endpoint
  return {
    name: `${label}: a 100 MiB answer, ${contentLength ? 'announced by Content-Length' : 'chunked, no Content-Length'}`,
    ...(endpoint === 'jwks' ? { alg: 'RS256' as const, fresh: true } : {}),
    breakage: { [endpoint]: answer },
    expected: { error: 'provider_bad_response' },
    message: new RegExp(`^the ${label} endpoint answered more than 1 MiB$`),
    huge: counter,
  }
}

const CASES: Case[] = [
  // The ID token.
  { name: 'ID token: wrong iss', breakage: { claims: (c) => ({ ...c, iss: 'https://evil.example/openid' }) }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: wrong aud', breakage: { claims: (c) => ({ ...c, aud: 'another-client' }) }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: aud array without our client', breakage: { claims: (c) => ({ ...c, aud: ['another-client', 'a-third'] }) }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: aud array with our client and another, no azp', breakage: { claims: (c) => ({ ...c, aud: [c.aud as string, 'another-client'] }) }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: missing exp', breakage: { claims: ({ exp: _exp, ...c }) => c }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: expired exp', breakage: { claims: (c) => ({ ...c, iat: now() - 900, exp: now() - 600 }) }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: iat far in the future', breakage: { claims: (c) => ({ ...c, iat: now() + 3600, exp: now() + 7200 }) }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: missing nonce', breakage: { claims: ({ nonce: _nonce, ...c }) => c }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: wrong nonce', breakage: { claims: (c) => ({ ...c, nonce: 'a-nonce-of-another-flow' }) }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: missing sub', breakage: { claims: ({ sub: _sub, ...c }) => c }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: alg none', breakage: { sign: async (c) => `${b64({ alg: 'none' })}.${b64(c)}.` }, expected: { fail: 'id_token_invalid' } },
  {
    name: 'ID token: HS256 signed with another secret',
    breakage: { sign: (c) => new SignJWT(c).setProtectedHeader({ alg: 'HS256' }).sign(otherSecret) },
    expected: { fail: 'id_token_invalid' },
  },
  {
    name: 'ID token: RS256 when HS256 is configured (alg confusion)',
    breakage: { sign: (c, keys) => new SignJWT(c).setProtectedHeader({ alg: 'RS256', kid: keys.publicJwk.kid! }).sign(keys.privateKey) },
    expected: { fail: 'id_token_invalid' },
  },
  {
    name: 'ID token: HS256 keyed with the public key when RS256 is configured (alg confusion)',
    alg: 'RS256',
    breakage: {
      sign: (c, keys) => {
        const pem = createPublicKey({ key: keys.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' })
        return new SignJWT(c).setProtectedHeader({ alg: 'HS256', kid: keys.publicJwk.kid! }).sign(new TextEncoder().encode(pem as string))
      },
    },
    expected: { fail: 'id_token_invalid' },
  },
  {
    name: 'ID token: RS256 signed with a key not in the JWKS',
    alg: 'RS256',
    breakage: {
      sign: async (c, keys) => {
        const { privateKey } = await import('jose').then((jose) => jose.generateKeyPair('RS256'))
        return new SignJWT(c).setProtectedHeader({ alg: 'RS256', kid: keys.publicJwk.kid! }).sign(privateKey)
      },
    },
    expected: { fail: 'id_token_invalid' },
  },
  {
    name: 'ID token: RS384 under an RS256 setting, its JWKS key naming no alg',
    alg: 'RS256',
    breakage: {
      jwks: (res) => {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ keys: [{ ...currentJwk, alg: undefined }] }))
      },
      sign: async (c, keys) => {
        currentJwk = keys.publicJwk
        const rs384 = await importJWK({ ...(await exportJWK(keys.privateKey)), alg: 'RS384' }, 'RS384')
        return new SignJWT(c).setProtectedHeader({ alg: 'RS384', kid: keys.publicJwk.kid! }).sign(rs384)
      },
    },
    expected: { fail: 'id_token_invalid' },
  },
  { name: 'ID token: auth_time older than authTimeMaxAge (LOGIN)', breakage: { claims: (c) => ({ ...c, auth_time: now() - 3600 }) }, expected: { fail: 'auth_too_old' } },
  { name: 'ID token: acr other than those asked for (a password-only session)', breakage: { claims: (c) => ({ ...c, acr: 'session' }) }, expected: { fail: 'id_token_invalid' }, message: /acr/ },
  { name: 'ID token: acr that is not a string', breakage: { claims: (c) => ({ ...c, acr: ['keys'] }) }, expected: { fail: 'id_token_invalid' }, message: /acr/ },
  { name: 'ID token: auth_time missing while max_age was sent', breakage: { claims: ({ auth_time: _at, ...c }) => c }, expected: { fail: 'id_token_invalid' } },
  // An ID token whose header or claims do not parse is an answer that is not the protocol's
  // (provider_bad_response, as a token body that does not parse); passport-justpass's own
  // verification refuses it as id_token_invalid (assertOwnVerificationRefuses, below).
  { name: 'ID token: malformed compact JWS', breakage: { sign: async () => 'not-a.compact.jws!' }, expected: { error: 'provider_bad_response' } },
  { name: 'ID token: a JWS with a payload that is not JSON', breakage: { sign: async () => `${b64({ alg: 'HS256' })}.${Buffer.from('not json').toString('base64url')}.c2ln` }, expected: { error: 'provider_bad_response' } },
  { name: 'ID token: missing', breakage: { sign: async () => undefined }, expected: { fail: 'id_token_invalid' } },
  { name: 'ID token: iss that is markup', breakage: { claims: (c) => ({ ...c, iss: MARKUP }) }, expected: { fail: 'id_token_invalid' }, providerText: MARKUP },
  { name: 'ID token: nonce that is markup', breakage: { claims: (c) => ({ ...c, nonce: MARKUP }) }, expected: { fail: 'id_token_invalid' }, providerText: MARKUP },
  {
    name: 'ID token: a payload of markup, not JSON',
    breakage: { sign: async () => `${b64({ alg: 'HS256' })}.${Buffer.from(MARKUP).toString('base64url')}.c2ln` },
    expected: { error: 'provider_bad_response' },
    providerText: MARKUP,
  },
  {
    name: 'ID token: RS256 with a crit extension named with markup',
    alg: 'RS256',
    breakage: {
      sign: (c, keys) => new SignJWT(c).setProtectedHeader({ alg: 'RS256', kid: keys.publicJwk.kid!, crit: [MARKUP], [MARKUP]: 1 }).sign(keys.privateKey, { crit: { [MARKUP]: true } }),
    },
    expected: { fail: 'id_token_invalid' },
    providerText: MARKUP,
  },
  // Userinfo.
  { name: 'userinfo: sub different from the ID token', breakage: { userinfoBody: (b) => ({ ...b, sub: 'sub-mallory' }) }, expected: { fail: 'userinfo_invalid' } },
  { name: 'userinfo: preferred_username missing', breakage: { userinfoBody: ({ preferred_username: _p, ...b }) => b }, expected: { fail: 'userinfo_invalid' } },
  { name: 'userinfo: preferred_username not a string', breakage: { userinfoBody: (b) => ({ ...b, preferred_username: ['alice'] }) }, expected: { fail: 'userinfo_invalid' } },
  { name: 'userinfo: preferred_username of another user (REG)', mode: 'register', breakage: { userinfoBody: (b) => ({ ...b, preferred_username: 'bob' }) }, expected: { fail: 'identity_mismatch' } },
  { name: 'userinfo: preferred_username of another user (2nd-factor LOGIN)', breakage: { userinfoBody: (b) => ({ ...b, preferred_username: 'bob' }) }, expected: { fail: 'identity_mismatch' } },
  { name: 'userinfo: a whole other user\'s passkey (REG)', mode: 'register', breakage: { account: 'bob' }, expected: { fail: 'identity_mismatch' } },
  { name: 'userinfo: a whole other user\'s passkey (2nd-factor LOGIN)', breakage: { account: 'bob' }, expected: { fail: 'identity_mismatch' } },
  { name: 'userinfo: 401', breakage: { userinfo: (res) => void res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end() }, expected: { fail: 'userinfo_invalid' } },
  { name: 'userinfo: 500', breakage: { userinfo: (res) => void res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>down</h1>') }, expected: { error: 'provider_server_error' } },
  { name: 'userinfo: invalid JSON', breakage: { userinfo: (res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"sub": ') }, expected: { error: 'provider_bad_response' } },
  {
    name: 'userinfo: 401 with a challenge whose error is markup',
    breakage: { userinfo: (res) => void res.writeHead(401, { 'www-authenticate': `Bearer error="${MARKUP}"` }).end() },
    expected: { fail: 'userinfo_invalid' },
    providerText: MARKUP,
  },
  {
    name: 'userinfo: 400 with an error code that is markup',
    breakage: { userinfo: (res) => void res.writeHead(400, json).end(JSON.stringify({ error: MARKUP, error_description: MARKUP })) },
    expected: { fail: 'userinfo_invalid' },
    providerText: MARKUP,
  },
  {
    name: 'userinfo: 200 with an error that is markup instead of claims',
    breakage: { userinfo: (res) => void res.writeHead(200, json).end(JSON.stringify({ error: MARKUP })) },
    expected: { fail: 'userinfo_invalid' },
    providerText: MARKUP,
  },
  { name: 'userinfo: preferred_username that is markup', breakage: { userinfoBody: (b) => ({ ...b, preferred_username: MARKUP }) }, expected: { fail: 'identity_mismatch' }, providerText: MARKUP },
  hugeCase('userinfo', true),
  hugeCase('userinfo', false),
  // The token endpoint.
  { name: 'token: 400 invalid_grant', breakage: { token: (res) => void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}') }, expected: { fail: 'token_rejected' } },
  { name: 'token: 500', breakage: { token: (res) => void res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>down</h1>') }, expected: { error: 'provider_server_error' } },
  { name: 'token: 500 with an OAuth error body', breakage: { token: (res) => void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}') }, expected: { error: 'provider_server_error' } },
  { name: 'token: invalid JSON', breakage: { token: (res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token": ') }, expected: { error: 'provider_bad_response' } },
  { name: 'token: HTML instead of JSON', breakage: { token: (res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>') }, expected: { error: 'provider_bad_response' } },
  { name: 'token: token_type not Bearer', breakage: { tokenBody: (b) => ({ ...b, token_type: 'MAC' }) }, expected: { fail: 'response_invalid' } },
  { name: 'token: token_type DPoP (not Bearer)', breakage: { tokenBody: (b) => ({ ...b, token_type: 'DPoP' }) }, expected: { fail: 'response_invalid' } },
  { name: 'token: access_token missing', breakage: { tokenBody: ({ access_token: _a, ...b }) => b }, expected: { fail: 'response_invalid' } },
  {
    name: 'token: 400 with an error code that is markup',
    breakage: { token: (res) => void res.writeHead(400, json).end(JSON.stringify({ error: MARKUP })) },
    expected: { fail: 'token_rejected' },
    providerText: MARKUP,
    message: /^The token endpoint refused the request \(invalid_error, HTTP 400\)\. Start again\.$/,
  },
  {
    name: 'token: 400 with an error code that is prose',
    breakage: { token: (res) => void res.writeHead(400, json).end(JSON.stringify({ error: PROSE })) },
    expected: { fail: 'token_rejected' },
    providerText: 'Example Corp',
    message: /\(invalid_error, HTTP 400\)/,
  },
  {
    name: 'token: 400 invalid_grant with markup in error_description',
    breakage: { token: (res) => void res.writeHead(400, json).end(JSON.stringify({ error: 'invalid_grant', error_description: MARKUP, error_uri: `javascript:${MARKUP}` })) },
    expected: { fail: 'token_rejected' },
    providerText: MARKUP,
    message: /\(invalid_grant, HTTP 400\)/,
  },
  {
    name: 'token: token_type that is markup',
    breakage: { tokenBody: (b) => ({ ...b, token_type: MARKUP }) },
    expected: { fail: 'response_invalid' },
    providerText: MARKUP,
  },
  hugeCase('token', true),
  hugeCase('token', false),
  hugeCase('jwks', true),
  hugeCase('jwks', false),
  // The authorization response.
  { name: 'authorization response: state unknown', breakage: { authorizeResponse: (p) => p.set('state', 'a-state-nobody-issued') }, expected: { fail: 'state_unknown' } },
  { name: 'authorization response: state missing', breakage: { authorizeResponse: (p) => p.delete('state') }, expected: { fail: 'invalid_callback' } },
  { name: 'authorization response: iss of another issuer (RFC 9207)', breakage: { authorizeResponse: (p) => p.set('iss', 'https://evil.example/openid') }, expected: { fail: 'response_invalid' } },
  {
    name: 'authorization response: error with an HTML/script payload in error_description',
    breakage: {
      authorizeResponse: (p) => {
        p.delete('code')
        p.set('error', 'access_denied')
        p.set('error_description', '<script>alert(document.cookie)</script>')
      },
    },
    expected: { fail: 'provider_denied' },
  },
  {
    name: 'authorization response: an error code that is markup',
    breakage: {
      authorizeResponse: (p) => {
        p.delete('code')
        p.set('error', '<img src=x onerror=alert(1)>')
      },
    },
    expected: { fail: 'provider_denied' },
  },
]

/**
 * Run `refusal` against a huge answer: the process's resident memory (the site runs in
 * it) must not grow by {@link RSS_BUDGET} at any point, sampled every few milliseconds,
 * and the provider must have been cut off well before the end of its answer.
 */
async function withinMemoryBudget(counter: HugeBodyCounter, refusal: () => Promise<unknown>): Promise<void> {
  counter.sent = 0
  const before = process.memoryUsage().rss
  let peak = before
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5)
  try {
    await refusal()
  } finally {
    clearInterval(sampler)
  }
  peak = Math.max(peak, process.memoryUsage().rss)
  const grown = peak - before
  assert.ok(grown < RSS_BUDGET, `the site's memory grew by ${Math.round(grown / 2 ** 20)} MiB`)
  assert.ok(counter.sent > 0, 'the huge answer was started')
  assert.ok(counter.sent < HUGE_BYTES / 4, `the provider was cut off after ${Math.round(counter.sent / 2 ** 20)} MiB, not read to the end`)
}

describe('hostile provider', () => {
  const sites = new Map<string, Site>()
  const site = (alg: 'HS256' | 'RS256' = 'HS256') => sites.get(alg)!

  before(async () => {
    sites.set('HS256', await startSite('HS256'))
    sites.set('RS256', await startSite('RS256'))
  })
  after(async () => {
    for (const each of sites.values()) await closeSite(each)
    mkdirSync('.test-results', { recursive: true })
    writeFileSync('.test-results/hostile.json', JSON.stringify(results))
  })

  test('well behaved, the same provider completes every mode (so each refusal below is the breakage\'s)', async () => {
    for (const alg of ['HS256', 'RS256'] as const) {
      for (const mode of ['register', 'login2', 'login1'] as const) {
        const { browser, start } = await prepare(site(alg), mode)
        if (mode === 'login2') await site(alg).app.users.setJustpassEnabled('alice', true)
        const answer = await browser.get(await toCallback(site(alg), browser, start))
        assert.equal(answer.status, 302)
        assert.equal((await me(site(alg), browser)).user?.username, 'alice', `${alg} ${mode}`)
      }
      await site(alg).app.users.setJustpassEnabled('alice', false)
    }
  })

  for (const each of CASES) {
    test(each.name, async () => {
      const current = each.fresh ? await startSite(each.alg) : site(each.alg)
      const mode = each.mode ?? 'login2'
      await current.app.users.setJustpassEnabled('alice', mode === 'login2')
      await current.app.users.setJustpassEnabled('bob', false)
      const storeBefore = JSON.stringify(current.app.users.list())
      const { browser, start } = await prepare(current, mode)
      current.provider.breakage = each.breakage
      try {
        const callback = await toCallback(current, browser, start)
        const refusal = () => assertRefused(current, browser, callback, mode, each.expected, storeBefore, each)
        if (each.huge) await withinMemoryBudget(each.huge, refusal)
        else await refusal()
        if (each.name.startsWith('ID token:') && each.name !== 'ID token: missing') await assertOwnVerificationRefuses(current, each.alg ?? 'HS256', 'fail' in each.expected ? each.expected.fail : 'id_token_invalid', each.providerText)
        results.push({ name: each.name, refused: true })
      } catch (err) {
        results.push({ name: each.name, refused: false })
        throw err
      } finally {
        current.provider.breakage = {}
        if (each.fresh) await closeSite(current)
      }
    })
  }

  test('token: a response that never ends (the timeout is honoured)', async () => {
    const current = site()
    await current.app.users.setJustpassEnabled('alice', true)
    const storeBefore = JSON.stringify(current.app.users.list())
    const { browser, start } = await prepare(current, 'login2')
    current.provider.breakage = {
      token: (res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"access_token": "')
        current.provider.hanging.push(res)
      },
    }
    try {
      const callback = await toCallback(current, browser, start)
      const t0 = performance.now()
      await assertRefused(current, browser, callback, 'login2', { error: 'provider_timeout' }, storeBefore)
      const elapsed = performance.now() - t0
      assert.ok(elapsed >= 700 && elapsed < 5_000, `answered after ${Math.round(elapsed)} ms with an 800 ms timeout`)
      results.push({ name: 'token: a response that never ends', refused: true })
    } catch (err) {
      results.push({ name: 'token: a response that never ends', refused: false })
      throw err
    } finally {
      current.provider.breakage = {}
    }
  })

  test('authorization response: state of another session', async () => {
    const current = site()
    await current.app.users.setJustpassEnabled('alice', true)
    const storeBefore = JSON.stringify(current.app.users.list())
    const victim = await prepare(current, 'login2')
    const victimCallback = await toCallback(current, victim.browser, victim.start)
    const attacker = await prepare(current, 'login2')
    try {
      await assertRefused(current, attacker.browser, victimCallback, 'login2', { fail: 'state_unknown' }, storeBefore)
      results.push({ name: 'authorization response: state of another session', refused: true })
    } catch (err) {
      results.push({ name: 'authorization response: state of another session', refused: false })
      throw err
    }
    await victim.browser.get(victimCallback)
    assert.equal((await me(current, victim.browser)).user?.username, 'alice', 'the owner\'s flow still completes')
  })

  test('authorization response: state replayed', async () => {
    const current = site()
    await current.app.users.setJustpassEnabled('alice', true)
    const storeBefore = JSON.stringify(current.app.users.list())
    const { browser, start } = await prepare(current, 'login2')
    // The first use of the callback meets a token endpoint that refuses; the code stays valid.
    current.provider.breakage = { token: (res) => void res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}') }
    const callback = await toCallback(current, browser, start)
    await browser.get(callback)
    current.provider.breakage = {}
    try {
      await assertRefused(current, browser, callback, 'login2', { fail: 'state_unknown' }, storeBefore)
      results.push({ name: 'authorization response: state replayed', refused: true })
    } catch (err) {
      results.push({ name: 'authorization response: state replayed', refused: false })
      throw err
    }
  })

  test('authorization response: state expired', async () => {
    const current = await startSite('HS256', { flowStore: { type: 'cookie', maxAge: 1 } })
    try {
      await current.app.users.setJustpassEnabled('alice', true)
      const storeBefore = JSON.stringify(current.app.users.list())
      const { browser, start } = await prepare(current, 'login2')
      const callback = await toCallback(current, browser, start)
      await sleep(2_100)
      await assertRefused(current, browser, callback, 'login2', { fail: 'state_expired' }, storeBefore)
      results.push({ name: 'authorization response: state expired', refused: true })
    } catch (err) {
      results.push({ name: 'authorization response: state expired', refused: false })
      throw err
    } finally {
      await closeSite(current)
    }
  })
})

describe('clock tolerance', () => {
  test('clockTolerance applies to every time check: an ID token expired 60 s ago passes with 120 s of tolerance', async () => {
    const current = await startSite('HS256', {}, { clockTolerance: 120 })
    try {
      await current.app.users.setJustpassEnabled('alice', true)
      const { browser, start } = await prepare(current, 'login2')
      current.provider.breakage = { claims: (c) => ({ ...c, iat: now() - 90, exp: now() - 60 }) }
      await browser.get(await toCallback(current, browser, start))
      assert.equal((await me(current, browser)).user?.username, 'alice')
    } finally {
      await closeSite(current)
    }
  })
})

describe('session', () => {
  let current: Site
  before(async () => {
    current = await startSite()
  })
  after(() => closeSite(current))

  test('login regenerates the session id (no fixation)', async () => {
    await current.app.users.setJustpassEnabled('alice', true)
    const { browser, start } = await prepare(current, 'login2')
    const callback = await toCallback(current, browser, start)
    const fixed = browser.cookies.get('127.0.0.1')?.get('shop.sid')
    assert.ok(fixed, 'the flow ran in a session')
    await browser.get(callback)
    assert.equal((await me(current, browser)).user?.username, 'alice')
    assert.notEqual(browser.cookies.get('127.0.0.1')?.get('shop.sid'), fixed)
    // The pre-login session id no longer carries the login.
    const planted = new Browser()
    planted.cookies.set('127.0.0.1', new Map([['shop.sid', fixed]]))
    assert.equal((await me(current, planted)).user, null)
  })

  for (const next of ['https://evil.example/', '//evil.example/', '/\\evil.example/', 'javascript:alert(1)', '/\r\nLocation: https://evil.example/', '/.//evil.example/', '/%2e//evil.example/', '/a/..//evil.example/']) {
    test(`?next=${next} is not followed`, async () => {
      await current.app.users.setJustpassEnabled('alice', true)
      const browser = new Browser()
      await browser.get(`${current.app.origin}/test/password?username=alice`)
      const callback = await toCallback(current, browser, `/justpass/login?next=${encodeURIComponent(next)}`)
      const answer = await browser.get(callback)
      assert.equal((await me(current, browser)).user?.username, 'alice')
      assert.equal(answer.location, `${current.app.origin}/`)
    })
  }
})
