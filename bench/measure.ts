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
}

/** A login run with the site's CPU time per completed login. */
export interface MeasuredLogin extends LoginRun {
  /** Site CPU time (all its threads) per completed login, microseconds. */
  cpuPerLogin: number
}

async function cpuOf(site: ServerProcess): Promise<number> {
  const { user, system } = await site.call<CpuReading>({ type: 'cpu' })
  return user + system
}

/** Reset `site`, then run its initiation route for `seconds`. */
export async function measureInitiation(site: ServerProcess, seconds: number): Promise<MeasuredInitiation> {
  await site.call({ type: 'reset' })
  const before = await cpuOf(site)
  const run = await runInitiation(site.ready.origin, site.ready.routes!.initiationPath, seconds)
  const spent = (await cpuOf(site)) - before
  return { ...run, cpuPerRequest: spent / Math.max(1, run.requests) }
}

/** Reset `site`, then run full logins against it. */
export async function measureLogins(site: ServerProcess, length: LoginRunLength): Promise<MeasuredLogin> {
  await site.call({ type: 'reset' })
  const before = await cpuOf(site)
  const { origin, routes } = site.ready
  const run = await runLogins(origin, routes!.initiationPath, routes!.callbackPath!, length)
  const spent = (await cpuOf(site)) - before
  return { ...run, cpuPerLogin: spent / Math.max(1, run.completed) }
}

