/**
 * The local provider opened at another host name than its own (127.0.0.1 for
 * localhost): a GET goes to the same address on its configured origin, where passkeys
 * and its cookies work; a POST is not redirected (it is refused as not coming from the
 * provider's page). Behind a proxy (`origin` given), nothing is redirected.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startLocalProvider, type LocalProvider } from '../../provider/index.ts'
import { Browser } from '../support/browser.ts'

const CLIENT = { clientID: 'host-site', clientSecret: 'host-site-secret-0123456789abcdef0123', redirectURIs: ['http://localhost:4000/justpass/callback'] }

describe('the local provider at another host name', () => {
  let provider: LocalProvider
  before(async () => {
    provider = await startLocalProvider({ clients: [CLIENT] })
  })
  after(() => provider.close())

  test('a GET at 127.0.0.1 goes to the same path and query at localhost', async () => {
    const hop = await new Browser().get(`http://127.0.0.1:${provider.port}/openid/passkeys?client=host-site`)
    assert.equal(hop.status, 302)
    assert.equal(hop.location, `http://localhost:${provider.port}/openid/passkeys?client=host-site`)
    const there = await new Browser().get(hop.location!)
    assert.equal(there.status, 200)
  })

  test('a POST at 127.0.0.1 is not redirected', async () => {
    const hop = await new Browser().post(`http://127.0.0.1:${provider.port}/openid/passkeys/signout?client=host-site`, { csrf: 'x' })
    assert.notEqual(hop.status, 302)
  })

  test('behind a proxy (origin given), the proxy decides: no redirect', async () => {
    const behind = await startLocalProvider({ clients: [CLIENT], origin: 'https://id.example' })
    try {
      const hop = await new Browser().get(`http://127.0.0.1:${behind.port}/openid/.well-known/openid-configuration`)
      assert.equal(hop.status, 200)
    } finally {
      await behind.close()
    }
  })
})
