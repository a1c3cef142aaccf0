/**
 * The bench's own redis-server: on 127.0.0.1, on a free port, nothing written to disk,
 * started for the Redis rows and stopped after them, also when the run fails or exits.
 * A client of its own reads how many commands the sites sent it.
 *
 * @packageDocumentation
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createClient } from 'redis'
import { pin } from './affinity.ts'

/** A running redis-server. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT`. */
  url: string
  /** Commands the server has processed so far (`total_commands_processed`, the reading itself excluded). */
  commands(): Promise<number>
  /** Stop it (SIGTERM, then SIGKILL after two seconds); safe to call more than once. */
  stop(): Promise<void>
}

/** A port nobody listens on right now, on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * Start redis-server on 127.0.0.1 and wait until it answers.
 *
 * @param cpus - the CPUs to pin it to (taskset list), or none
 */
export async function startRedisServer(cpus?: string): Promise<RedisServer> {
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  let exited = false
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true
      resolve()
    }),
  )
  // Whatever ends the run, the server ends with it.
  const killOnExit = () => child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const spawned = new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject))

  const client = createClient({ url, socket: { reconnectStrategy: false } })
  client.on('error', () => undefined)
  const stop = async () => {
    if (client.isOpen) await client.close().catch(() => undefined)
    process.removeListener('exit', killOnExit)
    if (exited) return
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
    child.kill('SIGTERM')
    await exit
    clearTimeout(timer)
  }

  try {
    await spawned
    if (cpus !== undefined) pin(child.pid!, cpus)
    for (let attempt = 0; ; attempt++) {
      if (exited) throw new Error('redis-server exited before answering')
      try {
        await client.connect()
        break
      } catch (err) {
        if (attempt >= 50) throw err
        await sleep(100)
      }
    }
  } catch (err) {
    await stop()
    throw new Error(`redis-server did not start on ${url}: ${err instanceof Error ? err.message : String(err)}`)
  }

  return {
    url,
    async commands() {
      const stats = await client.info('stats')
      const match = /total_commands_processed:(\d+)/.exec(stats)
      if (!match) throw new Error('redis-server reported no total_commands_processed')
      return Number(match[1])
    },
    stop,
  }
}
