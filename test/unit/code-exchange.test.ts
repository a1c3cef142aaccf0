/**
 * The way back, one provider answer at a time: `exchangeCode` against a loopback token
 * and userinfo endpoint that answers each row's body, and what it turns the answer into.
 * openid-client and oauth4webapi raise their real errors; the table holds the sorting
 * (by error class and code, never by message) to the reason or outage each row names.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createHmac } from 'node:crypto'
import { SignJWT, type JWTPayload } from 'jose'
import { JustpassProviderError, JustpassRefusal, justpassProvider } from '../../src/index.ts'
import { exchangeCode } from '../../src/code-exchange.ts'
import type { PendingFlow } from '../../src/flow.ts'
import { IdTokenVerifier } from '../../src/id-token.ts'
import { staticProviderConnection, type ProviderConnection } from '../../src/provider-connection.ts'
import { capProviderFetch } from '../../src/transport.ts'
import { startLoopbackServer, type LoopbackServer } from '../support/server.ts'

const CLIENT_ID = 'unit-client'
const CLIENT_SECRET = 'unit-client-secret-0123456789abcdef'
const SECRET_KEY = new TextEncoder().encode(CLIENT_SECRET)
const now = () => Math.floor(Date.now() / 1000)
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** What the loopback provider answers to one endpoint. */
interface Answer {
  status?: number
  headers?: Record<string, string>
  body: string
}

const json = (body: unknown, status = 200): Answer => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

interface Row {
  name: string
  /** The token endpoint's answer, from the issuer, the flow's nonce and a good ID token's claims. */
  token: (issuer: string, claims: JWTPayload) => Promise<Answer>
  /** The userinfo endpoint's answer; by default alice's. */
  userinfo?: Answer
  /** A refusal reason, or a provider error code. */
  expected: { refusal: string; providerError?: string; detail?: RegExp } | { outage: string }
}

/** A token response with an HS256 ID token of `claims`, signed with the client secret unless another header is given. */
async function tokens(claims: JWTPayload, header: Record<string, unknown> = { alg: 'HS256' }, extra: Record<string, unknown> = {}): Promise<Answer> {
  const idToken = await new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(SECRET_KEY)
  return json({ access_token: 'an-access-token', token_type: 'Bearer', expires_in: 60, id_token: idToken, ...extra })
}

/** An HS256 JWS made by hand, for headers jose would not sign (an unknown crit extension). */
function handMade(header: Record<string, unknown>, claims: JWTPayload): string {
  const input = `${b64(header)}.${b64(claims)}`
  return `${input}.${createHmac('sha256', CLIENT_SECRET).update(input).digest('base64url')}`
}

const ROWS: Row[] = [
  { name: 'a good answer', token: (_iss, claims) => tokens(claims), expected: { refusal: 'none' } },
  { name: 'invalid_grant', token: async () => json({ error: 'invalid_grant' }, 400), expected: { refusal: 'token_rejected', providerError: 'invalid_grant' } },
  { name: 'an error code that is markup', token: async () => json({ error: '<script>x</script>' }, 400), expected: { refusal: 'token_rejected', providerError: 'invalid_error' } },
  { name: 'a 500 page', token: async () => ({ status: 500, headers: { 'content-type': 'text/html' }, body: '<h1>down</h1>' }), expected: { outage: 'provider_server_error' } },
  { name: 'a 500 with an OAuth error', token: async () => json({ error: 'server_error' }, 500), expected: { outage: 'provider_server_error' } },
  { name: 'a 302', token: async () => ({ status: 302, headers: { location: '/elsewhere' }, body: '' }), expected: { refusal: 'token_rejected' } },
  { name: 'HTML instead of JSON', token: async () => ({ headers: { 'content-type': 'text/html' }, body: '<html></html>' }), expected: { outage: 'provider_bad_response' } },
  { name: 'JSON cut short', token: async () => ({ headers: { 'content-type': 'application/json' }, body: '{"access_token": ' }), expected: { outage: 'provider_bad_response' } },
  { name: 'no access token', token: async (_iss, claims) => { const answer = await tokens(claims); return json({ ...JSON.parse(answer.body), access_token: undefined }) }, expected: { refusal: 'response_invalid' } },
  { name: 'a token type other than Bearer', token: (_iss, claims) => tokens(claims, { alg: 'HS256' }, { token_type: 'MAC' }), expected: { refusal: 'response_invalid' } },
  { name: 'a scope that is not a string', token: (_iss, claims) => tokens(claims, { alg: 'HS256' }, { scope: ['openid'] }), expected: { refusal: 'response_invalid' } },
  { name: 'no ID token', token: async () => json({ access_token: 'a', token_type: 'Bearer' }), expected: { refusal: 'id_token_invalid' } },
  { name: 'an ID token of two parts', token: async () => json({ access_token: 'a', token_type: 'Bearer', id_token: 'only.two' }), expected: { outage: 'provider_bad_response' } },
  { name: 'an ID token whose claims are not JSON', token: async () => json({ access_token: 'a', token_type: 'Bearer', id_token: `${b64({ alg: 'HS256' })}.${b64('not json')}.c2ln` }), expected: { outage: 'provider_bad_response' } },
  { name: 'an ID token of another issuer', token: (_iss, claims) => tokens({ ...claims, iss: 'https://evil.example/openid' }), expected: { refusal: 'id_token_invalid', detail: /iss/ } },
  { name: 'an ID token for another client', token: (_iss, claims) => tokens({ ...claims, aud: 'another-client' }), expected: { refusal: 'id_token_invalid', detail: /aud/ } },
  { name: "an ID token of another flow's nonce", token: (_iss, claims) => tokens({ ...claims, nonce: 'another-nonce' }), expected: { refusal: 'id_token_invalid', detail: /nonce/ } },
  { name: 'an expired ID token', token: (_iss, claims) => tokens({ ...claims, iat: now() - 900, exp: now() - 600 }), expected: { refusal: 'id_token_invalid', detail: /exp/ } },
  { name: 'an ID token without sub', token: (_iss, { sub: _sub, ...claims }) => tokens(claims), expected: { refusal: 'id_token_invalid' } },
  { name: 'an ID token of another algorithm', token: (_iss, claims) => tokens(claims, { alg: 'HS512' }), expected: { refusal: 'id_token_invalid', detail: /alg: not the configured algorithm/ } },
  { name: 'an ID token with a crit extension', token: async (_iss, claims) => json({ access_token: 'a', token_type: 'Bearer', id_token: handMade({ alg: 'HS256', crit: ['x-ext'], 'x-ext': 1 }, claims) }), expected: { refusal: 'id_token_invalid', detail: /header parameter/ } },
  { name: 'an ID token whose header is a JSON array', token: async (_iss, claims) => json({ access_token: 'a', token_type: 'Bearer', id_token: `${b64([1])}.${b64(claims)}.c2ln` }), expected: { outage: 'provider_bad_response' } },
  { name: 'an empty body', token: async () => json({}), expected: { refusal: 'response_invalid' } },
  { name: 'a body that is a JSON array', token: async () => json([]), expected: { refusal: 'response_invalid' } },
  { name: 'an unsupported token type and no ID token', token: async () => json({ access_token: 'a', token_type: 'mac' }), expected: { refusal: 'response_invalid', detail: /token_type/ } },
  { name: 'a malformed expires_in and no ID token', token: async () => json({ access_token: 'a', token_type: 'Bearer', expires_in: 'soon' }), expected: { refusal: 'response_invalid' } },
  { name: 'a 503 with a challenge', token: async () => ({ status: 503, headers: { 'www-authenticate': 'Bearer error="temporarily_unavailable"' }, body: '' }), expected: { outage: 'provider_server_error' } },
  { name: 'an ID token MACed with another secret', token: async (_iss, claims) => { const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('another-secret-0123456789abcdef0123')); return json({ access_token: 'a', token_type: 'Bearer', id_token: forged }) }, expected: { refusal: 'id_token_invalid', detail: /signature/ } },
  { name: 'an auth_time older than max_age', token: (_iss, claims) => tokens({ ...claims, auth_time: now() - 3600 }), expected: { refusal: 'auth_too_old' } },
  { name: 'userinfo of another sub', token: (_iss, claims) => tokens(claims), userinfo: json({ sub: 'sub-mallory', preferred_username: 'alice' }), expected: { refusal: 'userinfo_invalid', detail: /sub: unexpected value/ } },
  { name: 'userinfo without preferred_username', token: (_iss, claims) => tokens(claims), userinfo: json({ sub: 'sub-alice' }), expected: { refusal: 'userinfo_invalid' } },
  { name: 'userinfo 401 with a challenge', token: (_iss, claims) => tokens(claims), userinfo: { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' }, body: '' }, expected: { refusal: 'userinfo_invalid' } },
  { name: 'userinfo 500', token: (_iss, claims) => tokens(claims), userinfo: { status: 500, body: 'down' }, expected: { outage: 'provider_server_error' } },
  { name: 'userinfo cut short', token: (_iss, claims) => tokens(claims), userinfo: { headers: { 'content-type': 'application/json' }, body: '{"sub": ' }, expected: { outage: 'provider_bad_response' } },
  { name: "userinfo of another user than the flow's", token: (_iss, claims) => tokens(claims), userinfo: json({ sub: 'sub-alice', preferred_username: 'bob' }), expected: { refusal: 'identity_mismatch' } },
]

describe('exchangeCode: each provider answer sorted to its refusal or outage', () => {
  let server: LoopbackServer
  let context: ProviderConnection
  let verifier: IdTokenVerifier
  let current: { token: Answer; userinfo: Answer } = { token: { body: '' }, userinfo: { body: '' } }

  before(async () => {
    server = await startLoopbackServer()
    server.handle((req: IncomingMessage, res: ServerResponse) => {
      const answer = req.url?.startsWith('/openid/token/') ? current.token : req.url?.startsWith('/openid/userinfo/') ? current.userinfo : { status: 404, body: '' }
      req.resume()
      req.on('end', () => res.writeHead(answer.status ?? 200, answer.headers ?? {}).end(answer.body))
    })
    const provider = justpassProvider({ opURL: `${server.origin}/openid/`, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, timeout: 2000 })
    context = staticProviderConnection(provider)
    verifier = new IdTokenVerifier(context.idTokenKey, { issuer: context.issuer, clientID: CLIENT_ID, clockTolerance: 30, maxTokenAge: 600, authTimeMaxAge: { register: false, login: 60 }, requireAcr: false })
  })
  after(() => server.close())

  for (const row of ROWS) {
    test(row.name, async () => {
      const flow: PendingFlow = { mode: 'login', username: 'alice', verifier: 'v'.repeat(44), nonce: 'the-flow-nonce', platform: 'app', started: now() }
      const claims: JWTPayload = { iss: context.issuer, aud: CLIENT_ID, sub: 'sub-alice', nonce: flow.nonce, iat: now(), exp: now() + 300, auth_time: now() - 5 }
      current = { token: await row.token(context.issuer, claims), userinfo: row.userinfo ?? json({ sub: 'sub-alice', preferred_username: 'alice' }) }
      const callbackURL = new URL(`http://127.0.0.1/justpass/callback?code=a-code&state=the-state`)
      const outcome = await exchangeCode(context, verifier, flow, 'the-state', callbackURL).then(
        (verified) => ({ ok: verified }),
        (err: unknown) => ({ err }),
      )
      const expected = row.expected
      if ('outage' in expected) {
        assert.ok('err' in outcome && outcome.err instanceof JustpassProviderError, `an outage, got ${'err' in outcome ? String(outcome.err) : 'success'}`)
        assert.equal(outcome.err.code, expected.outage)
        return
      }
      if (expected.refusal === 'none') {
        assert.ok('ok' in outcome, `success, got ${'err' in outcome ? String(outcome.err) : ''}`)
        assert.equal(outcome.ok.username, 'alice')
        assert.equal(outcome.ok.claims.sub, 'sub-alice')
        return
      }
      assert.ok('err' in outcome && outcome.err instanceof JustpassRefusal, `a refusal, got ${'err' in outcome ? String(outcome.err) : 'success'}`)
      assert.equal(outcome.err.code, expected.refusal)
      assert.equal(outcome.err.providerError, expected.providerError)
      if (expected.detail) assert.match(outcome.err.message, expected.detail)
      assert.doesNotMatch(outcome.err.message, /<|an-access-token|evil\.example|another-nonce|sub-mallory/, 'nothing the provider sent reaches the message')
    })
  }
})

describe("exchangeCode through a site's own fetch that cannot connect", () => {
  test('is an outage (provider_unreachable), not a raw error', async () => {
    const refused = () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))
    const provider = justpassProvider({ opURL: 'http://127.0.0.1:9/openid/', clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, fetch: refused })
    const context = staticProviderConnection(provider, capProviderFetch(provider.fetch!))
    const verifier = new IdTokenVerifier(context.idTokenKey, { issuer: context.issuer, clientID: CLIENT_ID, clockTolerance: 30, maxTokenAge: 600, authTimeMaxAge: { register: false, login: 60 }, requireAcr: false })
    const flow: PendingFlow = { mode: 'login', verifier: 'v'.repeat(44), nonce: 'n', started: now() }
    await assert.rejects(exchangeCode(context, verifier, flow, 's', new URL('http://127.0.0.1/cb?code=c&state=s')), (err: unknown) => {
      assert.ok(err instanceof JustpassProviderError)
      assert.equal(err.code, 'provider_unreachable')
      return true
    })
  })
})
