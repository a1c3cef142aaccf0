/**
 * Two fixes at the local provider, in headless Chromium with WebAuthn virtual
 * authenticators, against a test site (Express, passport-justpass) and the provider's real
 * passkey pages: a REG link a logged-in user's browser opened, replayed at once from a
 * fresh browser, creates no passkey and logs that browser in nowhere; and a passkey
 * management session ends when another session of the account removes the passkey it was
 * opened with, while the page's Sign out ends its own. Needs Chromium at /usr/bin/chromium.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core'
import { startLocalProvider, type LocalProvider } from '../../provider/index.ts'
import { buildTestApp, reserveTestApp, type TestApp } from '../support/app.ts'

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const CLIENT = { clientID: 'security-site', clientSecret: 'security-site-secret-0123456789abcdef0123' }

/** A browser of its own (cookies, storage) with a device holding passkeys. */
interface Device {
  context: BrowserContext
  page: Page
  cdp: CDPSession
  authenticatorId: string
}

describe('the local provider in a real browser: one-use sign-in links, management sessions that end', () => {
  let provider: LocalProvider
  let site: TestApp
  let browser: Browser
  let owner: Device
  const devices: Device[] = []

  async function newDevice(): Promise<Device> {
    const context = await browser.newContext()
    const page = await context.newPage()
    const cdp = await context.newCDPSession(page)
    await cdp.send('WebAuthn.enable')
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    })
    const device = { context, page, cdp, authenticatorId }
    devices.push(device)
    return device
  }

  const credentials = async (device: Device) => (await device.cdp.send('WebAuthn.getCredentials', { authenticatorId: device.authenticatorId })).credentials
  /** The device holds exactly these passkeys. */
  async function holdOnly(device: Device, ...held: Awaited<ReturnType<typeof credentials>>): Promise<void> {
    await device.cdp.send('WebAuthn.clearCredentials', { authenticatorId: device.authenticatorId })
    for (const credential of held) await device.cdp.send('WebAuthn.addCredential', { authenticatorId: device.authenticatorId, credential })
  }
  const passkeyCount = () => provider.passkeys.passkeysOf('alice').length
  /** Who the site says this browser is. */
  const siteUser = async (device: Device) => ((await (await device.context.request.get(`${site.origin}/me`)).json()) as { user: { username: string } | null }).user
  const atProvider = (device: Device, path: string) => device.page.waitForURL((url) => url.href.startsWith(`${provider.opURL}${path}`))
  const managePath = () => `${provider.opURL}passkeys?client=${CLIENT.clientID}`

  before(async () => {
    const server = await reserveTestApp()
    provider = await startLocalProvider({ clients: [{ ...CLIENT, redirectURIs: [server.callbackURL] }] })
    site = buildTestApp(server, { opURL: provider.opURL, ...CLIENT })
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS })
    owner = await newDevice()
  })

  after(async () => {
    for (const device of devices) await device.context.close().catch(() => {})
    await browser?.close()
    await site?.close()
    await provider?.close()
  })

  test('a logged-in user\'s REG link, replayed at once from a fresh browser: the provider\'s page, no passkey, nobody logged in; the owner\'s sign-in goes on', async () => {
    // alice, logged in at the site, turns passkey login on: the site sends her browser to the provider.
    await owner.page.goto(`${site.origin}/test/login-as?username=alice`)
    const sent: string[] = []
    owner.page.on('request', (request) => {
      if (request.url().startsWith(`${provider.opURL}authorize/?`)) sent.push(request.url())
    })
    await owner.page.goto(`${site.origin}/justpass/reg`)
    await atProvider(owner, 'interaction/')
    assert.equal(sent.length, 1, 'the REG link, as the site sent it')
    const link = sent[0]!
    assert.equal(new URL(link).searchParams.get('login_hint'), 'alice')

    // At once, another browser opens the same link, with a device ready to make a passkey.
    const thief = await newDevice()
    const answer = await thief.page.goto(link)
    if (await thief.page.isVisible('#passkey')) {
      // Were the passkey step offered, the thief would take it: make the passkey, follow on.
      await thief.page.click('#passkey')
      await thief.page.waitForURL((url) => !url.href.startsWith(`${provider.opURL}interaction/`))
    }
    assert.equal(answer?.status(), 400)
    assert.equal(await thief.page.textContent('h1'), 'This sign-in link was already used or has expired')
    assert.match((await thief.page.textContent('main')) ?? '', /Go back to the site and start again from there/)
    assert.equal(passkeyCount(), 0, 'no passkey for alice')
    assert.deepEqual(await credentials(thief), [], 'the thief\'s device was never asked to make one')

    // The owner, still on the passkey page, finishes: passkey login is on.
    await owner.page.click('#passkey')
    await owner.page.waitForURL((url) => url.origin === site.origin && !url.pathname.startsWith('/justpass/'))
    assert.equal(passkeyCount(), 1)
    assert.equal((await site.users.findByUsername('alice'))?.justpassEnabled, true)

    // Replayed again now that it was used, then a passkey LOGIN at the site: the thief is nobody.
    assert.equal((await thief.page.goto(link))?.status(), 400)
    assert.equal(passkeyCount(), 1)
    await thief.page.goto(`${site.origin}/justpass/login`)
    await atProvider(thief, 'interaction/')
    await thief.page.click('#passkey')
    // No passkey of alice's on the thief's device: the page says so (as information), or the site refuses.
    await Promise.race([thief.page.waitForFunction('/No passkey was used/.test(document.getElementById("status-text").textContent)'), thief.page.waitForURL((url) => url.origin === site.origin)])
    assert.equal(await siteUser(thief), null, 'the replaying browser is logged in as nobody')
    assert.equal((await siteUser(owner))?.username, 'alice')
  })

  test('management: another session removes the passkey a session was opened with; that session\'s next request is signed out; Sign out ends the other', async () => {
    // The owner signs in to the management page with her passkey (Passkey 1) and adds a
    // second one from another device (Passkey 2), which signs in there with it.
    const first = (await credentials(owner))[0]!
    await owner.page.goto(managePath())
    await owner.page.click('#signin')
    await owner.page.waitForSelector('#passkeys')
    await holdOnly(owner)
    await owner.page.click('#add')
    await owner.page.waitForSelector('#notice')
    const second = (await credentials(owner))[0]!
    await holdOnly(owner, first)
    const other = await newDevice()
    await holdOnly(other, second)
    await other.page.goto(managePath())
    await other.page.click('#signin')
    await other.page.waitForSelector('#passkeys')
    assert.equal(await other.page.locator('#passkeys li').count(), 2)
    assert.equal(passkeyCount(), 2)

    // The owner removes Passkey 2, the one the other session was opened with.
    await owner.page.goto(managePath())
    await owner.page.click('#passkeys li:has-text("Passkey 2") button.remove')
    await owner.page.waitForSelector('#notice')
    assert.match((await owner.page.textContent('#notice')) ?? '', /The passkey was removed/)
    assert.equal(passkeyCount(), 1)

    // The other browser still shows the list; its next request (removing Passkey 1) is refused as signed out.
    await other.page.click('#passkeys li:has-text("Passkey 1") button.remove')
    await other.page.waitForSelector('h1')
    assert.equal(await other.page.textContent('h1'), 'Sign in again to manage your passkeys')
    assert.equal(passkeyCount(), 1, 'nothing removed')
    await other.page.goto(managePath())
    assert.match((await other.page.textContent('#notice')) ?? '', /Your sign-in here has ended/)
    assert.equal(await other.page.$('#passkeys'), null, 'no list')
    // Nor can it sign in again with the removed passkey.
    await other.page.click('#signin')
    await other.page.waitForSelector('#manage-status.error')
    assert.match((await other.page.textContent('#manage-status')) ?? '', /not known here/)
    assert.equal(await other.page.$('#passkeys'), null)

    // The owner's session stayed; Sign out ends it.
    await owner.page.goto(managePath())
    assert.match((await owner.page.textContent('main')) ?? '', /Signed in as alice/)
    await owner.page.click('#signout')
    await owner.page.waitForSelector('#signin')
    assert.equal(await owner.page.textContent('#notice'), 'You are signed out here. Your passkeys are unchanged.')
    assert.deepEqual((await owner.context.cookies(provider.opURL)).filter((cookie) => cookie.name === 'justpass_manage'), [], 'the cookie is gone')
    await owner.page.goto(managePath())
    assert.equal(await owner.page.$('#passkeys'), null, 'signed out: no list')
    assert.ok(await owner.page.isVisible('#signin'))
  })
})
