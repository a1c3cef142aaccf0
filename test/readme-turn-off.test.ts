/**
 * docs/passkey-life.md's "Turning passkey login off" example (example/readme/turn-off.ts)
 * runs on the guides' complete site (example/readme/site.ts, SQLite store) against the
 * local provider: the password confirmed again, then the flag cleared, the password
 * alone logs in and the passkey no longer does; a wrong password, a post from elsewhere
 * and a visitor change nothing.
 * (That the guide shows the file as it is, is checked by test/docs-examples.test.ts.)
 * Needs `npm run build` first: the site imports the package by its name, which resolves
 * to dist/.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createSite } from '../example/readme/site.ts'
import { addTurnOffRoute } from '../example/readme/turn-off.ts'
import { guideSiteForSuite } from './support/guide-site.ts'
import { Browser, type Hop } from './support/browser.ts'

describe('example/readme/turn-off.ts: turning passkey login off', () => {
  const site = guideSiteForSuite({
    site: ({ provider, users, origin, callbackURL }) => {
      const app = createSite({ opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL, sessionSecret: 'turn-off-secret', users })
      addTurnOffRoute(app, users, origin)
      return app
    },
  })

  /** The `justpass_enabled` column of a user, as stored. */
  const flagOf = (username: string): unknown => site.db.prepare('SELECT justpass_enabled FROM users WHERE username = ?').pluck().get(username)

  /** The password step: where the site sends the browser next, as a path. */
  async function logIn(browser: Browser, username: string): Promise<string | undefined> {
    const hop = await browser.post(`${site.origin}/login`, { username, password: `${username}-password` })
    return hop.location?.slice(site.origin.length)
  }

  /** A user with a password who registered a passkey (REG through the provider), and their logged-in browser. */
  async function registered(username: string): Promise<Browser> {
    await site.users.addUser(username, `${username}-password`)
    const browser = new Browser()
    assert.equal(await logIn(browser, username), '/')
    const { hops } = await browser.follow(`${site.origin}/justpass/reg`)
    assert.equal(JSON.parse(hops.at(-1)!.body).justpassEnabled, true)
    assert.equal(flagOf(username), 1)
    return browser
  }

  /** Post the turn-off form, by default from the site's own page. */
  function turnOff(browser: Browser, password: string, headers: Record<string, string> = { origin: site.origin }): Promise<Hop> {
    return browser.post(`${site.origin}/passkey/off`, { password }, { headers })
  }

  test('with the password: the flag is cleared, and the password alone logs in', async () => {
    const browser = await registered('alice')
    const hop = await turnOff(browser, 'alice-password')
    assert.equal(hop.status, 302)
    assert.equal(hop.location, `${site.origin}/`)
    assert.equal(flagOf('alice'), 0)
    assert.deepEqual(await browser.json(`${site.origin}/`), { user: 'alice', justpassEnabled: false }, 'still logged in')

    const before = site.provider.authorizationRequests.length
    const again = new Browser()
    assert.equal(await logIn(again, 'alice'), '/', 'no second factor')
    assert.equal((await again.json(`${site.origin}/`)).user, 'alice')
    assert.equal(site.provider.authorizationRequests.length, before, 'no passkey step')
  })

  test('a wrong password, a post from another origin or with none, and a visitor: nothing changes', async () => {
    const browser = await registered('bob')
    const wrong = await turnOff(browser, 'not-the-password')
    assert.equal(wrong.status, 401)
    assert.equal(wrong.body, 'Wrong password: passkey login is still on.')
    const foreign: Array<Record<string, string>> = [{ origin: 'http://shop.example.net' }, {}]
    for (const headers of foreign) {
      const hop = await turnOff(browser, 'bob-password', headers)
      assert.equal(hop.status, 403)
      assert.equal(hop.body, 'This form must be sent from this site.')
    }
    assert.equal((await turnOff(new Browser(), 'bob-password')).location, `${site.origin}/login`)
    assert.equal(flagOf('bob'), 1)
    assert.equal(await logIn(new Browser(), 'bob'), '/justpass/login', 'the password still leads to the passkey')
  })

  test('turned off, the passkey still registered at justpass.me no longer logs in, alone or after the password', async () => {
    const browser = await registered('carol')
    assert.equal((await turnOff(browser, 'carol-password')).location, `${site.origin}/`)
    await site.provider.withBehaviour({ action: 'approve', account: 'carol' }, async () => {
      const single = new Browser()
      const { hops } = await single.follow(`${site.origin}/justpass/login`)
      assert.equal(hops.at(-2)?.location, `${site.origin}/login`)
      assert.deepEqual(JSON.parse(hops.at(-1)!.body), { failed: true, message: 'Passkey login is turned off for this account. Sign in with your password.' })
      assert.equal((await single.json(`${site.origin}/`)).user, null)
    })
  })
})
