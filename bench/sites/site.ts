/**
 * What every bench site is and how it is built: Express 5, express-session with its own
 * MemoryStore, on its own loopback server.
 *
 * @packageDocumentation
 */
import express, { type Express } from 'express'
import session from 'express-session'
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
  /** The site's session store. */
  store: session.MemoryStore
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
  store: session.MemoryStore
}

/** Start a site's server and its app with express-session over a fresh MemoryStore. */
export async function siteShell(): Promise<SiteShell> {
  const server = await startLoopbackServer()
  const store = new session.MemoryStore()
  const app = express()
  app.use(session({ name: SESSION_COOKIE, secret: SESSION_SECRET, resave: false, saveUninitialized: false, store }))
  return { server, app, store }
}
