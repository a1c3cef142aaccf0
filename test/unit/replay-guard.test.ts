/**
 * The replay guard on its own: a state is claimed once while its claim lasts, expired
 * claims are forgotten, and no more than `capacity` claims are ever remembered. Time is
 * given as real expiry instants, in the past or the future.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ReplayGuard } from '../../src/replay-guard.ts'

const LATER = () => Date.now() + 60_000
const EARLIER = () => Date.now() - 1
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('ReplayGuard', () => {
  test('starts empty', () => {
    assert.equal(new ReplayGuard(10).size, 0)
  })

  test('a state is claimed once: the second claim, and every later one while it lasts, is refused', () => {
    const guard = new ReplayGuard(10)
    assert.equal(guard.claim('state-a', LATER()), true)
    assert.equal(guard.claim('state-a', LATER()), false)
    assert.equal(guard.claim('state-a', LATER()), false)
    assert.equal(guard.claim('state-a', EARLIER()), false, 'a refused claim does not shorten the first one')
    assert.equal(guard.claim('state-a', LATER()), false)
    assert.equal(guard.size, 1)
  })

  test('claims of different states do not interfere', () => {
    const guard = new ReplayGuard(10)
    for (const state of ['a', 'b', 'c']) assert.equal(guard.claim(state, LATER()), true)
    for (const state of ['a', 'b', 'c']) assert.equal(guard.claim(state, LATER()), false)
    assert.equal(guard.claim('A', LATER()), true, 'states are compared exactly')
    assert.equal(guard.size, 4)
  })

  test('a claim whose expiry has passed is forgotten: the state can be claimed again', () => {
    const guard = new ReplayGuard(10)
    assert.equal(guard.claim('state-a', EARLIER()), true)
    assert.equal(guard.claim('state-a', LATER()), true, 'the first claim had expired')
    assert.equal(guard.claim('state-a', LATER()), false, 'the second claim lasts')
    assert.equal(guard.size, 1)
  })

  test('a claim lasts until its expiry instant, then is forgotten', async () => {
    const guard = new ReplayGuard(10)
    const expiresAt = Date.now() + 50
    assert.equal(guard.claim('state-a', expiresAt), true)
    assert.equal(guard.claim('state-a', LATER()), false)
    while (Date.now() <= expiresAt) await sleep(10)
    assert.equal(guard.claim('state-a', LATER()), true)
  })

  test('expired claims at the front are dropped on the next claim', () => {
    const guard = new ReplayGuard(100)
    for (let i = 0; i < 10; i++) guard.claim(`old-${i}`, EARLIER())
    assert.ok(guard.size <= 1, `only the last expired claim may still be held (size ${guard.size})`)
    guard.claim('fresh', LATER())
    assert.equal(guard.size, 1, 'every expired claim is gone')
    assert.equal(guard.claim('fresh', LATER()), false)
  })

  test('the capacity bound: beyond it the oldest claim is forgotten, in claim order', () => {
    const guard = new ReplayGuard(3)
    for (const state of ['a', 'b', 'c']) assert.equal(guard.claim(state, LATER()), true)
    assert.equal(guard.size, 3)
    assert.equal(guard.claim('d', LATER()), true)
    assert.equal(guard.size, 3, 'never more than the capacity')
    assert.equal(guard.claim('b', LATER()), false, 'b is still remembered')
    assert.equal(guard.claim('c', LATER()), false)
    assert.equal(guard.claim('d', LATER()), false)
    assert.equal(guard.claim('a', LATER()), true, 'a, the oldest claim, was forgotten (and is claimed again, forgetting b)')
    assert.equal(guard.claim('b', LATER()), true, 'b was next')
    assert.equal(guard.size, 3)
  })

  test('a refused claim does not refresh the order: the oldest claim still goes first', () => {
    const guard = new ReplayGuard(2)
    guard.claim('a', LATER())
    guard.claim('b', LATER())
    assert.equal(guard.claim('a', LATER()), false)
    guard.claim('c', LATER())
    assert.equal(guard.claim('b', LATER()), false, 'b is kept')
    assert.equal(guard.claim('a', LATER()), true, 'a was forgotten, although it was the last one asked for')
  })

  test('a state claimed again after expiry counts as the newest claim', () => {
    const guard = new ReplayGuard(2)
    guard.claim('a', EARLIER())
    guard.claim('b', LATER())
    assert.equal(guard.claim('a', LATER()), true)
    assert.equal(guard.size, 2)
    guard.claim('c', LATER())
    assert.equal(guard.claim('a', LATER()), false, 'a is kept')
    assert.equal(guard.claim('b', LATER()), true, 'b, now the oldest, was forgotten')
  })

  test('a capacity of one remembers only the last claim', () => {
    const guard = new ReplayGuard(1)
    assert.equal(guard.claim('a', LATER()), true)
    assert.equal(guard.claim('a', LATER()), false)
    assert.equal(guard.claim('b', LATER()), true)
    assert.equal(guard.size, 1)
    assert.equal(guard.claim('b', LATER()), false)
    assert.equal(guard.claim('a', LATER()), true)
  })

  test('no unbounded growth: many live claims stay within the capacity', () => {
    const guard = new ReplayGuard(1000)
    const expiresAt = LATER()
    for (let i = 0; i < 50_000; i++) {
      assert.equal(guard.claim(`state-${i}`, expiresAt), true)
      if (i % 5000 === 0) assert.ok(guard.size <= 1000)
    }
    assert.equal(guard.size, 1000)
    assert.equal(guard.claim('state-49999', expiresAt), false, 'the newest claims are the ones remembered')
    assert.equal(guard.claim('state-49000', expiresAt), false)
    assert.equal(guard.claim('state-48999', expiresAt), true, 'older ones were forgotten')
  })

  test('no unbounded growth: expired claims do not pile up below the capacity', () => {
    const guard = new ReplayGuard(100_000)
    for (let i = 0; i < 10_000; i++) guard.claim(`state-${i}`, EARLIER())
    assert.ok(guard.size <= 1, `size ${guard.size}`)
  })
})
