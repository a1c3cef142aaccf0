/**
 * Many instances behind one URL: two shop processes with sessions in Redis, behind a
 * round-robin balancer, against the local provider. A flow started on one instance
 * finishes on the other, in every mode; it survives the death of the instance that
 * started it; and 200 concurrent logins all complete, none as another user.
 * Needs redis-server (Debian's `redis-server`).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createClient } from 'redis'
import { ShopDatabase } from '../../example/shop/db.ts'
import { Browser } from '../support/browser.ts'
import { startTestProvider, type TestProvider } from '../support/provider.ts'
import { freePort } from '../support/session-stores.ts'
import { startRoundRobin, type RoundRobin } from './round-robin.ts'

const CONCURRENT = 200
const PASSWORD = 'scale-password'


/** Wait until `check` passes, or fail after `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** The username the shop's home page shows, or undefined when it shows the login page. */
function shownUser(html: string): string | undefined {
  return /data-testid="current-user"[^>]*>[\s\S]*?<strong>([^<]+)<\/strong>/.exec(html)?.[1]
}

describe('several instances behind one URL, sessions in Redis', () => {
  let dir: string
  let redis: ChildProcess
  let redisURL: string
  let provider: TestProvider
  let balancer: RoundRobin
  const shops: ChildProcess[] = []
  let shopPorts: number[] = []
  let env: NodeJS.ProcessEnv

  async function startShop(port: number): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'example/start.ts'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] })
    await until(async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 30_000, `the shop on port ${port}`)
    return child
  }

  function stopShop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-scale-'))
    const redisPort = await freePort()
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    balancer = await startRoundRobin()
    provider = await startTestProvider({ redirectURIs: [`${balancer.origin}/justpass/callback`] })

    const db = new ShopDatabase(join(dir, 'shop.sqlite'))
    await db.createUser('newcomer', PASSWORD)
    await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => db.createUser(`user${i}`, PASSWORD)))
    for (let i = 0; i < CONCURRENT; i++) db.setJustpassEnabled(`user${i}`, true)
    db.close()

    env = {
      ...process.env,
      DATA_DIR: dir,
      SHOP_ORIGIN: balancer.origin,
      SESSION_SECRET: 'shared-session-secret-for-every-instance',
      REDIS_URL: (redisURL = `redis://127.0.0.1:${redisPort}`),
      JUSTPASS_OP_URL: provider.opURL,
      JUSTPASS_CLIENT_ID: provider.clientID,
      JUSTPASS_CLIENT_SECRET: provider.clientSecret,
    }
    shopPorts = [await freePort(), await freePort()]
    balancer.upstreams = shopPorts
    for (const port of shopPorts) shops.push(await startShop(port))
  })

  after(async () => {
    for (const shop of shops) await stopShop(shop)
    await provider?.close()
    await balancer?.close()
    redis?.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  /** Route flow starts to `start` and everything else to `finish`. */
  function split(start: number, finish: number): void {
    balancer.route = (req) => ((req.url ?? '').startsWith('/justpass/login') || (req.url ?? '').startsWith('/justpass/reg') ? start : finish)
  }

  /** Follow from `path` through the provider to the callback, then the callback; returns the final page. */
  async function throughProvider(browser: Browser, first: { status: number; location?: string }): Promise<string> {
    assert.equal(first.status, 302)
    const { stoppedAt } = await browser.follow(first.location!, (next) => next.href.startsWith(`${balancer.origin}/justpass/callback`))
    assert.ok(stoppedAt, 'the provider sent the browser back')
    const { hops } = await browser.follow(stoppedAt)
    return hops.at(-1)!.body
  }

  function servedBy(path: string): number[] {
    return balancer.served.filter((served) => served.path === path).map((served) => served.instance)
  }

  test('REG started on one instance finishes on the other', async () => {
    split(0, 1)
    const browser = new Browser()
    const login = await browser.post(`${balancer.origin}/login`, { username: 'newcomer', password: PASSWORD })
    assert.equal(login.location, `${balancer.origin}/`)
    balancer.served.length = 0
    const home = await throughProvider(browser, await browser.get(`${balancer.origin}/justpass/reg`))
    assert.equal(shownUser(home), 'newcomer')
    assert.match(home, /Passkey login is on/)
    assert.deepEqual([servedBy('/justpass/reg'), servedBy('/justpass/callback')], [[0], [1]])
  })

  test('second-factor LOGIN started on one instance finishes on the other', async () => {
    split(1, 0)
    balancer.served.length = 0
    const browser = new Browser()
    const password = await browser.post(`${balancer.origin}/login`, { username: 'user0', password: PASSWORD })
    assert.equal(password.location, `${balancer.origin}/justpass/login`)
    const home = await throughProvider(browser, await browser.get(password.location!))
    assert.equal(shownUser(home), 'user0')
    assert.deepEqual([servedBy('/justpass/login'), servedBy('/justpass/callback')], [[1], [0]])
  })

  test('single-factor LOGIN started on one instance finishes on the other, with no session carrying the flow', async () => {
    split(0, 1)
    balancer.served.length = 0
    provider.behaviour = { action: 'approve', account: 'user1' }
    const sessions = createClient({ url: redisURL })
    await sessions.connect()
    try {
      const before = await sessions.dbSize()
      const browser = new Browser()
      const started = await browser.get(`${balancer.origin}/justpass/login`)
      const cookies = started.headers.getSetCookie()
      assert.equal(cookies.length, 1, 'the start sets the flow cookie and no session cookie')
      assert.match(cookies[0]!, /^justpass\./)
      assert.equal(await sessions.dbSize(), before, 'the start stored no session in Redis')
      const home = await throughProvider(browser, started)
      assert.equal(shownUser(home), 'user1')
      assert.deepEqual([servedBy('/justpass/login'), servedBy('/justpass/callback')], [[0], [1]])
    } finally {
      provider.behaviour = { action: 'approve' }
      await sessions.quit()
    }
  })

  test('the instance that started a flow dies; the flow completes on the other', async () => {
    split(0, 0)
    balancer.served.length = 0
    const browser = new Browser()
    const password = await browser.post(`${balancer.origin}/login`, { username: 'user2', password: PASSWORD })
    const started = await browser.get(password.location!)
    assert.equal(started.status, 302)
    const { stoppedAt } = await browser.follow(started.location!, (next) => next.href.startsWith(`${balancer.origin}/justpass/callback`))
    await stopShop(shops[0]!)
    const { hops } = await browser.follow(stoppedAt!)
    assert.equal(shownUser(hops.at(-1)!.body), 'user2')
    assert.deepEqual(servedBy('/justpass/callback'), [1], 'the surviving instance finished the flow')
    shops[0] = await startShop(shopPorts[0]!)
  })

  test(`${CONCURRENT} concurrent second-factor logins across both instances: all complete, none as another user`, async () => {
    balancer.route = undefined
    balancer.served.length = 0
    const results = await Promise.all(
      Array.from({ length: CONCURRENT }, async (_, i) => {
        const browser = new Browser({ timeout: 60_000 })
        const username = `user${i}`
        const password = await browser.post(`${balancer.origin}/login`, { username, password: PASSWORD })
        const home = await throughProvider(browser, await browser.get(password.location!))
        return { username, shown: shownUser(home) }
      }),
    )
    const wrong = results.filter((result) => result.shown !== result.username)
    assert.deepEqual(wrong, [], 'every login shows its own user')
    const instances = new Set(servedBy('/justpass/callback'))
    assert.deepEqual([...instances].sort(), [0, 1], 'both instances finished flows')
  })
})
