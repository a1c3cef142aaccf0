/** What the site is told of a flow (flowInfoOf): its mode, platform and return path, and for LOGIN whether it was a second factor. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { flowInfoOf } from '../../src/flow.ts'

describe('flowInfoOf', () => {
  test('carries only what the flow has, and secondFactor for LOGIN alone', () => {
    assert.deepEqual(flowInfoOf({ mode: 'login' }), { mode: 'login', secondFactor: false })
    assert.deepEqual(flowInfoOf({ mode: 'login', username: 'alice', platform: 'app', returnTo: '/cart' }), { mode: 'login', platform: 'app', returnTo: '/cart', secondFactor: true })
    assert.deepEqual(flowInfoOf({ mode: 'register', username: 'alice' }), { mode: 'register' })
    assert.deepEqual(flowInfoOf({ mode: 'confirm', username: 'alice', returnTo: '/account' }), { mode: 'confirm', returnTo: '/account' })
  })
})
