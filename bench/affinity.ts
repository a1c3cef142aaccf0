/**
 * CPU affinity on Linux (taskset): the site under load gets a core of its own, and the
 * load generator and the provider share the others, so that they never take CPU time
 * from the site they measure. Without taskset, or with a single core, nothing is pinned.
 *
 * @packageDocumentation
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

/** Which CPUs each side runs on, as taskset lists them. */
export interface AffinityPlan {
  /** The CPU the sites run on: the last one. */
  sites: string
  /** The CPUs the load generator (this process) and the provider run on: all the others. */
  driver: string
}

/** Pin every thread of process `pid` to `cpus`; `false` when it could not be done. */
export function pin(pid: number, cpus: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * The affinity plan for this machine, with this process already pinned to the driver
 * CPUs; `undefined` when pinning is not possible (not Linux, no taskset, one core).
 */
export function planAffinity(): AffinityPlan | undefined {
  const cores = availableParallelism()
  if (process.platform !== 'linux' || cores < 2) return undefined
  const last = cores - 1
  const plan: AffinityPlan = { sites: String(last), driver: last === 1 ? '0' : `0-${last - 1}` }
  return pin(process.pid, plan.driver) ? plan : undefined
}
