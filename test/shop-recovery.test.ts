/**
 * Lost passkey recovery in the example shop, over HTTP against the local provider (the
 * passkey step done in code): "Lost your passkey?" sends a one-time link (captured here
 * instead of printed), the same answer whatever the username; the link needs the
 * password too, works once and for 15 minutes; then a new passkey (REG) or passkey login
 * off. Also the login page of a signed-in user, and the cancel shown as information.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createShop, RECOVERY_LINK_TTL } from '../example/shop/app.ts'
import { Browser } from './support/browser.ts'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'

/** The text of the element with `data-testid="id"`, its character references decoded. */
function testid(html: string, id: string): string | undefined {
  return new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html)?.[1]?.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
}

describe('lost passkey recovery in the example shop', () => {
  let server: LoopbackServer
  let provider: TestProvider
  let shop: ReturnType<typeof createShop>
  let origin: string
  const sent: Array<{ username: string; link: string }> = []
  let serial = 0

  before(async () => {
    server = await startLoopbackServer()
    origin = server.origin
    provider = await startTestProvider({ redirectURIs: [`${origin}/justpass/callback`] })
    shop = createShop({
      opURL: provider.opURL,
      clientID: provider.clientID,
      clientSecret: provider.clientSecret,
      origin,
      database: ':memory:',
      sessionSecret: 'shop-recovery-test',
      sendRecoveryLink: (username, link) => void sent.push({ username, link }),
    })
    server.handle(shop.app)
  })
  after(async () => {
    await server.close()
    shop.close()
    await provider.close()
  })

  /** A user with passkey login on, who has lost the passkey. */
  async function passkeyUser(): Promise<{ username: string; password: string }> {
    const user = { username: `lost${++serial}`, password: `password-${serial}` }
    await shop.db.createUser(user.username, user.password)
    shop.db.setJustpassEnabled(user.username, true)
    return user
  }

  /** Ask for a recovery link for `username` from the shop's page; the page's answer. */
  async function askForLink(browser: Browser, username: string) {
    const page = await browser.get(`${origin}/recover`)
    assert.equal(page.status, 200)
    return browser.post(`${origin}/recover`, { username }, { headers: { origin } })
  }

  test('the login page offers "Lost your passkey?"; a signed-in user is sent home from it', async () => {
    const browser = new Browser()
    const login = await browser.get(`${origin}/login`)
    assert.match(login.body, /<a id="lost-passkey" class="small-link" href="\/recover">Lost your passkey\?<\/a>/)
    const user = await passkeyUser()
    shop.db.setJustpassEnabled(user.username, false)
    await browser.post(`${origin}/login`, user)
    assert.equal((await browser.get(`${origin}/login`)).location, `${origin}/`)
  })

  test('the same answer whatever the username; a link is sent only for an account that exists', async () => {
    const user = await passkeyUser()
    const before = sent.length
    const known = await askForLink(new Browser(), user.username)
    const unknown = await askForLink(new Browser(), 'nobody-here')
    assert.equal(sent.length, before + 1)
    assert.equal(sent.at(-1)?.username, user.username)
    assert.match(sent.at(-1)!.link, new RegExp(`^${origin}/recover/[A-Za-z0-9_-]{43}$`))
    assert.equal(testid(known.body, 'notice'), testid(unknown.body, 'notice'))
    assert.match(testid(known.body, 'notice') ?? '', /If that account exists, a recovery link is on its way/)
  })

  test('by default the link is one line in the console, and only the link (never the password)', async () => {
    const site = await startLoopbackServer()
    const plain = createShop({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, origin: site.origin, database: ':memory:', sessionSecret: 's' })
    site.handle(plain.app)
    const lines: string[] = []
    const log = console.log
    console.log = (...args: unknown[]) => void lines.push(args.map(String).join(' '))
    try {
      await plain.db.createUser('carol', 'carol-password')
      await new Browser().post(`${site.origin}/recover`, { username: 'carol' }, { headers: { origin: site.origin } })
    } finally {
      console.log = log
      await site.close()
      plain.close()
    }
    assert.equal(lines.length, 1)
    assert.match(lines[0]!, new RegExp(`^Recovery link for carol \\(valid 15 minutes, used once\\): ${site.origin}/recover/[A-Za-z0-9_-]{43}$`))
  })

  test('the link alone signs nobody in: its page asks for the password; a wrong one keeps the link usable', async () => {
    const user = await passkeyUser()
    await askForLink(new Browser(), user.username)
    const { link } = sent.at(-1)!
    const browser = new Browser()
    const page = await browser.get(link)
    assert.equal(page.status, 200)
    assert.equal(page.headers.get('cache-control'), 'no-store')
    assert.match(page.body, new RegExp(`Your recovery link is for <strong>${user.username}</strong>`))
    const wrong = await browser.post(link, { password: 'not-it' }, { headers: { origin } })
    assert.equal(wrong.status, 401)
    assert.match(testid(wrong.body, 'error') ?? '', /That password is not right\. The link still works/)
    assert.equal((await browser.get(`${origin}/`)).location, `${origin}/login`, 'nobody signed in')
    const right = await browser.post(link, { password: user.password }, { headers: { origin } })
    assert.equal(right.location, `${origin}/recovered`)
    const recovered = await browser.get(`${origin}/recovered`)
    assert.match(recovered.body, /id="recover-new-passkey"[^>]*href="\/justpass\/reg"/)
    assert.match(recovered.body, new RegExp(`Signed in as <strong>${user.username}</strong>`))
  })

  test('a link works once; an unknown or cut link and an expired one are refused in plain words', async () => {
    const user = await passkeyUser()
    await askForLink(new Browser(), user.username)
    const { link } = sent.at(-1)!
    await new Browser().post(link, { password: user.password }, { headers: { origin } })
    const again = new Browser()
    const used = await again.get(link)
    assert.equal(used.status, 410)
    assert.match(testid(used.body, 'error') ?? '', /already used: each link works once\. Ask for a new one\./)
    const reused = await again.post(link, { password: user.password }, { headers: { origin } })
    assert.equal(reused.status, 410)
    assert.equal((await again.get(`${origin}/`)).location, `${origin}/login`)
    const cut = await again.get(link.slice(0, -5))
    assert.match(testid(cut.body, 'error') ?? '', /not one the shop sent/)
    const token = shop.db.createRecoveryToken(user.username, -1)
    const expired = await again.get(`${origin}/recover/${token}`)
    assert.equal(expired.status, 410)
    assert.match(testid(expired.body, 'error') ?? '', /has expired: links work for 15 minutes/)
    assert.equal(RECOVERY_LINK_TTL, 15 * 60)
  })

  test('two uses of one link at once: one signs in', async () => {
    const user = await passkeyUser()
    await askForLink(new Browser(), user.username)
    const { link } = sent.at(-1)!
    const answers = await Promise.all([new Browser(), new Browser(), new Browser()].map((browser) => browser.post(link, { password: user.password }, { headers: { origin } })))
    assert.deepEqual(answers.map((answer) => answer.status).sort(), [302, 410, 410])
  })

  test('recovered: a new passkey (REG) turns passkey login on with it; or passkey login off, from this session only', async () => {
    const user = await passkeyUser()
    await askForLink(new Browser(), user.username)
    const browser = new Browser()
    await browser.post(sent.at(-1)!.link, { password: user.password }, { headers: { origin } })
    const { hops } = await browser.follow(`${origin}/justpass/reg`)
    assert.equal(provider.authorizationRequests.at(-1)?.get('prompt'), 'create')
    assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), user.username)
    assert.equal(hops.at(-1)?.url, `${origin}/`)
    assert.match(testid(hops.at(-1)!.body, 'notice') ?? '', /Passkey login is now enabled/)

    const other = await passkeyUser()
    const elsewhere = new Browser()
    await elsewhere.post(`${origin}/login`, other)
    await elsewhere.follow(`${origin}/justpass/login`)
    assert.match((await elsewhere.get(`${origin}/`)).body, new RegExp(`Signed in as <strong>${other.username}</strong>`))
    assert.equal((await elsewhere.post(`${origin}/recover/off`, {}, { headers: { origin } })).status, 403, 'not without a recovery link')
    await askForLink(new Browser(), other.username)
    const recovering = new Browser()
    await recovering.post(sent.at(-1)!.link, { password: other.password }, { headers: { origin } })
    assert.equal((await recovering.post(`${origin}/recover/off`, {}, { headers: { origin: 'https://evil.example' } })).status, 403, 'not from another site')
    const off = await recovering.post(`${origin}/recover/off`, {}, { headers: { origin } })
    assert.equal(off.location, `${origin}/`)
    assert.equal(shop.db.findByUsername(other.username)?.justpassEnabled, false)
    assert.equal((await recovering.post(`${origin}/recover/off`, {}, { headers: { origin } })).status, 403, 'once')
  })

  test("a cancelled passkey step is information, not an error; the provider's other errors stay errors", async () => {
    const user = await passkeyUser()
    await provider.withBehaviour({ action: 'cancel' }, async () => {
      const browser = new Browser()
      await browser.post(`${origin}/login`, user)
      const { hops } = await browser.follow(`${origin}/justpass/login`)
      const page = hops.at(-1)!
      assert.equal(page.url, `${origin}/login`)
      assert.match(page.body, /<div class="notice info" data-testid="error" role="status">Passkey sign-in was cancelled\.<\/div>/)
    })
  })
})
