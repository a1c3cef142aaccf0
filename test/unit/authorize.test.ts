/**
 * uiLocalesFromAcceptLanguage on its own: the `ui_locales` sent for an `Accept-Language`
 * header, one row per header.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { uiLocalesFromAcceptLanguage } from '../../src/authorize.ts'

type Row = [label: string, header: string | undefined, expected: string | undefined]

const ROWS: Row[] = [
  // Nothing to send.
  ['no header', undefined, undefined],
  ['an empty header', '', undefined],
  ['whitespace only', '   ', undefined],
  ['commas only', ',,,', undefined],
  ['the wildcard alone', '*', undefined],
  ['the wildcard with a weight', '*;q=0.5', undefined],
  ['only malformed tags', 'en_US, 12, -en', undefined],

  // One language.
  ['one language', 'en', 'en'],
  ['one language with a region', 'en-US', 'en-US'],
  ['the case is kept', 'EN-us', 'EN-us'],
  ['a script and a region', 'zh-Hant-TW', 'zh-Hant-TW'],
  ['a variant with digits', 'de-CH-1996', 'de-CH-1996'],
  ['a private-use tag', 'x-klingon', 'x-klingon'],
  ['eight letters, the longest primary subtag', 'abcdefgh', 'abcdefgh'],
  ['eight characters, the longest subtag', 'en-abcdefgh', 'en-abcdefgh'],

  // Weights and parameters are dropped; the order given is kept.
  ['a weight is dropped', 'fr;q=0.8', 'fr'],
  ['weights do not reorder', 'en;q=0.1, fr;q=0.9, de', 'en fr de'],
  ['the browser order, weights dropped', 'ar-EG,ar;q=0.9,en;q=0.8', 'ar-EG ar en'],
  ['several parameters', 'en-US;q=0.8;level=1, fr', 'en-US fr'],
  ['a weight with spaces', 'en ; q=0.5 , fr', 'en fr'],

  // The wildcard and malformed entries are left out, the rest kept in order.
  ['the wildcard among languages', 'en, *;q=0.1, fr', 'en fr'],
  ['an underscore', 'en_US, de', 'de'],
  ['digits first', '1en, de', 'de'],
  ['a trailing hyphen', 'en-, de', 'de'],
  ['a leading hyphen', '-en, de', 'de'],
  ['two hyphens', 'en--US, de', 'de'],
  ['nine letters', 'abcdefghi, de', 'de'],
  ['a nine-character subtag', 'en-abcdefghi, de', 'de'],
  ['a space inside a tag', 'en US, de', 'de'],
  ['two tags without a comma', 'en fr', undefined],
  ['non-ASCII letters', 'é, de', 'de'],
  ['a quote', '"en", de', 'de'],
  ['markup', '<script>, de', 'de'],
  ['an empty entry', 'en,,fr', 'en fr'],
  ['a parameter without a tag', ';q=1, fr', 'fr'],

  // Duplicates are sent once, at their first place.
  ['a duplicate', 'en, fr, en', 'en fr'],
  ['a duplicate with another weight', 'en;q=0.9, fr, en;q=0.1', 'en fr'],
  ['a duplicate in another case', 'en-US, EN-us, fr', 'en-US fr'],
  ['a language weighted zero is not acceptable', 'en, fr;q=0', 'en'],
  ['weights of zero in every spelling', 'de;q=0.0, fr;Q=0.000, it ; q = 0 , en;q=0.001', 'en'],
  ['only languages weighted zero', 'fr;q=0', undefined],
  ['a duplicate around whitespace', 'de , de', 'de'],

  // Whitespace around entries.
  ['spaces around', '  en ,  fr  ', 'en fr'],
  ['tabs around', 'en\t,\tfr', 'en fr'],
  ['no spaces', 'en,fr,de', 'en fr de'],

  // At most five languages.
  ['five languages', 'en, fr, de, es, it', 'en fr de es it'],
  ['six languages: the sixth is left out', 'en, fr, de, es, it, nl', 'en fr de es it'],
  ['five kept after a duplicate', 'en, en, fr, de, es, it, nl', 'en fr de es it'],
  ['five kept after malformed entries', '*, x_y, en, fr, de, es, it, nl', 'en fr de es it'],

  // At most ten entries are read.
  ['a language in the tenth entry is read', `${Array(9).fill('*').join(',')},en`, 'en'],
  ['a language in the eleventh entry is not', `${Array(10).fill('*').join(',')},en`, undefined],
  ['duplicates count as entries read', `${Array(10).fill('en').join(',')},fr`, 'en'],
  ['a very long header is read up to its tenth entry', `${Array(10_000).fill('en-').join(',')},fr`, undefined],
]

describe('uiLocalesFromAcceptLanguage', () => {
  for (const [label, header, expected] of ROWS) {
    test(`${label}: ${JSON.stringify(header)?.slice(0, 50) ?? 'undefined'} -> ${JSON.stringify(expected) ?? 'undefined'}`, () => {
      assert.equal(uiLocalesFromAcceptLanguage(header), expected)
    })
  }

  test('the result is space-separated well-formed tags, at most five, none repeated', () => {
    for (const [, header] of ROWS) {
      const value = uiLocalesFromAcceptLanguage(header)
      if (value === undefined) continue
      const tags = value.split(' ')
      assert.ok(tags.length >= 1 && tags.length <= 5, `${JSON.stringify(header)}: ${tags.length} tags`)
      assert.equal(new Set(tags).size, tags.length)
      for (const tag of tags) assert.match(tag, /^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$/)
    }
  })
})
