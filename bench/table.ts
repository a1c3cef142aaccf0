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
  return cells
    .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
    .join('  ')
    .trimEnd()
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
      `Bytes per pending flow (${settings.pendingFlows} flows started by one visitor; A: its flow cookies, ` +
        'Set-Cookie line per start and bytes each held flow adds to every Cookie request header; B, C: the session)',
      ['contender', 'kept in', 'bytes/flow', 'Set-Cookie B/start', 'session B/flow', 'flows kept', 'sessions stored', 'bytes of one flow, by part'],
      (['A', 'B', 'C'] as const).map((name) => {
        const it = results.pendingBytes[name]
        if (it === undefined) return [label(name), 'n/a', '', '', '', '', '', '']
        const { cookie, session } = it
        const parts = cookie ?? session
        const byPart = Object.entries(cookie ? cookie.parts : (session?.fields ?? {}))
          .map(([part, bytes]) => `${part} ${bytes}`)
          .join(', ')
        const sessionCookie = it.sessionCookie > 0 ? ` (session cookie ${num(it.sessionCookie)} B per visitor)` : ''
        return [
          label(name),
          cookie ? 'flow cookie' : 'session',
          num(cookie ? cookie.cookieHeaderPerFlow : session?.perFlow),
          cookie ? num(cookie.setCookiePerStart) : '',
          num(session?.perFlow ?? 0),
          num(parts?.flows),
          num(it.sessionsStored),
          byPart + sessionCookie,
        ]
      }),
    ),
  )
  const { redis } = results
  parts.push(
    section(
      `Sessions in Redis (express-session on connect-redis, redis-server on 127.0.0.1 on the driver CPUs; ` +
        `${settings.redisRounds} interleaved rounds of ${settings.roundSeconds} s, medians)`,
      ['contender', 'init req/s', 'p99 ms', 'CPU µs/req', 'Redis cmds/req', 'logins/s', 'CPU µs/login', 'Redis cmds/login', 'req/s, logins/s per round'],
      (['A', 'B'] as const).map((name) => {
        const it = redis.initiation[name]
        const lo = redis.login[name]
        const failures = lo.rounds.reduce((n, r) => n + r.failures, 0) + it.rounds.reduce((n, r) => n + r.failures, 0)
        return [
          label(name),
          num(it.rps),
          num(it.p99),
          num(it.cpuPerRequest),
          num(it.redisCommandsPerRequest, 2),
          num(lo.loginsPerSecond),
          num(lo.cpuPerLogin),
          num(lo.redisCommandsPerLogin, 2),
          `${it.rounds.map((r) => num(r.rps)).join(' ')}; ${lo.rounds.map((r) => num(r.loginsPerSecond)).join(' ')}` + (failures ? ` (${failures} failures)` : ''),
        ]
      }),
    ),
  )
  const [first, second] = settings.heapCheckpoints
  parts.push(
    section(
      `Heap used after gc, sessions dropped from the store (fresh process, ${num(first)} then ${num(second)} logins; ` +
        `a flow leaked per login would add megabytes, readings move by about a megabyte without one; ` +
        `A's replay guard keeps each finished flow's state until the flow's maximum age, at most 100,000 of them, ` +
        `about 130 bytes each)`,
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
      'Ratios of the runs alone on the core (three targets are checked against the medians; flow bytes: A in the Cookie header, B in the session)',
      ['ratio', 'medians', 'paired rounds', 'from site CPU per op'],
      [
        ['initiation req/s  A / B', num(ratios.initiationAvsB, 3), num(ratios.initiationAvsBPaired, 3), num(ratios.initiationCpuBvsA, 3)],
        ['full login/s      A / B', num(ratios.loginAvsB, 3), num(ratios.loginAvsBPaired, 3), num(ratios.loginCpuBvsA, 3)],
        ['initiation req/s  A / C', num(ratios.initiationAvsC, 3), '', num(ratios.initiationCpuCvsA, 3)],
        ['Redis init req/s  A / B', num(ratios.redisInitiationAvsB, 3), '', num(redis.initiation.B.cpuPerRequest / redis.initiation.A.cpuPerRequest, 3)],
        ['Redis login/s     A / B', num(ratios.redisLoginAvsB, 3), '', num(redis.login.B.cpuPerLogin / redis.login.A.cpuPerLogin, 3)],
        ['flow bytes        A / B', num(ratios.flowBytesAvsB, 3), '', ''],
      ],
    ),
  )
  parts.push(
    section(
      'Targets',
      ['target', 'value', 'wanted', 'result'],
      results.targets.map((t) => [t.name, num(t.value, t.value > 10 ? 0 : 3), `${t.comparison} ${t.target}`, t.pass ? 'PASS' : 'FAIL']),
    ),
  )
  parts.push(
    results.failures.count === 0
      ? `Failures: none. Run took ${num(results.elapsedSeconds)} s.`
      : `Failures: ${results.failures.count} (first: ${results.failures.first}). Run took ${num(results.elapsedSeconds)} s.`,
  )
  return parts.join('\n\n')
}
