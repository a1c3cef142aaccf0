/**
 * The load runs, on autocannon's programmatic API: an initiation run (requests/s and
 * p99 latency of one route) and a full-login run (completed logins/s).
 *
 * @packageDocumentation
 */
import autocannon from 'autocannon'
import { LOAD } from './config.ts'
import { loginSequence } from './login-sequence.ts'

/**
 * autocannon notices the end of a run at its next sample: short samples end runs on time
 * (its default of a second makes a 3 s run last up to 4 s).
 */
const SAMPLE_MS = 200

/** The result of an initiation run. */
export interface InitiationRun {
  /** Redirects answered per second. */
  rps: number
  /** Responses received. */
  requests: number
  /** 99th percentile latency, milliseconds. */
  p99: number
  /** Responses other than a redirect, errors and timeouts. */
  failures: number
}

/** The result of a full-login run. */
export interface LoginRun {
  /** Completed logins per second. */
  loginsPerSecond: number
  /** Completed logins. */
  completed: number
  /** Failed initiations and callbacks, errors and timeouts. */
  failures: number
  /** The first failure, described. */
  firstFailure?: string
}

/** Hammer `origin + path` for `seconds` with GETs and no cookie: each request a new visitor. */
export async function runInitiation(origin: string, path: string, seconds: number): Promise<InitiationRun> {
  const result = await autocannon({ url: `${origin}${path}`, connections: LOAD.connections, duration: seconds, sampleInt: SAMPLE_MS })
  const total = result.requests.total
  return {
    rps: total / result.duration,
    requests: total,
    p99: result.latency.p99,
    failures: total - result['3xx'] + result.errors + result.timeouts,
  }
}

/** How long a login run lasts: a number of seconds, or a number of logins (a multiple of the connections). */
export type LoginRunLength = { seconds: number } | { logins: number }

/**
 * Run full logins against a site, each connection one visitor after another.
 *
 * @param connections - concurrent connections; the measured runs keep the default
 */
export async function runLogins(
  origin: string,
  initiationPath: string,
  callbackPath: string,
  length: LoginRunLength,
  connections: number = LOAD.connections,
): Promise<LoginRun> {
  const sequence = loginSequence(initiationPath, callbackPath)
  const result = await autocannon({
    url: origin,
    connections,
    sampleInt: SAMPLE_MS,
    requests: sequence.requests,
    // `amount` (two requests per login, spread evenly over the connections) turns the duration off.
    ...('seconds' in length ? { duration: length.seconds } : { amount: 2 * length.logins }),
  })
  const { completed, failures, firstFailure } = sequence.counters
  const run: LoginRun = { loginsPerSecond: completed / result.duration, completed, failures: failures + result.errors + result.timeouts }
  if (firstFailure !== undefined) run.firstFailure = firstFailure
  else if (result.errors + result.timeouts > 0) run.firstFailure = `${result.errors} connection errors, ${result.timeouts} timeouts`
  return run
}
