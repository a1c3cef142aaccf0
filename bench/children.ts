/**
 * The parent's side of a bench server process: start it with `--expose-gc` under tsx,
 * wait until it listens, send it commands, stop it.
 *
 * @packageDocumentation
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { pin } from './affinity.ts'
import type { ChildRole, Command, ReadyMessage, Reply } from './ipc.ts'

/** A running server process. */
export interface ServerProcess {
  /** What it said when it started listening. */
  ready: ReadyMessage
  /** The process id, to stop it and only it. */
  pid: number
  /** Send a command and wait for its answer. */
  call<T = unknown>(command: DistributiveOmit<Command, 'id'>): Promise<T>
  /** Ask it to close its server and exit; kill it if it does not within two seconds. */
  stop(): Promise<void>
}

/** `Omit` applied to each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

const CHILD_ENTRY = fileURLToPath(new URL('./child.ts', import.meta.url))
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url))

/**
 * Start a server process for `role` and wait until it listens.
 *
 * @param cpus - the CPUs to pin it to (taskset list), or none
 */
export async function startServerProcess(role: ChildRole, cpus?: string): Promise<ServerProcess> {
  const child: ChildProcess = fork(CHILD_ENTRY, [JSON.stringify(role)], {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>()
  let nextId = 1
  let exited = false
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true
      for (const { reject } of pending.values()) reject(new Error('server process exited'))
      pending.clear()
      resolve()
    }),
  )

  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`server process exited with code ${code} before listening`)))
    child.once('message', (message: ReadyMessage) => resolve(message))
  })
  // Pinned once listening: every thread it has; threads it starts later inherit the main thread's CPUs.
  if (cpus !== undefined) pin(child.pid!, cpus)
  child.on('message', (message: Reply | ReadyMessage) => {
    if (!('id' in message)) return
    const waiter = pending.get(message.id)
    if (!waiter) return
    pending.delete(message.id)
    if (message.ok) waiter.resolve(message.value)
    else waiter.reject(new Error(message.error))
  })

  function call<T>(command: DistributiveOmit<Command, 'id'>): Promise<T> {
    if (exited) return Promise.reject(new Error('server process exited'))
    const id = nextId++
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject })
      child.send({ ...command, id })
    })
  }

  return {
    ready,
    pid: child.pid!,
    call,
    async stop() {
      if (exited) return
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000)
      call({ type: 'close' }).catch(() => undefined)
      await exit
      clearTimeout(timer)
    },
  }
}
