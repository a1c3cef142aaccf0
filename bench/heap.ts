/**
 * Heap growth: a fresh site process, a first batch of completed logins, a heap reading
 * (after forced collections), the rest of the logins, a second reading.
 *
 * @packageDocumentation
 */
import { LOAD } from './config.ts'
import { startServerProcess } from './children.ts'
import type { HeapReading } from './ipc.ts'
import { runLogins } from './load.ts'
import type { SiteName } from './sites/site.ts'

/** The two heap readings of one site and what the logins cost. */
export interface HeapGrowth {
  /** Completed logins before each reading. */
  checkpoints: [number, number]
  /** The reading after the first checkpoint. */
  first: HeapReading
  /** The reading after the second checkpoint. */
  second: HeapReading
  /** `second.withoutSessions - first.withoutSessions`, bytes. */
  growth: number
  /** `growth` per login between the checkpoints, bytes. */
  growthPerLogin: number
  /** Failed requests over both batches. */
  failures: number
  /** The first failure, described. */
  firstFailure?: string
  /** Whether the site process could force garbage collections. */
  gc: boolean
}

/** Measure heap growth of site `name` against the provider at `opURL`, in a fresh process. */
export async function measureHeapGrowth(name: SiteName, opURL: string): Promise<HeapGrowth> {
  const site = await startServerProcess({ role: 'site', site: name, opURL })
  try {
    const { origin, routes } = site.ready
    const [firstCheckpoint, secondCheckpoint] = LOAD.heapCheckpoints
    const batch = (logins: number) => runLogins(origin, routes!.initiationPath, routes!.callbackPath!, { logins }, LOAD.heapConnections)
    const firstRun = await batch(firstCheckpoint)
    const first = await site.call<HeapReading>({ type: 'heap' })
    const secondRun = await batch(secondCheckpoint - firstCheckpoint)
    const second = await site.call<HeapReading>({ type: 'heap' })
    const growth = second.withoutSessions - first.withoutSessions
    const result: HeapGrowth = {
      checkpoints: [firstRun.completed, firstRun.completed + secondRun.completed],
      first,
      second,
      growth,
      growthPerLogin: growth / Math.max(1, secondRun.completed),
      failures: firstRun.failures + secondRun.failures,
      gc: site.ready.gc,
    }
    const firstFailure = firstRun.firstFailure ?? secondRun.firstFailure
    if (firstFailure !== undefined) result.firstFailure = firstFailure
    return result
  } finally {
    await site.stop()
  }
}
