/**
 * Sealing on its own: deriveSealKey's inputs each change the key, and Sealer opens only
 * what it sealed, with the same IV and additional data, under one of its keys.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { deriveSealKey, Sealer } from '../../src/flow-store/seal.ts'

const SECRET = 'a-cookie-secret-of-at-least-32-characters'
const CLIENT = 'shop'
const CALLBACK = 'https://shop.example/justpass/callback'
const IV = Buffer.from('0123456789ab')
const AAD = 'justpass.0123456789abcdef\nthe-whole-state\nm0abcd'
const FLOW = JSON.stringify([1, 'v'.repeat(44), 'n'.repeat(44), 'alice', null, '/account'])

function key(secret = SECRET, source: 'cookieSecret' | 'clientSecret' = 'cookieSecret', clientID = CLIENT, callbackURL = CALLBACK) {
  return deriveSealKey(secret, source, clientID, callbackURL)
}

/** `sealed` with the byte at `index` of its decoded form flipped, re-encoded. */
function flipByte(sealed: string, index: number): string {
  const bytes = Buffer.from(sealed, 'base64url')
  const at = index < 0 ? bytes.length + index : index
  bytes[at] = bytes[at]! ^ 0x01
  return bytes.toString('base64url')
}

describe('deriveSealKey', () => {
  test('gives a 256-bit secret key, the same for the same inputs', () => {
    const first = key()
    assert.equal(first.type, 'secret')
    assert.equal(first.symmetricKeySize, 32)
    assert.ok(first.equals(key()))
  })

  const variations: Array<[string, () => ReturnType<typeof key>]> = [
    ['another secret', () => key(`${SECRET}!`)],
    ['another label (the client secret as source)', () => key(SECRET, 'clientSecret')],
    ['another client id', () => key(SECRET, 'cookieSecret', 'other-shop')],
    ['another callback URL', () => key(SECRET, 'cookieSecret', CLIENT, 'https://other.example/justpass/callback')],
    ['the callback URL over http', () => key(SECRET, 'cookieSecret', CLIENT, CALLBACK.replace('https:', 'http:'))],
  ]
  for (const [label, other] of variations) {
    test(`${label} gives another key, and a value sealed under one does not open under the other`, () => {
      const theirs = other()
      assert.ok(!theirs.equals(key()))
      const sealed = new Sealer([key()]).seal(FLOW, IV, AAD)
      assert.equal(new Sealer([theirs]).open(sealed, IV, AAD), undefined)
      assert.equal(new Sealer([key()]).open(sealed, IV, AAD), FLOW)
    })
  }

  test('keys of many different secrets are all different', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 200; i++) seen.add(key(`${SECRET}-${i}`).export().toString('hex'))
    assert.equal(seen.size, 200)
  })
})

describe('Sealer', () => {
  test('needs at least one key', () => {
    assert.throws(() => new Sealer([]), TypeError)
  })

  test('round trip: what it seals opens to the same text, for any non-empty text', () => {
    const sealer = new Sealer([key()])
    for (const text of ['x', FLOW, 'émile 例え 🔑', '\u0000\uffff', 'y'.repeat(5000)]) {
      const sealed = sealer.seal(text, IV, AAD)
      assert.match(sealed, /^[A-Za-z0-9_-]+$/, 'base64url without padding')
      assert.equal(Buffer.from(sealed, 'base64url').length, Buffer.byteLength(text) + 16, 'ciphertext as long as the text, then a 16-byte tag')
      assert.equal(sealer.open(sealed, IV, AAD), text)
    }
  })

  test('the text does not appear in what is sealed', () => {
    const sealed = new Sealer([key()]).seal('alice-the-user', IV, AAD)
    assert.ok(!Buffer.from(sealed, 'base64url').includes('alice'))
    assert.ok(!sealed.includes(Buffer.from('alice').toString('base64url').slice(0, 5)))
  })

  test('the same text under the same key differs with the IV', () => {
    const sealer = new Sealer([key()])
    const a = sealer.seal(FLOW, IV, AAD)
    const b = sealer.seal(FLOW, Buffer.from('ba9876543210'), AAD)
    assert.notEqual(a, b)
    assert.equal(sealer.open(b, Buffer.from('ba9876543210'), AAD), FLOW)
  })

  test('rotation: every configured key opens, only the first seals', () => {
    const [k1, k2, k3] = [key('secret-one-0123456789abcdef0123456789'), key('secret-two-0123456789abcdef0123456789'), key('secret-three-0123456789abcdef01234567')]
    const byKey = [k1, k2, k3].map((each) => new Sealer([each]).seal(FLOW, IV, AAD))
    const rotated = new Sealer([k1, k2, k3])
    for (const [i, sealed] of byKey.entries()) assert.equal(rotated.open(sealed, IV, AAD), FLOW, `a value sealed under key ${i + 1} opens`)
    const fresh = rotated.seal(FLOW, IV, AAD)
    assert.equal(fresh, byKey[0], 'the first key seals')
    assert.equal(new Sealer([k1]).open(fresh, IV, AAD), FLOW)
    assert.equal(new Sealer([k2, k3]).open(fresh, IV, AAD), undefined, 'the others could not open it')
    assert.equal(new Sealer([k2, k3]).open(byKey[0]!, IV, AAD), undefined, 'a key dropped from the rotation no longer opens its values')
    assert.equal(new Sealer([k3, k2]).open(byKey[1]!, IV, AAD), FLOW, 'the order of the opening keys does not matter')
  })

  describe('refuses anything but its own value, with its own IV and additional data', () => {
    const sealer = new Sealer([key()])
    const sealed = sealer.seal(FLOW, IV, AAD)
    const length = Buffer.from(sealed, 'base64url').length
    const refused: Array<[string, string, Buffer, string]> = [
      ['the first ciphertext byte flipped', flipByte(sealed, 0), IV, AAD],
      ['a middle ciphertext byte flipped', flipByte(sealed, Math.floor((length - 16) / 2)), IV, AAD],
      ['the last ciphertext byte flipped', flipByte(sealed, length - 17), IV, AAD],
      ['the first tag byte flipped', flipByte(sealed, length - 16), IV, AAD],
      ['the last tag byte flipped', flipByte(sealed, -1), IV, AAD],
      ['the tag cut off', Buffer.from(sealed, 'base64url').subarray(0, length - 16).toString('base64url'), IV, AAD],
      ['the tag alone (no ciphertext)', Buffer.from(sealed, 'base64url').subarray(length - 16).toString('base64url'), IV, AAD],
      ['one byte cut from the end', Buffer.from(sealed, 'base64url').subarray(0, length - 1).toString('base64url'), IV, AAD],
      ['one byte cut from the start', Buffer.from(sealed, 'base64url').subarray(1).toString('base64url'), IV, AAD],
      ['one byte added', Buffer.concat([Buffer.from(sealed, 'base64url'), Buffer.from([0])]).toString('base64url'), IV, AAD],
      ['empty', '', IV, AAD],
      ['another IV', sealed, Buffer.from('0123456789ac'), AAD],
      ['an all-zero IV', sealed, Buffer.alloc(12), AAD],
      ['another additional data', sealed, IV, AAD.replace('the-whole-state', 'another-state')],
      ['the additional data with one character more', sealed, IV, `${AAD}0`],
      ['the additional data empty', sealed, IV, ''],
      ['padded base64', `${sealed}==`, IV, AAD],
      ['standard base64 instead of base64url', Buffer.from(sealed, 'base64url').toString('base64'), IV, AAD],
      ['whitespace around', ` ${sealed}`, IV, AAD],
      ['not base64 at all', '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!', IV, AAD],
      ['random bytes of the same length', randomBytes(length).toString('base64url'), IV, AAD],
    ]
    for (const [label, value, iv, aad] of refused) {
      test(label, () => {
        assert.equal(sealer.open(value, iv, aad), undefined)
        assert.equal(sealer.open(sealed, IV, AAD), FLOW, 'the untouched value still opens')
      })
    }
  })

  test('a value that is not canonical base64url is refused before any key is tried', () => {
    // A sealed value whose last character carries unused bits: another character with the
    // same decoded bytes must not open (one value per flow, no malleable encodings).
    const sealer = new Sealer([key()])
    for (let length = 1; length < 7; length++) {
      const sealed = sealer.seal('x'.repeat(length), IV, AAD)
      if (Buffer.from(sealed, 'base64url').length % 3 === 0) continue
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
      const last = sealed.at(-1)!
      const twins = [...alphabet].map((char) => sealed.slice(0, -1) + char).filter((other) => other !== sealed && Buffer.from(other, 'base64url').equals(Buffer.from(sealed, 'base64url')))
      assert.ok(twins.length > 0, `a twin of ${last} exists`)
      for (const twin of twins) assert.equal(sealer.open(twin, IV, AAD), undefined, `${twin.at(-1)} for ${last}`)
    }
  })
})
