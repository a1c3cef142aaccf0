/**
 * The results as a plain-text table for stdout.
 *
 * @packageDocumentation
 */
import { CONTENDERS, type BenchResults } from './results.ts'
import type { SiteName } from './sites/site.ts'

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

function num(value: number | undefined, digits = 0): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a'
  return digits === 0 ? integer.format(value) : value.toFixed(digits)
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`
}

function row(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')
}

function section(title: string, header: string[], rows: string[][]): string {
  const all = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...all.map((cells) => (cells[i] ?? '').length)))
  return [title, row(header, widths), ...rows.map((cells) => row(cells, widths))].join('\n')
}

function label(name: SiteName): string {
  return `${name} ${CONTENDERS[name]}`
}

/** Render the results as the text table the run prints. */
export function renderTable(results: BenchResults): string {
  const { settings } = results
  const parts: string[] = []
  parts.push(
    `passport-justpass bench: Node ${results.node}, ${results.cpu} (${results.cores} cores), ` +
      `${settings.rounds} interleaved rounds of ${settings.roundSeconds} s, ${settings.connections} connections, medians, ` +
      (settings.pinned ? 'sites on a core of their own' : 'no CPU pinning'),
  )
  parts.push(
    section(
      'Initiation',
      ['contender', 'req/s', 'p99 ms', 'site CPU µs/req', 'req/s per round'],
      (['A', 'B', 'C'] as const).map((name) => {
        const it = results.initiation[name]
        return [label(name), num(it.rps), num(it.p99), num(it.cpuPerRequest), it.rounds.map((r) => num(r.rps)).join(' ')]
      }),
    ),
  )
  parts.push(
    section(
      'Full login (initiation + callback: code exchange, ID token, userinfo, user lookup, session login)',
      ['contender', 'logins/s', 'failures', 'site CPU µs/login', 'logins/s per round'],
      (['A', 'B'] as const).map((name) => {
        const it = results.login[name]!
        const failures = it.rounds.reduce((n, r) => n + r.failures, 0)
        return [label(name), num(it.loginsPerSecond), num(failures), num(it.cpuPerLogin), it.rounds.map((r) => num(r.loginsPerSecond)).join(' ')]
      }),
    ),
  )
  parts.push(
    section(
      `Session bytes per pending flow (${settings.sessionFlows} flows started in one session)`,
      ['contender', 'bytes/flow', 'flows kept', 'bytes of one flow, by field'],
      (['A', 'B', 'C'] as const).map((name) => {
        const it = results.sessionBytes[name]
        const fields = it ? Object.entries(it.fields).map(([field, bytes]) => `${field} ${bytes}`).join(', ') : ''
        return [label(name), num(it?.perFlow), num(it?.flows), fields]
      }),
    ),
  )
  const [first, second] = settings.heapCheckpoints
  parts.push(
    section(
      `Heap used after gc, sessions dropped from the store (fresh process, ${num(first)} then ${num(second)} logins; ` +
        `a flow leaked per login would add megabytes, readings move by about a megabyte without one)`,
      ['contender', `after ${num(first)}`, `after ${num(second)}`, 'growth', 'per login', 'with sessions kept'],
      (Object.keys(results.heap) as SiteName[]).map((name) => {
        const it = results.heap[name]!
        return [
          label(name) + (it.gc ? '' : ' (no gc)'),
          kib(it.first.withoutSessions),
          kib(it.second.withoutSessions),
          kib(it.growth),
          `${num(it.growthPerLogin)} B`,
          `${kib(it.first.withSessions)} -> ${kib(it.second.withSessions)} (${num(it.second.sessions)} sessions)`,
        ]
      }),
    ),
  )
  const { ratios, headToHead } = results
  const pairRow = (name: string, pair: BenchResults['headToHead']['loginAvsB']) => [
    name,
    num(pair.ratio, 3),
    `${num(pair.lowest, 2)} to ${num(pair.highest, 2)}`,
    pair.rounds.map((round) => num(round.ratio, 2)).join(' '),
  ]
  parts.push(
    section(
      `Head to head (both contenders loaded at once on the sites' core, ${settings.headToHeadRounds} rounds of ${settings.headToHeadSeconds} s: ` +
        'a slow spell of the host falls on both alike)',
      ['ratio', 'median', 'range', 'per round'],
      [
        pairRow('initiation req/s  A / B', headToHead.initiationAvsB),
        pairRow('full login/s      A / B', headToHead.loginAvsB),
        pairRow('initiation req/s  A / C', headToHead.initiationAvsC),
      ],
    ),
  )
  parts.push(
    section(
      'Ratios of the runs alone on the core (the targets are checked against the medians)',
      ['ratio', 'medians', 'paired rounds', 'from site CPU per op'],
      [
        ['initiation req/s  A / B', num(ratios.initiationAvsB, 3), num(ratios.initiationAvsBPaired, 3), num(ratios.initiationCpuBvsA, 3)],
        ['full login/s      A / B', num(ratios.loginAvsB, 3), num(ratios.loginAvsBPaired, 3), num(ratios.loginCpuBvsA, 3)],
        ['initiation req/s  A / C', num(ratios.initiationAvsC, 3), '', num(ratios.initiationCpuCvsA, 3)],
        ['session bytes     A / B', num(ratios.sessionBytesAvsB, 3), '', ''],
      ],
    ),
  )
  parts.push(
    section(
      'Targets',
      ['target', 'value', 'wanted', 'result'],
      results.targets.map((t) => [t.name, num(t.value, t.value > 10 ? 0 : 3), `${t.comparison} ${t.target}`, t.pass ? 'PASS' : 'MISS']),
    ),
  )
  parts.push(
    results.failures.count === 0
      ? `Failures: none. Run took ${num(results.elapsedSeconds)} s.`
      : `Failures: ${results.failures.count} (first: ${results.failures.first}). Run took ${num(results.elapsedSeconds)} s.`,
  )
  return parts.join('\n\n')
}
