/**
 * The example shop (with the local provider) opened at a host other than its configured
 * origin, e.g. 127.0.0.1 for localhost: it sends the browser to the configured origin
 * before any flow starts, since cookies are bound to a host name. Real servers on 127.0.0.1.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createShop } from '../../example/shop/app.ts'
import { Browser } from '../support/browser.ts'
import { startLoopbackServer, type LoopbackServer } from '../support/server.ts'
import { startTestProvider, type TestProvider } from '../support/provider.ts'

describe('the example shop at another host than its configured origin', () => {
  let server: LoopbackServer
  let provider: TestProvider
  let shop: ReturnType<typeof createShop>
  let origin: string

  before(async () => {
    server = await startLoopbackServer()
    origin = server.origin.replace('127.0.0.1', 'localhost')
    provider = await startTestProvider({ redirectURIs: [`${origin}/justpass/callback`] })
    shop = createShop({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, origin, database: ':memory:', sessionSecret: 'origin-test' })
    await shop.db.createUser('alice', 'alice-password')
    server.handle(shop.app)
  })

  after(async () => {
    await server.close()
    shop.close()
    await provider.close()
  })

  test('every page at 127.0.0.1 redirects to the same page at the configured origin; no session, no flow, no provider request', async () => {
    const browser = new Browser()
    const before = provider.requestCount
    for (const path of ['/', '/login', '/justpass/login', '/justpass/callback?code=x&state=y', '/passkey-login?next=%2Forders']) {
      const hop = await browser.get(`${server.origin}${path}`)
      assert.equal(hop.status, 302, path)
      assert.equal(hop.location, `${origin}${path}`)
      assert.equal(hop.headers.get('set-cookie'), null, `${path}: no cookie set at the wrong host`)
    }
    const posted = await browser.post(`${server.origin}/login`, { username: 'alice', password: 'alice-password' })
    assert.equal(posted.status, 303)
    assert.equal(posted.location, `${origin}/login`)
    assert.equal(posted.headers.get('set-cookie'), null, 'no login at the wrong host')
    assert.equal(provider.requestCount, before, 'no flow started')
  })

  test('at the configured origin the shop answers as usual, and /healthz answers at any host', async () => {
    const browser = new Browser()
    const page = await browser.get(`${origin}/login`)
    assert.equal(page.status, 200)
    const health = await browser.get(`${server.origin}/healthz`)
    assert.equal(health.status, 200)
    assert.equal(health.body, 'ok')
  })
})
