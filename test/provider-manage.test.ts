/**
 * The local provider's passkey management page refuses what it must: no passkey sign-in
 * at the provider (none, or an expired one), a state-changing request from another site
 * (another Origin, none at all, or without the page's token), a passkey id it does not
 * know, and another user's passkey; each time nothing changes, and the answer is the
 * provider's own page (or JSON for the page's calls) without a stack trace. With all
 * in order, removing works, and the last passkey goes only once confirmed. Real provider
 * on 127.0.0.1; the management session is started through the provider's own store.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { startLocalProvider, type LocalProvider } from '../provider/index.ts'
import type { Account } from '../provider/passkeys.ts'

const SITE = 'http://127.0.0.1:9'
const CLIENT = { clientID: 'manage-site', clientSecret: 'manage-site-secret-0123456789abcdef0123', redirectURIs: [`${SITE}/cb`] }
const LEAKS = [/\bat\s+[#\w.<>]+\s+\(/, /SyntaxError|TypeError|Error:/, /node_modules|\/tmp\//, /Cannot (GET|POST)/]

describe('the local provider\'s passkey management page refuses', () => {
  let provider: LocalProvider
  let base: string
  let alice: Account
  let bob: Account

  const addPasskey = (account: Account): string => {
    const id = randomBytes(16).toString('base64url')
    provider.passkeys.addPasskey(account, { id, publicKey: randomBytes(77), counter: 0, transports: ['internal'] })
    return id
  }
  const ids = (username: string) => provider.passkeys.passkeysOf(username).map((passkey) => passkey.id)

  /** A management session of `account`: its cookie and token, as a passkey sign-in gives them. */
  function signIn(account: Account, ttlMs = 60_000): { cookie: string; csrf: string } {
    const token = provider.passkeys.startManageSession(account, ttlMs)
    const csrf = provider.passkeys.manageSession(token)?.csrf ?? ''
    return { cookie: `justpass_manage=${token}`, csrf }
  }

  async function remove(form: Record<string, string>, headers: Record<string, string>): Promise<{ status: number; body: string; location: string | null }> {
    const response = await fetch(`${base}/openid/passkeys/remove?client=${CLIENT.clientID}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
    })
    const body = await response.text()
    for (const leak of LEAKS) assert.doesNotMatch(body, leak)
    return { status: response.status, body, location: response.headers.get('location') }
  }

  before(async () => {
    provider = await startLocalProvider({ hostname: '127.0.0.1', clients: [CLIENT] })
    base = provider.issuer.replace(/\/openid$/, '')
    alice = provider.passkeys.ensureAccount('alice')
    bob = provider.passkeys.ensureAccount('bob')
  })

  after(async () => {
    await provider?.close()
  })

  test('without a passkey sign-in: the page asks for one and lists nothing; every change is refused', async () => {
    const id = addPasskey(alice)
    const page = await fetch(`${base}/openid/passkeys?client=${CLIENT.clientID}`)
    const html = await page.text()
    assert.equal(page.status, 200)
    assert.match(html, /first sign in here with one of them/)
    assert.ok(!html.includes(id), 'no passkey listed')
    assert.match(html, new RegExp(`<a class="back" id="back" href="${SITE}/">Back to ${CLIENT.clientID}</a>`))

    const refused = await remove({ id, csrf: 'anything' }, { origin: base })
    assert.equal(refused.status, 401)
    assert.match(refused.body, /Sign in again to manage your passkeys/)
    const add = await fetch(`${base}/openid/passkeys/add/options`, { method: 'POST', headers: { origin: base, 'content-type': 'application/json' }, body: '{}' })
    assert.equal(add.status, 401)
    assert.match(((await add.json()) as { error: string }).error, /recent sign-in here with one of your passkeys/)

    // An expired sign-in is no sign-in.
    const expired = signIn(alice, -1)
    assert.equal((await remove({ id, csrf: expired.csrf }, { origin: base, cookie: expired.cookie })).status, 401)
    assert.ok(ids('alice').includes(id), 'nothing removed')
  })

  test('a cross-site POST: another Origin, no Origin, or no token is refused, and nothing changes', async () => {
    const id = addPasskey(alice)
    const { cookie, csrf } = signIn(alice)
    const cases: Record<string, string>[] = [
      { origin: 'http://localhost:3000', cookie },
      { origin: 'null', cookie },
      { cookie },
      { cookie, 'sec-fetch-site': 'same-site' },
    ]
    for (const headers of cases) {
      const refused = await remove({ id, csrf }, headers)
      assert.equal(refused.status, 403, JSON.stringify(headers))
      assert.match(refused.body, /did not come from the provider(&#39;|')s own page/)
    }
    for (const token of ['', 'wrong-token']) {
      const refused = await remove({ id, csrf: token }, { origin: base, cookie })
      assert.equal(refused.status, 403)
    }
    assert.equal((await remove({ id }, { origin: base, cookie })).status, 403, 'no token at all')
    const add = await fetch(`${base}/openid/passkeys/add/options`, { method: 'POST', headers: { origin: 'http://localhost:3000', cookie, 'x-csrf-token': csrf } })
    assert.equal(add.status, 403)
    const addNoToken = await fetch(`${base}/openid/passkeys/add/options`, { method: 'POST', headers: { origin: base, cookie } })
    assert.equal(addNoToken.status, 403)
    const signin = await fetch(`${base}/openid/passkeys/signin/options`, { method: 'POST', headers: { origin: 'http://localhost:3000' } })
    assert.equal(signin.status, 403)
    const verify = await fetch(`${base}/openid/passkeys/signin/verify`, { method: 'POST', headers: { origin: 'http://localhost:3000', 'content-type': 'application/json' }, body: '{}' })
    assert.equal(verify.status, 403)
    assert.ok(ids('alice').includes(id), 'nothing removed')
  })

  test('an unknown passkey id, or none: refused in plain words', async () => {
    const { cookie, csrf } = signIn(alice)
    const before = ids('alice')
    const forms: Record<string, string>[] = [{ id: 'no-such-passkey', csrf }, { csrf }]
    for (const form of forms) {
      const refused = await remove(form, { origin: base, cookie })
      assert.equal(refused.status, 404)
      assert.match(refused.body, /This passkey is not on your account/)
      assert.match(refused.body, /<div class="brand">justpass\.me <small>local<\/small><\/div>/)
    }
    assert.deepEqual(ids('alice'), before)
  })

  test('someone else\'s passkey: refused, and it stays theirs', async () => {
    const bobs = addPasskey(bob)
    addPasskey(bob)
    const { cookie, csrf } = signIn(alice)
    const refused = await remove({ id: bobs, csrf }, { origin: base, cookie })
    assert.equal(refused.status, 404)
    assert.match(refused.body, /not one of yours here/)
    assert.ok(ids('bob').includes(bobs))
    // Nor with bob's token: the token belongs to the session, not to the account it names.
    const bobsToken = signIn(bob).csrf
    assert.equal((await remove({ id: bobs, csrf: bobsToken }, { origin: base, cookie })).status, 403)
    assert.ok(ids('bob').includes(bobs))
  })

  test('with all in order: a passkey is removed; the last one only once confirmed', async () => {
    const carol = provider.passkeys.ensureAccount('carol')
    const first = addPasskey(carol)
    const second = addPasskey(carol)
    const { cookie, csrf } = signIn(carol)
    const list = await (await fetch(`${base}/openid/passkeys`, { headers: { cookie } })).text()
    assert.match(list, /Signed in as <strong>carol<\/strong>/)
    assert.match(list, /Passkey 1<\/strong>Created [^<]+<br>Never used to sign in/)
    assert.match(list, /Passkey 2<\/strong>/)

    const removed = await remove({ id: first, csrf }, { origin: base, cookie })
    assert.equal(removed.status, 303)
    assert.equal(removed.location, `/openid/passkeys?client=${CLIENT.clientID}&done=removed`)
    assert.deepEqual(ids('carol'), [second])

    const asked = await remove({ id: second, csrf }, { origin: base, cookie })
    assert.equal(asked.status, 200)
    assert.match(asked.body, /Remove your last passkey\?/)
    assert.match(asked.body, /name="confirm" value="yes"/)
    assert.deepEqual(ids('carol'), [second], 'not removed before the confirmation')

    const confirmed = await remove({ id: second, csrf, confirm: 'yes' }, { 'sec-fetch-site': 'same-origin', cookie })
    assert.equal(confirmed.status, 303)
    assert.deepEqual(ids('carol'), [])
  })
})
