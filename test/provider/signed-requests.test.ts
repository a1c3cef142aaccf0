/**
 * The local provider accepts a signed authorization request once, and not past its time:
 * a REG link replayed from another cookie jar (at once, or after a restart, or at another
 * instance sharing the SQLite file) gets the provider's own page and creates no passkey,
 * even when the replaying jar holds an authenticator ready to make one; a signature past
 * its `exp` (beyond the 30 s clock tolerance), or with only an `iat` older than 10 minutes,
 * is refused the same way; an `iat` more than a minute ahead is sent back to the site as
 * a bad request; a signature without times (justpass.me's Django client) is accepted, once.
 * The real provider on 127.0.0.1 with its real passkey pages; passkeys are made by a small
 * software authenticator (ES256, attestation "none") speaking the pages' JSON.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { startLocalProvider, type LocalProvider } from '../../provider/index.ts'
import { ProviderState } from '../../provider/adapter.ts'
import { Browser, type Hop } from '../support/browser.ts'
import { signedAuthorizationURL } from '../support/signed-request.ts'

const SITE = 'http://127.0.0.1:9'
const CLIENT = { clientID: 'signed-site', clientSecret: 'signed-site-secret-0123456789abcdef0123', redirectURIs: [`${SITE}/cb`] }
const SECRET = new TextEncoder().encode(CLIENT.clientSecret)
const LEAKS = [/\bat\s+[#\w.<>]+\s+\(/, /SyntaxError|TypeError|Error:/, /node_modules|\/tmp\//]

/** A minimal CBOR encoder: unsigned and negative integers, byte and text strings, maps. */
function cbor(value: number | string | Uint8Array | Map<number | string, unknown>): Buffer {
  const head = (major: number, n: number) =>
    n < 24 ? Buffer.from([(major << 5) | n]) : n < 256 ? Buffer.from([(major << 5) | 24, n]) : Buffer.from([(major << 5) | 25, n >> 8, n & 255])
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value)
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)])
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value])
  return Buffer.concat([head(5, value.size), ...[...value].flatMap(([key, item]) => [cbor(key), cbor(item as never)])])
}

/** A software authenticator: creates ES256 passkeys as a device would, attestation "none". */
class SoftAuthenticator {
  readonly keys = new Map<string, KeyObject>()

  /** The browser's answer to `navigator.credentials.create` with the provider's options. */
  create(options: { challenge: string; rp: { id?: string } }, origin: string): Record<string, unknown> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwk = publicKey.export({ format: 'jwk' })
    const id = randomBytes(16)
    this.keys.set(id.toString('base64url'), privateKey)
    const coseKey = new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]])
    const length = Buffer.from([id.length >> 8, id.length & 255])
    const rpIdHash = createHash('sha256').update(options.rp.id ?? new URL(origin).hostname).digest()
    // Flags: user present, user verified, attested credential data.
    const authData = Buffer.concat([rpIdHash, Buffer.from([0x45]), Buffer.alloc(4), Buffer.alloc(16), length, id, cbor(coseKey)])
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false }))
    const attestationObject = cbor(new Map<string, unknown>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]))
    return {
      id: id.toString('base64url'),
      rawId: id.toString('base64url'),
      type: 'public-key',
      response: { clientDataJSON: clientDataJSON.toString('base64url'), attestationObject: attestationObject.toString('base64url'), transports: ['internal'] },
      clientExtensionResults: {},
    }
  }
}

/** A POST of JSON with the jar's cookies for that host, as the passkey page's script sends it. */
async function postJSON(jar: Browser, url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const cookie = [...(jar.cookies.get(new URL(url).hostname) ?? [])].map(([name, value]) => `${name}=${value}`).join('; ')
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', cookie }, body: JSON.stringify(body) })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

/** The times a site signs into a request: now, and 10 minutes on (passport-justpass's default). */
const fresh = () => {
  const now = Math.floor(Date.now() / 1000)
  return { iat: now, exp: now + 600 }
}

/** A signed REG (or LOGIN) authorization URL for alice, its signature over `{state, login_hint, ...times}`. */
async function signedURL(opURL: string, times: { iat?: number; exp?: number }, prompt: 'create' | 'login' = 'create'): Promise<{ url: string; state: string; query: URLSearchParams }> {
  return signedAuthorizationURL(opURL, CLIENT, { prompt, claims: times })
}

/** How far a browser with an authenticator got with an authorization URL. */
interface Attempt {
  /** The provider's last answer before the site (a page), or undefined when back at the site. */
  page?: Hop
  /** The callback URL at the site, when the provider sent the browser back. */
  callback?: URL
  /** Whether the provider offered the passkey step (and the authenticator made a passkey in it). */
  passkeyStep: boolean
}

/**
 * Open `url` in `jar` as a browser would; when the provider offers its passkey step, make the
 * passkey there with `authenticator` (as a user pressing "Create passkey") and follow on.
 */
async function attempt(jar: Browser, url: string, authenticator: SoftAuthenticator, origin: string): Promise<Attempt> {
  const first = await jar.follow(url, (next) => next.origin === SITE)
  if (first.stoppedAt) return { callback: new URL(first.stoppedAt), passkeyStep: false }
  const page = first.hops.at(-1)!
  if (!new URL(page.url).pathname.startsWith('/openid/interaction/') || page.status !== 200) return { page, passkeyStep: false }
  const options = await postJSON(jar, page.url.replace('?', '/options?'), {})
  assert.equal(options.status, 200, JSON.stringify(options.json))
  const verified = await postJSON(jar, page.url.replace('?', '/verify?'), authenticator.create(options.json as never, origin))
  assert.equal(verified.status, 200, JSON.stringify(verified.json))
  const resumed = await jar.follow(String(verified.json.redirectTo), (next) => next.origin === SITE)
  return resumed.stoppedAt ? { callback: new URL(resumed.stoppedAt), passkeyStep: true } : { page: resumed.hops.at(-1), passkeyStep: true }
}

/** The provider's "used or expired" page: 400, in plain words, no way on to a passkey step. */
function assertLinkOver(result: Attempt, label: string): void {
  assert.equal(result.passkeyStep, false, `${label}: no passkey step`)
  assert.equal(result.callback, undefined, `${label}: not sent on to the site`)
  const page = result.page!
  assert.equal(page.status, 400, label)
  assert.equal(page.location, undefined, label)
  assert.match(page.body, /<h1>This sign-in link was already used or has expired<\/h1>/, label)
  assert.match(page.body, /Go back to the site and start again from there\./, label)
  assert.match(page.body, new RegExp(`<a class="back" id="back" href="${SITE}/">Back to ${CLIENT.clientID}</a>`), label)
  assert.doesNotMatch(page.body, /id="passkey"/, label)
  for (const leak of LEAKS) assert.doesNotMatch(page.body, leak, label)
}

describe('the local provider accepts a signed authorization request once, and not past its time', () => {
  let dir: string
  let provider: LocalProvider
  let origin: string
  const running: LocalProvider[] = []
  const passkeyCount = (of = provider) => of.passkeys.passkeysOf('alice').length

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-signed-requests-'))
    provider = await startLocalProvider({ hostname: '127.0.0.1', clients: [CLIENT], database: join(dir, 'provider.sqlite') })
    running.push(provider)
    origin = provider.issuer.replace(/\/openid$/, '')
  })

  after(async () => {
    for (const one of running) await one.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  })

  test('a REG link replayed from a fresh cookie jar, at once and after the owner used it: the provider\'s page, no passkey made', async () => {
    const { url, state } = await signedURL(provider.opURL, fresh())
    const owner = await attempt(new Browser(), url, new SoftAuthenticator(), origin)
    assert.ok(owner.passkeyStep, 'the owner got the passkey step')
    assert.equal(owner.callback?.searchParams.get('state'), state, 'the owner is sent back to the site (the resume is not refused by the one-use check)')
    assert.ok(owner.callback?.searchParams.get('code'), 'with a code')
    assert.equal(passkeyCount(), 1)

    const thief = new SoftAuthenticator()
    assertLinkOver(await attempt(new Browser(), url, thief, origin), 'replayed')
    assert.equal(thief.keys.size, 0, 'the replaying browser was never asked for a passkey')
    assert.equal(passkeyCount(), 1, 'no passkey for alice from the replay')
    // The owner's own browser, following the link again, is not let in either.
    assertLinkOver(await attempt(new Browser(), url, thief, origin), 'replayed again')
  })

  test('a REG link replayed while the owner is still on the passkey page: refused, and the owner\'s sign-in goes on', async () => {
    const before = passkeyCount()
    const { url, state } = await signedURL(provider.opURL, fresh())
    const ownerJar = new Browser()
    const opened = (await ownerJar.follow(url, (next) => next.origin === SITE)).hops.at(-1)!
    assert.match(opened.body, /Create a passkey/)
    assertLinkOver(await attempt(new Browser(), url, new SoftAuthenticator(), origin), 'replayed during the sign-in')
    assert.equal(passkeyCount(), before)
    // The owner finishes on the page already open.
    const options = await postJSON(ownerJar, opened.url.replace('?', '/options?'), {})
    const verified = await postJSON(ownerJar, opened.url.replace('?', '/verify?'), new SoftAuthenticator().create(options.json as never, origin))
    assert.equal(verified.status, 200)
    const { stoppedAt } = await ownerJar.follow(String(verified.json.redirectTo), (next) => next.origin === SITE)
    assert.equal(new URL(stoppedAt!).searchParams.get('state'), state)
    assert.equal(passkeyCount(), before + 1)
  })

  test('a pushed request (PAR) is used once, at its authorization: the push does not use it up, a second push of it is refused there', async () => {
    const { query } = await signedURL(provider.opURL, fresh(), 'login')
    const push = async () => {
      const pushed = await fetch(`${provider.opURL}request`, { method: 'POST', body: new URLSearchParams({ ...Object.fromEntries(query), client_secret: CLIENT.clientSecret }) })
      assert.equal(pushed.status, 201)
      const { request_uri } = (await pushed.json()) as { request_uri: string }
      return `${provider.opURL}authorize/?${new URLSearchParams({ client_id: CLIENT.clientID, request_uri })}`
    }
    const page = (await new Browser().follow(await push(), (next) => next.origin === SITE)).hops.at(-1)!
    assert.equal(page.status, 200)
    assert.match(page.body, /Sign in with your passkey/)
    assertLinkOver(await attempt(new Browser(), await push(), new SoftAuthenticator(), origin), 'the same signed request pushed again')
    assertLinkOver(await attempt(new Browser(), `${provider.opURL}authorize/?${query}`, new SoftAuthenticator(), origin), 'the same signed request sent directly')
  })

  test('a signature past its exp, beyond the 30 s clock tolerance: the provider\'s page, no passkey; just within it: accepted', async () => {
    const before = passkeyCount()
    const now = Math.floor(Date.now() / 1000)
    const expired = await signedURL(provider.opURL, { iat: now - 700, exp: now - 100 })
    assertLinkOver(await attempt(new Browser(), expired.url, new SoftAuthenticator(), origin), 'past exp')
    const lateBeyondTolerance = await signedURL(provider.opURL, { iat: now - 640, exp: now - 40 })
    assertLinkOver(await attempt(new Browser(), lateBeyondTolerance.url, new SoftAuthenticator(), origin), '40 s past exp')
    assert.equal(passkeyCount(), before, 'no passkey from an expired link')

    const withinTolerance = await signedURL(provider.opURL, { iat: now - 610, exp: now - 10 }, 'login')
    const page = (await new Browser().follow(withinTolerance.url, (next) => next.origin === SITE)).hops.at(-1)!
    assert.equal(page.status, 200)
    assert.match(page.body, /Sign in with your passkey/, '10 s past exp is within the tolerance')
  })

  test('an iat alone lives 10 minutes; an iat more than a minute ahead goes back to the site as a bad request', async () => {
    const now = Math.floor(Date.now() / 1000)
    const old = await signedURL(provider.opURL, { iat: now - 700 })
    assertLinkOver(await attempt(new Browser(), old.url, new SoftAuthenticator(), origin), 'iat alone, 700 s old')
    const recent = await signedURL(provider.opURL, { iat: now - 60 }, 'login')
    assert.match((await new Browser().follow(recent.url, (next) => next.origin === SITE)).hops.at(-1)!.body, /Sign in with your passkey/)

    const ahead = await signedURL(provider.opURL, { iat: now + 120, exp: now + 720 })
    const refused = await new Browser().follow(ahead.url, (next) => next.origin === SITE)
    const back = new URL(refused.stoppedAt!)
    assert.equal(back.searchParams.get('error'), 'invalid_request')
    assert.match(back.searchParams.get('error_description') ?? '', /iat is more than a minute ahead/)
    const slightlyAhead = await signedURL(provider.opURL, { iat: now + 30, exp: now + 630 }, 'login')
    assert.match((await new Browser().follow(slightlyAhead.url, (next) => next.origin === SITE)).hops.at(-1)!.body, /Sign in with your passkey/, '30 s ahead is accepted')
  })

  test('a signature without times (justpass.me\'s Django client) is accepted, once, for good; a signed request without state is refused', async () => {
    const { url } = await signedURL(provider.opURL, {}, 'login')
    const page = (await new Browser().follow(url, (next) => next.origin === SITE)).hops.at(-1)!
    assert.match(page.body, /Sign in with your passkey/)
    assertLinkOver(await attempt(new Browser(), url, new SoftAuthenticator(), origin), 'a replay without times')
    // Nothing tells such a request's age: the sweep, however late, keeps it.
    const sweeper = new ProviderState(join(dir, 'provider.sqlite'))
    try {
      sweeper.sweep(Date.now() + 10 * 365 * 86_400_000)
    } finally {
      sweeper.close()
    }
    assertLinkOver(await attempt(new Browser(), url, new SoftAuthenticator(), origin), 'a replay without times, after a sweep years on')

    // Once per state needs a state.
    const signature = await new SignJWT({ login_hint: 'alice', ...fresh() }).setProtectedHeader({ alg: 'HS256' }).sign(SECRET)
    const query = new URLSearchParams({ client_id: CLIENT.clientID, response_type: 'code', scope: 'openid', redirect_uri: CLIENT.redirectURIs[0]!, login_hint: 'alice', signature, prompt: 'login' })
    const { stoppedAt } = await new Browser().follow(`${provider.opURL}authorize/?${query}`, (next) => next.origin === SITE)
    assert.equal(new URL(stoppedAt!).searchParams.get('error'), 'invalid_request')
    assert.match(new URL(stoppedAt!).searchParams.get('error_description') ?? '', /signature/)
  })

  test('the memory of used requests is in the SQLite file: another instance sharing it and a restart refuse a replay', async () => {
    const database = join(dir, 'shared.sqlite')
    const one = await startLocalProvider({ hostname: '127.0.0.1', clients: [CLIENT], database })
    running.push(one)
    const two = await startLocalProvider({ hostname: '127.0.0.1', clients: [CLIENT], database })
    running.push(two)
    const { url } = await signedURL(one.opURL, fresh())
    const used = await attempt(new Browser(), url, new SoftAuthenticator(), one.issuer.replace(/\/openid$/, ''))
    assert.ok(used.passkeyStep)
    const atTwo = url.replace(one.opURL, two.opURL)
    assertLinkOver(await attempt(new Browser(), atTwo, new SoftAuthenticator(), two.issuer.replace(/\/openid$/, '')), 'replayed at the other instance')
    assert.equal(passkeyCount(two), 1)

    const port = one.port
    await one.close()
    await two.close()
    const again = await startLocalProvider({ hostname: '127.0.0.1', port, clients: [CLIENT], database })
    running.push(again)
    assertLinkOver(await attempt(new Browser(), url, new SoftAuthenticator(), again.issuer.replace(/\/openid$/, '')), 'replayed after a restart')
    assert.equal(passkeyCount(again), 1)
  })

  test('used requests are kept until their signature is refused for its age, then swept; those without times are kept', () => {
    const state = new ProviderState(join(dir, 'sweep.sqlite'))
    try {
      const now = Date.now()
      assert.equal(state.useRequestState('c', 'old', now + 1000), true)
      assert.equal(state.useRequestState('c', 'old', now + 1000), false, 'used once')
      assert.equal(state.useRequestState('other-client', 'old', now + 1000), true, 'per client')
      assert.equal(state.useRequestState('c', 'timeless', null), true)
      state.sweep(now + 500)
      assert.equal(state.useRequestState('c', 'old', now + 1000), false, 'kept until its time')
      state.sweep(now + 1000)
      assert.equal(state.useRequestState('c', 'old', now + 5000), true, 'swept once its time is over')
      state.sweep(now + 10 * 365 * 86_400_000)
      assert.equal(state.useRequestState('c', 'timeless', null), false, 'a request without times is kept for good')
    } finally {
      state.close()
    }
  })
})
