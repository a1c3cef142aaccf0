/**
 * The benchmark's results: the per-round measurements summarised into medians, the
 * ratios between contenders, and each target's PASS or FAIL. This is what
 * bench/results.json holds and what the table shows.
 *
 * @packageDocumentation
 */
import { cpus } from 'node:os'
import { LOAD, TARGETS } from './config.ts'
import type { HeadToHead } from './head-to-head.ts'
import type { HeapGrowth } from './heap.ts'
import type { PendingBytes } from './ipc.ts'
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
  /** Median Redis commands per request, when the sessions were in Redis. */
  redisCommandsPerRequest?: number
  /** Every round, in round order. */
  rounds: MeasuredInitiation[]
}

/** A contender's full-login figures: the medians and every round. */
export interface LoginSummary {
  /** Median completed logins/s. */
  loginsPerSecond: number
  /** Median site CPU time per completed login, microseconds. */
  cpuPerLogin: number
  /** Median Redis commands per completed login, when the sessions were in Redis. */
  redisCommandsPerLogin?: number
  /** Every round, in round order. */
  rounds: MeasuredLogin[]
}

/** The contenders measured with their sessions in Redis. */
export type RedisSiteName = 'A' | 'B'

/** The runs with the sessions in Redis (connect-redis on the bench's own redis-server). */
export interface RedisSummary {
  /** Initiation, per contender. */
  initiation: Record<RedisSiteName, InitiationSummary>
  /** Full login, per contender. */
  login: Record<RedisSiteName, LoginSummary>
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
  /** Whether `value comparison target` holds: PASS, or FAIL. */
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
    pendingFlows: number
    heapCheckpoints: readonly number[]
    heapConnections: number
    redisRounds: number
    redisWarmupSeconds: number
    /** Whether the sites had a core of their own (taskset), apart from the load generator and provider. */
    pinned: boolean
  }
  /** Initiation, per contender. */
  initiation: Record<SiteName, InitiationSummary>
  /** Full login, per contender (A and B). */
  login: Partial<Record<SiteName, LoginSummary>>
  /** What one visitor's pending flows cost, per contender: flow cookie bytes (A), session bytes (B, C). */
  pendingBytes: Partial<Record<SiteName, PendingBytes>>
  /** Initiation and full login with the sessions in Redis, A and B. */
  redis: RedisSummary
  /** Heap growth, per contender measured (A). */
  heap: Partial<Record<SiteName, HeapGrowth>>
  /** The head-to-head rounds: the same ratios, with the host's slow spells falling on both contenders alike. */
  headToHead: HeadToHeads
  /**
   * The ratios between contenders, from the runs each made alone on the core: three of
   * the targets are checked against these, the fourth against the head-to-head login ratio.
   */
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
    /**
     * A / B, the bytes one pending flow adds where it is kept: A's in the `Cookie` header
     * of each request, B's in its session. `NaN` when either is unknown or B's is 0.
     */
    flowBytesAvsB: number
    /** A / B, median initiation requests/s, sessions in Redis. */
    redisInitiationAvsB: number
    /** A / B, median completed logins/s, sessions in Redis. */
    redisLoginAvsB: number
    /** B / A, median site CPU per initiation request: the throughput ratio CPU cost alone predicts. */
    initiationCpuBvsA: number
    /** B / A, median site CPU per login. */
    loginCpuBvsA: number
    /** C / A, median site CPU per initiation request. */
    initiationCpuCvsA: number
  }
  /** Each target, PASS or FAIL. */
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
  /** What one visitor's pending flows cost, per contender. */
  pendingBytes: Partial<Record<SiteName, PendingBytes>>
  /** Every round with the sessions in Redis, per contender, in round order. */
  redis: { initiation: Record<RedisSiteName, MeasuredInitiation[]>; login: Record<RedisSiteName, MeasuredLogin[]> }
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

/** `a / b`, or `NaN` when either is unknown or `b` is 0. */
function ratio(a: number | undefined, b: number | undefined): number {
  return a === undefined || b === undefined || b === 0 ? Number.NaN : a / b
}

/** The median of the rounds' values that are defined; `undefined` when none is. */
function medianOf<T>(rounds: T[], value: (round: T) => number | undefined): number | undefined {
  const values = rounds.map(value).filter((each): each is number => each !== undefined)
  return values.length === 0 ? undefined : median(values)
}

function initiationSummary(rounds: MeasuredInitiation[]): InitiationSummary {
  const summary: InitiationSummary = {
    rps: median(rounds.map((r) => r.rps)),
    p99: median(rounds.map((r) => r.p99)),
    cpuPerRequest: median(rounds.map((r) => r.cpuPerRequest)),
    rounds,
  }
  const commands = medianOf(rounds, (r) => r.redisCommandsPerRequest)
  if (commands !== undefined) summary.redisCommandsPerRequest = commands
  return summary
}

function loginSummary(rounds: MeasuredLogin[]): LoginSummary {
  const summary: LoginSummary = {
    loginsPerSecond: median(rounds.map((r) => r.loginsPerSecond)),
    cpuPerLogin: median(rounds.map((r) => r.cpuPerLogin)),
    rounds,
  }
  const commands = medianOf(rounds, (r) => r.redisCommandsPerLogin)
  if (commands !== undefined) summary.redisCommandsPerLogin = commands
  return summary
}

/** Summarise the raw measurements: medians, ratios, targets, failures. */
export function summarize(raw: RawMeasurements): BenchResults {
  const initiation = Object.fromEntries(
    (Object.keys(raw.initiation) as SiteName[]).map((name) => [name, initiationSummary(raw.initiation[name])]),
  ) as Record<SiteName, InitiationSummary>
  const login = { A: loginSummary(raw.login.A), B: loginSummary(raw.login.B) }
  const redis: RedisSummary = {
    initiation: { A: initiationSummary(raw.redis.initiation.A), B: initiationSummary(raw.redis.initiation.B) },
    login: { A: loginSummary(raw.redis.login.A), B: loginSummary(raw.redis.login.B) },
  }
  // Where each keeps a pending flow: A in a cookie of its own (no session), B in the session.
  const flowBytesA = raw.pendingBytes.A?.cookie?.cookieHeaderPerFlow ?? raw.pendingBytes.A?.session?.perFlow
  const flowBytesB = raw.pendingBytes.B?.session?.perFlow ?? raw.pendingBytes.B?.cookie?.cookieHeaderPerFlow
  const ratios = {
    initiationAvsB: initiation.A.rps / initiation.B.rps,
    loginAvsB: login.A.loginsPerSecond / login.B.loginsPerSecond,
    initiationAvsC: initiation.A.rps / initiation.C.rps,
    initiationAvsBPaired: pairedRatio(raw.initiation.A, raw.initiation.B, (r) => r.rps),
    loginAvsBPaired: pairedRatio(raw.login.A, raw.login.B, (r) => r.loginsPerSecond),
    flowBytesAvsB: ratio(flowBytesA, flowBytesB),
    redisInitiationAvsB: redis.initiation.A.rps / redis.initiation.B.rps,
    redisLoginAvsB: redis.login.A.loginsPerSecond / redis.login.B.loginsPerSecond,
    initiationCpuBvsA: initiation.B.cpuPerRequest / initiation.A.cpuPerRequest,
    loginCpuBvsA: login.B.cpuPerLogin / login.A.cpuPerLogin,
    initiationCpuCvsA: initiation.C.cpuPerRequest / initiation.A.cpuPerRequest,
  }
  const { headToHeads } = raw
  const targets = [
    check('initiation req/s, JustpassStrategy / openid-client', ratios.initiationAvsB, '>=', TARGETS.initiationVsOpenidClient),
    check('full login logins/s, JustpassStrategy / openid-client', ratios.loginAvsB, '>=', TARGETS.loginVsOpenidClient),
    check('initiation req/s, JustpassStrategy / floor', ratios.initiationAvsC, '>=', TARGETS.initiationVsFloor),
    check('full login logins/s, JustpassStrategy / openid-client, head to head', headToHeads.loginAvsB.ratio, '>=', TARGETS.loginVsOpenidClientHeadToHead),
  ]

  const runs: Array<{ failures: number; firstFailure?: string }> = [
    ...Object.values(raw.initiation).flat(),
    ...Object.values(raw.login).flat(),
    ...Object.values(raw.redis.initiation).flat(),
    ...Object.values(raw.redis.login).flat(),
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
    pendingBytes: raw.pendingBytes,
    redis,
    heap: raw.heap,
    headToHead: headToHeads,
    ratios,
    targets,
    failures,
    elapsedSeconds: raw.elapsedSeconds,
  }
}
