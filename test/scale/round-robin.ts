/**
 * A small load balancer for tests: one loopback origin in front of several instances,
 * round-robin by default or routed by the test, failing over when an instance is down.
 * It records which instance served each request.
 */
import { request, type IncomingMessage, type ServerResponse } from 'node:http'
import { startLoopbackServer, type LoopbackServer } from '../support/server.ts'

export interface Served {
  method: string
  path: string
  instance: number
  status: number
}

export interface RoundRobin {
  origin: string
  /** Ports of the instances behind the balancer, in order. */
  upstreams: number[]
  /** Pick the instance for a request; default round-robin. */
  route: ((req: IncomingMessage) => number | undefined) | undefined
  /** Every request served, with the instance that answered. */
  served: Served[]
  close(): Promise<void>
}

/** Start the balancer; set `upstreams` before sending traffic. */
export async function startRoundRobin(): Promise<RoundRobin> {
  const server: LoopbackServer = await startLoopbackServer()
  let next = 0
  const balancer: RoundRobin = { origin: server.origin, upstreams: [], route: undefined, served: [], close: () => server.close() }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, instance: number, attemptsLeft: number): void {
    const upstream = request(
      { host: '127.0.0.1', port: balancer.upstreams[instance], method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        balancer.served.push({ method: req.method ?? 'GET', path: (req.url ?? '').split('?')[0]!, instance, status: answer.statusCode ?? 0 })
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => {
      // The instance is down: an instance that is up takes the request, as a load balancer does.
      if (attemptsLeft > 0) forward(req, res, body, (instance + 1) % balancer.upstreams.length, attemptsLeft - 1)
      else res.writeHead(502).end()
    })
    upstream.end(body)
  }

  server.handle((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const instance = balancer.route?.(req) ?? next++ % balancer.upstreams.length
      forward(req, res, Buffer.concat(chunks), instance, balancer.upstreams.length - 1)
    })
  })
  return balancer
}
