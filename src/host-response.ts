/**
 * The response as the strategy writes to it, whatever the host: Node's `ServerResponse`
 * on Express, and small stand-ins that host adapters build on Fastify and Koa.
 *
 * @packageDocumentation
 */

/**
 * What the strategy and its flow stores write to a response: `Set-Cookie` lines (flow
 * cookies) and, for a URL-only start, a whole JSON answer. Node's `ServerResponse` has
 * all of it; {@link justpassFastifyHook} and {@link justpassKoa} attach one that writes
 * through the host's own reply, as `req.justpassResponse`.
 */
export interface JustpassHostResponse {
  /** The status of the answer. */
  statusCode: number
  /** Add to a header's values (the flow cookies: `Set-Cookie`), keeping those already set. */
  appendHeader(name: string, value: string | string[]): unknown
  /** Set a header, replacing its value. */
  setHeader(name: string, value: string | number): unknown
  /** Send the answer with `body`. */
  end(body?: string): unknown
}
