// Prints the last lines of `npm test`: the hostile provider count and the coverage of src/.
import { readFileSync } from 'node:fs'

const hostile = JSON.parse(readFileSync('.test-results/hostile.json', 'utf8'))
const refused = hostile.filter((result) => result.refused).length
const { total } = JSON.parse(readFileSync('.test-results/coverage/coverage-summary.json', 'utf8'))
console.log(`hostile provider: ${hostile.length} cases, ${refused} refused`)
console.log(`coverage of src/: ${total.lines.pct}% of lines, ${total.branches.pct}% of branches, ${total.functions.pct}% of functions`)
if (refused !== hostile.length || total.lines.pct < 95) process.exitCode = 1
