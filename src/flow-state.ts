/**
 * The pending flows of one session: what the strategy must remember between the
 * redirect to justpass.me and the callback. Kept in the session (never in process
 * memory), keyed by `state`, each taken at most once, expiring, bounded in number.
 *
 * @packageDocumentation
 */
import type { JustpassMode } from './options.js'

/** What the strategy remembers of one started flow. Short field names keep sessions small. */
export interface PendingFlow {
  /** The mode the flow was started in. */
  mode: JustpassMode
  /** The identifier the passkey must belong to: the REG user, or the 2nd-factor base username. */
  expected?: string
  /** The PKCE code verifier. */
  verifier: string
  /** The nonce the ID token must carry. */
  nonce: string
  /** The platform the request came from (`app` for a mobile app), when it said so. */
  platform?: string
  /** Where to go after a successful LOGIN: a same-origin path from `?next=`. */
  returnTo?: string
  /** When the flow started, in seconds since the epoch. */
  started: number
}

/** Pending flows by `state`, as stored in the session. */
export type PendingFlows = Record<string, PendingFlow>

/** The result of taking a flow back: the flow, or why there is none. */
export type TakenFlow =
  | { status: 'found'; flow: PendingFlow }
  | { status: 'unknown' }
  | { status: 'expired'; flow: PendingFlow }

/** The part of a session the store touches. */
export type FlowSession = Record<string, unknown>

function now(): number {
  return Math.floor(Date.now() / 1000)
}

/**
 * Puts and takes pending flows in a session, under one session key.
 */
export class FlowStateStore {
  readonly #key: string
  readonly #maxAge: number
  readonly #maxPending: number

  /**
   * @param sessionKey - the session property that holds the flows
   * @param maxAge - seconds a flow stays valid
   * @param maxPending - flows kept per session; the oldest go first
   */
  constructor(sessionKey: string, maxAge: number, maxPending: number) {
    this.#key = sessionKey
    this.#maxAge = maxAge
    this.#maxPending = maxPending
  }

  /**
   * Remember a flow under its `state`. Expired flows are dropped on the way, and the
   * oldest ones when the session already holds `maxPending`.
   */
  put(session: FlowSession, state: string, flow: Omit<PendingFlow, 'started'>): void {
    const stored = session[this.#key]
    const flows = typeof stored === 'object' && stored !== null ? (stored as PendingFlows) : {}
    const time = now()
    const live = Object.entries(flows)
      .filter(([, pending]) => time - pending.started <= this.#maxAge)
      .sort(([, a], [, b]) => a.started - b.started)
    const next: PendingFlows = {}
    for (const [key, pending] of live.slice(Math.max(0, live.length - (this.#maxPending - 1)))) next[key] = pending
    next[state] = { ...flow, started: time }
    session[this.#key] = next
  }

  /**
   * Take the flow of `state` out of the session: it can never be taken again, whether
   * it is still valid or has expired.
   */
  take(session: FlowSession, state: string): TakenFlow {
    const flows = session[this.#key]
    // An unknown state leaves the session as it was: a stray callback must not create one.
    if (typeof flows !== 'object' || flows === null || !Object.hasOwn(flows, state)) return { status: 'unknown' }
    const pending = flows as PendingFlows
    const flow = pending[state] as PendingFlow
    delete pending[state]
    if (Object.keys(pending).length === 0) delete session[this.#key]
    if (now() - flow.started > this.#maxAge) return { status: 'expired', flow }
    return { status: 'found', flow }
  }
}
