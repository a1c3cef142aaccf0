/**
 * The messages between the bench (parent) and its server processes (children).
 *
 * @packageDocumentation
 */
import type { SiteName, SiteRoutes } from './sites/site.ts'

/** What a child runs: the provider, or a site with its sessions in memory or, given `redisURL`, in Redis. */
export type ChildRole = { role: 'provider' } | { role: 'site'; site: SiteName; opURL: string; redisURL?: string }

/** The first message of a child: it is listening. */
export interface ReadyMessage {
  /** The message kind. */
  type: 'ready'
  /** `http://127.0.0.1:PORT`. */
  origin: string
  /** The provider's `opURL` (provider only). */
  opURL?: string
  /** The site's routes (sites only). */
  routes?: SiteRoutes
  /** Whether the child can force a garbage collection (`--expose-gc`). */
  gc: boolean
}

/** The bytes a session holds for a site's pending flows. */
export interface SessionBytes {
  /** The pending flows the session holds. */
  flows: number
  /** The session's JSON, in bytes, as the store keeps it. */
  sessionBytes: number
  /** The bytes the site's pending flows add to the session's JSON (its key included). */
  pendingBytes: number
  /** `pendingBytes / flows`. */
  perFlow: number
  /** Bytes of each field of one stored flow, value JSON only, to see where they go. */
  fields: Record<string, number>
}

/** The bytes of the flow cookies of one visitor's pending flows, as HTTP/1.1 carries them. */
export interface CookieBytes {
  /** Flow cookies the visitor holds after the starts. */
  flows: number
  /** Bytes of the `Set-Cookie` header line each start adds (`Set-Cookie: ` and CRLF included), median of the starts. */
  setCookiePerStart: number
  /** Bytes one pending flow adds to the `Cookie` request header: its `name=value` and the `; ` before it, median of the flows. */
  cookieHeaderPerFlow: number
  /** Bytes of a `Cookie` header line carrying every flow cookie held and nothing else. */
  cookieHeaderWithAll: number
  /** Bytes of one flow cookie by part: name, clear start time, sealed flow, attributes of its `Set-Cookie`. */
  parts: Record<string, number>
}

/** What one visitor's pending flows cost, where the site keeps them. */
export interface PendingBytes {
  /** Flows started, one after the other, by the same visitor. */
  started: number
  /** Sessions in the site's store after the starts: 0 when starting a flow writes no session. */
  sessionsStored: number
  /** Bytes of the session cookie's `name=value` the visitor holds (per visitor, not per flow); 0 when none was set. */
  sessionCookie: number
  /** The bytes the flows take in the session, when the site kept them there. */
  session?: SessionBytes
  /** The bytes of the flow cookies, when the site kept the flows in cookies. */
  cookie?: CookieBytes
}

/** The heap of a site process, after forced collections. */
export interface HeapReading {
  /** Sessions in the site's store when read. */
  sessions: number
  /** `heapUsed` with the sessions still in the store. */
  withSessions: number
  /** `heapUsed` once the store is emptied: what the process holds apart from live sessions. */
  withoutSessions: number
}

/** CPU time a process has used so far, all its threads, in microseconds (`process.cpuUsage()`). */
export interface CpuReading {
  /** User CPU time, microseconds. */
  user: number
  /** System CPU time, microseconds. */
  system: number
}

/** A command to a child; each is answered by a {@link Reply} with the same `id`. */
export type Command =
  | { id: number; type: 'reset' }
  | { id: number; type: 'heap' }
  | { id: number; type: 'session'; sid: string }
  | { id: number; type: 'sessions' }
  | { id: number; type: 'cpu' }
  | { id: number; type: 'close' }

/** A child's answer to a {@link Command}. */
export type Reply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: string }
