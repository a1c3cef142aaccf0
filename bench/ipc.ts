/**
 * The messages between the bench (parent) and its server processes (children).
 *
 * @packageDocumentation
 */
import type { SiteName, SiteRoutes } from './sites/site.ts'

/** What a child runs. */
export type ChildRole = { role: 'provider' } | { role: 'site'; site: SiteName; opURL: string }

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
  | { id: number; type: 'cpu' }
  | { id: number; type: 'close' }

/** A child's answer to a {@link Command}. */
export type Reply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: string }
