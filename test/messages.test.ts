/**
 * Every sentence a user may read from the strategy and the callback handlers: each is a
 * sentence (a capital letter first, a full stop last) and each is listed in
 * docs/outcomes.md, so that the list cannot drift from the code.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { PROVIDER_UNAVAILABLE_MESSAGE, SUCCESS_MESSAGES } from '../src/hosts/callback-answer.ts'

const ROOT = resolve(import.meta.dirname, '..')
const OUTCOMES = readFileSync(join(ROOT, 'docs', 'outcomes.md'), 'utf8')

/** The TypeScript files under src/, recursively. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [])
}

/** The text of the call starting at `from` (just after its opening parenthesis), up to the matching one. */
function callText(source: string, from: number): string {
  let depth = 1
  let quote: string | undefined
  for (let at = from; at < source.length; at++) {
    const char = source[at]
    if (quote !== undefined) {
      if (char === '\\') at++
      else if (char === quote) quote = undefined
    } else if (char === '\'' || char === '`' || char === '"') quote = char
    else if (char === '(') depth++
    else if (char === ')' && --depth === 0) return source.slice(from, at)
  }
  throw new Error('unbalanced call')
}

/** The string and template literals of `text` that are messages (not reason codes). */
function messagesIn(text: string): string[] {
  return [...text.matchAll(/'((?:[^'\\]|\\.)*)'|`((?:[^`\\]|\\.)*)`/g)]
    .map((match) => (match[1] ?? match[2]!).replace(/\\'/g, '\''))
    .filter((literal) => /\s/.test(literal))
}

/** Every message literal given to `new JustpassRefusal(` in src/. */
function refusalMessages(): string[] {
  const found: string[] = []
  for (const file of sourceFiles(join(ROOT, 'src'))) {
    const source = readFileSync(file, 'utf8')
    for (const match of source.matchAll(/new JustpassRefusal\(/g)) found.push(...messagesIn(callText(source, match.index + match[0].length)))
  }
  return found
}

/** A message as a pattern over docs/outcomes.md, where each `${…}` is a placeholder written in backticks. */
function patternOf(message: string): RegExp {
  const parts = message.split(/\$\{[^}]*\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return new RegExp(parts.join('`?[^|]+?`?'))
}

describe('the sentences users read', () => {
  const messages = [...refusalMessages(), ...Object.values(SUCCESS_MESSAGES), PROVIDER_UNAVAILABLE_MESSAGE]

  test('the source scan finds the refusals (it would pass vacuously otherwise)', () => {
    assert.ok(messages.length >= 30, `only ${messages.length} messages found`)
  })

  test('each is a sentence: a capital letter first, a full stop last', () => {
    for (const message of messages) assert.match(message, /^(\$\{[^}]+\}|[A-Z]).*\.$/, message)
  })

  test('each is listed in docs/outcomes.md', () => {
    const listed = OUTCOMES.slice(OUTCOMES.indexOf('## What users can read'), OUTCOMES.indexOf('## The info objects'))
    const missing = messages.filter((message) => !patternOf(message).test(listed))
    assert.deepEqual(missing, [], `docs/outcomes.md does not list these`)
  })
})
