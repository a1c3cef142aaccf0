/**
 * A loopback HTTP server whose port is known before its handler is: tests (and the
 * benchmark) need the site's callback URL to configure the provider, and the provider's
 * URL to build the site.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface LoopbackServer {
  /** `http://127.0.0.1:PORT` */
  origin: string
  /** Install the request handler (until then, every request gets 503). */
  handle(listener: RequestListener): void
  close(): Promise<void>
}

/** Listen on 127.0.0.1 on a free port. */
export async function startLoopbackServer(): Promise<LoopbackServer> {
  let current: RequestListener = (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server: Server = createServer((req, res) => current(req, res))
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    handle(listener) {
      current = listener
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
