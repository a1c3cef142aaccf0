/**
 * Every user journey of the example shop, end to end, in headless Chromium with a
 * WebAuthn virtual authenticator, against the local provider: real passkeys, real
 * pages, real redirects, turning passkey login off again, managing passkeys at the
 * provider (list, add, remove), and `npm run reset`. Needs Chromium at /usr/bin/chromium (Debian's `chromium`).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core'
import { startLocalProvider, type LocalProvider } from '../../provider/index.ts'
import { createShop } from '../../example/shop/app.ts'
import { startLoopbackServer, type LoopbackServer } from '../support/server.ts'

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const CLIENT = { clientID: 'example-shop', clientSecret: 'example-shop-secret-0123456789abcdef' }
const SHOTS = join(process.cwd(), '.test-results', 'e2e-screenshots')

describe('the example shop in a real browser, with real passkeys', () => {
  let dir: string
  let provider: LocalProvider
  let providerPort: number
  let shopServer: LoopbackServer
  let shop: ReturnType<typeof createShop>
  let shopOrigin: string
  let browser: Browser
  let page: Page
  let cdp: CDPSession
  let authenticatorId: string

  const startProvider = async (port = 0) =>
    startLocalProvider({ port, database: join(dir, 'provider.sqlite'), clients: [{ ...CLIENT, redirectURIs: [`${shopOrigin}/justpass/callback`] }] })

  const startShop = () =>
    createShop({ ...CLIENT, opURL: provider.opURL, origin: shopOrigin, database: join(dir, 'shop.sqlite'), sessionSecret: 'e2e-session-secret' })

  const flag = (username: string) => shop.db.findByUsername(username)?.justpassEnabled

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
  }

  async function passwordLogin(username: string, password: string): Promise<void> {
    await page.goto(`${shopOrigin}/login`)
    await page.fill('input[name=username]', username)
    await page.fill('input[name=password]', password)
    await page.click('button[type=submit]')
  }

  async function logOut(): Promise<void> {
    await page.click('#logout button')
    await page.waitForURL(`${shopOrigin}/login`)
  }

  async function atProvider(): Promise<void> {
    await page.waitForURL((url) => url.href.startsWith(`${provider.opURL}interaction/`))
  }

  async function currentUser(): Promise<string> {
    await page.waitForURL(`${shopOrigin}/`)
    return (await page.textContent('[data-testid=current-user] strong'))?.trim() ?? ''
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-e2e-'))
    mkdirSync(SHOTS, { recursive: true })
    shopServer = await startLoopbackServer()
    shopOrigin = shopServer.origin.replace('127.0.0.1', 'localhost')
    provider = await startProvider()
    providerPort = Number(new URL(provider.opURL).port)
    shop = startShop()
    await shop.db.createUser('demo', 'demo-password')
    await shop.db.createUser('bob', 'bob-password')
    shopServer.handle(shop.app)
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS })
    page = await browser.newPage()
    cdp = await page.context().newCDPSession(page)
    await cdp.send('WebAuthn.enable')
    ;({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    }))
    console.log(`screenshots: ${SHOTS}`)
  })

  after(async () => {
    await browser?.close()
    await shopServer?.close()
    shop?.close()
    await provider?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('password login, then enable passkey login: the row has justpass_enabled = 1', async () => {
    await passwordLogin('demo', 'demo-password')
    assert.equal(await currentUser(), 'demo')
    assert.equal(flag('demo'), false)
    await page.click('#enable-passkey')
    await atProvider()
    await shot('1-provider-create-passkey')
    await page.click('#passkey')
    assert.equal(await currentUser(), 'demo')
    assert.match((await page.textContent('[data-testid=notice]')) ?? '', /enabled/)
    assert.equal(flag('demo'), true)
    const sub = shop.db.justpassSubOf(shop.db.findByUsername('demo')!.id)
    assert.ok(sub, 'the provider\'s sub is recorded')
    assert.equal(sub, provider.passkeys.accountByUsername('demo')?.handle)
    assert.equal(provider.passkeys.passkeysOf('demo').length, 1)
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
    assert.equal(credentials.length, 1, 'the passkey lives in the authenticator')
    await shot('1-home-passkey-enabled')
  })

  test('log out, password login, passkey as second factor: home shows the user', async () => {
    await logOut()
    await passwordLogin('demo', 'demo-password')
    await atProvider()
    assert.match((await page.textContent('main')) ?? '', /demo/)
    await shot('2-provider-second-factor')
    await page.click('#passkey')
    assert.equal(await currentUser(), 'demo')
    await shot('2-home-after-second-factor')
  })

  test('log out, "Log in with a passkey" alone: home shows the user', async () => {
    await logOut()
    await page.click('#passkey-login')
    await atProvider()
    await page.click('#passkey')
    assert.equal(await currentUser(), 'demo')
    await shot('3-home-after-passkey-only')
  })

  test('cancel at the provider in REG: the REG failure message, the row unchanged', async () => {
    await logOut()
    await passwordLogin('bob', 'bob-password')
    assert.equal(await currentUser(), 'bob')
    await page.click('#enable-passkey')
    await atProvider()
    await page.click('#cancel')
    assert.equal(await currentUser(), 'bob')
    assert.match((await page.textContent('[data-testid=notice]')) ?? '', /registration was cancelled/i)
    assert.equal(flag('bob'), false)
    await shot('4-home-registration-cancelled')
  })

  test('cancel at the provider in LOGIN: the LOGIN failure message, nobody logged in', async () => {
    await logOut()
    await passwordLogin('demo', 'demo-password')
    await atProvider()
    await page.click('#cancel')
    await page.waitForURL(`${shopOrigin}/login`)
    assert.match((await page.textContent('[data-testid=error]')) ?? '', /sign-in was cancelled/i)
    await shot('5-login-cancelled')
    await page.goto(`${shopOrigin}/`)
    await page.waitForURL(`${shopOrigin}/login`)
    assert.equal(flag('demo'), true)
  })

  // The provider refuses here, before the shop is called back; the strategy's own refusal
  // of another user's identity (identity_mismatch) is covered by test/refusals.test.ts and
  // test/hostile.test.ts, against providers that let it through.
  test('the provider refuses a passkey of another account for demo\'s second factor: the shop is never called back with it', async () => {
    // bob registers a passkey on the same authenticator.
    await passwordLogin('bob', 'bob-password')
    await page.click('#enable-passkey')
    await atProvider()
    await page.click('#passkey')
    assert.equal(await currentUser(), 'bob')
    assert.equal(flag('bob'), true)
    await logOut()
    // demo's password step; the page is made to ask for bob's passkey instead of demo's.
    const bobsPasskey = provider.passkeys.passkeysOf('bob')[0]!.id
    const callbacks: string[] = []
    const onRequest = (request: { url(): string }) => {
      if (request.url().startsWith(`${shopOrigin}/justpass/callback`)) callbacks.push(request.url())
    }
    await page.route('**/openid/interaction/*/options', async (route) => {
      const response = await route.fetch()
      const options = await response.json()
      options.allowCredentials = [{ id: bobsPasskey, type: 'public-key', transports: ['internal'] }]
      await route.fulfill({ response, json: options })
    })
    try {
      await passwordLogin('demo', 'demo-password')
      await atProvider()
      page.on('request', onRequest)
      await page.click('#passkey')
      await page.waitForSelector('#status.error')
      assert.match((await page.textContent('#status')) ?? '', /belongs to another account/)
      await shot('6-provider-refuses-other-users-passkey')
    } finally {
      await page.unroute('**/openid/interaction/*/options')
    }
    assert.deepEqual(callbacks, [], 'the provider refused: the shop was not called back')
    await page.click('#cancel')
    await page.waitForURL(`${shopOrigin}/login`)
    page.off('request', onRequest)
    assert.equal(callbacks.length, 1, 'the cancel is the only callback')
    assert.equal(new URL(callbacks[0]!).searchParams.get('error'), 'access_denied')
    assert.equal(new URL(callbacks[0]!).searchParams.get('code'), null, 'no code for the other account\'s passkey')
    await page.goto(`${shopOrigin}/`)
    await page.waitForURL(`${shopOrigin}/login`)
  })

  test('after a restart of the provider, the passkey still works', async () => {
    await provider.close()
    provider = await startProvider(providerPort)
    assert.equal(provider.passkeys.passkeysOf('demo').length, 1, 'the passkeys were kept in the SQLite file')
    await passwordLogin('demo', 'demo-password')
    await atProvider()
    await page.click('#passkey')
    assert.equal(await currentUser(), 'demo')
    await shot('7-home-after-provider-restart')
  })

  test('turn passkey login off: a wrong password changes nothing; with the password, the password alone logs in', async () => {
    await page.fill('#confirm-password', 'wrong-password')
    await page.click('#turn-off-passkey button')
    await page.waitForURL(`${shopOrigin}/passkey/off`)
    assert.match((await page.textContent('[data-testid=notice]')) ?? '', /password is not right/)
    assert.equal(flag('demo'), true)
    await page.fill('#confirm-password', 'demo-password')
    await page.click('#turn-off-passkey button')
    assert.equal(await currentUser(), 'demo')
    assert.match((await page.textContent('[data-testid=notice]')) ?? '', /Passkey login is now off/)
    assert.equal(flag('demo'), false)
    await shot('8-home-passkey-login-off')
    await logOut()
    await passwordLogin('demo', 'demo-password')
    assert.equal(await currentUser(), 'demo', 'no passkey step')
  })

  test('Back after a cancel, then Cancel again: the provider\'s own page in plain words, and a link back to the shop', async () => {
    await logOut()
    await passwordLogin('bob', 'bob-password')
    await atProvider()
    await page.click('#cancel')
    await page.waitForURL(`${shopOrigin}/login`)
    await page.goBack()
    await atProvider()
    // Shown again from the back/forward cache, the page offers Cancel; loaded again, it is already the notice.
    if (await page.isVisible('#cancel')) await page.click('#cancel')
    await page.waitForSelector('h1:has-text("This sign-in is over")')
    const text = (await page.textContent('main')) ?? ''
    assert.doesNotMatch(text, /SessionNotFound|Error|at #|node_modules/)
    assert.match(text, /Go back to the site and start again/)
    await shot('9-provider-sign-in-over')
    await page.click('#back')
    await page.waitForURL(`${shopOrigin}/login`)
  })

  test('"Use passkey" on a page whose sign-in already finished: plain words and the way back, buttons off', async () => {
    await passwordLogin('bob', 'bob-password')
    await atProvider()
    // The sign-in finishes elsewhere (another tab cancels it) while this page stays open.
    const here = new URL(page.url())
    await page.evaluate(async (cancel) => void (await fetch(cancel, { method: 'POST', redirect: 'manual' })), `${here.pathname}/cancel${here.search}`)
    await page.click('#passkey')
    await page.waitForSelector('#status.error')
    const status = (await page.textContent('#status-text')) ?? ''
    assert.match(status, /already used, has expired/)
    assert.doesNotMatch(status, /Unexpected token|JSON|DOCTYPE/)
    assert.ok(await page.isVisible('#back'), 'the link back to the shop')
    assert.equal(await page.getAttribute('#back', 'href'), `${shopOrigin}/`)
    assert.ok(await page.isDisabled('#passkey'))
    assert.ok(await page.isDisabled('#cancel'))
    await shot('10-provider-stale-page')
    await page.click('#back')
    await page.waitForURL(`${shopOrigin}/login`)
  })

  test('Cancel clicked twice: one cancel reaches the shop, with its message', async () => {
    await passwordLogin('bob', 'bob-password')
    await atProvider()
    await page.dblclick('#cancel')
    await page.waitForURL(`${shopOrigin}/login`)
    assert.match((await page.textContent('[data-testid=error]')) ?? '', /sign-in was cancelled/i)
  })

  /** The card's height and the Cancel button's place: an outcome shown must move neither. */
  async function layoutBox(): Promise<{ height: number; cancelY: number }> {
    const main = await page.locator('main').boundingBox()
    const cancel = await page.locator('#cancel').boundingBox()
    return { height: main!.height, cancelY: cancel!.y }
  }

  test('a passkey already on this device when creating one: said plainly, and signing in with it instead enables passkey login', async () => {
    await passwordLogin('demo', 'demo-password')
    assert.equal(await currentUser(), 'demo')
    assert.equal(flag('demo'), false, 'passkey login was turned off, the passkey kept')
    await page.click('#enable-passkey')
    await atProvider()
    const before = await layoutBox()
    await page.click('#passkey')
    await page.waitForSelector('#status.error')
    assert.match((await page.textContent('#status-text')) ?? '', /already has a passkey for this account here/)
    assert.ok(await page.isVisible('#use-existing'))
    assert.deepEqual(await layoutBox(), before, 'the layout does not jump')
    await shot('11-provider-already-registered')
    await page.click('#use-existing')
    assert.equal(await currentUser(), 'demo')
    assert.equal(flag('demo'), true)
    assert.equal(provider.passkeys.passkeysOf('demo').length, 1, 'no second passkey')
  })

  test('no answer from the device in time: "timed out", in plain words', async () => {
    await logOut()
    await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false })
    await page.route('**/openid/interaction/*/options', async (route) => {
      const response = await route.fetch()
      await route.fulfill({ response, json: { ...(await response.json()), timeout: 2000 } })
    })
    try {
      await passwordLogin('demo', 'demo-password')
      await atProvider()
      await page.click('#passkey')
      await page.waitForSelector('#status.error', { timeout: 90_000 })
      assert.match((await page.textContent('#status-text')) ?? '', /timed out/)
      await shot('12-provider-timed-out')
    } finally {
      await page.unroute('**/openid/interaction/*/options')
      await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true })
    }
    await page.click('#cancel')
    await page.waitForURL(`${shopOrigin}/login`)
  })

  /** A passkey as the virtual authenticator keeps it (private key included). */
  type Credential = Awaited<ReturnType<typeof getCredentials>>[number]
  const getCredentials = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials

  /** The authenticator holds exactly these passkeys, as a device holding only them would. */
  async function holdOnly(...credentials: Credential[]): Promise<void> {
    await cdp.send('WebAuthn.clearCredentials', { authenticatorId })
    for (const credential of credentials) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential })
  }

  /** The authenticator's passkey of `username` at the provider. */
  async function credentialOf(username: string): Promise<Credential> {
    const handle = provider.passkeys.accountByUsername(username)!.handle
    const found = (await getCredentials()).find((credential) => Buffer.from(credential.userHandle ?? '', 'base64').toString() === handle)
    assert.ok(found, `the authenticator has ${username}'s passkey`)
    return found
  }

  const managePath = `/openid/passkeys?client=${CLIENT.clientID}`
  let demoFirst: Credential
  let demoSecond: Credential

  test('manage passkeys at the provider: "Manage your passkeys" from the passkey step, a fresh passkey sign-in, then the list', async () => {
    demoFirst = await credentialOf('demo')
    await holdOnly(demoFirst)
    await passwordLogin('demo', 'demo-password')
    await atProvider()
    await page.click('#manage')
    await page.waitForURL(`${provider.issuer.replace(/\/openid$/, '')}${managePath}`)
    assert.match((await page.textContent('h1')) ?? '', /Manage your passkeys/)
    assert.equal(await page.$('#passkeys'), null, 'nothing listed before the passkey sign-in')
    await shot('14-provider-manage-sign-in')
    await page.click('#signin')
    await page.waitForSelector('#passkeys')
    const text = (await page.textContent('main')) ?? ''
    assert.match(text, /Signed in as demo/)
    assert.equal(await page.locator('#passkeys li').count(), 1)
    assert.match((await page.textContent('#passkeys li')) ?? '', /Passkey 1Created .+Last used /)
    assert.equal(await page.getAttribute('#back', 'href'), `${shopOrigin}/`, 'the way back to the shop')
    assert.ok(provider.passkeys.passkeysOf('demo')[0]!.lastUsedAt, 'the sign-in recorded its last use')
    await shot('14-provider-manage-list')
  })

  test('manage passkeys: add a second passkey (another device)', async () => {
    await holdOnly()
    await page.click('#add')
    await page.waitForSelector('#notice')
    assert.match((await page.textContent('#notice')) ?? '', /The passkey was added/)
    assert.equal(await page.locator('#passkeys li').count(), 2)
    assert.match((await page.textContent('#passkeys li:nth-child(2)')) ?? '', /Passkey 2Created .+Never used to sign in/)
    assert.equal(provider.passkeys.passkeysOf('demo').length, 2)
    demoSecond = await credentialOf('demo')
    assert.notEqual(demoSecond.credentialId, demoFirst.credentialId)
    await shot('15-provider-manage-added')
  })

  test('manage passkeys: remove one; it can no longer sign in, the other still can', async () => {
    await page.click('#passkeys li:has-text("Passkey 1") button.remove')
    await page.waitForSelector('#notice')
    assert.match((await page.textContent('#notice')) ?? '', /The passkey was removed/)
    assert.equal(await page.locator('#passkeys li').count(), 1)
    assert.match((await page.textContent('#passkeys li')) ?? '', /Passkey 2/)
    assert.equal(provider.passkeys.passkeysOf('demo').length, 1)
    await shot('16-provider-manage-removed')

    // The removed passkey, alone on the device: refused at the provider. The page is made to
    // accept any passkey of the site, so that the provider itself has to refuse it.
    await holdOnly(demoFirst)
    await page.route('**/openid/interaction/*/options', async (route) => {
      const response = await route.fetch()
      await route.fulfill({ response, json: { ...(await response.json()), allowCredentials: [] } })
    })
    try {
      await page.goto(`${shopOrigin}/login`)
      await page.click('#passkey-login')
      await atProvider()
      await page.click('#passkey')
      await page.waitForSelector('#status.error')
      assert.match((await page.textContent('#status-text')) ?? '', /not known here/)
    } finally {
      await page.unroute('**/openid/interaction/*/options')
    }
    await page.click('#cancel')
    await page.waitForURL(`${shopOrigin}/login`)

    // The other one still signs in, and its use is recorded.
    await holdOnly(demoSecond)
    await page.click('#passkey-login')
    await atProvider()
    await page.click('#passkey')
    assert.equal(await currentUser(), 'demo')
    assert.ok(provider.passkeys.passkeysOf('demo')[0]!.lastUsedAt, 'last used recorded')
    await logOut()
  })

  test('no passkey on this device: what to do, in plain words, without the browser\'s text, and no layout jump', async () => {
    await cdp.send('WebAuthn.clearCredentials', { authenticatorId })
    await passwordLogin('demo', 'demo-password')
    await atProvider()
    const before = await layoutBox()
    await page.click('#passkey')
    await page.waitForSelector('#status.error')
    const text = (await page.textContent('#status-text')) ?? ''
    assert.match(text, /No passkey was used/)
    assert.match(text, /this device has no passkey for this site, use the device \(or phone\) where you created it, or sign in with your password/)
    assert.doesNotMatch(text, /NotAllowedError|timed out or was not allowed|privacy-considerations/)
    assert.deepEqual(await layoutBox(), before, 'the layout does not jump')
    assert.ok(await page.isEnabled('#passkey'), 'trying again stays possible')
    await shot('13-provider-no-passkey-on-device')
    await page.click('#cancel')
    await page.waitForURL(`${shopOrigin}/login`)
  })

  test('npm run reset: the provider\'s and the shop\'s data are gone; the demo user has no passkey and the password alone logs in', async () => {
    await provider.close()
    shop.close()
    const child = spawn(process.execPath, ['--import', 'tsx', join('example', 'reset.ts')], { env: { ...process.env, DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    assert.equal(code, 0, output)
    assert.match(output, /provider\.sqlite/)
    assert.match(output, /shop\.sqlite/)
    assert.ok(!existsSync(join(dir, 'provider.sqlite')) && !existsSync(join(dir, 'shop.sqlite')), 'the files are gone')

    // Started again as npm start does: the demo user, created afresh.
    provider = await startProvider(providerPort)
    shop = startShop()
    await shop.db.createUser('demo', 'demo-password')
    shopServer.handle(shop.app)
    assert.equal(provider.passkeys.accountByUsername('demo'), undefined, 'no passkey for demo')
    assert.equal(flag('demo'), false)
    await passwordLogin('demo', 'demo-password')
    assert.equal(await currentUser(), 'demo', 'no passkey step')
  })
})
