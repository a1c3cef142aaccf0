/**
 * The seam for pending flows: what the strategy remembers between the redirect to
 * justpass.me and the callback, and the interface of the stores that keep it.
 *
 * @packageDocumentation
 */
import type { JustpassHostResponse, JustpassRequest } from '../host-objects.js'
import type { NewFlow, PendingFlow } from '../flow.js'

/** The result of taking a flow back: the flow, or why there is none. */
export type TakenFlow =
  | {
      /** The flow was pending and is valid: it is handed back, and gone from the store. */
      status: 'found'
      /** The pending flow. */
      flow: PendingFlow
    }
  | {
      /** No flow of this browser has this state (never started, already taken, not readable). */
      status: 'unknown'
    }
  | {
      /** The flow was pending but is older than its maximum age: gone from the store, refused. */
      status: 'expired'
      /** The expired flow, so that the refusal can name its mode. */
      flow: PendingFlow
    }

/**
 * The request a flow store works on, and its response when the host lets the strategy
 * reach it (Express, Connect and NestJS on Express: `req.res`; Fastify and Koa through
 * their adapters). A store writes only `Set-Cookie` lines to it, with `appendHeader`.
 */
export interface FlowExchange {
  /** The request that starts or finishes the flow. */
  req: JustpassRequest
  /** The response to that request, to set cookies on; `undefined` when the host hides it. */
  res: JustpassHostResponse | undefined
}

/**
 * Where pending flows are kept. The strategy calls `put` once per started flow and
 * `take` once per callback; a store may answer synchronously or with a promise.
 *
 * Implementations must hand a flow back at most once per browser, must never hand a
 * flow to another browser than the one that started it, and must report a flow older
 * than its maximum age as `expired` (the strategy refuses it). The strategy adds its own
 * per-process replay guard on top, so a store need not be atomic across requests.
 */
export interface JustpassFlowStore {
  /**
   * Seconds a flow stays valid in this store, after which `take` answers `expired`. The
   * strategy remembers a finished state this long (its replay guard), and accepts an ID
   * token issued no longer ago. Default `600` when a store does not say.
   */
  readonly maxAge?: number
  /**
   * Remember `flow` under `state` for the browser of `exchange.req`.
   *
   * @throws {@link JustpassUsageError} when the host offers no way to keep it (no session, no response)
   */
  put(exchange: FlowExchange, state: string, flow: NewFlow): void | Promise<void>
  /**
   * Take back the flow of `state`, once: afterwards it is gone for this browser.
   *
   * @returns the flow, `expired` with the flow, or `unknown` (never started here, already
   *   taken, or not readable as one of ours)
   */
  take(exchange: FlowExchange, state: string): TakenFlow | Promise<TakenFlow>
}

/** Seconds since the epoch, as flows count time. */
export function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
