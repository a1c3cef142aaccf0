/**
 * The example shop (`npm start`, example/start.ts) with its sessions in Redis survives
 * Redis going away: it keeps answering (its error page, at once, while Redis is down),
 * and once redis-server is back it serves logins again, without a restart. Needs
 * Debian's redis-server.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Browser } from './support/browser.ts'
import { freePort } from './support/session-stores.ts'

/** Start redis-server on `port`, without persistence; resolves once it accepts connections. */
async function startRedis(port: number): Promise<ChildProcess> {
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] })
  await new Promise<void>((resolve, reject) => {
    let output = ''
    server.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) resolve()
    })
    server.once('error', (err) => reject(new Error(`redis-server could not be started (install Debian's redis-server): ${err.message}`)))
    server.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`)))
  })
  return server
}

/** Stop `child` and wait for it to exit. */
async function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  await exited
}

/** Ask until `check` holds, for at most `ms`. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${what} did not happen within ${ms} ms`)
}

describe('the example shop when Redis goes away and comes back', () => {
  let redis: ChildProcess | undefined
  let shop: ChildProcess
  let redisPort: number
  let origin: string
  let output = ''
  const dir = mkdtempSync(join(tmpdir(), 'shop-redis-'))

  before(async () => {
    redisPort = await freePort()
    redis = await startRedis(redisPort)
    const [shopPort, providerPort] = [await freePort(), await freePort()]
    origin = `http://localhost:${shopPort}` // the shop answers on its own origin only
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(shopPort), PROVIDER_PORT: String(providerPort), DATA_DIR: dir, REDIS_URL: `redis://127.0.0.1:${redisPort}`, SESSION_SECRET: 'redis-test-session-secret' }
    for (const name of ['JUSTPASS_OP_URL', 'JUSTPASS_CLIENT_ID', 'JUSTPASS_CLIENT_SECRET', 'SHOP_ORIGIN']) delete env[name]
    shop = spawn(process.execPath, ['--import', 'tsx', 'example/start.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    shop.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    await new Promise<void>((resolve, reject) => {
      shop.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ctrl-C stops both.')) resolve()
      })
      shop.once('exit', () => reject(new Error(`the shop stopped: ${output}`)))
    })
  })
  after(async () => {
    await stop(shop)
    await stop(redis, 'SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  /** The demo user's password step in a new browser; the status of the home page afterwards. */
  async function logIn(): Promise<number> {
    const browser = new Browser()
    const step = await browser.post(`${origin}/login`, { username: 'demo', password: 'demo-password' })
    if (step.status !== 302 && step.status !== 303) return step.status
    return (await browser.get(`${origin}/`)).status
  }

  test('keeps answering while Redis is down, and serves logins again once it is back', async () => {
    assert.equal(await logIn(), 200, 'logged in, the session in Redis')

    await stop(redis, 'SIGKILL')
    const started = Date.now()
    const down = await new Browser().post(`${origin}/login`, { username: 'demo', password: 'demo-password' })
    assert.ok(Date.now() - started < 5_000, 'a request fails at once, not after a queue')
    assert.equal(down.status, 500)
    assert.match(down.body, /Something went wrong/)
    assert.equal(shop.exitCode, null, 'the shop is still running')

    redis = await startRedis(redisPort)
    await eventually('a login after Redis came back', async () => (await logIn()) === 200)
    assert.equal(shop.exitCode, null)
    assert.match(output, /shop: Redis: /, 'the Redis errors were logged')
  })
})
