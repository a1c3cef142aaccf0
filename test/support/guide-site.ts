/**
 * A site of the guides (example/readme/) on loopback for the tests of one `describe`:
 * its address, the provider it trusts, and a SQLite user store in memory, started before
 * the tests and stopped after them.
 */
import { after, before } from 'node:test'
import type { RequestListener } from 'node:http'
import Database from 'better-sqlite3'
import { SqliteUserStore } from '../../example/readme/user-store.ts'
import { startTestProvider, type TestProvider } from './provider.ts'
import { startLoopbackServer, type LoopbackServer } from './server.ts'

/** What a guide's site runs with; filled in before the tests. */
export interface GuideSite<Provider> {
  /** The site's origin, `http://127.0.0.1:<port>`. */
  origin: string
  /** The site's callback URL at that origin. */
  callbackURL: string
  /** The provider the site trusts. */
  provider: Provider
  /** The SQLite database in memory, and the guide's user store over it. */
  db: Database.Database
  users: SqliteUserStore
}

/** How to start one: the callback's path, the users, the provider, and the site itself. */
export interface GuideSiteSetup<Provider> {
  /** Default `/justpass/callback`. */
  callbackPath?: string
  /** Users who log in with `<name>-password`. Default none. */
  usernames?: string[]
  /** Start the provider for the site's callback URL. Default: the test provider. */
  provider?: (callbackURL: string) => Promise<Provider>
  /** The site's request listener (an Express app), given everything above. */
  site: (guide: GuideSite<Provider>) => RequestListener | Promise<RequestListener>
}

/**
 * Start a guide's site before the tests of the enclosing `describe` and stop it after
 * them. The object returned is filled in by the `before` hook: read it in tests and hooks.
 */
export function guideSiteForSuite<Provider extends { close(): Promise<void> } = TestProvider>(setup: GuideSiteSetup<Provider>): GuideSite<Provider> {
  const guide = {} as GuideSite<Provider>
  let server: LoopbackServer | undefined
  before(async () => {
    server = await startLoopbackServer() // the site's address first: the provider needs its callback URL
    guide.origin = server.origin
    guide.callbackURL = `${server.origin}${setup.callbackPath ?? '/justpass/callback'}`
    const startProvider = setup.provider ?? ((callbackURL) => startTestProvider({ redirectURIs: [callbackURL] }) as unknown as Promise<Provider>)
    guide.provider = await startProvider(guide.callbackURL)
    guide.db = new Database(':memory:')
    guide.users = new SqliteUserStore(guide.db)
    for (const name of setup.usernames ?? []) await guide.users.addUser(name, `${name}-password`)
    server.handle(await setup.site(guide))
  })
  after(async () => {
    await server?.close()
    await guide.provider?.close()
    guide.db?.close()
  })
  return guide
}
