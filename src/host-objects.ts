/**
 * The request and the response as the strategy and its flow stores see them, whatever
 * the host: described by the few members they use, so that the package's declarations
 * need no host's types. Express's `Request` and Node's `ServerResponse` fit them, and so
 * do what the Fastify and Koa adapters hand over.
 *
 * @packageDocumentation
 */
import type { IncomingHttpHeaders } from 'node:http'

/**
 * The members of a request the strategy reads. Express's `Request` has them, and so do
 * the requests @fastify/passport and koa-passport hand to a strategy.
 */
export interface JustpassRequest {
  /** The HTTP method. */
  method?: string
  /** The request's path and query, as the host has it (after a mount point is stripped). */
  url?: string
  /** The request's path and query as they were sent (Express), preferred over `url`. */
  originalUrl?: string
  /** The request headers, by lower-case name. */
  headers: IncomingHttpHeaders
  /** The host name the request was sent to, as the host reads it (a trusted proxy's `X-Forwarded-Host` included). */
  hostname?: string
  /** The session the host's session middleware attached. */
  session?: unknown
  /** The logged-in user, as passport attached it. */
  user?: unknown
  /** The response (Express, Connect, NestJS on Express). */
  res?: unknown
  /** The response a host adapter attached (`justpassSetup` on Fastify and Koa). */
  justpassResponse?: JustpassHostResponse
}

/**
 * What the strategy and its flow stores write to a response: `Set-Cookie` lines (flow
 * cookies) and, for a URL-only start, a whole JSON answer. Node's `ServerResponse` has
 * all of it; `justpassSetup` on Fastify and Koa attaches one that writes through the
 * host's own reply, as `req.justpassResponse`.
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
