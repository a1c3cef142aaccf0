/**
 * The benchmark's results: the per-round measurements summarised into medians, the
 * ratios between contenders, and each target's PASS or MISS. This is what
 * bench/results.json holds and what the table shows.
 *
 * @packageDocumentation
 */
import { cpus } from 'node:os'
import { LOAD, TARGETS } from './config.ts'
import type { HeadToHead } from './head-to-head.ts'
import type { HeapGrowth } from './heap.ts'
import type { SessionBytes } from './ipc.ts'
import type { MeasuredInitiation, MeasuredLogin } from './measure.ts'
import type { SiteName } from './sites/site.ts'
import { median } from './stats.ts'

/** The contenders, as the results name them. */
export const CONTENDERS: Record<SiteName, string> = {
  A: 'JustpassStrategy',
  B: 'openid-client Strategy',
  C: 'floor (no strategy)',
}

/** A contender's initiation figures: the medians and every round. */
export interface InitiationSummary {
  /** Median requests/s. */
  rps: number
  /** Median p99 latency, milliseconds. */
  p99: number
  /** Median site CPU time per request, microseconds. */
  cpuPerRequest: number
  /** Every round, in round order. */
  rounds: MeasuredInitiation[]
}

/** A contender's full-login figures: the medians and every round. */
export interface LoginSummary {
  /** Median completed logins/s. */
  loginsPerSecond: number
  /** Median site CPU time per completed login, microseconds. */
  cpuPerLogin: number
  /** Every round, in round order. */
  rounds: MeasuredLogin[]
}

/** The head-to-head measurements: the pairs the targets compare, loaded at once. */
export interface HeadToHeads {
  /** A against B, initiation requests/s. */
  initiationAvsB: HeadToHead
  /** A against C, initiation requests/s. */
  initiationAvsC: HeadToHead
  /** A against B, completed logins/s. */
  loginAvsB: HeadToHead
}

/** One target and how the run did against it. */
export interface TargetCheck {
  /** What is compared. */
  name: string
  /** The measured value. */
  value: number
  /** `'>='` or `'<'`. */
  comparison: '>=' | '<'
  /** The value wanted. */
  target: number
  /** Whether `value comparison target` holds. */
  pass: boolean
}

/** Everything the run measured and concluded. */
export interface BenchResults {
  /** When the run ended, ISO 8601. */
  date: string
  /** `process.version`. */
  node: string
  /** `os.cpus()[0].model`. */
  cpu: string
  /** Logical cores. */
  cores: number
  /** The load shape the run used (see `LOAD` in config.ts). */
  settings: {
    connections: number
    roundSeconds: number
    warmupSeconds: number
    loginWarmupSeconds: number
    rounds: number
    headToHeadRounds: number
    headToHeadSeconds: number
    sessionFlows: number
    heapCheckpoints: readonly number[]
    heapConnections: number
    /** Whether the sites had a core of their own (taskset), apart from the load generator and provider. */
    pinned: boolean
  }
  /** Initiation, per contender. */
  initiation: Record<SiteName, InitiationSummary>
  /** Full login, per contender (A and B). */
  login: Partial<Record<SiteName, LoginSummary>>
  /** Session bytes per pending flow, per contender. */
  sessionBytes: Partial<Record<SiteName, SessionBytes>>
  /** Heap growth, per contender measured (A). */
  heap: Partial<Record<SiteName, HeapGrowth>>
  /** The head-to-head rounds: the same ratios, with the host's slow spells falling on both contenders alike. */
  headToHead: HeadToHeads
  /** The ratios between contenders, from the runs each made alone on the core: the targets are checked against these. */
  ratios: {
    /** A / B, median initiation requests/s. */
    initiationAvsB: number
    /** A / B, median completed logins/s. */
    loginAvsB: number
    /** A / C, median initiation requests/s. */
    initiationAvsC: number
    /** The median of the per-round A / B initiation ratios (paired rounds), for comparison. */
    initiationAvsBPaired: number
    /** The median of the per-round A / B login ratios (paired rounds), for comparison. */
    loginAvsBPaired: number
    /** A / B, session bytes per pending flow. */
    sessionBytesAvsB: number
    /** B / A, median site CPU per initiation request: the throughput ratio CPU cost alone predicts. */
    initiationCpuBvsA: number
    /** B / A, median site CPU per login. */
    loginCpuBvsA: number
    /** C / A, median site CPU per initiation request. */
    initiationCpuCvsA: number
  }
  /** Each target, PASS or MISS. */
  targets: TargetCheck[]
  /** Failed requests over the whole run; the run fails when there is any. */
  failures: { count: number; first?: string }
  /** Seconds the whole run took. */
  elapsedSeconds: number
}

/** What the run hands over to be summarised. */
export interface RawMeasurements {
  /** Every initiation round, per contender, in round order. */
  initiation: Record<SiteName, MeasuredInitiation[]>
  /** Every full-login round, per contender, in round order. */
  login: Record<'A' | 'B', MeasuredLogin[]>
  /** The head-to-head rounds. */
  headToHeads: HeadToHeads
  /** Failures during the warm-up runs. */
  warmupFailures: { count: number; first?: string }
  /** Session bytes per pending flow, per contender. */
  sessionBytes: Partial<Record<SiteName, SessionBytes>>
  /** Heap growth, per contender measured. */
  heap: Partial<Record<SiteName, HeapGrowth>>
  /** Whether the sites had a core of their own. */
  pinned: boolean
  /** Seconds the run took until the summary. */
  elapsedSeconds: number
}

function pairedRatio<T>(a: T[], b: T[], value: (run: T) => number): number {
  return median(a.map((run, i) => value(run) / value(b[i]!)))
}

function check(name: string, value: number, comparison: '>=' | '<', target: number): TargetCheck {
  return { name, value, comparison, target, pass: comparison === '>=' ? value >= target : value < target }
}

/** Summarise the raw measurements: medians, ratios, targets, failures. */
export function summarize(raw: RawMeasurements): BenchResults {
  const initiation = Object.fromEntries(
    (Object.keys(raw.initiation) as SiteName[]).map((name) => {
      const rounds = raw.initiation[name]
      const summary: InitiationSummary = {
        rps: median(rounds.map((r) => r.rps)),
        p99: median(rounds.map((r) => r.p99)),
        cpuPerRequest: median(rounds.map((r) => r.cpuPerRequest)),
        rounds,
      }
      return [name, summary]
    }),
  ) as Record<SiteName, InitiationSummary>
  const loginSummary = (rounds: MeasuredLogin[]): LoginSummary => ({
    loginsPerSecond: median(rounds.map((r) => r.loginsPerSecond)),
    cpuPerLogin: median(rounds.map((r) => r.cpuPerLogin)),
    rounds,
  })
  const login = { A: loginSummary(raw.login.A), B: loginSummary(raw.login.B) }
  const perFlowA = raw.sessionBytes.A?.perFlow ?? Number.NaN
  const ratios = {
    initiationAvsB: initiation.A.rps / initiation.B.rps,
    loginAvsB: login.A.loginsPerSecond / login.B.loginsPerSecond,
    initiationAvsC: initiation.A.rps / initiation.C.rps,
    initiationAvsBPaired: pairedRatio(raw.initiation.A, raw.initiation.B, (r) => r.rps),
    loginAvsBPaired: pairedRatio(raw.login.A, raw.login.B, (r) => r.loginsPerSecond),
    sessionBytesAvsB: perFlowA / (raw.sessionBytes.B?.perFlow ?? Number.NaN),
    initiationCpuBvsA: initiation.B.cpuPerRequest / initiation.A.cpuPerRequest,
    loginCpuBvsA: login.B.cpuPerLogin / login.A.cpuPerLogin,
    initiationCpuCvsA: initiation.C.cpuPerRequest / initiation.A.cpuPerRequest,
  }
  const { headToHeads } = raw
  const targets = [
    check('initiation req/s, JustpassStrategy / openid-client', ratios.initiationAvsB, '>=', TARGETS.initiationVsOpenidClient),
    check('full login logins/s, JustpassStrategy / openid-client', ratios.loginAvsB, '>=', TARGETS.loginVsOpenidClient),
    check('initiation req/s, JustpassStrategy / floor', ratios.initiationAvsC, '>=', TARGETS.initiationVsFloor),
    check('session bytes per pending JustpassStrategy flow', perFlowA, '<', TARGETS.sessionBytesPerFlow),
  ]

  const runs: Array<{ failures: number; firstFailure?: string }> = [
    ...Object.values(raw.initiation).flat(),
    ...Object.values(raw.login).flat(),
    ...Object.values(raw.heap),
    ...Object.values(headToHeads).flatMap((pair) => pair.rounds),
  ]
  let count = raw.warmupFailures.count
  let first = raw.warmupFailures.first
  for (const run of runs) {
    count += run.failures
    if (run.failures > 0) first ??= run.firstFailure ?? 'non-redirect initiation responses'
  }
  const failures: BenchResults['failures'] = first === undefined ? { count } : { count, first }

  const cpu = cpus()
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    settings: { ...LOAD, pinned: raw.pinned },
    initiation,
    login,
    sessionBytes: raw.sessionBytes,
    heap: raw.heap,
    headToHead: headToHeads,
    ratios,
    targets,
    failures,
    elapsedSeconds: raw.elapsedSeconds,
  }
}
