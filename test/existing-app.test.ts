/**
 * example/existing-app: passkeys added to an existing passport-local app, over HTTP
 * against the local provider (the passkey step done in code): the migration of a users
 * table that already holds users (run twice, it changes nothing), a password-only user
 * staying logged in, REG, the passkey as second factor behind
 * passport.authenticate('local'), a passkey refused while passkey login is off, and a
 * wrong password.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import Database from 'better-sqlite3'
import { callbackDriver, createExistingApp, hashPassword, VERSION_1_SCHEMA } from '../example/existing-app/app.ts'
import { migrate } from '../example/existing-app/store.ts'
import { Browser } from './support/browser.ts'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'
import { startTestProvider, type TestProvider } from './support/provider.ts'

type Home = { user: { username: string; justpassEnabled: boolean } | null; notice: { mode: string; ok: boolean; reason?: string } | null }

describe('example/existing-app: passkeys added to a passport-local app', () => {
  let raw: Database.Database
  let server: LoopbackServer
  let provider: TestProvider
  let origin: string

  before(async () => {
    // The app as it was: version 1 of its schema, two users with passwords.
    raw = new Database(':memory:')
    raw.exec(VERSION_1_SCHEMA)
    for (const name of ['alice', 'bob']) {
      const salt = randomBytes(16)
      raw.prepare('INSERT INTO users (username, hashed_password, salt) VALUES (?, ?, ?)').run(name, await hashPassword(`${name}-password`, salt), salt)
    }
    server = await startLoopbackServer()
    origin = server.origin
    provider = await startTestProvider({ redirectURIs: [`${origin}/justpass/callback`] })
    server.handle(await createExistingApp({ db: callbackDriver(raw), opURL: provider.opURL, clientID: provider.clientID, clientSecret: provider.clientSecret, callbackURL: `${origin}/justpass/callback`, sessionSecret: 'existing-app-session-secret' }))
  })
  after(async () => {
    await server.close()
    await provider.close()
    raw.close()
  })

  /** The password step of the app's own form. */
  async function passwordStep(browser: Browser, username: string, password = `${username}-password`) {
    return browser.post(`${origin}/login/password`, { username, password })
  }

  test('the migration added the passkey columns to the table with its users; run again, it adds nothing', async () => {
    const columns = raw.prepare("SELECT name FROM pragma_table_info('users')").pluck().all()
    assert.deepEqual(columns, ['id', 'username', 'hashed_password', 'salt', 'justpass_enabled', 'justpass_sub'])
    assert.deepEqual(raw.prepare('SELECT username, justpass_enabled, justpass_sub FROM users ORDER BY id').all(), [
      { username: 'alice', justpass_enabled: 0, justpass_sub: null },
      { username: 'bob', justpass_enabled: 0, justpass_sub: null },
    ])
    assert.deepEqual(await migrate(callbackDriver(raw)), [])
    const missing = new Database(':memory:')
    await assert.rejects(migrate(callbackDriver(missing)), /The users table does not exist/)
    missing.close()
  })

  test('a password-only user is logged in by the password and stays logged in', async () => {
    const browser = new Browser()
    const step = await passwordStep(browser, 'bob')
    assert.equal(step.location, `${origin}/`)
    for (let i = 0; i < 2; i++) assert.equal((await browser.json<Home>(`${origin}/`)).user?.username, 'bob')
  })

  test('a wrong password goes back to the login page; nobody is logged in', async () => {
    const browser = new Browser()
    assert.equal((await passwordStep(browser, 'alice', 'wrong')).location, `${origin}/login?failed=1`)
    assert.equal((await browser.json<Home>(`${origin}/`)).user, null)
  })

  test('REG, then the passkey as second factor behind passport.authenticate(\'local\')', async () => {
    const browser = new Browser()
    await passwordStep(browser, 'alice')
    await browser.follow(`${origin}/justpass/reg`)
    const row = raw.prepare('SELECT justpass_enabled, justpass_sub FROM users WHERE username = ?').get('alice') as { justpass_enabled: number; justpass_sub: string }
    assert.deepEqual(row, { justpass_enabled: 1, justpass_sub: provider.subOf('alice') })
    await browser.post(`${origin}/logout`, {})
    assert.equal((await browser.json<Home>(`${origin}/`)).user, null)

    const step = await passwordStep(browser, 'alice')
    assert.equal(step.location, `${origin}/justpass/login`, 'the password alone does not log alice in any more')
    assert.equal((await browser.json<Home>(`${origin}/`)).user, null)
    const { hops } = await browser.follow(`${origin}/justpass/login`)
    assert.equal(provider.authorizationRequests.at(-1)?.get('login_hint'), 'alice')
    assert.equal(hops.at(-1)?.url, `${origin}/`)
    assert.deepEqual(JSON.parse(hops.at(-1)!.body), { user: { id: 1, username: 'alice', justpassEnabled: true }, notice: { mode: 'login', ok: true, message: 'You are signed in with your passkey.' } })
  })

  test('a passkey of a user whose passkey login is off is refused (passkey_login_off)', async () => {
    await provider.withBehaviour({ action: 'approve', account: 'bob' }, async () => {
      const browser = new Browser()
      const { hops } = await browser.follow(`${origin}/justpass/login`)
      assert.equal(hops.at(-1)?.url, `${origin}/login`)
      assert.equal((JSON.parse(hops.at(-1)!.body) as { notice: { reason: string } }).notice.reason, 'passkey_login_off')
    })
  })
})
