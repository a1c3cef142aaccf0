/**
 * statePrefix on its own: what of a state a log line shows.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { statePrefix } from '../../src/log.ts'

type Row = [label: string, state: string, expected: string]

const ROWS: Row[] = [
  ['a state as the strategy draws it', 'AbC-_9xyzXYZ0123456789abcdefghijklmnopqrstuv', 'AbC-_9…'],
  ['seven characters', 'abcdefg', 'abcdef…'],
  ['six characters', 'abcdef', 'abcdef…'],
  ['shorter than six', 'abc', 'abc…'],
  ['empty', '', '…'],
  ['printable punctuation is kept', '!~"#$%&', '!~"#$%…'],
  ['a space is replaced', 'ab cdefgh', 'ab?cde…'],
  ['a newline is replaced (no forged log line)', 'a\nINFO ok', 'a?INFO…'],
  ['a carriage return is replaced', '\r\r\r\r\r\rrest', '??????…'],
  ['an escape sequence is replaced', '\x1b[31mred', '?[31mr…'],
  ['NUL and DEL are replaced', '\x00\x7fabcd', '??abcd…'],
  ['non-ASCII is replaced', 'éé例🔑', '?????…'],
  ['a control character after the sixth is not shown at all', 'abcdef\nghi', 'abcdef…'],
]

describe('statePrefix', () => {
  for (const [label, state, expected] of ROWS) {
    test(`${label}: ${JSON.stringify(state)} -> ${JSON.stringify(expected)}`, () => {
      assert.equal(statePrefix(state), expected)
    })
  }

  test('a state as the strategy draws it: six characters and an ellipsis, never the whole state', () => {
    for (let i = 0; i < 200; i++) {
      const state = randomBytes(33).toString('base64url')
      const shown = statePrefix(state)
      assert.equal(shown, `${state.slice(0, 6)}…`)
      assert.ok(!shown.includes(state.slice(6)), 'the rest of the state is not shown')
      assert.ok(shown.length < state.length)
    }
  })

  test('whatever the state, the prefix is at most six printable ASCII characters and the ellipsis', () => {
    const samples = ['x'.repeat(10_000), '\n'.repeat(100), '\u2028\u2029'.repeat(10), randomBytes(512).toString('latin1'), randomBytes(512).toString('utf16le')]
    for (const state of samples) {
      const shown = statePrefix(state)
      assert.match(shown, /^[\x21-\x7e]{0,6}…$/, JSON.stringify(shown))
    }
  })
})
