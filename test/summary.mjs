// Runs the test command given as arguments, then prints the last lines of `npm test`
// whatever its outcome: the hostile provider count and the coverage of src/.
//
//   node test/summary.mjs <command> [args...]
//
// The results files are deleted before the command starts, so only this run's can be
// read. Exits non-zero when the command failed, when the hostile provider results are
// missing, fewer than MIN_HOSTILE_CASES or not all refused, or when coverage is too low.
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'

/** The least number of hostile provider cases a run must report. */
const MIN_HOSTILE_CASES = 68
/** The least line coverage of src/, in percent. */
const MIN_LINE_COVERAGE = 95
const HOSTILE = '.test-results/hostile.json'
const COVERAGE = '.test-results/coverage/coverage-summary.json'

const [command, ...args] = process.argv.slice(2)
if (!command) {
  console.error('usage: node test/summary.mjs <test command> [args...]')
  process.exit(2)
}

for (const file of [HOSTILE, COVERAGE]) rmSync(file, { force: true })
const run = spawnSync(command, args, { stdio: 'inherit' })
if (run.error) console.error(`could not run ${command}: ${run.error.message}`)
const testsPassed = run.status === 0

/** Read a JSON results file of this run; undefined (and a line saying why) when it is missing or unreadable. */
function readResults(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    console.log(`${file}: ${err.code === 'ENOENT' ? 'missing (not written by this run)' : `unreadable (${err.message})`}`)
    return undefined
  }
}

let ok = testsPassed
const hostile = readResults(HOSTILE)
if (Array.isArray(hostile)) {
  const refused = hostile.filter((result) => result?.refused === true).length
  console.log(`hostile provider: ${hostile.length} cases, ${refused} refused`)
  for (const result of hostile) if (result?.refused !== true) console.log(`  not refused: ${result?.name}`)
  if (hostile.length < MIN_HOSTILE_CASES) console.log(`  fewer than the ${MIN_HOSTILE_CASES} cases expected`)
  if (refused !== hostile.length || hostile.length < MIN_HOSTILE_CASES) ok = false
} else {
  if (hostile !== undefined) console.log(`${HOSTILE}: not a list of cases`)
  ok = false
}

const coverage = readResults(COVERAGE)
const total = coverage?.total
if (total) {
  console.log(`coverage of src/: ${total.lines.pct}% of lines, ${total.branches.pct}% of branches, ${total.functions.pct}% of functions`)
  if (!(total.lines.pct >= MIN_LINE_COVERAGE)) ok = false
} else {
  if (coverage !== undefined) console.log(`${COVERAGE}: no total`)
  ok = false
}

if (!testsPassed) console.log(`tests failed (${run.signal ?? `exit code ${run.status}`})`)
process.exitCode = ok ? 0 : 1
