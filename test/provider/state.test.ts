/**
 * The local provider's state in SQLite: a sign-in in progress survives a restart; two
 * instances sharing one file behind one address serve one sign-in, request by request in
 * turn; a WebAuthn challenge made by one instance is checked by the other, once; and
 * neither a start nor a whole sign-in prints oidc-provider's warnings (the in-memory
 * adapter, the runtime). Real servers and a real child process on 127.0.0.1.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SignJWT } from 'jose'
import { startLocalProvider, type LocalProvider, type LocalProviderOptions } from '../../provider/index.ts'
import { ProviderState } from '../../provider/adapter.ts'
import { PasskeyStore } from '../../provider/passkeys.ts'
import { WebAuthnCeremonies } from '../../provider/webauthn.ts'
import { Browser, type Hop } from '../support/browser.ts'

const SITE = 'http://127.0.0.1:9'
const CLIENT = { clientID: 'state-site', clientSecret: 'state-site-secret-0123456789abcdef0123', redirectURIs: [`${SITE}/cb`] }

/** A signed authorization URL, as a site sends it. */
async function authorizationURL(opURL: string, prompt: 'create' | 'login' = 'create'): Promise<{ url: string; state: string }> {
  const state = `state-${Math.random().toString(36).slice(2)}`
  const signature = await new SignJWT({ state, login_hint: 'alice' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(CLIENT.clientSecret))
  const query = new URLSearchParams({ client_id: CLIENT.clientID, response_type: 'code', scope: 'openid', redirect_uri: CLIENT.redirectURIs[0]!, state, login_hint: 'alice', signature, prompt })
  return { url: `${opURL}authorize/?${query}`, state }
}

/** A round-robin HTTP proxy on 127.0.0.1: request n goes to target n mod 2. */
async function startRoundRobin(): Promise<{ origin: string; targets: number[]; served: number[]; close(): Promise<void> }> {
  const targets: number[] = []
  const served = [0, 0]
  let next = 0
  const server: Server = createServer((req, res) => {
    const index = next++ % targets.length
    served[index]!++
    const upstream = request({ host: '127.0.0.1', port: targets[index], method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    targets,
    served,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

describe('the local provider\'s state in SQLite', () => {
  let dir: string
  const running: LocalProvider[] = []

  const start = async (options: Partial<LocalProviderOptions> & { database: string }) => {
    const provider = await startLocalProvider({ hostname: '127.0.0.1', clients: [CLIENT], ...options })
    running.push(provider)
    return provider
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-provider-state-'))
  })

  after(async () => {
    for (const provider of running) await provider.close().catch(() => {})
    rmSync(dir, { recursive: true, force: true })
  })

  test('a sign-in in progress survives a restart of the provider: its page still works, and its cancel reaches the site', async () => {
    const database = join(dir, 'restart.sqlite')
    const first = await start({ database })
    const port = Number(new URL(first.opURL).port)
    const browser = new Browser()
    const { url, state } = await authorizationURL(first.opURL)
    const page = (await browser.follow(url)).hops.at(-1)!
    assert.match(page.body, /Create a passkey/)
    await first.close()

    const second = await start({ database, port })
    const options = await browser.post(page.url.replace('?', '/options?'), {}, { headers: { 'content-type': 'application/json' } })
    assert.equal(options.status, 200, 'the interaction and its cookie are still known')
    assert.ok('challenge' in (JSON.parse(options.body) as object))
    const cancelled = await browser.post(page.url.replace('?', '/cancel?'), {})
    assert.equal(cancelled.status, 303)
    const { stoppedAt } = await browser.follow(cancelled.location!, (next) => next.origin === SITE)
    const back = new URL(stoppedAt!)
    assert.equal(back.searchParams.get('error'), 'access_denied')
    assert.equal(back.searchParams.get('state'), state)
    await second.close()
  })

  test('two instances sharing one file behind one address: a whole sign-in, request by request in turn, ends with tokens', async () => {
    const database = join(dir, 'shared.sqlite')
    const proxy = await startRoundRobin()
    try {
      const origin = proxy.origin.replace('127.0.0.1', 'localhost')
      const approve = async () => ({ username: 'alice' })
      const a = await start({ database, origin, hostname: 'localhost', completeInteraction: approve })
      const b = await start({ database, origin, hostname: 'localhost', completeInteraction: approve })
      assert.equal(a.opURL, `${origin}/openid/`, 'the public address')
      assert.equal(b.opURL, a.opURL)
      proxy.targets.push(a.port, b.port)

      const browser = new Browser()
      const { url, state } = await authorizationURL(a.opURL, 'login')
      const { hops, stoppedAt } = await browser.follow(url, (next) => next.origin === SITE)
      assert.ok(stoppedAt, `back at the site after ${hops.map((hop: Hop) => `${hop.status} ${new URL(hop.url).pathname}`).join(', ')}`)
      const back = new URL(stoppedAt)
      assert.equal(back.searchParams.get('state'), state)
      const code = back.searchParams.get('code')
      assert.ok(code, 'an authorization code')
      assert.ok(proxy.served[0]! >= 1 && proxy.served[1]! >= 1, `both instances served the sign-in (${proxy.served.join(' and ')})`)

      const token = await fetch(`${a.opURL}token/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CLIENT.redirectURIs[0]!, client_id: CLIENT.clientID, client_secret: CLIENT.clientSecret }),
      })
      assert.equal(token.status, 200)
      const tokens = (await token.json()) as { id_token?: string; access_token?: string }
      assert.ok(tokens.id_token && tokens.access_token)
    } finally {
      await proxy.close()
    }
  })

  test('a WebAuthn challenge made by one instance is checked by another, and only once', async () => {
    const database = join(dir, 'challenges.sqlite')
    const one = new PasskeyStore(database)
    const two = new PasskeyStore(database)
    try {
      const relyingParty = { rpID: 'localhost', origin: 'http://localhost:1' }
      one.ensureAccount('alice')
      const started = await new WebAuthnCeremonies(one, relyingParty).startRegistration('interaction-1', 'alice')
      assert.ok('options' in started)
      const other = new WebAuthnCeremonies(two, relyingParty)
      const checked = await other.finish('interaction-1', { id: 'not-a-real-credential', response: {} })
      assert.deepEqual(checked, { error: 'The passkey could not be checked. Please try again.' }, 'the challenge was found, the answer checked against it')
      const again = await other.finish('interaction-1', { id: 'not-a-real-credential', response: {} })
      assert.match('error' in again ? again.error : '', /expired/, 'a challenge is used once')
    } finally {
      one.close()
      two.close()
    }
  })

  test('starting the provider and signing in prints none of oidc-provider\'s warnings', async () => {
    const script = `
      import { startLocalProvider } from './provider/index.ts'
      const provider = await startLocalProvider({ hostname: '127.0.0.1', database: ${JSON.stringify(join(dir, 'quiet.sqlite'))},
        clients: [{ clientID: 'c', clientSecret: 'quiet-secret-0123456789abcdef0123456789', redirectURIs: ['http://127.0.0.1:9/cb'] }],
        completeInteraction: async () => ({ username: 'alice' }) })
      const answer = await fetch(provider.opURL + 'authorize/?client_id=c&response_type=code&scope=openid&redirect_uri=' + encodeURIComponent('http://127.0.0.1:9/cb'), { redirect: 'manual' })
      console.log('authorize answered', answer.status)
      await provider.close()
    `
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    clearTimeout(timer)
    assert.equal(code, 0, output)
    assert.match(output, /authorize answered 303/, 'the provider ran')
    assert.doesNotMatch(output, /oidc-provider WARNING|MUST change|Unsupported runtime|in-memory adapter/)
  })

  test('the adapter: a revoked grant takes its codes and tokens, never a sign-in in progress; consumed and expired models', async () => {
    const state = new ProviderState(join(dir, 'adapter.sqlite'))
    try {
      const Adapter = state.adapter()
      const interactions = new Adapter('Interaction')
      const sessions = new Adapter('Session')
      const codes = new Adapter('AuthorizationCode')
      const tokens = new Adapter('AccessToken')
      await interactions.upsert('i1', { uid: 'i1', grantId: 'g1', kind: 'Interaction' }, 600)
      await sessions.upsert('s1', { uid: 'su1', grantId: 'g1', kind: 'Session' }, 600)
      await codes.upsert('c1', { grantId: 'g1', kind: 'AuthorizationCode' }, 600)
      await tokens.upsert('t1', { grantId: 'g1', kind: 'AccessToken' }, 600)
      await tokens.upsert('t2', { grantId: 'g2', kind: 'AccessToken' }, 600)
      await tokens.revokeByGrantId('g1')
      assert.equal(await codes.find('c1'), undefined)
      assert.equal(await tokens.find('t1'), undefined)
      assert.ok(await tokens.find('t2'), 'another grant\'s token stays')
      assert.ok(await interactions.find('i1'), 'the interaction stays')
      assert.equal((await sessions.findByUid('su1'))?.kind, 'Session', 'the session stays, found by its uid')
      await codes.upsert('c2', { grantId: 'g3', kind: 'AuthorizationCode' }, 600)
      await codes.consume('c2')
      assert.equal(typeof (await codes.find('c2'))?.consumed, 'number', 'a consumed code says so')
      await codes.upsert('c3', { kind: 'AuthorizationCode' }, 1)
      assert.ok(await codes.find('c3'))
      await new Promise((resolve) => setTimeout(resolve, 1100))
      assert.equal(await codes.find('c3'), undefined, 'an expired model is not found')
      await interactions.destroy('i1')
      assert.equal(await interactions.find('i1'), undefined)
    } finally {
      state.close()
    }
  })
})
