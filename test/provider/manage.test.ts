/**
 * The local provider's passkey management page refuses what it must: no passkey sign-in
 * at the provider (none, or an expired one), a state-changing request from another site
 * (another Origin, none at all, or without the page's token), a passkey id it does not
 * know, and another user's passkey; each time nothing changes, and the answer is the
 * provider's own page (or JSON for the page's calls) without a stack trace. With all
 * in order, removing works, and the last passkey goes only once confirmed. A management
 * session ends when it must: removing a passkey ends every other session of the account, a
 * session lasts only as long as the passkey that opened it, and the page signs out; new
 * passkeys get names never given before. Real provider on 127.0.0.1; the management
 * session is started through the provider's own store.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { startLocalProvider, type LocalProvider } from '../../provider/index.ts'
import { PasskeyStore, type Account } from '../../provider/passkeys.ts'

const SITE = 'http://127.0.0.1:9'
const CLIENT = { clientID: 'manage-site', clientSecret: 'manage-site-secret-0123456789abcdef0123', redirectURIs: [`${SITE}/cb`] }
const LEAKS = [/\bat\s+[#\w.<>]+\s+\(/, /SyntaxError|TypeError|Error:/, /node_modules|\/tmp\//, /Cannot (GET|POST)/]

/** Post a form to the management page's `path` at the provider on `base`; the answer, checked for leaks. */
async function postToManagement(base: string, path: string, form: Record<string, string>, headers: Record<string, string>): Promise<{ status: number; body: string; location: string | null; cookies: string[] }> {
  const response = await fetch(`${base}/openid/passkeys${path}?client=${CLIENT.clientID}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  })
  const body = await response.text()
  for (const leak of LEAKS) assert.doesNotMatch(body, leak)
  return { status: response.status, body, location: response.headers.get('location'), cookies: response.headers.getSetCookie() }
}

/** Give `account` a passkey with a random id and key, as if registered; its id. */
function addPasskeyTo(provider: LocalProvider, account: Account): string {
  const id = randomBytes(16).toString('base64url')
  provider.passkeys.addPasskey(account, { id, publicKey: randomBytes(77), counter: 0, transports: ['internal'] })
  return id
}

/** The ids of a user's passkeys at `provider`. */
function passkeyIdsOf(provider: LocalProvider, username: string): string[] {
  return provider.passkeys.passkeysOf(username).map((passkey) => passkey.id)
}

describe('the local provider\'s passkey management page refuses', () => {
  let provider: LocalProvider
  let base: string
  let alice: Account
  let bob: Account

  const addPasskey = (account: Account): string => addPasskeyTo(provider, account)
  const ids = (username: string) => passkeyIdsOf(provider, username)

  /**
   * A management session of `account`, as a passkey sign-in gives it: its cookie and token.
   * Opened with `credentialID`, or the account's first passkey (one is added when it has none).
   */
  function signIn(account: Account, ttlMs = 60_000, credentialID?: string): { cookie: string; csrf: string } {
    const opener = credentialID ?? ids(account.username)[0] ?? addPasskey(account)
    const token = provider.passkeys.startManageSession(account, opener, ttlMs)
    const csrf = provider.passkeys.manageSession(token)?.csrf ?? ''
    return { cookie: `justpass_manage=${token}`, csrf }
  }

  const remove = (form: Record<string, string>, headers: Record<string, string>) => postToManagement(base, '/remove', form, headers)

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
    assert.match(list, /Passkey 1<\/strong>Made with an unknown device, <span class="when">[^<]+<\/span><br>Never used to sign in/)
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

describe('the local provider\'s passkey management sessions end when they must', () => {
  let provider: LocalProvider
  let base: string
  let dir: string

  const addPasskey = (account: Account): string => addPasskeyTo(provider, account)
  const ids = (username: string) => passkeyIdsOf(provider, username)
  const names = (username: string) => provider.passkeys.passkeysOf(username).map((passkey) => passkey.name)

  /** A browser signed in to the management page of `account` with its passkey `credentialID`. */
  function signIn(account: Account, credentialID: string): { token: string; cookie: string; csrf: string } {
    const token = provider.passkeys.startManageSession(account, credentialID, 60_000)
    return { token, cookie: `justpass_manage=${token}`, csrf: provider.passkeys.manageSession(token)?.csrf ?? '' }
  }

  const post = (path: string, form: Record<string, string>, headers: Record<string, string>) => postToManagement(base, path, form, headers)

  async function page(cookie?: string, query = `client=${CLIENT.clientID}`): Promise<{ body: string; cookies: string[] }> {
    const response = await fetch(`${base}/openid/passkeys?${query}`, { headers: cookie ? { cookie } : {} })
    assert.equal(response.status, 200)
    return { body: await response.text(), cookies: response.headers.getSetCookie() }
  }

  /** The page a browser whose management session is over gets: the passkey sign-in again, saying so, and its cookie cleared. */
  async function assertEnded(session: { token: string; cookie: string; csrf: string }, label: string): Promise<void> {
    assert.equal(provider.passkeys.manageSession(session.token), undefined, label)
    const shown = await page(session.cookie)
    assert.match(shown.body, /<p class="notice" id="notice">Your sign-in here has ended: /, label)
    assert.match(shown.body, /<button id="signin"/, label)
    assert.doesNotMatch(shown.body, /id="passkeys"|Signed in as/, label)
    assert.ok(shown.cookies.some((cookie) => /^justpass_manage=;.*Max-Age=0/.test(cookie)), `${label}: the cookie is cleared`)
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-manage-'))
    provider = await startLocalProvider({ hostname: '127.0.0.1', clients: [CLIENT], database: join(dir, 'provider.sqlite') })
    base = provider.issuer.replace(/\/openid$/, '')
  })

  after(async () => {
    await provider?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('removing a passkey ends every other management session of the account, whichever passkey opened it; the remover\'s and other accounts\' stay', async () => {
    const dave = provider.passkeys.ensureAccount('dave')
    const [a, b, c] = [addPasskey(dave), addPasskey(dave), addPasskey(dave)] as [string, string, string]
    const owner = signIn(dave, a)
    const thief = signIn(dave, b)
    const ownerElsewhere = signIn(dave, a)
    const eve = provider.passkeys.ensureAccount('eve')
    const eves = signIn(eve, addPasskey(eve))

    const removed = await post('/remove', { id: b, csrf: owner.csrf }, { origin: base, cookie: owner.cookie })
    assert.equal(removed.status, 303)
    assert.deepEqual(ids('dave'), [a, c])

    await assertEnded(thief, 'the session opened with the removed passkey')
    await assertEnded(ownerElsewhere, 'another session of the account, opened with a passkey that stays')
    // The thief's next changes are refused: no removal, no new passkey.
    const refused = await post('/remove', { id: c, csrf: thief.csrf }, { origin: base, cookie: thief.cookie })
    assert.equal(refused.status, 401)
    assert.match(refused.body, /Sign in again to manage your passkeys/)
    const add = await fetch(`${base}/openid/passkeys/add/options`, { method: 'POST', headers: { origin: base, cookie: thief.cookie, 'x-csrf-token': thief.csrf } })
    assert.equal(add.status, 401)
    assert.deepEqual(ids('dave'), [a, c])

    const list = await page(owner.cookie)
    assert.match(list.body, /Signed in as <strong>dave<\/strong>/, 'the session that removed it stays')
    assert.match(list.body, new RegExp(`data-passkey="${c}"`))
    assert.ok(provider.passkeys.manageSession(eves.token), 'another account\'s session stays')
  })

  test('a session lasts only as long as the passkey that opened it: one stored just after its passkey went is none; one that removed its own passkey stays', async () => {
    const fay = provider.passkeys.ensureAccount('fay')
    const [a, b, c] = [addPasskey(fay), addPasskey(fay), addPasskey(fay)] as [string, string, string]
    // A sign-in checked just before its passkey was removed elsewhere, and stored just after.
    provider.passkeys.removePasskey(fay.handle, a)
    const late = signIn(fay, a)
    assert.equal(late.csrf, '', 'no session')
    const shown = await page(late.cookie)
    assert.match(shown.body, /<button id="signin"/)
    assert.doesNotMatch(shown.body, /Signed in as/)

    // Removing the passkey this very session was opened with: the person in front of it just proved to hold it.
    const own = signIn(fay, b)
    const removed = await post('/remove', { id: b, csrf: own.csrf }, { origin: base, cookie: own.cookie })
    assert.equal(removed.status, 303)
    assert.deepEqual(ids('fay'), [c])
    assert.equal(provider.passkeys.manageSession(own.token)?.credentialID, undefined)
    assert.match((await page(own.cookie)).body, /Signed in as <strong>fay<\/strong>/)
    // And it still ends with the next removal made elsewhere.
    const other = signIn(fay, c)
    addPasskey(fay)
    assert.equal((await post('/remove', { id: ids('fay').at(-1)!, csrf: other.csrf }, { origin: base, cookie: other.cookie })).status, 303)
    await assertEnded(own, 'the session that had removed its own passkey, after a removal elsewhere')
  })

  test('sign out: a form of the page; ends the session and its cookie, back to the sign-in page saying so; refused from another site or without the token', async () => {
    const gil = provider.passkeys.ensureAccount('gil')
    const session = signIn(gil, addPasskey(gil))
    const list = (await page(session.cookie)).body
    assert.match(
      list,
      new RegExp(`<form id="signout-form" method="post" action="/openid/passkeys/signout\\?client=${CLIENT.clientID}"><input type="hidden" name="csrf" value="${session.csrf}"><button id="signout"`),
    )
    const crossSite: Record<string, string>[] = [{ origin: 'http://localhost:3000', cookie: session.cookie }, { cookie: session.cookie }]
    for (const headers of crossSite) {
      assert.equal((await post('/signout', { csrf: session.csrf }, headers)).status, 403, JSON.stringify(headers))
    }
    assert.equal((await post('/signout', { csrf: 'wrong' }, { origin: base, cookie: session.cookie })).status, 403)
    assert.ok(provider.passkeys.manageSession(session.token), 'still signed in after the refused attempts')

    const out = await post('/signout', { csrf: session.csrf }, { origin: base, cookie: session.cookie })
    assert.equal(out.status, 303)
    assert.equal(out.location, `/openid/passkeys?client=${CLIENT.clientID}&done=signedout`)
    assert.ok(out.cookies.some((cookie) => /^justpass_manage=;.*Max-Age=0/.test(cookie)), 'the cookie is cleared')
    assert.equal(provider.passkeys.manageSession(session.token), undefined, 'the session is over, not only its cookie')
    const after = await page(undefined, `client=${CLIENT.clientID}&done=signedout`)
    assert.match(after.body, /<p class="notice" id="notice">You are signed out here\. Your passkeys are unchanged\.<\/p>/)
    assert.match(after.body, /<button id="signin"/)
    // The old cookie, sent again (copied elsewhere), signs nobody in.
    await assertEnded(session, 'the signed-out session')
    assert.equal((await post('/remove', { id: ids('gil')[0]!, csrf: session.csrf }, { origin: base, cookie: session.cookie })).status, 401)
    assert.equal(ids('gil').length, 1)
  })

  test('new passkeys get names the account was never given before, removed ones included', async () => {
    const hal = provider.passkeys.ensureAccount('hal')
    const first = addPasskey(hal)
    const second = addPasskey(hal)
    assert.deepEqual(names('hal'), ['Passkey 1', 'Passkey 2'])
    provider.passkeys.removePasskey(hal.handle, second)
    addPasskey(hal)
    assert.deepEqual(names('hal'), ['Passkey 1', 'Passkey 3'])
    provider.passkeys.removePasskey(hal.handle, first)
    provider.passkeys.removePasskey(hal.handle, ids('hal')[0]!)
    addPasskey(hal)
    assert.deepEqual(names('hal'), ['Passkey 4'], 'not "Passkey 1" again')
    const ivy = provider.passkeys.ensureAccount('ivy')
    addPasskey(ivy)
    assert.deepEqual(names('ivy'), ['Passkey 1'], 'each account counts its own')
  })

  test('a file from before: new names continue from the highest it has, and its management sessions (bound to no passkey) are over', () => {
    const file = join(dir, 'before.sqlite')
    const old = new Database(file)
    const token = 'an-old-management-session-token'
    old.exec(`
      CREATE TABLE accounts (handle TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE);
      CREATE TABLE passkeys (id TEXT PRIMARY KEY, user_handle TEXT NOT NULL REFERENCES accounts(handle), public_key BLOB NOT NULL, counter INTEGER NOT NULL,
        transports TEXT NOT NULL, created_at INTEGER NOT NULL, name TEXT, last_used_at INTEGER);
      CREATE TABLE manage_sessions (token_hash TEXT PRIMARY KEY, user_handle TEXT NOT NULL, csrf TEXT NOT NULL, expires_at INTEGER NOT NULL);
      INSERT INTO accounts VALUES ('h-jo', 'jo');
      INSERT INTO passkeys VALUES ('p1', 'h-jo', x'00', 0, '[]', 1, 'Passkey 1', NULL), ('p3', 'h-jo', x'00', 0, '[]', 2, 'Passkey 3', NULL);
    `)
    old.prepare('INSERT INTO manage_sessions VALUES (?, ?, ?, ?)').run(createHash('sha256').update(token).digest('base64url'), 'h-jo', 'csrf', Date.now() + 60_000)
    old.close()
    const store = new PasskeyStore(file)
    try {
      assert.equal(store.manageSession(token), undefined)
      store.addPasskey(store.accountByUsername('jo')!, { id: 'p4', publicKey: randomBytes(77), counter: 0, transports: [] })
      assert.deepEqual(store.passkeysOf('jo').map((passkey) => passkey.name), ['Passkey 1', 'Passkey 3', 'Passkey 4'])
    } finally {
      store.close()
    }
  })
})

describe('where a passkey was made, from the User-Agent of its creation', () => {
  test('browser and system in words; an unknown agent says nothing', async () => {
    const { deviceOf } = await import('../../provider/webauthn.ts')
    assert.equal(deviceOf('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36'), 'Chrome on Linux')
    assert.equal(deviceOf('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'), 'Safari on iOS')
    assert.equal(deviceOf('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0'), 'Edge on Windows')
    assert.equal(deviceOf('Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0'), 'Firefox on macOS')
    assert.equal(deviceOf('node'), undefined)
    assert.equal(deviceOf(undefined), undefined)
  })
})
