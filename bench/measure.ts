/**
 * One measured run against a site process: empty its session store and collect its
 * garbage, read its CPU time, put the load on, read its CPU time again. The CPU time the
 * site spent per request (or per login) is a second view of its cost, one that other
 * work on the machine disturbs far less than it disturbs throughput.
 *
 * @packageDocumentation
 */
import type { ServerProcess } from './children.ts'
import type { CpuReading } from './ipc.ts'
import { runInitiation, runLogins, type InitiationRun, type LoginRun, type LoginRunLength } from './load.ts'

/** An initiation run with the site's CPU time per request. */
export interface MeasuredInitiation extends InitiationRun {
  /** Site CPU time (all its threads) per request answered, microseconds. */
  cpuPerRequest: number
  /** Commands the session store's Redis processed per request answered, when the sessions are in Redis. */
  redisCommandsPerRequest?: number
}

/** A login run with the site's CPU time per completed login. */
export interface MeasuredLogin extends LoginRun {
  /** Site CPU time (all its threads) per completed login, microseconds. */
  cpuPerLogin: number
  /** Commands the session store's Redis processed per completed login, when the sessions are in Redis. */
  redisCommandsPerLogin?: number
}

/** Reads how many commands the Redis behind a site's sessions has processed so far (each reading counts one). */
export type CommandCounter = () => Promise<number>

/** Commands between two readings of `counter`, the first reading itself left out. */
async function commandsDuring<T>(counter: CommandCounter | undefined, run: () => Promise<T>): Promise<{ result: T; commands?: number }> {
  if (counter === undefined) return { result: await run() }
  const before = await counter()
  const result = await run()
  return { result, commands: (await counter()) - before - 1 }
}

async function cpuOf(site: ServerProcess): Promise<number> {
  const { user, system } = await site.call<CpuReading>({ type: 'cpu' })
  return user + system
}

/**
 * Reset `site`, then run its initiation route for `seconds`.
 *
 * @param redis - the command counter of the Redis that holds the site's sessions, if it does
 */
export async function measureInitiation(site: ServerProcess, seconds: number, redis?: CommandCounter): Promise<MeasuredInitiation> {
  await site.call({ type: 'reset' })
  const before = await cpuOf(site)
  const { result: run, commands } = await commandsDuring(redis, () => runInitiation(site.ready.origin, site.ready.routes!.initiationPath, seconds))
  const spent = (await cpuOf(site)) - before
  const measured: MeasuredInitiation = { ...run, cpuPerRequest: spent / Math.max(1, run.requests) }
  if (commands !== undefined) measured.redisCommandsPerRequest = commands / Math.max(1, run.requests)
  return measured
}

/**
 * Reset `site`, then run full logins against it.
 *
 * @param redis - the command counter of the Redis that holds the site's sessions, if it does
 */
export async function measureLogins(site: ServerProcess, length: LoginRunLength, redis?: CommandCounter): Promise<MeasuredLogin> {
  await site.call({ type: 'reset' })
  const before = await cpuOf(site)
  const { origin, routes } = site.ready
  const { result: run, commands } = await commandsDuring(redis, () => runLogins(origin, routes!.initiationPath, routes!.callbackPath!, length))
  const spent = (await cpuOf(site)) - before
  const measured: MeasuredLogin = { ...run, cpuPerLogin: spent / Math.max(1, run.completed) }
  if (commands !== undefined) measured.redisCommandsPerLogin = commands / Math.max(1, run.completed)
  return measured
}

