/**
 * Interleaved rounds: every contender runs once per round, in an order that rotates from
 * round to round (A B C, B C A, C A B, ...), so that drift on a noisy machine falls on
 * all of them alike and no contender always runs first or last.
 *
 * @packageDocumentation
 */

/**
 * Run `measure` for each contender in each of `rounds` rounds, rotating the order.
 *
 * @returns each contender's results, in round order
 */
export async function interleave<Name extends string, Result>(
  contenders: readonly Name[],
  rounds: number,
  measure: (contender: Name, round: number) => Promise<Result>,
): Promise<Record<Name, Result[]>> {
  const results = Object.fromEntries(contenders.map((name) => [name, [] as Result[]])) as Record<Name, Result[]>
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const contender = contenders[(round + i) % contenders.length]!
      results[contender].push(await measure(contender, round))
    }
  }
  return results
}
