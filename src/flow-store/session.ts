/**
 * The session flow store: pending flows kept in the session under one key, by state.
 * For hosts where the strategy cannot reach the response to set a cookie. It writes the
 * session on every start, so it inherits the session store's behaviour under concurrency:
 * with express-session the last save of a session wins, and two tabs starting at the
 * same moment can lose a flow; an anonymous start creates a session.
 *
 * @packageDocumentation
 */
import { JustpassUsageError } from '../errors.js'
import type { NewFlow, PendingFlow } from '../flow.js'
import { nowInSeconds, type FlowExchange, type JustpassFlowStore, type TakenFlow } from './types.js'

/** Pending flows by `state`, as the session store keeps them. */
export type PendingFlows = Record<string, PendingFlow>

type Session = Record<string, unknown>

function sessionOf(exchange: FlowExchange): Session {
  const session = (exchange.req as { session?: unknown }).session
  if (typeof session !== 'object' || session === null) {
    throw new JustpassUsageError('no session on the request: add session middleware (express-session or similar) before passport, or use the cookie flow store')
  }
  return session as Session
}

/** Keeps pending flows in `req.session[sessionKey]`, each taken at most once, expiring, bounded. */
export class SessionFlowStore implements JustpassFlowStore {
  /** Seconds a flow stays valid. */
  readonly maxAge: number
  readonly #key: string
  readonly #maxPending: number

  /**
   * @param sessionKey - the session property that holds the flows
   * @param maxAge - seconds a flow stays valid
   * @param maxPending - flows kept per session; the oldest go first
   */
  constructor(sessionKey: string, maxAge: number, maxPending: number) {
    this.#key = sessionKey
    this.maxAge = maxAge
    this.#maxPending = maxPending
  }

  /**
   * Remember a flow under its `state`. Expired flows are dropped on the way, and the
   * oldest ones when the session already holds `maxPending`.
   */
  put(exchange: FlowExchange, state: string, flow: NewFlow): void {
    const session = sessionOf(exchange)
    const stored = session[this.#key]
    const flows = typeof stored === 'object' && stored !== null ? (stored as PendingFlows) : {}
    const time = nowInSeconds()
    const live = Object.entries(flows)
      .filter(([, pending]) => time - pending.started <= this.maxAge)
      .sort(([, a], [, b]) => a.started - b.started)
    const next: PendingFlows = {}
    for (const [key, pending] of live.slice(Math.max(0, live.length - (this.#maxPending - 1)))) next[key] = pending
    next[state] = { ...flow, started: time }
    session[this.#key] = next
  }

  /**
   * Take the flow of `state` out of the session: it can never be taken again, whether
   * it is still valid or has expired. An unknown state leaves the session as it was (a
   * stray callback must not create one).
   */
  take(exchange: FlowExchange, state: string): TakenFlow {
    const session = sessionOf(exchange)
    const flows = session[this.#key]
    if (typeof flows !== 'object' || flows === null || !Object.hasOwn(flows, state)) return { status: 'unknown' }
    const pending = flows as PendingFlows
    const flow = pending[state] as PendingFlow
    delete pending[state]
    if (Object.keys(pending).length === 0) delete session[this.#key]
    if (nowInSeconds() - flow.started > this.maxAge) return { status: 'expired', flow }
    return { status: 'found', flow }
  }
}
