/**
 * Head-to-head rounds: two contenders loaded at the same moment, on the same core, each
 * by its own load generator. A slow spell of a shared host (and on a virtual machine
 * they last seconds and move a lone run by a fifth) then falls on both alike, so the
 * ratio of their throughputs in one round holds where the ratio of two runs taken one
 * after the other moves. A second view of the ratios three of the targets check, which
 * come from the runs each contender makes alone on the core (rounds.ts); the full-login
 * ratio of these rounds is checked by a target of its own.
 *
 * @packageDocumentation
 */
import { median } from './stats.ts'

/** What one run against one contender yields. */
export interface Throughput {
  /** Requests answered (or logins completed) per second. */
  perSecond: number
  /** Failed requests, errors and timeouts. */
  failures: number
  /** The first failure, described, when there was one. */
  firstFailure?: string
}

/** One head-to-head round: each contender's throughput and their ratio. */
export interface HeadToHeadRound {
  /** The first contender's throughput, per second. */
  first: number
  /** The second contender's throughput, per second. */
  second: number
  /** `first / second`. */
  ratio: number
  /** Failures of both runs. */
  failures: number
  /** The first failure of the round, described, when there was one. */
  firstFailure?: string
}

/** Every round of a head-to-head measurement and the median of their ratios. */
export interface HeadToHead {
  /** The median of the per-round ratios. */
  ratio: number
  /** The lowest per-round ratio. */
  lowest: number
  /** The highest per-round ratio. */
  highest: number
  /** Every round, in order. */
  rounds: HeadToHeadRound[]
}

/** Summarise head-to-head rounds. */
function summarizeHeadToHead(rounds: HeadToHeadRound[]): HeadToHead {
  const ratios = rounds.map((round) => round.ratio)
  return { ratio: median(ratios), lowest: Math.min(...ratios), highest: Math.max(...ratios), rounds }
}

/**
 * Run `rounds` head-to-head rounds: in each, `measure` runs for both contenders at once.
 * The contender started first alternates from round to round, so that neither always
 * has the head start of a few milliseconds.
 *
 * @param measure - one run against one contender
 * @param onRound - told of each round as it ends
 */
export async function headToHead<Name extends string>(
  first: Name,
  second: Name,
  rounds: number,
  measure: (contender: Name) => Promise<Throughput>,
  onRound?: (round: HeadToHeadRound, index: number) => void,
): Promise<HeadToHead> {
  const results: HeadToHeadRound[] = []
  for (let round = 0; round < rounds; round++) {
    const [a, b] =
      round % 2 === 0
        ? await Promise.all([measure(first), measure(second)])
        : await Promise.all([measure(second), measure(first)]).then(([b, a]) => [a, b] as const)
    const result: HeadToHeadRound = { first: a.perSecond, second: b.perSecond, ratio: a.perSecond / b.perSecond, failures: a.failures + b.failures }
    const firstFailure = a.firstFailure ?? b.firstFailure
    if (firstFailure !== undefined) result.firstFailure = firstFailure
    results.push(result)
    onRound?.(result, round)
  }
  return summarizeHeadToHead(results)
}
