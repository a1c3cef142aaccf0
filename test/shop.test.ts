/**
 * The example shop over HTTP, against the local provider with the passkey step done in
 * code: the password step, each mode, each failure message, the mobile-app JSON, and
 * the page shown when the provider is down. (The browser journeys with real passkeys
 * are in test/e2e.)
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createShop } from '../example/shop/app.ts'
import { Browser } from './support/browser.ts'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'

function shownUser(html: string): string | undefined {
  return /data-testid="current-user"[^>]*>[\s\S]*?<strong>([^<]+)<\/strong>/.exec(html)?.[1]
}

function testid(html: string, id: string): string | undefined {
  return new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`).exec(html)?.[1]
}

describe('the example shop', () => {
  let server: LoopbackServer
  let provider: TestProvider
  let shop: ReturnType<typeof createShop>

  before(async () => {
    server = await startLoopbackServer()
    provider = await startTestProvider({ redirectURIs: [`${server.origin}/justpass/callback`] })
    shop = createShop({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, origin: server.origin, database: ':memory:', sessionSecret: 'shop-test' })
    await shop.db.createUser('demo', 'demo-password')
    await shop.db.createUser('other', 'other-password')
    server.handle(shop.app)
  })
  after(async () => {
    await server.close()
    shop.close()
    await provider.close()
  })

  /** Follow from a redirect through the provider and back; returns the last page. */
  async function through(browser: Browser, location: string): Promise<{ url: string; body: string; status: number }> {
    const { hops } = await browser.follow(location)
    const last = hops.at(-1)!
    return { url: last.url, body: last.body, status: last.status }
  }

  test('a wrong password: 401 and the message, nobody logged in', async () => {
    const browser = new Browser()
    const hop = await browser.post(`${server.origin}/login`, { username: 'demo', password: 'nope' })
    assert.equal(hop.status, 401)
    assert.equal(testid(hop.body, 'error'), 'Wrong username or password.')
    assert.equal((await browser.get(`${server.origin}/`)).location, `${server.origin}/login`)
  })

  test('password login without a passkey, REG, then second factor, then passkey alone', async () => {
    const browser = new Browser()
    let hop = await browser.post(`${server.origin}/login`, { username: 'demo', password: 'demo-password' })
    assert.equal(hop.location, `${server.origin}/`)
    let page = await through(browser, `${server.origin}/`)
    assert.equal(shownUser(page.body), 'demo')
    assert.match(page.body, /Passkey login is off/)

    page = await through(browser, `${server.origin}/justpass/reg`)
    assert.equal(testid(page.body, 'notice'), 'Passkey login is now enabled for your account.')
    assert.equal(shop.db.findByUsername('demo')?.justpassEnabled, true)

    const second = new Browser()
    hop = await second.post(`${server.origin}/login`, { username: 'demo', password: 'demo-password' })
    assert.equal(hop.location, `${server.origin}/justpass/login`, 'the password alone is not enough')
    page = await through(second, hop.location!)
    assert.equal(shownUser(page.body), 'demo')

    provider.behaviour = { action: 'approve', account: 'demo' }
    try {
      const only = new Browser()
      page = await through(only, `${server.origin}/justpass/login`)
      assert.equal(shownUser(page.body), 'demo')
    } finally {
      provider.behaviour = { action: 'approve' }
    }
  })

  test('cancel in REG and in LOGIN: each mode\'s message, nothing changed', async () => {
    provider.behaviour = { action: 'cancel' }
    try {
      const browser = new Browser()
      await browser.post(`${server.origin}/login`, { username: 'other', password: 'other-password' })
      let page = await through(browser, `${server.origin}/justpass/reg`)
      assert.equal(testid(page.body, 'notice'), 'Passkey registration was cancelled.')
      assert.equal(shop.db.findByUsername('other')?.justpassEnabled, false)

      const login = new Browser()
      const hop = await login.post(`${server.origin}/login`, { username: 'demo', password: 'demo-password' })
      page = await through(login, hop.location!)
      assert.equal(testid(page.body, 'error'), 'Passkey sign-in was cancelled.')
      assert.equal(shownUser(page.body), undefined)
    } finally {
      provider.behaviour = { action: 'approve' }
    }
  })

  test('another user\'s passkey for the second factor: refused with its message', async () => {
    provider.behaviour = { action: 'approve', account: 'other' }
    try {
      const browser = new Browser()
      const hop = await browser.post(`${server.origin}/login`, { username: 'demo', password: 'demo-password' })
      const page = await through(browser, hop.location!)
      assert.equal(testid(page.body, 'error'), 'That passkey belongs to another account.')
    } finally {
      provider.behaviour = { action: 'approve' }
    }
  })

  test('a mobile app gets JSON', async () => {
    const browser = new Browser()
    browser.headers['amwal-platform'] = 'app'
    const hop = await browser.post(`${server.origin}/login`, { username: 'demo', password: 'demo-password' })
    const page = await through(browser, hop.location!)
    assert.equal(page.status, 200)
    const body = JSON.parse(page.body) as { username: string; token: string }
    assert.equal(body.username, 'demo')
    assert.ok(body.token.length > 10)
  })

  test('the provider down: a friendly 502 page, no stack', async () => {
    const dead = await startLoopbackServer()
    await dead.close()
    const other = await startLoopbackServer()
    const downShop = createShop({ opURL: `${dead.origin}/openid/`, clientID: 'c', clientSecret: 's', origin: other.origin, database: ':memory:', sessionSecret: 'down' })
    other.handle(downShop.app)
    try {
      const browser = new Browser()
      const started = await browser.get(`${other.origin}/justpass/login`)
      const state = new URL(started.location!).searchParams.get('state')
      const hop = await browser.get(`${other.origin}/justpass/callback?code=x&state=${state}`)
      assert.equal(hop.status, 502)
      assert.match(hop.body, /justpass\.me could not be reached/)
      assert.doesNotMatch(hop.body, /\n\s+at /)
    } finally {
      await other.close()
      downShop.close()
    }
  })
})
