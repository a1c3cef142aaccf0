/**
 * safeReturnTo on its own: which `?next=` values survive as a same-origin path, in what
 * form, and which are dropped, one row per input.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { safeReturnTo } from '../../src/return-to.ts'

type Row = [label: string, input: string | null | undefined, expected: string | undefined]

/** Inputs dropped before any parsing: absent, empty, too long, not a path of this site. */
const DROPPED_AT_THE_DOOR: Row[] = [
  ['undefined', undefined, undefined],
  ['null', null, undefined],
  ['the empty string', '', undefined],
  ['2049 characters', `/${'a'.repeat(2048)}`, undefined],
  ['short enough as given, 12,283 characters once percent-encoded (it would not fit in a cookie)', `/${'é'.repeat(2047)}`, undefined],
  ['2049 characters once percent-encoded', `/${'é'.repeat(341)}ab`, undefined],
  ['2048 characters once percent-encoded, the longest kept', `/${'é'.repeat(341)}a`, `/${'%C3%A9'.repeat(341)}a`],
  ['a relative path', 'orders', undefined],
  ['a dot-relative path', './orders', undefined],
  ['an absolute https URL', 'https://evil.example/', undefined],
  ['an absolute http URL to this site', 'http://return-to.invalid/orders', undefined],
  ['javascript:', 'javascript:alert(1)', undefined],
  ['data:', 'data:text/html,<script>alert(1)</script>', undefined],
  ['a leading space', ' /orders', undefined],
  ['a query alone', '?next=/x', undefined],
  ['a fragment alone', '#top', undefined],
  ['a backslash first', '\\evil.example', undefined],
  ['protocol-relative //host', '//evil.example', undefined],
  ['protocol-relative //host/path', '//evil.example/orders', undefined],
  ['three slashes', '///evil.example', undefined],
  ['slash backslash', '/\\evil.example', undefined],
  ['slash backslash backslash', '/\\\\evil.example', undefined],
]

/** Inputs dropped for a character the URL parser would strip or read as a slash. */
const DROPPED_FOR_A_CHARACTER: Row[] = [
  ['a backslash inside', '/a\\b', undefined],
  ['a backslash at the end', '/orders\\', undefined],
  ['a backslash in the query', '/orders?x=\\', undefined],
  ['NUL', '/a\x00b', undefined],
  ['a tab between the slashes', '/\t/evil.example', undefined],
  ['a newline between the slashes', '/\n/evil.example', undefined],
  ['a carriage return', '/orders\r', undefined],
  ['a header split', '/x\r\nSet-Cookie: a=b', undefined],
  ['unit separator 0x1f', '/a\x1fb', undefined],
  ['DEL 0x7f', '/a\x7fb', undefined],
  ['a tab in the fragment', '/a#b\tc', undefined],
]

/** Inputs whose dot segments normalise to `//host`: dropped on what would be returned. */
const DROPPED_AFTER_NORMALISING: Row[] = [
  ['/.//host', '/.//evil.example', undefined],
  ['/..//host', '/..//evil.example', undefined],
  ['/a/..//host', '/a/..//evil.example', undefined],
  ['/%2e//host (encoded dot)', '/%2e//evil.example', undefined],
  ['/%2e%2e//host (encoded dots)', '/%2e%2e//evil.example', undefined],
  ['/.%2e//host (mixed dots)', '/.%2e//evil.example', undefined],
  ['/x/%2E%2E//host (upper-case encoding)', '/x/%2E%2E//evil.example', undefined],
  ['/../../..//host (climbing past the root)', '/../../..//evil.example/orders', undefined],
]

/** Same-origin paths: kept, in the form the URL parser gives them. */
const KEPT: Row[] = [
  ['the root', '/', '/'],
  ['a path', '/orders', '/orders'],
  ['path, query and fragment', '/a?b=c#d', '/a?b=c#d'],
  ['a query on the root', '/?x=1', '/?x=1'],
  ['a fragment on the root', '/#top', '/#top'],
  ['2048 characters, the longest kept', `/${'a'.repeat(2047)}`, `/${'a'.repeat(2047)}`],
  ['a long query', `/search?q=${'x'.repeat(2000)}`, `/search?q=${'x'.repeat(2000)}`],
  ['encoded slashes stay encoded', '/%2F%2Fevil.example', '/%2F%2Fevil.example'],
  ['an encoded backslash stays encoded', '/%5Cevil.example', '/%5Cevil.example'],
  ['an encoded NUL stays encoded', '/%00', '/%00'],
  ['an encoded tab stays encoded', '/%09/evil.example', '/%09/evil.example'],
  ['a lone percent sign', '/%', '/%'],
  ['a broken escape', '/a%zz', '/a%zz'],
  ['// in the query is only a query', '/?//evil.example', '/?//evil.example'],
  ['// in the fragment is only a fragment', '/#//evil.example', '/#//evil.example'],
  ['an absolute URL in the query', '/login?next=https://evil.example/', '/login?next=https://evil.example/'],
  ['dot segments resolved', '/a/./b/../c', '/a/c'],
  ['climbing past the root stays at the root', '/../../orders', '/orders'],
  ['an encoded single dot segment', '/a/%2e/b', '/a/b'],
  ['/./ is the root', '/./', '/'],
  ['a space is encoded', '/a b', '/a%20b'],
  ['a space after the first slash', '/ /evil.example', '/%20/evil.example'],
  ['non-ASCII is encoded', '/café', '/caf%C3%A9'],
  ['a full-width solidus is encoded, not a slash', '/\uff0fevil.example', '/%EF%BC%8Fevil.example'],
  ['a C1 control (NEL) is encoded', '/a\u0085b', '/a%C2%85b'],
  ['a line separator is encoded', '/a\u2028b', '/a%E2%80%A8b'],
  ['a colon in the first segment is a path', '/javascript:alert(1)', '/javascript:alert(1)'],
  ['an at sign is a path', '/@evil.example', '/@evil.example'],
  ['brackets are a path', '/[::1]', '/[::1]'],
  ['a port-like segment is a path', '/:80', '/:80'],
]

describe('safeReturnTo', () => {
  for (const [group, rows] of [
    ['dropped at the door', DROPPED_AT_THE_DOOR],
    ['dropped for a character', DROPPED_FOR_A_CHARACTER],
    ['dropped after normalising', DROPPED_AFTER_NORMALISING],
    ['kept', KEPT],
  ] as const) {
    describe(group, () => {
      for (const [label, input, expected] of rows) {
        test(`${label}: ${JSON.stringify(input)?.slice(0, 60)} -> ${JSON.stringify(expected)?.slice(0, 60) ?? 'undefined'}`, () => {
          assert.equal(safeReturnTo(input), expected)
        })
      }
    })
  }

  test('what it keeps is a path of this site, and keeping it again changes nothing', () => {
    for (const [, input, expected] of KEPT) {
      const kept = safeReturnTo(input)
      assert.equal(kept, expected)
      const resolved = new URL(kept!, 'https://shop.example/base/')
      assert.equal(resolved.origin, 'https://shop.example', `${JSON.stringify(input)} stays on the site`)
      assert.ok(!kept!.startsWith('//') && !kept!.startsWith('/\\'))
      assert.equal(safeReturnTo(kept), kept, `${JSON.stringify(input)}: the result is a fixed point`)
    }
  })

  test('a value that is not a string is dropped, whatever it is', () => {
    for (const value of [0, 1, true, {}, ['/orders'], new String('/orders')]) {
      assert.equal(safeReturnTo(value as unknown as string), undefined, String(value))
    }
  })

  test('every control character from 0x00 to 0x1f and 0x7f is refused anywhere in the path', () => {
    const codes = [...Array(0x20).keys(), 0x7f]
    for (const code of codes) {
      const char = String.fromCharCode(code)
      for (const input of [`/${char}`, `/a${char}b`, `/a?${char}`, `/a#${char}`]) {
        assert.equal(safeReturnTo(input), undefined, `0x${code.toString(16)} in ${JSON.stringify(input)}`)
      }
    }
  })

  test('no second character after the slash leads off the site', () => {
    // Every BMP code unit after `/`, and each followed by `/evil.example`: never another origin.
    for (let code = 0; code <= 0xffff; code++) {
      const char = String.fromCharCode(code)
      for (const input of [`/${char}`, `/${char}/evil.example`]) {
        const kept = safeReturnTo(input)
        if (kept === undefined) continue
        assert.ok(kept.startsWith('/') && !kept.startsWith('//') && !kept.startsWith('/\\'), `${JSON.stringify(input)} -> ${JSON.stringify(kept)}`)
        assert.equal(new URL(kept, 'https://shop.example').origin, 'https://shop.example')
      }
    }
  })
})
