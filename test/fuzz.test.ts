/**
 * The callback route, fuzzed: thousands of generated requests (random and malformed
 * query strings, repeated parameters, huge values, invalid UTF-8, arrays where strings
 * are expected, real pending states with forged codes). Invariants: no crash and no
 * unhandled rejection, nobody logged in, the store unchanged, every answer a redirect
 * to the login page or a 4xx.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { Browser } from './support/browser.ts'
import { startHarness, type Harness } from './support/harness.ts'

const RUNS = 5_000
const KEYS = ['code', 'state', 'error', 'error_description', 'iss', 'session_state', 'next', '__proto__', 'constructor', 'state[]', 'state[a]', 'code[]', 'error[0]']

/** One query component: percent-encoded text, raw bytes that are not UTF-8, or a huge value. */
const component = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent), weight: 8 },
  { arbitrary: fc.uint8Array({ maxLength: 24 }).map((bytes) => [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')), weight: 4 },
  { arbitrary: fc.constantFrom('%', '%%', '%zz', '%c3%28', '%ed%a0%80', '%f0%28%8c%bc', '%00', '+', '&', '=', '==', '[]', '[', ']'), weight: 4 },
  // Huge values: up to the server's header limit, and past it.
  { arbitrary: fc.integer({ min: 1_000, max: 20_000 }).map((length) => 'A'.repeat(length)), weight: 1 },
)

const pair = fc.tuple(fc.oneof(fc.constantFrom(...KEYS), component), fc.option(component, { nil: undefined }))

const query = fc.array(pair, { maxLength: 8 }).map((pairs) => pairs.map(([key, value]) => (value === undefined ? key : `${key}=${value}`)).join('&'))

describe('fuzzed callback', () => {
  let harness: Harness
  const rejections: unknown[] = []
  const onRejection = (reason: unknown) => void rejections.push(reason)
  before(async () => {
    harness = await startHarness()
    process.on('unhandledRejection', onRejection)
  })
  after(async () => {
    process.off('unhandledRejection', onRejection)
    await harness.close()
  })

  test(`${RUNS} generated callback requests: no crash, no login, no store change, only redirects to the login page or 4xx`, async () => {
    await harness.app.users.setJustpassEnabled('alice', true)
    const storeBefore = JSON.stringify(harness.app.users.list())
    const browser = new Browser()
    const statuses = new Map<number, number>()
    let withRealState = 0

    await fc.assert(
      fc.asyncProperty(query, fc.boolean(), fc.integer({ min: 0, max: 9 }), async (generated, asLoggedOut, chance) => {
        let raw = generated
        if (chance === 0) {
          // A real pending flow of this session, with whatever else was generated: forged codes, extra state, ...
          await browser.get(`${harness.app.origin}/test/password?username=alice`)
          const started = await browser.get(`${harness.app.origin}/justpass/login`)
          const state = new URL(started.location!).searchParams.get('state')!
          raw = `state=${state}&code=${encodeURIComponent(generated.slice(0, 64)) || 'x'}${generated ? `&${generated}` : ''}`
          withRealState++
        }
        const client = asLoggedOut ? new Browser() : browser
        const hop = await client.get(`${harness.app.callbackURL}?${raw}`)
        statuses.set(hop.status, (statuses.get(hop.status) ?? 0) + 1)
        if (hop.status >= 300 && hop.status < 400) {
          assert.equal(hop.location, `${harness.app.origin}/login`, `?${raw.slice(0, 200)} redirected elsewhere`)
        } else {
          assert.ok(hop.status >= 400 && hop.status < 500, `?${raw.slice(0, 200)} answered ${hop.status}`)
        }
      }),
      { numRuns: RUNS },
    )

    const me = await browser.json<{ user: unknown }>(`${harness.app.origin}/me`)
    assert.equal(me.user, null, 'nobody was logged in')
    assert.equal(JSON.stringify(harness.app.users.list()), storeBefore, 'the store is unchanged')
    assert.deepEqual(harness.app.errors, [], 'no request reached the error handler')
    assert.deepEqual(rejections, [], 'no unhandled rejection')
    assert.ok(withRealState > RUNS / 20, `real pending states were fuzzed too (${withRealState})`)
    console.log(`fuzzed callback: ${RUNS} requests, answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`)
  })
})
