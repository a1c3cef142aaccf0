/**
 * Every user journey of the example shop, end to end, in headless Chromium with a
 * WebAuthn virtual authenticator, against the local provider: real passkeys, real
 * pages, real redirects, confirming it is you with the passkey before the account page,
 * logging out at the provider too, turning passkey login off again, managing passkeys at
 * the provider (list, add, remove), and `npm run reset`. Needs Chromium at
 * /usr/bin/chromium (Debian's `chromium`).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { decodeJwt, SignJWT } from 'jose'
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core'
import { startLocalProvider, type LocalProvider } from '../../provider/index.ts'
import { createShop } from '../../example/shop/app.ts'
import { Browser as HttpClient } from '../support/browser.ts'
import { startLoopbackServer, type LoopbackServer } from '../support/server.ts'

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const CLIENT = { clientID: 'example-shop', clientSecret: 'example-shop-secret-0123456789abcdef' }
const SHOTS = join(process.cwd(), '.test-results', 'e2e-screenshots')
/** The shop's confirmMaxAge here: short, so that a stale confirmation takes seconds to wait for, not minutes. */
const CONFIRM_MAX_AGE = 3

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
  /** Every request to the provider's end-session endpoint, as its parameters. */
  const signOuts: URLSearchParams[] = []

  const startProvider = async (port = 0) =>
    startLocalProvider({
      port,
      database: join(dir, 'provider.sqlite'),
      // As example/start.ts registers the shop: its callback, and its login page as where sign-out returns.
      clients: [{ ...CLIENT, redirectURIs: [`${shopOrigin}/justpass/callback`], postLogoutRedirectURIs: [`${shopOrigin}/login`] }],
      onEndSession: (params) => signOuts.push(params),
    })

  /** The recovery links the shop "sent" (its stand-in for e-mail). */
  const recoveryLinks: Array<{ username: string; link: string }> = []
  const startShop = () =>
    createShop({
      ...CLIENT,
      opURL: provider.opURL,
      origin: shopOrigin,
      database: join(dir, 'shop.sqlite'),
      sessionSecret: 'e2e-session-secret',
      confirmMaxAge: CONFIRM_MAX_AGE,
      sendRecoveryLink: (username, link) => void recoveryLinks.push({ username, link }),
    })

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

  /** Log out: back on the shop's login page (through the provider's sign-out when the session used a passkey). */
  async function logOut(): Promise<void> {
    await page.click('#logout button')
    await page.waitForURL((url) => url.origin === shopOrigin && url.pathname === '/login')
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

  /** The sign count of `username`'s passkey in the authenticator: one more for each time the passkey was used. */
  async function signCountOf(username: string): Promise<number> {
    return (await credentialOf(username)).signCount
  }

  /**
   * Whether the browser still has a sign-in at the provider: the answer to a silent
   * authorization request (`prompt=none`, signed as the shop signs its requests) sent with
   * the browser's provider cookies, outside the browser. A code while the provider
   * session lives, `login_required` once it has ended.
   */
  async function providerSignedIn(): Promise<boolean> {
    const client = new HttpClient()
    const jar = new Map((await page.context().cookies(provider.opURL)).map((cookie) => [cookie.name, cookie.value] as const))
    client.cookies.set(new URL(provider.opURL).hostname, jar)
    const state = randomBytes(16).toString('base64url')
    const verifier = randomBytes(32).toString('base64url')
    const query = new URLSearchParams({
      client_id: CLIENT.clientID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: `${shopOrigin}/justpass/callback`,
      state,
      nonce: randomBytes(16).toString('base64url'),
      prompt: 'none',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      signature: await new SignJWT({ state }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(CLIENT.clientSecret)),
    })
    const { stoppedAt } = await client.follow(`${provider.opURL}authorize/?${query}`, (next) => next.origin === shopOrigin)
    assert.ok(stoppedAt, 'the provider answers the silent request at the shop\'s callback')
    const answer = new URL(stoppedAt).searchParams
    assert.equal(answer.get('state'), state)
    if (answer.get('code')) return true
    assert.equal(answer.get('error'), 'login_required')
    return false
  }

  test('confirm with a passkey of another account: the provider refuses it; cancelled, the shop says nothing changed, still logged in', async () => {
    // demo, just logged in with the passkey, has not confirmed anything in this session.
    const bobsPasskey = provider.passkeys.passkeysOf('bob')[0]!.id
    const demoSub = shop.db.justpassSubOf(shop.db.findByUsername('demo')!.id)
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
    page.on('request', onRequest)
    try {
      await page.click('#account-link')
      await atProvider()
      assert.match((await page.textContent('main')) ?? '', /demo/, 'the provider asks for demo\'s passkey')
      await page.click('#passkey')
      await page.waitForSelector('#status.error')
      assert.match((await page.textContent('#status')) ?? '', /belongs to another account/)
      await shot('17-provider-confirm-refuses-other-users-passkey')
    } finally {
      await page.unroute('**/openid/interaction/*/options')
    }
    assert.deepEqual(callbacks, [], 'the shop was not called back with bob\'s passkey')
    await page.click('#cancel')
    assert.equal(await currentUser(), 'demo', 'home, still logged in as demo')
    page.off('request', onRequest)
    assert.equal(callbacks.length, 1, 'the cancel is the only callback')
    assert.equal((await page.textContent('[data-testid=notice]')) ?? '', 'You did not confirm it is you, so nothing was changed.')
    assert.equal(new URL(callbacks[0]!).searchParams.get('code'), null)
    assert.equal(flag('demo'), true)
    assert.equal(shop.db.justpassSubOf(shop.db.findByUsername('demo')!.id), demoSub)
    await shot('17-home-confirm-not-done')
  })

  let confirmedAt = 0

  test('confirm it is you: "Your account" asks for the passkey at the provider, then shows the page; opened again in time, it does not ask', async () => {
    const uses = await signCountOf('demo')
    await page.click('#account-link')
    await atProvider()
    assert.match((await page.textContent('main')) ?? '', /demo/)
    await shot('18-provider-confirm')
    await page.click('#passkey')
    await page.waitForURL(`${shopOrigin}/account`)
    confirmedAt = Date.now()
    assert.equal(await page.textContent('[data-testid=notice]'), 'You confirmed it is you.')
    assert.equal(await page.textContent('[data-testid=account-username]'), 'demo')
    assert.equal(await signCountOf('demo'), uses + 1, 'the passkey was used')
    await shot('18-account-after-confirming')

    await page.goto(`${shopOrigin}/`)
    await page.click('#account-link')
    await page.waitForURL(`${shopOrigin}/account`)
    assert.equal(await page.textContent('[data-testid=account-username]'), 'demo')
    assert.equal(await page.$('[data-testid=notice]'), null)
    assert.equal(await signCountOf('demo'), uses + 1, 'not asked again')
  })

  test('a stale confirmation is asked for again', async () => {
    // Until the confirmation is older than the shop's confirmMaxAge (seconds, rounded down).
    await sleep(Math.max(0, confirmedAt + (CONFIRM_MAX_AGE + 1) * 1000 - Date.now()))
    const uses = await signCountOf('demo')
    await page.click('#home-link')
    await page.click('#account-link')
    await atProvider()
    await page.click('#passkey')
    await page.waitForURL(`${shopOrigin}/account`)
    assert.equal(await page.textContent('[data-testid=notice]'), 'You confirmed it is you.')
    assert.equal(await signCountOf('demo'), uses + 1)
  })

  test('log out: through the provider\'s sign-out, back on the login page; the provider\'s sign-in is over and the next LOGIN asks for the passkey', async () => {
    await page.click('#home-link')
    assert.equal(await currentUser(), 'demo')
    assert.equal(await providerSignedIn(), true, 'signed in at the provider before logging out')
    const visited: string[] = []
    const onNavigated = (frame: { url(): string }) => {
      if (frame === page.mainFrame()) visited.push(frame.url())
    }
    page.on('framenavigated', onNavigated)
    const before = signOuts.length
    try {
      await logOut()
    } finally {
      page.off('framenavigated', onNavigated)
    }
    assert.ok(visited.some((url) => url.startsWith(`${provider.opURL}end-session/`)), `through the provider's sign-out: ${visited.join(' ')}`)
    assert.equal(signOuts.length, before + 1)
    const params = signOuts.at(-1)!
    assert.equal(params.get('post_logout_redirect_uri'), `${shopOrigin}/login`)
    assert.equal(params.get('client_id'), CLIENT.clientID)
    assert.equal(decodeJwt(params.get('id_token_hint')!).sub, provider.passkeys.accountByUsername('demo')!.handle)
    assert.equal(new URL(page.url()).searchParams.get('state'), params.get('state'))
    assert.match((await page.textContent('h1')) ?? '', /Welcome back/)
    await shot('19-login-after-logout')
    await page.goto(`${shopOrigin}/`)
    await page.waitForURL(`${shopOrigin}/login`)
    assert.equal(await providerSignedIn(), false, 'the provider\'s sign-in ended too')

    const uses = await signCountOf('demo')
    await passwordLogin('demo', 'demo-password')
    await atProvider()
    assert.ok(await page.isVisible('#passkey'), 'the provider\'s passkey page')
    await page.click('#passkey')
    assert.equal(await currentUser(), 'demo')
    assert.equal(await signCountOf('demo'), uses + 1, 'the passkey was asked for again')
  })

  test('turn passkey login off: a wrong password changes nothing; the passkey way confirms first, then the password alone logs in', async () => {
    // A new session since the LOGIN: nothing confirmed in it yet.
    await page.fill('#confirm-password', 'wrong-password')
    await page.click('#turn-off-with-password button')
    await page.waitForURL(`${shopOrigin}/passkey/off`)
    assert.match((await page.textContent('[data-testid=notice]')) ?? '', /password is not right/)
    assert.equal(flag('demo'), true)

    const uses = await signCountOf('demo')
    await page.click('#turn-off-passkey button')
    await atProvider()
    await page.click('#passkey')
    assert.equal(await currentUser(), 'demo', 'back to the page with the form')
    assert.equal(await page.textContent('[data-testid=notice]'), 'You confirmed it is you.')
    assert.equal(await signCountOf('demo'), uses + 1)
    assert.equal(flag('demo'), true, 'a form is not sent again by itself: the user presses the button again')
    await page.click('#turn-off-passkey button')
    assert.equal(await currentUser(), 'demo')
    assert.match((await page.textContent('[data-testid=notice]')) ?? '', /Passkey login is now off/)
    assert.equal(flag('demo'), false)
    assert.equal(await signCountOf('demo'), uses + 1, 'confirmed a moment ago: not asked again')
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
  /** Where the card and its buttons are: a message must move none of them. */
  async function layoutBox(): Promise<{ top: number; passkeyY: number; cancelY: number }> {
    const main = await page.locator('main').boundingBox()
    const passkey = await page.locator('#passkey').boundingBox()
    const cancel = await page.locator('#cancel').boundingBox()
    return { top: main!.y, passkeyY: passkey!.y, cancelY: cancel!.y }
  }

  /** The card keeps no empty room for messages to come: its status line is one line high while empty. */
  async function assertNoEmptyBlock(): Promise<void> {
    const status = await page.locator('#status').boundingBox()
    assert.ok(status!.height < 30, `the empty status takes ${status!.height}px`)
  }

  test('a passkey already on this device when creating one: said plainly, and signing in with it instead enables passkey login', async () => {
    await passwordLogin('demo', 'demo-password')
    assert.equal(await currentUser(), 'demo')
    assert.equal(flag('demo'), false, 'passkey login was turned off, the passkey kept')
    await page.click('#enable-passkey')
    await atProvider()
    await assertNoEmptyBlock()
    const before = await layoutBox()
    await page.click('#passkey')
    await page.waitForSelector('#status.error')
    assert.match((await page.textContent('#status-text')) ?? '', /already has a passkey for this account here/)
    assert.ok(await page.isVisible('#use-existing'))
    assert.deepEqual(await layoutBox(), before, 'nothing the user presses moves')
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
    assert.match((await page.textContent('#passkeys li')) ?? '', /Passkey 1Made with Chrome on Linux, .+Last used /)
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
    assert.match((await page.textContent('#passkeys li:nth-child(2)')) ?? '', /Passkey 2Made with Chrome on Linux, .+Never used to sign in/)
    for (const when of await page.locator('#passkeys .when').all()) {
      const box = await when.boundingBox()
      assert.ok(box && box.height < 30, 'a date and time stay on one line')
    }
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
    await assertNoEmptyBlock()
    const before = await layoutBox()
    await page.click('#passkey')
    await page.waitForFunction('/No passkey was used/.test(document.getElementById("status-text").textContent)')
    const text = (await page.textContent('#status-text')) ?? ''
    assert.match(text, /No passkey was used/)
    assert.match(text, /If you lost it, press Cancel and use the "Lost your passkey\?" link of the site to get back in\./)
    assert.doesNotMatch(text, /sign in with your password/, 'no advice that leads back to this step')
    assert.equal(await page.getAttribute('#status', 'class'), '', 'a cancel is shown as information, not as an error')
    assert.doesNotMatch(text, /NotAllowedError|timed out or was not allowed|privacy-considerations/)
    assert.deepEqual(await layoutBox(), before, 'nothing the user presses moves')
    assert.ok(await page.isEnabled('#passkey'), 'trying again stays possible')
    await shot('13-provider-no-passkey-on-device')
    await page.click('#cancel')
    await page.waitForURL(`${shopOrigin}/login`)
    assert.equal(await page.getAttribute('[data-testid=error]', 'class'), 'notice info', 'the shop shows the cancel as information too')
  })

  test('lost passkey: "Lost your passkey?", the one-time link, the password, then a new passkey that logs in', async () => {
    // demo's passkey is gone from this device (the test before cleared the authenticator).
    await page.goto(`${shopOrigin}/login`)
    await page.click('#lost-passkey')
    await page.waitForURL(`${shopOrigin}/recover`)
    await page.fill('#recover-username', 'demo')
    await page.click('button[type=submit]')
    assert.match((await page.textContent('[data-testid=notice]')) ?? '', /If that account exists, a recovery link is on its way/)
    const sent = recoveryLinks.at(-1)
    assert.equal(sent?.username, 'demo')
    await page.goto(sent!.link)
    await page.fill('#recover-password', 'demo-password')
    await page.click('button[type=submit]')
    await page.waitForURL(`${shopOrigin}/recovered`)
    await shot('14-recovered')
    await page.click('#recover-new-passkey')
    await atProvider()
    await page.click('#passkey')
    assert.equal(await currentUser(), 'demo')
    assert.equal(flag('demo'), true)
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId })
    assert.equal(credentials.length, 1, 'a new passkey on this device')
    // The link worked once.
    await page.goto(sent!.link)
    assert.match((await page.textContent('[data-testid=error]')) ?? '', /already used/)
    // The new passkey is demo's second factor now.
    await page.goto(`${shopOrigin}/`)
    await logOut()
    await passwordLogin('demo', 'demo-password')
    await atProvider()
    await page.click('#passkey')
    assert.equal(await currentUser(), 'demo')
    await logOut()
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
