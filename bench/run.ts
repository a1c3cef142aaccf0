/**
 * `npm run bench`: JustpassStrategy against openid-client's passport Strategy and a bare
 * floor route, side by side in one run. The load generator (autocannon) runs here; the
 * bench provider and each site run in their own server process on 127.0.0.1, so that
 * one site's garbage never weighs on another. On Linux the sites get a core of their
 * own and the load generator and provider share the rest (taskset), so that the load
 * they make and answer takes no CPU from the site measured. A and B then run again with
 * their sessions in Redis (connect-redis), as in production, against a redis-server the
 * bench starts on 127.0.0.1 and stops. Prints a table, writes bench/results.json, and
 * exits non-zero when any request failed.
 *
 * @packageDocumentation
 */
import { writeFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { planAffinity } from './affinity.ts'
import { LOAD } from './config.ts'
import { startServerProcess, type ServerProcess } from './children.ts'
import { headToHead, type HeadToHeadRound, type Throughput } from './head-to-head.ts'
import { measureHeapGrowth } from './heap.ts'
import type { PendingBytes } from './ipc.ts'
import { measureInitiation, measureLogins, type CommandCounter } from './measure.ts'
import { measurePendingBytes } from './pending-bytes.ts'
import { startRedisServer, type RedisServer } from './redis.ts'
import { summarize, type RawMeasurements, type RedisSiteName } from './results.ts'
import { interleave } from './rounds.ts'
import type { SiteName } from './sites/site.ts'
import { renderTable } from './table.ts'

const RESULTS_FILE = new URL('./results.json', import.meta.url)
const SITE_NAMES = ['A', 'B', 'C'] as const
const LOGIN_SITES = ['A', 'B'] as const
const REDIS_SITES = ['A', 'B'] as const

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`)
}

async function main(): Promise<number> {
  const started = performance.now()
  const processes: ServerProcess[] = []
  let redisServer: RedisServer | undefined
  try {
    const affinity = planAffinity()
    progress(
      affinity
        ? `starting the provider and the three sites; sites on CPU ${affinity.sites}, load generator and provider on CPU ${affinity.driver}`
        : 'starting the provider and the three sites (no CPU pinning)',
    )
    const provider = await startServerProcess({ role: 'provider' }, affinity?.driver)
    processes.push(provider)
    const opURL = provider.ready.opURL!
    const siteList = await Promise.all(SITE_NAMES.map((site) => startServerProcess({ role: 'site', site, opURL }, affinity?.sites)))
    processes.push(...siteList)
    const sites: Record<SiteName, ServerProcess> = { A: siteList[0]!, B: siteList[1]!, C: siteList[2]! }

    progress(`bytes per pending flow: ${LOAD.pendingFlows} flows started by one visitor`)
    const pendingBytes: Partial<Record<SiteName, PendingBytes>> = {}
    for (const name of SITE_NAMES) pendingBytes[name] = await measurePendingBytes(sites[name], LOAD.pendingFlows)

    progress(`warm-up: ${LOAD.warmupSeconds} s of initiation and ${LOAD.loginWarmupSeconds} s of logins per contender`)
    const warmupFailures: RawMeasurements['warmupFailures'] = { count: 0 }
    for (const name of SITE_NAMES) {
      const run = await measureInitiation(sites[name], LOAD.warmupSeconds)
      warmupFailures.count += run.failures
      if (run.failures > 0) warmupFailures.first ??= `warm-up initiation ${name}: ${run.failures} non-redirect responses`
    }
    for (const name of LOGIN_SITES) {
      const run = await measureLogins(sites[name], { seconds: LOAD.loginWarmupSeconds })
      warmupFailures.count += run.failures
      if (run.failures > 0) warmupFailures.first ??= `warm-up login ${name}: ${run.firstFailure}`
    }

    progress(`initiation: ${LOAD.rounds} rounds of ${LOAD.roundSeconds} s`)
    const initiation = await interleave(SITE_NAMES, LOAD.rounds, async (name, round) => {
      const run = await measureInitiation(sites[name], LOAD.roundSeconds)
      progress(`  round ${round + 1} ${name}: ${run.rps.toFixed(0)} req/s, p99 ${run.p99} ms, site CPU ${run.cpuPerRequest.toFixed(0)} µs/req`)
      return run
    })

    progress(`full login: ${LOAD.rounds} rounds of ${LOAD.roundSeconds} s`)
    const login = await interleave(LOGIN_SITES, LOAD.rounds, async (name, round) => {
      const run = await measureLogins(sites[name], { seconds: LOAD.roundSeconds })
      const failed = run.failures ? `, ${run.failures} failures` : ''
      progress(`  round ${round + 1} ${name}: ${run.loginsPerSecond.toFixed(0)} logins/s, site CPU ${run.cpuPerLogin.toFixed(0)} µs/login${failed}`)
      return run
    })

    progress(`head to head: ${LOAD.headToHeadRounds} rounds of ${LOAD.headToHeadSeconds} s per pair, both loaded at once, after one unmeasured round`)
    const initiationThroughput = (name: SiteName): Promise<Throughput> =>
      measureInitiation(sites[name], LOAD.headToHeadSeconds).then((run) => ({ perSecond: run.rps, failures: run.failures }))
    const loginThroughput = (name: SiteName): Promise<Throughput> =>
      measureLogins(sites[name], { seconds: LOAD.headToHeadSeconds }).then((run) => {
        const result: Throughput = { perSecond: run.loginsPerSecond, failures: run.failures }
        if (run.firstFailure !== undefined) result.firstFailure = run.firstFailure
        return result
      })
    const pair = async (what: string, first: SiteName, second: SiteName, measure: (name: SiteName) => Promise<Throughput>) => {
      const warmup = await headToHead(first, second, 1, measure)
      for (const round of warmup.rounds) {
        warmupFailures.count += round.failures
        if (round.failures > 0) warmupFailures.first ??= `warm-up ${what} ${first} / ${second}: ${round.firstFailure ?? 'non-redirect responses'}`
      }
      const report = (round: HeadToHeadRound, index: number) =>
        progress(`  ${what} ${first} / ${second} round ${index + 1}: ${round.first.toFixed(0)} / ${round.second.toFixed(0)} per s = ${round.ratio.toFixed(3)}`)
      return headToHead(first, second, LOAD.headToHeadRounds, measure, report)
    }
    const headToHeads = {
      initiationAvsB: await pair('initiation', 'A', 'B', initiationThroughput),
      initiationAvsC: await pair('initiation', 'A', 'C', initiationThroughput),
      loginAvsB: await pair('full login', 'A', 'B', loginThroughput),
    }

    await Promise.all(siteList.map((site) => site.stop()))

    // Sessions in Redis: the server shares the driver CPUs with the load generator and the
    // provider, so the site's core spends only what the site itself does per round trip.
    progress(`sessions in Redis: ${LOAD.redisRounds} rounds of ${LOAD.roundSeconds} s of initiation, then of full login, A and B`)
    redisServer = await startRedisServer(affinity?.driver)
    const redisURL = redisServer.url
    const counter: CommandCounter = redisServer.commands
    const redisList = await Promise.all(REDIS_SITES.map((site) => startServerProcess({ role: 'site', site, opURL, redisURL }, affinity?.sites)))
    processes.push(...redisList)
    const redisSites: Record<RedisSiteName, ServerProcess> = { A: redisList[0]!, B: redisList[1]! }
    for (const name of REDIS_SITES) {
      const initiationRun = await measureInitiation(redisSites[name], LOAD.redisWarmupSeconds, counter)
      const loginRun = await measureLogins(redisSites[name], { seconds: LOAD.redisWarmupSeconds }, counter)
      warmupFailures.count += initiationRun.failures + loginRun.failures
      if (initiationRun.failures > 0) warmupFailures.first ??= `warm-up Redis initiation ${name}: ${initiationRun.failures} non-redirect responses`
      if (loginRun.failures > 0) warmupFailures.first ??= `warm-up Redis login ${name}: ${loginRun.firstFailure}`
    }
    const redisInitiation = await interleave(REDIS_SITES, LOAD.redisRounds, async (name, round) => {
      const run = await measureInitiation(redisSites[name], LOAD.roundSeconds, counter)
      progress(`  Redis initiation round ${round + 1} ${name}: ${run.rps.toFixed(0)} req/s, site CPU ${run.cpuPerRequest.toFixed(0)} µs/req, ${run.redisCommandsPerRequest?.toFixed(2)} Redis commands/req`)
      return run
    })
    const redisLogin = await interleave(REDIS_SITES, LOAD.redisRounds, async (name, round) => {
      const run = await measureLogins(redisSites[name], { seconds: LOAD.roundSeconds }, counter)
      const failed = run.failures ? `, ${run.failures} failures` : ''
      progress(`  Redis full login round ${round + 1} ${name}: ${run.loginsPerSecond.toFixed(0)} logins/s, site CPU ${run.cpuPerLogin.toFixed(0)} µs/login, ${run.redisCommandsPerLogin?.toFixed(2)} Redis commands/login${failed}`)
      return run
    })
    await Promise.all(redisList.map((site) => site.stop()))
    await redisServer.stop()

    // The heap is read in a fresh process, unpinned: no timing is taken, so it may use
    // every core. Only JustpassStrategy's: a second site would cost as long again.
    progress(`heap: ${LOAD.heapCheckpoints.join(' then ')} logins, site A in a fresh process`)
    const heapA = await measureHeapGrowth('A', opURL)

    const results = summarize({
      initiation,
      login,
      headToHeads,
      warmupFailures,
      pendingBytes,
      redis: { initiation: redisInitiation, login: redisLogin },
      heap: { A: heapA },
      pinned: affinity !== undefined,
      elapsedSeconds: (performance.now() - started) / 1000,
    })
    process.stdout.write(`${renderTable(results)}\n`)
    await writeFile(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`)
    progress('results written to bench/results.json')
    return results.failures.count === 0 ? 0 : 1
  } finally {
    await Promise.all(processes.map((child) => child.stop()))
    await redisServer?.stop()
  }
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error(err)
    process.exitCode = 1
  },
)
