/**
 * `npm run screenshots`: takes the documentation's pictures again from the current shop
 * and local provider, in headless Chromium (Debian's, /usr/bin/chromium) with a virtual
 * authenticator, both servers in this process on free ports with their data in memory:
 *
 * - docs/images/provider-create-passkey.png: the provider asking to create a passkey;
 * - docs/images/shop-home.png: the shop's home page after passkey login was enabled.
 *
 * `--out DIR` writes them elsewhere (the tests do).
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { startLocalProvider } from '../provider/index.ts'
import { createShop } from '../example/shop/app.ts'
import { startLoopbackServer } from '../test/support/server.ts'

/** The pictures, by file name, as the docs show them. */
export const PICTURES = ['provider-create-passkey.png', 'shop-home.png'] as const

/** Take the pictures into `out`; resolves with their paths. */
export async function takeScreenshots(out: string): Promise<string[]> {
  mkdirSync(out, { recursive: true })
  const server = await startLoopbackServer()
  const origin = server.origin.replace('127.0.0.1', 'localhost')
  const client = { clientID: 'example-shop', clientSecret: 'screenshots-secret-0123456789abcdef0123' }
  const provider = await startLocalProvider({ clients: [{ ...client, clientName: 'Example shop', redirectURIs: [`${origin}/justpass/callback`] }] })
  const shop = createShop({ ...client, opURL: provider.opURL, origin, database: ':memory:', sessionSecret: 'screenshots' })
  await shop.db.createUser('demo', 'demo-password')
  server.handle(shop.app)
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } })
    const cdp = await page.context().newCDPSession(page)
    await cdp.send('WebAuthn.enable')
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    })
    await page.goto(`${origin}/login`)
    await page.fill('input[name=username]', 'demo')
    await page.fill('input[name=password]', 'demo-password')
    await page.click('button[type=submit]')
    await page.waitForURL(`${origin}/`)
    await page.click('#enable-passkey')
    await page.waitForURL((url) => url.href.startsWith(`${provider.opURL}interaction/`))
    const shots = [join(out, PICTURES[0]), join(out, PICTURES[1])]
    await page.screenshot({ path: shots[0] })
    await page.click('#passkey')
    await page.waitForURL(`${origin}/`)
    await page.screenshot({ path: shots[1], fullPage: true })
    return shots
  } finally {
    await browser.close()
    await server.close()
    shop.close()
    await provider.close()
  }
}

if (process.argv[1]?.endsWith('screenshots.ts')) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } })
  const out = resolve(values.out ?? join(import.meta.dirname, '..', 'docs', 'images'))
  takeScreenshots(out).then(
    (shots) => console.log(`Took ${shots.length} pictures:\n${shots.map((shot) => `  ${shot}`).join('\n')}`),
    (err: unknown) => {
      console.error(`The pictures could not be taken: ${err instanceof Error ? err.message : String(err)}`)
      process.exit(1)
    },
  )
}
