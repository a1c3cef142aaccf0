/**
 * A site owner's first hour, exactly as the README and docs/local-provider.md tell it:
 * `npm run provider` with no flags, its four printed `export` lines given to the README's
 * minimal site (the code block of the README, run as its own process from a directory of
 * its own), then in Chromium with a virtual authenticator: /dev-login, REG, and LOGIN
 * with that passkey in a browser without cookies. No page on the way is an error page.
 * Uses the documented ports, 4000 and 4001; only the provider's data file is a temporary
 * one (JUSTPASS_PROVIDER_DATABASE), so that a checkout's own data is not touched.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchWithPasskeys } from '../support/chromium.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')
const SITE = 'http://localhost:4000'

/** The README's minimal site, as its code block shows it. */
function readmeSite(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const marker = '<!-- example: example/readme/minimal.ts#site -->\n```ts\n'
  const start = readme.indexOf(marker)
  assert.ok(start >= 0, 'the README shows the minimal site')
  return readme.slice(start + marker.length, readme.indexOf('```', start + marker.length))
}

/** Start `args` with `env` in `cwd`; resolves with the process and its output so far once `ready` matches it. */
function startUntil(args: string[], cwd: string, env: Record<string, string>, ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('JUSTPASS_')))
  const child = spawn(process.execPath, args, { cwd, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 30 s: ${output}`)), 30_000)
    const read = (chunk: Buffer) => {
      output += chunk
      if (ready.test(output)) {
        clearTimeout(timer)
        resolvePromise({ child, output: () => output })
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code}: ${output}`))
    })
  })
}

/** Stop a process and wait for it. */
async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return
  const exited = new Promise((resolvePromise) => child.once('exit', resolvePromise))
  child.kill('SIGTERM')
  await exited
}

describe("a site owner's first hour: npm run provider, the README's minimal site, a passkey", () => {
  let dir: string
  let provider: ChildProcess | undefined
  let site: ChildProcess | undefined
  let browser: Browser
  let page: Page
  const errorPages: string[] = []

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-first-hour-'))
    // The site's own directory: minimal.ts from the README, with the packages the README installs.
    const mySite = join(dir, 'my-site')
    mkdirSync(join(mySite, 'node_modules'), { recursive: true })
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (!name.startsWith('.')) symlinkSync(join(ROOT, 'node_modules', name), join(mySite, 'node_modules', name))
    }
    symlinkSync(ROOT, join(mySite, 'node_modules', 'passport-justpass'))
    writeFileSync(join(mySite, 'package.json'), JSON.stringify({ name: 'my-site', private: true, type: 'module' }))
    writeFileSync(join(mySite, 'minimal.ts'), readmeSite())

    // `npm run provider`, no flags.
    const started = await startUntil(['--import', 'tsx', 'provider/cli.ts'], ROOT, { JUSTPASS_PROVIDER_DATABASE: join(dir, 'local-provider.sqlite') }, /Ctrl-C stops it/)
    provider = started.child
    const settings = Object.fromEntries([...started.output().matchAll(/^export (JUSTPASS_\w+)=(\S+)$/gm)].map((match) => [match[1]!, match[2]!]))
    assert.deepEqual(Object.keys(settings).sort(), ['JUSTPASS_CALLBACK_URL', 'JUSTPASS_CLIENT_ID', 'JUSTPASS_CLIENT_SECRET', 'JUSTPASS_OP_URL'], started.output())

    // The four lines, a session secret, and `npx tsx minimal.ts`.
    const ran = await startUntil(['--import', 'tsx', 'minimal.ts'], mySite, { ...settings, SESSION_SECRET: 'first-hour-session-secret-0123456789' }, /Open \S+\/dev-login/)
    site = ran.child
    assert.match(ran.output(), new RegExp(`^Open ${SITE}/dev-login, then ${SITE}/justpass/reg to add a passkey\\.$`, 'm'))

    ;({ browser, page } = await launchWithPasskeys())
    page.on('response', (response) => {
      if (response.request().isNavigationRequest() && response.status() >= 400) errorPages.push(`${response.status()} ${response.url()}`)
    })
  })

  after(async () => {
    await browser?.close()
    await stop(site)
    await stop(provider)
    rmSync(dir, { recursive: true, force: true })
  })

  /** The minimal site's page: who is signed in, and the notice. */
  async function sitePage(): Promise<{ user: { username: string; justpassEnabled: boolean } | null; notice: { mode: string; ok: boolean; message: string } | null }> {
    return JSON.parse((await page.textContent('body')) ?? 'null')
  }

  test('/dev-login, then REG: the provider makes a passkey, the site turns passkey login on', async () => {
    await page.goto(`${SITE}/dev-login`)
    assert.deepEqual((await sitePage()).user, { username: 'alice', justpassEnabled: false })
    await page.goto(`${SITE}/justpass/reg`)
    await page.waitForURL((url) => url.href.startsWith('http://localhost:4001/openid/interaction/'))
    assert.match((await page.textContent('main')) ?? '', /My site asks to add a passkey for alice\./)
    await page.click('#passkey')
    await page.waitForURL(`${SITE}/`)
    const home = await sitePage()
    assert.equal(home.user?.username, 'alice')
    assert.equal(home.user?.justpassEnabled, true)
    assert.deepEqual(home.notice, { mode: 'register', ok: true, message: 'Passkey login is on: next time, sign in with your passkey.' })
  })

  test('LOGIN in a browser without cookies: the passkey alone signs alice in', async () => {
    await page.context().clearCookies()
    await page.goto(`${SITE}/`)
    assert.equal((await sitePage()).user, null)
    await page.goto(`${SITE}/justpass/login`)
    await page.waitForURL((url) => url.href.startsWith('http://localhost:4001/openid/interaction/'))
    await page.click('#passkey')
    await page.waitForURL(`${SITE}/`)
    const home = await sitePage()
    assert.equal(home.user?.username, 'alice')
    assert.deepEqual(home.notice, { mode: 'login', ok: true, message: 'You are signed in with your passkey.' })
  })

  test('no page on the way was an error page', () => {
    assert.deepEqual(errorPages, [])
  })
})
