/**
 * HS* ID token verification (verifyHmacJwt in src/id-token.ts) against jose's own `jwtVerify`: named
 * cases for each check, then thousands of generated tokens (headers, claims, keys and
 * signatures mutated) on which it must never accept what jose refuses, and must accept
 * every canonical token jose accepts, with the same claims.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac, createSecretKey } from 'node:crypto'
import fc from 'fast-check'
import { errors, jwtVerify, SignJWT, type JWTClaimVerificationOptions, type JWTPayload } from 'jose'
import { verifyHmacJwt, type HmacAlgorithm } from '../../src/id-token.ts'

const SECRET = 'client-secret-0123456789abcdef0123456789abcdef'
const SECRET_BYTES = new TextEncoder().encode(SECRET)
const KEY = createSecretKey(Buffer.from(SECRET, 'utf8'))
const ISSUER = 'https://www.justpass.me/openid'
const CLIENT_ID = 'the-client'
const CHECKS: JWTClaimVerificationOptions = { issuer: ISSUER, audience: CLIENT_ID, maxTokenAge: 600, clockTolerance: 5, requiredClaims: ['sub', 'exp', 'iat', 'nonce'] }

const now = () => Math.floor(Date.now() / 1000)
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  return { iss: ISSUER, aud: CLIENT_ID, sub: 'alice', nonce: 'n-0123', iat: now(), exp: now() + 300, auth_time: now(), ...overrides }
}

function sign(payload: JWTPayload, alg: HmacAlgorithm = 'HS256', secret: Uint8Array = SECRET_BYTES, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ ...header, alg }).sign(secret)
}

/** What jose's `jwtVerify` says of `jwt` with the same key, algorithm and claim checks. */
async function joseVerdict(jwt: string, alg: HmacAlgorithm): Promise<JWTPayload | Error> {
  try {
    return (await jwtVerify(jwt, SECRET_BYTES, { ...CHECKS, algorithms: [alg] })).payload
  } catch (err) {
    return err as Error
  }
}

function ourVerdict(jwt: string, alg: HmacAlgorithm): JWTPayload | Error {
  try {
    return verifyHmacJwt(jwt, KEY, alg, CHECKS)
  } catch (err) {
    return err as Error
  }
}

function refusedWith(jwt: string, kind: new (...args: never[]) => Error, alg: HmacAlgorithm = 'HS256'): void {
  const verdict = ourVerdict(jwt, alg)
  assert.ok(verdict instanceof kind, `expected ${kind.name}, got ${verdict instanceof Error ? verdict.name : 'acceptance'}`)
}

describe('HS* ID token verification', () => {
  test('accepts a valid token of each HS algorithm, with the claims jose reads', async () => {
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      const jwt = await sign(claims(), alg, SECRET_BYTES, { typ: 'JWT', kid: 'k1' })
      assert.deepEqual(ourVerdict(jwt, alg), await joseVerdict(jwt, alg))
      assert.equal((ourVerdict(jwt, alg) as JWTPayload).sub, 'alice')
    }
  })

  test('refuses alg none, another HS algorithm and an asymmetric alg name', async () => {
    const payload = claims()
    refusedWith(`${b64({ alg: 'none' })}.${b64(payload)}.`, errors.JWSInvalid)
    refusedWith(`${b64({ alg: 'none' })}.${b64(payload)}.c2ln`, errors.JOSEAlgNotAllowed)
    refusedWith(await sign(payload, 'HS384'), errors.JOSEAlgNotAllowed)
    refusedWith(await sign(payload, 'HS256'), errors.JOSEAlgNotAllowed, 'HS512')
    const forged = await sign(payload)
    refusedWith(`${b64({ alg: 'RS256' })}.${forged.split('.').slice(1).join('.')}`, errors.JOSEAlgNotAllowed)
  })

  test('refuses a crit extension, even b64 that jose knows: an ID token has no use for one', async () => {
    refusedWith(await sign(claims(), 'HS256', SECRET_BYTES, { crit: ['b64'], b64: true }), errors.JWSInvalid)
  })

  test('refuses another key, a changed signature, payload or header, and a non-canonical signature', async () => {
    const jwt = await sign(claims())
    const [header, payload, signature] = jwt.split('.') as [string, string, string]
    refusedWith(await sign(claims(), 'HS256', new TextEncoder().encode('another-secret-0123456789abcdef')), errors.JWSSignatureVerificationFailed)
    const flipped = signature.slice(0, 5) + (signature[5] === 'A' ? 'B' : 'A') + signature.slice(6)
    refusedWith(`${header}.${payload}.${flipped}`, errors.JWSSignatureVerificationFailed)
    refusedWith(`${header}.${b64(claims({ sub: 'mallory' }))}.${signature}`, errors.JWSSignatureVerificationFailed)
    refusedWith(`${b64({ alg: 'HS256', typ: 'JWT' })}.${payload}.${signature}`, errors.JWSSignatureVerificationFailed)
    // 32 bytes in base64url end in a character with two unused bits: another last character
    // may decode to the same bytes, but only the canonical encoding is the signature.
    const last = signature.at(-1)!
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!
    refusedWith(`${header}.${payload}.${signature.slice(0, -1)}${sibling}`, errors.JWSSignatureVerificationFailed)
  })

  test('refuses padding, whitespace, extra segments and an empty token', async () => {
    const jwt = await sign(claims())
    const [header, payload, signature] = jwt.split('.') as [string, string, string]
    for (const broken of [`${jwt}=`, `${header}=.${payload}.${signature}`, ` ${jwt}`, `${jwt}.`, `${header}.${payload}`, '', '..', `${header}..${signature}`]) {
      refusedWith(broken, errors.JWSInvalid)
    }
  })

  test('refuses a header or payload that is not a JSON object', () => {
    refusedWith(`${b64('[1]')}.${b64(claims())}.c2ln`, errors.JWSInvalid)
    refusedWith(`${b64('not json')}.${b64(claims())}.c2ln`, errors.JWSInvalid)
    const header = b64({ alg: 'HS256' })
    for (const payload of [b64('[1]'), b64('"text"'), b64('not json')]) {
      // Signed properly, so that only the payload's form can refuse it.
      const signature = createHmac('sha256', KEY).update(`${header}.${payload}`).digest('base64url')
      refusedWith(`${header}.${payload}.${signature}`, errors.JWTInvalid)
    }
  })

  test('refuses each failed claim as jose does', async () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['iss', { iss: 'https://evil.example/openid' }],
      ['aud', { aud: 'another-client' }],
      ['exp', { exp: now() - 60 }],
      ['iat', { iat: now() - 3600, exp: now() + 60 }],
      ['nbf', { nbf: now() + 600 }],
      ['nonce', { nonce: undefined }],
      ['sub', { sub: undefined }],
    ]
    for (const [name, overrides] of cases) {
      const jwt = await sign(JSON.parse(JSON.stringify(claims(overrides))) as JWTPayload)
      const ours = ourVerdict(jwt, 'HS256')
      const theirs = await joseVerdict(jwt, 'HS256')
      assert.ok(ours instanceof Error, `${name}: refused`)
      assert.ok(theirs instanceof Error, `${name}: jose refuses it too`)
      assert.equal(ours.constructor, theirs.constructor, `${name}: the same error as jose's`)
    }
  })

  test('generated tokens: never more lenient than jose, never stricter on a canonical token', async () => {
    const algs = ['HS256', 'HS384', 'HS512'] as const
    /** Mostly `valid`, sometimes one of `others`: most tokens get far, many are accepted. */
    const mostly = <T,>(valid: T, ...others: T[]) => fc.oneof({ arbitrary: fc.constant(valid), weight: 6 }, { arbitrary: fc.constantFrom(...others), weight: 1 })
    const headerArb = fc.record({
      /** `configured`: the verifier's algorithm; anything else is put in the header as it is. */
      alg: mostly<string>('configured', 'HS256', 'HS384', 'HS512', 'none', 'RS256', 'hs256', ''),
      extra: fc.record({ typ: fc.constantFrom('JWT', 'at+jwt', 'x'), kid: fc.string({ maxLength: 8 }) }, { requiredKeys: [] }),
      extension: mostly<object>({}, { crit: ['b64'], b64: true }, { crit: ['b64'], b64: false }, { crit: ['exp'] }, { crit: [] }, { b64: false }),
    })
    const claimArb = fc.record({
      iss: mostly<unknown>(ISSUER, `${ISSUER}/`, 'https://evil.example', 7, undefined),
      aud: mostly<unknown>(CLIENT_ID, [CLIENT_ID], ['x', CLIENT_ID], 'x', [], null, undefined),
      sub: mostly<unknown>('alice', '', 3, undefined),
      nonce: mostly<unknown>('n-0123', '', undefined),
      iat: mostly<number | undefined>(-10, -4000, 100, undefined),
      exp: mostly<number | undefined>(300, -100, 0, undefined),
      nbf: mostly<number | undefined>(-10, 100, undefined),
    })
    const mutation = fc.oneof(
      { arbitrary: fc.constant({ kind: 'none' as const }), weight: 6 },
      { arbitrary: fc.record({ kind: fc.constant('char' as const), segment: fc.integer({ min: 0, max: 2 }), at: fc.nat(), char: fc.constantFrom('A', 'b', '-', '_', '=', '.', ' ', '+', '/') }), weight: 2 },
      { arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }), weight: 1 },
    )
    const otherKey = mostly(false, true)
    const seen = { accepted: 0, refused: 0 }
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...algs), headerArb, claimArb, otherKey, mutation, async (configured, generated, relative, wrongKey, change) => {
        const header = { ...generated.extra, ...generated.extension, alg: generated.alg === 'configured' ? configured : generated.alg }
        const payload = JSON.parse(JSON.stringify(relative)) as Record<string, unknown>
        for (const claim of ['iat', 'exp', 'nbf'] as const) if (typeof payload[claim] === 'number') payload[claim] = now() + (payload[claim] as number)
        // MAC with the header's own alg when it is an HS one, so that the header checks alone decide.
        const alg = (algs as readonly string[]).includes(header.alg) ? (header.alg as HmacAlgorithm) : configured
        const secret = wrongKey ? 'a-different-secret-0123456789abcdef' : SECRET
        const signingInput = `${b64(header)}.${b64(payload)}`
        let jwt = `${signingInput}.${createHmac(`sha${alg.slice(2)}`, secret).update(signingInput).digest('base64url')}`
        if (change.kind === 'char') {
          const segments = jwt.split('.')
          const segment = segments[change.segment]!
          const at = change.at % (segment.length + 1)
          segments[change.segment] = segment.slice(0, at) + change.char + segment.slice(at + 1)
          jwt = segments.join('.')
        } else if (change.kind === 'truncate') {
          jwt = jwt.slice(0, change.at % (jwt.length + 1))
        }

        const ours = ourVerdict(jwt, configured)
        const theirs = await joseVerdict(jwt, configured)
        seen[ours instanceof Error ? 'refused' : 'accepted']++
        if (!(ours instanceof Error)) {
          assert.ok(!(theirs instanceof Error), `accepted what jose refuses (${(theirs as Error).message}): ${jwt}`)
          assert.deepEqual(ours, theirs)
        } else if (!(theirs instanceof Error)) {
          // Stricter than jose in two ways only: no crit extension (jose knows b64), and
          // canonical base64url only (jose decodes leniently).
          const [h, p, s] = jwt.split('.') as [string, string, string]
          const canonical = (part: string) => Buffer.from(part, 'base64url').toString('base64url') === part
          const crit = canonical(h) && 'crit' in (JSON.parse(Buffer.from(h, 'base64url').toString()) as object)
          assert.ok(crit || !(canonical(h) && canonical(p) && canonical(s)), `refused a canonical token jose accepts (${ours.message}): ${jwt}`)
        }
      }),
      { numRuns: 3_000 },
    )
    assert.ok(seen.accepted >= 300 && seen.refused >= 300, `both verdicts were exercised: ${JSON.stringify(seen)}`)
  })
})
