/**
 * The local provider on its own (`npm run provider`): its flags and environment variables,
 * `--help`, usage mistakes, the printed opURL; both client authentication methods with the
 * strategy; the `email` and `profile` scopes; ID tokens with `auth_time` and `at_hash`.
 * Real processes and servers on 127.0.0.1; every process started is stopped.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { decodeJwt, jwtVerify, SignJWT } from 'jose'
import { startLocalProvider, type LocalProvider } from '../../provider/index.ts'
import { FLAGS, generatedSecretFile, parseCommand } from '../../provider/cli.ts'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startLoopbackServer } from '../support/server.ts'
import { Browser } from '../support/browser.ts'
import { buildTestApp, reserveTestApp } from '../support/app.ts'

const SECRET = 'cli-site-secret-0123456789abcdef0123456789'

/** Run the command; resolves with its exit code and output once `until` matches (then stops it) or it exits. */
function runCommand(args: string[], env: Record<string, string> = {}, until?: RegExp): Promise<{ code: number | null; output: string; stdout: string; child: ChildProcess }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('JUSTPASS_')))
  const child = spawn(process.execPath, ['--import', 'tsx', 'provider/cli.ts', ...args], { cwd: process.cwd(), env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  let stdout = ''
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk
      stdout += chunk
      if (until?.test(stdout)) resolve({ code: null, output, stdout, child })
    })
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk))
    child.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, output, stdout, child })
    })
  })
}

describe('npm run provider', () => {
  test('--help documents every flag and its environment variable', async () => {
    const { code, stdout } = await runCommand(['--help'])
    assert.equal(code, 0)
    for (const [name, flag] of Object.entries(FLAGS)) {
      assert.match(stdout, new RegExp(`--${name}\\s+${flag.env}`))
    }
  })

  test('--help aligns its columns: every flag, variable and meaning starts at the same column, wrapped lines under the meaning', async () => {
    const { stdout } = await runCommand(['--help'])
    const rows = stdout.split('\n').filter((line) => /^ {2}--/.test(line))
    assert.equal(rows.length, Object.keys(FLAGS).length + 1)
    const meaning = stdout.split('\n').find((line) => line.includes('environment variable'))!.indexOf('meaning')
    for (const row of rows.filter((line) => !line.startsWith('  --help'))) {
      const env = /JUSTPASS_\w+/.exec(row)!
      assert.equal(env.index, rows[0]!.indexOf('JUSTPASS_'), row)
      assert.equal(row.slice(meaning - 2, meaning), '  ', `two spaces before the meaning: ${row}`)
      assert.notEqual(row[meaning], ' ', row)
    }
    const continued = stdout.split('\n').filter((line) => /^ {20,}\S/.test(line))
    assert.ok(continued.length > 0, 'long meanings wrap')
    for (const line of continued) assert.equal(line.search(/\S/), meaning, line)
    assert.ok(stdout.split('\n').every((line) => line.length <= 120), 'no line runs past 120 columns')
  })

  test('a usage mistake names the flag, exits 2, and shows the help', async () => {
    const both = await runCommand(['--client-secret', SECRET, '--client-secret-file', 'secret.txt'])
    assert.equal(both.code, 2)
    assert.match(both.output, /give the client secret once/)
    assert.match(both.output, /Usage: npm run provider/)
    const unreadable = await runCommand(['--client-secret-file', '/nonexistent/secret.txt'])
    assert.equal(unreadable.code, 2)
    assert.match(unreadable.output, /--client-secret-file "\/nonexistent\/secret.txt" cannot be read/)
    const short = await runCommand(['--client-id', 'site', '--client-secret', 'short', '--redirect-uri', 'http://localhost:4000/cb'])
    assert.equal(short.code, 2)
    assert.match(short.output, /32 characters or more/)
    assert.doesNotMatch(short.output, /short\b.*short/, 'the secret is not echoed')
    const unknown = await runCommand(['--client-id', 'site', '--bogus'])
    assert.equal(unknown.code, 2)
    assert.match(unknown.output, /Unknown option '--bogus'/)
  })

  test('from environment variables: prints the site\'s settings (never a secret it was given), serves them, creates the accounts, stops on SIGTERM', async () => {
    const env = {
      JUSTPASS_PROVIDER_CLIENT_ID: 'env-site',
      JUSTPASS_PROVIDER_CLIENT_SECRET: SECRET,
      JUSTPASS_PROVIDER_REDIRECT_URI: 'http://localhost:4000/justpass/callback,http://localhost:4001/justpass/callback',
      JUSTPASS_PROVIDER_PORT: '0',
      JUSTPASS_PROVIDER_DATABASE: ':memory:',
    }
    const run = await runCommand(['--users', 'alice,bob'], env, /Ctrl-C stops it/)
    try {
      assert.equal(run.code, null, run.output)
      const opURL = /^export JUSTPASS_OP_URL=(\S+)$/m.exec(run.stdout)?.[1]
      assert.ok(opURL?.startsWith('http://localhost:') && opURL.endsWith('/openid/'), run.stdout)
      assert.match(run.stdout, /site\s+env-site \(client id env-site\)/)
      assert.match(run.stdout, /^# JUSTPASS_CLIENT_SECRET: the secret you gave the provider \(--client-secret or JUSTPASS_PROVIDER_CLIENT_SECRET\)$/m)
      assert.match(run.stdout, /^export JUSTPASS_CALLBACK_URL=http:\/\/localhost:4000\/justpass\/callback$/m)
      assert.match(run.stdout, /accounts\s+alice, bob/)
      assert.ok(!run.output.includes(SECRET), 'the secret is never printed')
      assert.doesNotMatch(run.output, /WARNING/)
      const discovery = (await (await fetch(`${opURL}.well-known/openid-configuration`)).json()) as Record<string, string[] | string>
      assert.equal(discovery.issuer, opURL!.slice(0, -1))
      assert.deepEqual([...(discovery.token_endpoint_auth_methods_supported as string[])].filter((m) => m.startsWith('client_secret_')).sort(), ['client_secret_basic', 'client_secret_jwt', 'client_secret_post'])
      for (const scope of ['openid', 'email', 'profile']) assert.ok((discovery.scopes_supported as string[]).includes(scope), scope)
    } finally {
      const exited = new Promise((resolve) => run.child.once('exit', resolve))
      run.child.kill('SIGTERM')
      assert.equal(await exited, 0, 'stopped cleanly')
    }
  })
})

describe('npm run provider for a site owner: no flags needed, the secret kept, a busy port said plainly', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-cli-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  /** Stop a running command and wait for it. */
  async function stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }

  test('with no flags: the README site\'s settings, a generated secret printed as a line to paste, kept for the next start', async () => {
    const database = join(dir, 'first.sqlite')
    const first = await runCommand(['--port', '0', '--database', database], {}, /Ctrl-C stops it/)
    let secret: string
    try {
      assert.equal(first.code, null, first.output)
      assert.match(first.stdout, /^export JUSTPASS_CLIENT_ID=my-site$/m)
      assert.match(first.stdout, /site\s+My site \(client id my-site\)/)
      assert.match(first.stdout, /^export JUSTPASS_CALLBACK_URL=http:\/\/localhost:4000\/justpass\/callback$/m)
      secret = /^export JUSTPASS_CLIENT_SECRET=(\S+)$/m.exec(first.stdout)?.[1] ?? ''
      assert.ok(secret.length >= 43, first.stdout)
      assert.equal(readFileSync(join(dir, 'first.client-secret'), 'utf8'), `${secret}\n`)
      assert.equal(statSync(join(dir, 'first.client-secret')).mode & 0o777, 0o600)
      assert.match(first.stdout, /generated for development and is kept in/)
      const opURL = /^export JUSTPASS_OP_URL=(\S+)$/m.exec(first.stdout)![1]!
      // The printed secret is the client's: it signs requests the provider accepts.
      const signature = await new SignJWT({ state: 's1' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(secret))
      const query = new URLSearchParams({ client_id: 'my-site', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:4000/justpass/callback', state: 's1', signature, prompt: 'login' })
      const answer = await new Browser().get(`${opURL}authorize/?${query}`)
      assert.equal(answer.status, 303, answer.body)
      assert.match(answer.location ?? '', /\/openid\/interaction\//)
    } finally {
      await stop(first.child)
    }
    const second = await runCommand(['--port', '0', '--database', database], {}, /Ctrl-C stops it/)
    try {
      assert.match(second.stdout, new RegExp(`^export JUSTPASS_CLIENT_SECRET=${secret}$`, 'm'), 'a restart keeps the secret')
      assert.match(second.stdout, /generated on an earlier start and is kept/)
    } finally {
      await stop(second.child)
    }
  })

  test('its own data file by default, not the example shop\'s', () => {
    const command = parseCommand(['--client-secret', SECRET], {})
    assert.ok(command !== 'help')
    assert.equal(command.database, resolve('.data', 'local-provider.sqlite'))
    assert.equal(generatedSecretFile(command.database), resolve('.data', 'local-provider.client-secret'))
    assert.equal(command.port, 4001)
  })

  test('--client-secret-file: the secret from the file, its final newline ignored, never printed', async () => {
    const file = join(dir, 'secret.txt')
    writeFileSync(file, `${SECRET}\n`)
    const run = await runCommand(['--port', '0', '--database', ':memory:', '--client-secret-file', file], {}, /Ctrl-C stops it/)
    try {
      assert.ok(!run.output.includes(SECRET))
      assert.match(run.stdout, /^# JUSTPASS_CLIENT_SECRET: the secret you gave the provider \(in its --client-secret-file\)$/m)
      const opURL = /^export JUSTPASS_OP_URL=(\S+)$/m.exec(run.stdout)![1]!
      const signature = await new SignJWT({ state: 's2' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET))
      const query = new URLSearchParams({ client_id: 'my-site', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:4000/justpass/callback', state: 's2', signature, prompt: 'login' })
      assert.equal((await new Browser().get(`${opURL}authorize/?${query}`)).status, 303)
    } finally {
      await stop(run.child)
    }
  })

  test('--client-name: the pages name the site by it, in plain text', async () => {
    const run = await runCommand(['--port', '0', '--database', ':memory:', '--client-secret', SECRET, '--client-name', 'Acme & Co'], {}, /Ctrl-C stops it/)
    try {
      assert.match(run.stdout, /site\s+Acme & Co \(client id my-site\)/)
      const opURL = /^export JUSTPASS_OP_URL=(\S+)$/m.exec(run.stdout)![1]!
      const browser = new Browser()
      const signature = await new SignJWT({ state: 's3', login_hint: 'alice' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET))
      const query = new URLSearchParams({ client_id: 'my-site', response_type: 'code', scope: 'openid', redirect_uri: 'http://localhost:4000/justpass/callback', state: 's3', login_hint: 'alice', signature, prompt: 'login' })
      const { hops } = await browser.follow(`${opURL}authorize/?${query}`)
      const page = hops.at(-1)!.body
      assert.match(page, /<p>Acme (?:&amp;|&#38;) Co asks you to confirm it is you for <strong>alice<\/strong>\.<\/p>/)
      assert.doesNotMatch(page, /<code>my-site<\/code>/)
    } finally {
      await stop(run.child)
    }
  })

  test('a busy port: one line naming the port and the flag or variable that changes it, exit 1', async () => {
    const holder = await startLoopbackServer()
    try {
      const port = new URL(holder.origin).port
      const run = await runCommand(['--port', port, '--database', ':memory:'])
      assert.equal(run.code, 1)
      assert.equal(run.output, `Port ${port} is already in use (is another provider, or npm start, running?). Start with --port <another port> or JUSTPASS_PROVIDER_PORT.\n`)
    } finally {
      await holder.close()
    }
  })
})

describe('the local provider for any site: client authentication, scopes, ID token claims', () => {
  const stops: Array<() => Promise<unknown>> = []
  after(async () => {
    for (const stop of stops) await stop()
  })

  for (const method of ['client_secret_basic', 'client_secret_post'] as const) {
    test(`the strategy with tokenEndpointAuthMethod ${method}: REG completes, and the token request used that method`, async () => {
      const server = await reserveTestApp()
      stops.push(() => server.close())
      const tokenRequests: Array<string | undefined> = []
      const provider: LocalProvider = await startLocalProvider({
        hostname: '127.0.0.1',
        clients: [{ clientID: 'any-site', clientSecret: SECRET, redirectURIs: [server.callbackURL] }],
        completeInteraction: async ({ params }) => ({ username: String(params.login_hint) }),
        onRequest(req, _res, next) {
          if (req.method === 'POST' && req.path === '/openid/token/') tokenRequests.push(req.headers.authorization?.split(' ')[0])
          next()
        },
      })
      stops.push(() => provider.close())
      const app = buildTestApp(server, { opURL: provider.opURL, clientID: 'any-site', clientSecret: SECRET }, { providerSettings: { tokenEndpointAuthMethod: method } })
      const browser = new Browser()
      await browser.get(`${app.origin}/test/login-as?username=alice`)
      await browser.follow(`${app.origin}/justpass/reg`)
      const me = await browser.json<{ user: { username: string; justpassEnabled: boolean } | null; notice: unknown }>(`${app.origin}/me`)
      assert.equal(me.user?.username, 'alice')
      assert.equal(me.user?.justpassEnabled, true)
      assert.deepEqual(me.notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
      assert.deepEqual(tokenRequests, [method === 'client_secret_basic' ? 'Basic' : undefined])
    })
  }

  test('email and profile scopes answered with claims; ID tokens carry auth_time (the last authentication) and at_hash', async () => {
    const site = 'http://127.0.0.1:9/cb'
    const provider = await startLocalProvider({
      hostname: '127.0.0.1',
      clients: [{ clientID: 'claims-site', clientSecret: SECRET, redirectURIs: [site] }],
      completeInteraction: async ({ params }) => ({ username: String(params.login_hint) }),
    })
    stops.push(() => provider.close())
    const signIn = async (scope: string) => {
      const state = `s-${Math.random()}`
      const signature = await new SignJWT({ state, login_hint: 'alice@example.test' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET))
      const query = new URLSearchParams({ client_id: 'claims-site', response_type: 'code', scope, redirect_uri: site, state, login_hint: 'alice@example.test', signature, prompt: 'login' })
      const before = Math.floor(Date.now() / 1000)
      const { stoppedAt } = await new Browser().follow(`${provider.opURL}authorize/?${query}`, (next) => next.href.startsWith(site))
      const code = new URL(stoppedAt!).searchParams.get('code')!
      const token = await fetch(`${provider.opURL}token/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`claims-site:${SECRET}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: site }),
      })
      assert.equal(token.status, 200)
      const tokens = (await token.json()) as { id_token: string; access_token: string }
      const userinfo = (await (await fetch(`${provider.opURL}userinfo/`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as Record<string, unknown>
      const { payload } = await jwtVerify(tokens.id_token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'], issuer: provider.issuer, audience: 'claims-site' })
      const digest = createHash('sha256').update(tokens.access_token).digest()
      assert.equal(payload.at_hash, digest.subarray(0, 16).toString('base64url'), 'at_hash is the access token\'s')
      return { before, idToken: decodeJwt(tokens.id_token), userinfo }
    }
    const full = await signIn('openid email profile')
    assert.equal(typeof full.idToken.auth_time, 'number')
    assert.ok((full.idToken.auth_time as number) >= full.before && (full.idToken.auth_time as number) <= Math.floor(Date.now() / 1000) + 1, 'auth_time is this authentication')
    assert.equal(typeof full.idToken.at_hash, 'string')
    assert.deepEqual(
      { email: full.userinfo.email, email_verified: full.userinfo.email_verified, name: full.userinfo.name, preferred_username: full.userinfo.preferred_username },
      { email: 'alice@example.test', email_verified: false, name: 'alice@example.test', preferred_username: 'alice@example.test' },
    )
    const bare = await signIn('openid')
    assert.equal(bare.userinfo.email, undefined, 'no email without the email scope')
    assert.equal(bare.userinfo.name, undefined, 'no name without the profile scope')
    assert.equal(typeof bare.idToken.auth_time, 'number')
  })
})
