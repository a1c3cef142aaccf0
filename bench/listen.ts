/**
 * A node:http server on 127.0.0.1, on a free port.
 *
 * @packageDocumentation
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A listening loopback server. */
export interface LoopbackServer {
  /** `http://127.0.0.1:PORT`. */
  origin: string
  /** The underlying server. */
  server: Server
  /** Set (or replace) the request handler: a site needs its origin before it exists. */
  handle(listener: RequestListener): void
  /** Stop listening and drop every connection. */
  close(): Promise<void>
}

/** Start an HTTP server on 127.0.0.1 on a free port; it answers 503 until given a handler. */
export async function listenLoopback(): Promise<LoopbackServer> {
  let current: RequestListener = (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server = createServer((req, res) => current(req, res))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    server,
    handle(listener) {
      current = listener
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
