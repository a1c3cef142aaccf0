/** The flow stores' clock: whole seconds since the epoch, as flows count time. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { nowInSeconds } from '../../src/flow-store/types.ts'

describe('nowInSeconds', () => {
  test('is the current time in whole seconds', () => {
    const before = Math.floor(Date.now() / 1000)
    const now = nowInSeconds()
    assert.ok(Number.isInteger(now) && now >= before && now <= Math.floor(Date.now() / 1000), String(now))
  })
})
