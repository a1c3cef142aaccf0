/**
 * `npm start`: the example shop on http://localhost:3000 with a demo user, and the local
 * justpass-compatible provider on http://localhost:3001, passkeys and users kept in
 * SQLite files under .data/ (`npm run reset` deletes them, to start the demo over).
 * With JUSTPASS_OP_URL, JUSTPASS_CLIENT_ID and JUSTPASS_CLIENT_SECRET set, the shop talks to justpass.me instead and no local
 * provider starts (register the shop's callback there, and its /login as where sign-out
 * returns). With REDIS_URL set, sessions live in Redis, so that several instances
 * (same SESSION_SECRET, same DATA_DIR) can serve one site behind a load balancer.
 */
import { mkdirSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'
import { PortInUseError, startLocalProvider, type LocalProvider } from '../provider/index.ts'
import { markRunning } from './reset.ts'
import { createShop } from './shop/app.ts'

const DEMO = { username: 'demo', password: 'demo-password' }

/** A port that is taken, with the environment variable that chooses another. */
class BusyPort extends Error {
  constructor(readonly port: number, readonly variable: string) {
    super(`Port ${port} is already in use (is npm start already running?). Start with ${variable}=<another port> npm start.`)
  }
}

function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new Error(`${name} must be a port number`)
  return value
}

async function main(): Promise<void> {
  const shopPort = port('PORT', 3000)
  const shopOrigin = process.env.SHOP_ORIGIN ?? `http://localhost:${shopPort}`
  const dataDir = process.env.DATA_DIR ?? join(process.cwd(), '.data')
  mkdirSync(dataDir, { recursive: true })

  const real = ['JUSTPASS_OP_URL', 'JUSTPASS_CLIENT_ID', 'JUSTPASS_CLIENT_SECRET'] as const
  const given = real.filter((name) => process.env[name])
  if (given.length > 0 && given.length < real.length) {
    throw new Error(`set all of ${real.join(', ')} to use justpass.me, or none to use the local provider (missing: ${real.filter((name) => !given.includes(name)).join(', ')})`)
  }

  let provider: LocalProvider | undefined
  let justpass: { opURL: string; clientID: string; clientSecret: string }
  if (given.length === real.length) {
    justpass = { opURL: process.env.JUSTPASS_OP_URL!, clientID: process.env.JUSTPASS_CLIENT_ID!, clientSecret: process.env.JUSTPASS_CLIENT_SECRET! }
  } else {
    const client = { clientID: 'example-shop', clientSecret: randomBytes(32).toString('base64url') }
    const providerPort = port('PROVIDER_PORT', 3001)
    provider = await startLocalProvider({
      port: providerPort,
      database: join(dataDir, 'provider.sqlite'),
      // The shop's callback, and its login page as where the provider's sign-out sends the browser back.
      clients: [{ ...client, clientName: 'Example shop', redirectURIs: [`${shopOrigin}/justpass/callback`], postLogoutRedirectURIs: [`${shopOrigin}/login`] }],
    }).catch((err: unknown) => {
      throw err instanceof PortInUseError ? new BusyPort(providerPort, 'PROVIDER_PORT') : err
    })
    justpass = { ...client, opURL: provider.opURL }
  }

  // While Redis is away, session reads and writes fail at once (no queue to wait in) and the
  // shop answers its error page; the client reconnects on its own and the shop recovers.
  // Without an 'error' listener, the first Redis socket error would end the process.
  const redis = process.env.REDIS_URL
    ? createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true, socket: { reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000) } })
    : undefined
  redis?.on('error', (err: Error) => console.error(`shop: Redis: ${err.message}`))
  await redis?.connect()
  const shop = createShop({
    ...justpass,
    origin: shopOrigin,
    database: join(dataDir, 'shop.sqlite'),
    sessionSecret: process.env.SESSION_SECRET ?? randomBytes(32).toString('base64url'),
    ...(redis ? { sessionStore: new RedisStore({ client: redis, prefix: 'shop:sess:' }) } : {}),
  })
  if (!shop.db.findByUsername(DEMO.username)) {
    try {
      await shop.db.createUser(DEMO.username, DEMO.password)
    } catch (err) {
      // Another instance sharing the database seeded it first.
      if (!shop.db.findByUsername(DEMO.username)) throw err
    }
  }
  const server = shop.app.listen(shopPort, '127.0.0.1')
  try {
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject))
  } catch (err) {
    shop.close()
    await provider?.close()
    await redis?.quit()
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new BusyPort(shopPort, 'PORT') : err
  }

  const unmark = markRunning(dataDir)
  console.log(`
  passport-justpass example shop

    shop       ${shopOrigin}
    provider   ${provider ? `${provider.opURL} (local; passkeys and sign-ins in ${join(dataDir, 'provider.sqlite')})` : justpass.opURL}
    sessions   ${redis ? `Redis at ${new URL(process.env.REDIS_URL!).host}` : 'in memory'}
    log in as  ${DEMO.username} / ${DEMO.password}
${provider ? `    passkeys   managed at ${provider.issuer}/passkeys
    start over stop, then npm run reset (a lost passkey, another browser)
` : ''}
  Ctrl-C stops both.
`)

  const stop = async () => {
    unmark()
    server.closeAllConnections()
    server.close()
    shop.close()
    await provider?.close()
    await redis?.quit()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main().catch((err: unknown) => {
  console.error(err instanceof BusyPort ? err.message : `The shop could not start: ${err instanceof Error ? err.message : String(err)}`)
  process.exit(1)
})
