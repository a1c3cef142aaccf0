/**
 * Session stores for tests: express-session's MemoryStore behind a delay (as Redis or
 * SQL under load), counting writes; and a real redis-server on loopback with connect-redis.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import session from 'express-session'
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'

type Callback = (err?: unknown) => void

/** A MemoryStore whose every read and write waits `delay` ms first, and that counts writes. */
export class DelayedStore extends session.Store {
  readonly #inner = new session.MemoryStore()
  readonly #delay: number
  /** `set` calls so far: each is a whole session written. */
  writes = 0

  /** @param delay - milliseconds each call waits */
  constructor(delay: number) {
    super()
    this.#delay = delay
  }

  #later(run: () => void): void {
    setTimeout(run, this.#delay)
  }

  override get(sid: string, callback: (err: unknown, data?: session.SessionData | null) => void): void {
    this.#later(() => this.#inner.get(sid, callback))
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    this.writes++
    this.#later(() => this.#inner.set(sid, data, callback))
  }

  override destroy(sid: string, callback?: Callback): void {
    this.#later(() => this.#inner.destroy(sid, callback))
  }

  override touch(sid: string, data: session.SessionData, callback?: Callback): void {
    this.#later(() => this.#inner.touch(sid, data, () => callback?.()))
  }

  override length(callback: (err: unknown, length?: number) => void): void {
    this.#inner.length(callback)
  }
}

/** How many sessions a store holds. */
export function sessionCount(store: session.Store): Promise<number> {
  return new Promise((resolve, reject) => {
    if (!store.length) return reject(new Error('this store cannot count its sessions'))
    store.length((err, length) => (err ? reject(err) : resolve(length ?? 0)))
  })
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** A redis-server on 127.0.0.1 and an express-session store on it. */
export interface RedisSessions {
  store: session.Store
  close(): Promise<void>
}

/**
 * Start redis-server (Debian's `redis-server` package) on a free loopback port, with no
 * persistence, and connect a connect-redis store to it. Fails when redis-server is missing.
 */
export async function startRedisSessions(): Promise<RedisSessions> {
  const port = await freePort()
  const server: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const exited = new Promise<never>((_, reject) => {
    server.once('error', (err) => reject(new Error(`redis-server could not be started (install Debian's redis-server): ${err.message}`)))
    server.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`)))
  })
  exited.catch(() => {})
  const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: (retries) => (retries > 50 ? new Error('redis-server did not come up') : 50) } })
  client.on('error', () => {})
  try {
    await Promise.race([client.connect(), exited])
  } catch (err) {
    server.kill('SIGKILL')
    throw err
  }
  return {
    store: new RedisStore({ client }),
    close: async () => {
      await client.quit().catch(() => {})
      server.kill('SIGKILL')
    },
  }
}
