/**
 * What every bench site is and how it is built: Express 5, express-session with its own
 * MemoryStore (or, as in production, a Redis store through connect-redis), on its own
 * loopback server.
 *
 * @packageDocumentation
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { RedisStore } from 'connect-redis'
import express, { type Express } from 'express'
import session from 'express-session'
import { createClient } from 'redis'
import { SESSION_COOKIE, SESSION_SECRET } from '../config.ts'
import { startLoopbackServer, type LoopbackServer } from '../../test/support/server.ts'

/** The contenders, by letter. */
export type SiteName = 'A' | 'B' | 'C'

/** A site's routes and what it keeps per pending flow, as the benchmark drives them. */
export interface SiteRoutes {
  /** The route that starts a login and redirects to the provider. */
  initiationPath: string
  /** The callback route; `undefined` for the floor, which has none. */
  callbackPath?: string
}

/** What a session holds for the pending flows of one site. */
export interface PendingInSession {
  /** The session property the flows are kept under. */
  key: string
  /** How many flows it holds. */
  flows: number
}

/** A running bench site. */
export interface BenchSite extends SiteRoutes {
  /** `http://127.0.0.1:PORT`. */
  origin: string
  /** The site's session store: it can count and clear its sessions. */
  store: SiteStore
  /** Where the site's pending flows are in `session`, when it holds any. */
  pending(session: Record<string, unknown>): PendingInSession | undefined
  /** Stop the server. */
  close(): Promise<void>
}

/** The Express app and session store of a site, before its routes. */
export interface SiteShell {
  /** The server, already listening; its origin makes the callback URL. */
  server: LoopbackServer
  /** The app, with session middleware; add passport and routes, then serve it. */
  app: Express
  /** The session store the app uses. */
  store: SiteStore
  /** Stop the server and let go of the store's connection, if it has one. */
  close(): Promise<void>
}

/** Milliseconds a closing site leaves the handlers of cut-off requests to finish before it lets go of Redis. */
const STORE_DRAIN_MS = 500

/** A session store that can count and clear its sessions (MemoryStore and connect-redis's can). */
export type SiteStore = session.Store & Required<Pick<session.Store, 'length' | 'clear'>>

/**
 * Start a site's server and its app with express-session over a fresh MemoryStore, or,
 * with `redisURL`, over connect-redis with keys under a prefix of the site's own.
 *
 * @param name - the site, for its Redis key prefix
 */
export async function siteShell(name: SiteName, redisURL?: string): Promise<SiteShell> {
  const server = await startLoopbackServer()
  const redis = redisURL === undefined ? undefined : createClient({ url: redisURL })
  // Without a listener, the first Redis socket error would end the process; the client reconnects on its own.
  redis?.on('error', (err: Error) => console.error(`bench site ${name}: Redis: ${err.message}`))
  await redis?.connect()
  const store: SiteStore = redis === undefined ? new session.MemoryStore() : new RedisStore({ client: redis, prefix: `bench:${name}:sess:` })
  const app = express()
  app.use(session({ name: SESSION_COOKIE, secret: SESSION_SECRET, resave: false, saveUninitialized: false, store }))
  const close = async () => {
    await server.close()
    if (redis === undefined) return
    // Requests cut off at the end of the last run may still have handlers on their way to the store.
    await sleep(STORE_DRAIN_MS)
    if (redis.isOpen) await redis.close()
  }
  return { server, app, store, close }
}
