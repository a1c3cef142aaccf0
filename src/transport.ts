/**
 * The HTTP transport of every provider call (discovery, token, userinfo, JWKS): a
 * fetch-compatible function on node:http and node:https with keep-alive agents, given
 * to openid-client as its `customFetch` and to jose's remote key set.
 *
 * Why not the global `fetch`: undici's fetch costs about a quarter of a login's CPU time
 * for its two provider calls (token, userinfo); a plain `request` on a kept-alive socket
 * does the same work for about a third less CPU. It is also where the size cap lives:
 * no provider answer is read past {@link MAX_RESPONSE_BYTES}.
 *
 * What it does of fetch: `method`, `headers` (a record or a `Headers`), `body` (a string,
 * `URLSearchParams`, bytes or none), `signal` (an abort rejects with the signal's reason,
 * as fetch does). It never follows a redirect: openid-client and jose only ask for
 * `redirect: 'manual'`, and a 3xx is returned as it came. It asks for no compression.
 *
 * @packageDocumentation
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'

/** The most a provider answer's body may hold: 1 MiB. */
export const MAX_RESPONSE_BYTES = 1024 * 1024

/** {@link MAX_RESPONSE_BYTES} in words, for messages. */
export const MAX_RESPONSE_SIZE = '1 MiB'

/** How long an idle kept-alive socket stays open, in milliseconds (a server's shorter `Keep-Alive: timeout` wins). */
const IDLE_SOCKET_TIMEOUT = 4_000

/** Statuses whose response has no body, for which `Response` refuses one. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304])

/** Error codes of a kept-alive socket the server closed just as it was reused: the request never reached it. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE'])

/** What a call passes, as openid-client (`CustomFetchOptions`) and jose (`FetchImplementation`) send it. */
export interface ProviderFetchInit {
  /** The HTTP method; `GET` when absent. */
  method?: string
  /** Request headers: openid-client sends a record, jose a `Headers`. */
  headers?: Record<string, string> | Headers
  /** The body: a string, form parameters, bytes, or none. A stream is refused. */
  body?: string | URLSearchParams | Uint8Array | ArrayBuffer | ReadableStream | null
  /** Only `'manual'` is ever asked for; no redirect is followed whatever it says. */
  redirect?: string
  /** Aborting it destroys the request and rejects with its reason. */
  signal?: AbortSignal | null
  /** Ignored: only set for stream bodies, which are refused. */
  duplex?: string
}

/** A fetch-compatible function for provider calls; see {@link createProviderFetch}. */
export type ProviderFetch = (url: string, init?: ProviderFetchInit) => Promise<Response>

/**
 * The provider could not be talked to: the connection was refused or reset, the name did
 * not resolve, TLS failed. What fetch reports as `TypeError: fetch failed`.
 */
export class TransportConnectionError extends Error {
  /** The system error code (`ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`, a TLS code, ...). */
  readonly code: string

  /**
   * @param code - the underlying error's code
   * @param options - standard error options (`cause`: the underlying error)
   */
  constructor(code: string, options?: ErrorOptions) {
    super(`the connection to the provider failed (${code})`, options)
    this.name = 'TransportConnectionError'
    this.code = code
  }
}

/** Why an answer was not read: larger than the cap, or not an HTTP response a `Response` can carry. */
export type TransportResponseErrorCode = 'ERR_RESPONSE_TOO_LARGE' | 'ERR_RESPONSE_MALFORMED'

/** The provider answered, but not with something the transport hands on. */
export class TransportResponseError extends Error {
  /** `ERR_RESPONSE_TOO_LARGE`: past {@link MAX_RESPONSE_BYTES}; `ERR_RESPONSE_MALFORMED`: not usable HTTP. */
  readonly code: TransportResponseErrorCode

  /**
   * @param code - what was wrong with the answer
   * @param options - standard error options (`cause`)
   */
  constructor(code: TransportResponseErrorCode, options?: ErrorOptions) {
    super(code === 'ERR_RESPONSE_TOO_LARGE' ? `the answer is larger than ${MAX_RESPONSE_SIZE}` : 'the answer is not a usable HTTP response', options)
    this.name = 'TransportResponseError'
    this.code = code
  }
}

/** The transport's own error in `err` or its causes (openid-client wraps what a fetch throws), if any. */
export function findTransportError(err: unknown): TransportConnectionError | TransportResponseError | undefined {
  let current = err
  for (let depth = 0; depth < 8 && current instanceof Error; depth++, current = current.cause) {
    if (current instanceof TransportConnectionError || current instanceof TransportResponseError) return current
  }
  return undefined
}

/** How to reach one protocol: its `request` and its kept-alive agent. */
interface Route {
  request: typeof httpRequest
  agent: HttpAgent
}

/** One call, ready to send (and to send again on a fresh socket). */
interface Call {
  route: Route
  url: URL
  options: RequestOptions
  body: string | Uint8Array | undefined
  signal: AbortSignal | undefined
}

/**
 * A fetch-compatible function for one provider context, with its own keep-alive agents
 * (made here, once; no socket is opened until the first call).
 */
export function createProviderFetch(): ProviderFetch {
  const agentOptions = { keepAlive: true, scheduling: 'lifo' as const, timeout: IDLE_SOCKET_TIMEOUT }
  const routes = new Map<string, Route>([
    ['http:', { request: httpRequest, agent: new HttpAgent(agentOptions) }],
    ['https:', { request: httpsRequest as typeof httpRequest, agent: new HttpsAgent(agentOptions) }],
  ])
  return (url, init = {}) => {
    try {
      return send(prepare(routes, url, init), true)
    } catch (err) {
      return Promise.reject(err)
    }
  }
}

/** The call `url` and `init` describe. Throws a `TypeError` for what it cannot send. */
function prepare(routes: Map<string, Route>, url: string, init: ProviderFetchInit): Call {
  const target = new URL(url)
  const route = routes.get(target.protocol)
  if (route === undefined) throw new TypeError(`unsupported protocol ${target.protocol}`)
  const body = encodeBody(init.body)
  const options: RequestOptions = { method: init.method ?? 'GET', headers: requestHeaders(init.headers, init.body, body), agent: route.agent }
  return { route, url: target, options, body, signal: init.signal ?? undefined }
}

/** The body as bytes or a string, ready to write. */
function encodeBody(body: ProviderFetchInit['body']): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined
  if (typeof body === 'string') return body
  if (body instanceof URLSearchParams) return body.toString()
  if (body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  throw new TypeError('the provider transport sends no stream bodies')
}

/** The request headers: the caller's (names lowercased), a content type as fetch would add one, and the body's length. */
function requestHeaders(given: ProviderFetchInit['headers'], source: ProviderFetchInit['body'], body: string | Uint8Array | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  if (given instanceof Headers) given.forEach((value, name) => (headers[name] = value))
  else if (given) for (const name of Object.keys(given)) headers[name.toLowerCase()] = given[name]!
  if (body === undefined) return headers
  if (headers['content-type'] === undefined && typeof source === 'string') headers['content-type'] = 'text/plain;charset=UTF-8'
  if (headers['content-type'] === undefined && source instanceof URLSearchParams) headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8'
  headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength)
  return headers
}

/**
 * Whether a call may be sent again after its kept-alive socket failed: only a GET or HEAD
 * (userinfo, JWKS, discovery). A POST (the code exchange) is never sent twice: the server
 * may have read it before the socket failed, and a code must reach the token endpoint
 * once. The idle timeout below the servers' usual keep-alive keeps that failure rare.
 */
function isRetriable(call: Call): boolean {
  return call.options.method === 'GET' || call.options.method === 'HEAD'
}

/**
 * Send one call. An abort rejects with the signal's reason. A kept-alive socket the
 * server had already closed fails before any answer: then, when `mayRetry` and the call
 * is a GET or HEAD, it is sent once more, on a fresh socket.
 */
function send(call: Call, mayRetry: boolean): Promise<Response> {
  const { signal } = call
  if (signal?.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    let settled = false
    let answered = false
    const req: ClientRequest = call.route.request(call.url, call.options)
    const onAbort = () => {
      req.destroy()
      settle(signal!.reason)
    }
    const settle = (err: unknown, response?: Response | Promise<Response>) => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      if (response) resolve(response)
      else reject(err)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return
      const stale = mayRetry && !answered && req.reusedSocket && STALE_SOCKET_CODES.has(err.code ?? '') && isRetriable(call)
      if (stale) settle(undefined, send(call, false))
      else settle(transportError(err))
    })
    req.on('response', (res: IncomingMessage) => {
      answered = true
      readCapped(req, res, settle)
    })
    req.end(call.body)
  })
}

/** The transport error for a failure of the request or of its response stream. */
function transportError(err: NodeJS.ErrnoException): Error {
  const code = typeof err.code === 'string' ? err.code : 'ERR_CONNECTION'
  if (code.startsWith('HPE_')) return new TransportResponseError('ERR_RESPONSE_MALFORMED', { cause: err })
  return new TransportConnectionError(code, { cause: err })
}

/**
 * Read the answer's body, at most {@link MAX_RESPONSE_BYTES}: a `Content-Length` above
 * it is refused before any byte is read, and a body that grows past it is cut there.
 * Either way the request is destroyed and nothing past the cap is kept.
 */
function readCapped(req: ClientRequest, res: IncomingMessage, settle: (err: unknown, response?: Response) => void): void {
  const tooLarge = () => {
    req.destroy()
    settle(new TransportResponseError('ERR_RESPONSE_TOO_LARGE'))
  }
  if (Number(res.headers['content-length']) > MAX_RESPONSE_BYTES) return tooLarge()
  const chunks: Buffer[] = []
  let size = 0
  res.on('data', (chunk: Buffer) => {
    size += chunk.length
    if (size > MAX_RESPONSE_BYTES) return tooLarge()
    chunks.push(chunk)
  })
  res.on('end', () => {
    const response = toResponse(res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    if (response instanceof Response) settle(undefined, response)
    else settle(response)
  })
  res.on('error', (err: NodeJS.ErrnoException) => settle(transportError(err)))
  // A body cut short by the connection closing (an 'error' is not always emitted).
  res.on('close', () => {
    if (!res.complete) settle(new TransportConnectionError('ECONNRESET'))
  })
}

/** The answer as a fetch `Response`; a `TransportResponseError` when `Response` cannot carry it (a status outside 200-599). */
function toResponse(res: IncomingMessage, body: Buffer): Response | TransportResponseError {
  const status = res.statusCode ?? 0
  try {
    const headers = new Headers()
    const raw = res.rawHeaders
    for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!)
    return new Response(NULL_BODY_STATUSES.has(status) ? null : body, { status, statusText: res.statusMessage ?? '', headers })
  } catch (err) {
    return new TransportResponseError('ERR_RESPONSE_MALFORMED', { cause: err })
  }
}

/**
 * A site's own fetch (for an egress proxy, say) with the same cap as the built-in
 * transport: an answer announcing more than {@link MAX_RESPONSE_BYTES}, or sending more,
 * is cancelled and refused with `ERR_RESPONSE_TOO_LARGE`; nothing past the cap is kept.
 */
export function capProviderFetch(siteFetch: (url: string, init?: RequestInit) => Promise<Response>): ProviderFetch {
  return async (url, init) => {
    let response: Response
    try {
      response = await siteFetch(url, init as RequestInit | undefined)
    } catch (err) {
      // A timeout stays one (the request's signal); any other rejection is a failed connection.
      if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) throw err
      const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code
      throw new TransportConnectionError(typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'ERR_SITE_FETCH', { cause: err })
    }
    const announced = Number(response.headers.get('content-length') ?? 0)
    if (announced > MAX_RESPONSE_BYTES) {
      await response.body?.cancel().catch(() => {})
      throw new TransportResponseError('ERR_RESPONSE_TOO_LARGE')
    }
    if (response.body === null) return response
    const chunks: Uint8Array[] = []
    let size = 0
    const reader = response.body.getReader()
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.byteLength
      if (size > MAX_RESPONSE_BYTES) {
        await reader.cancel().catch(() => {})
        throw new TransportResponseError('ERR_RESPONSE_TOO_LARGE')
      }
      chunks.push(read.value)
    }
    const body = NULL_BODY_STATUSES.has(response.status) ? null : Buffer.concat(chunks)
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers })
  }
}
