/**
 * The session flow store called directly, through its own interface: the exchange
 * `{ req }`, of which it reads and writes `req.session`.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassUsageError } from '../../src/errors.ts'
import { SessionFlowStore } from '../../src/flow-store/session.ts'
import type { FlowExchange } from '../../src/flow-store/types.ts'
import type { PendingFlow } from '../../src/flow.ts'
import { sleep, REG, LOGIN, newState, response, exchangeWith, flowOf } from '../support/flow-exchange.ts'

describe('SessionFlowStore', () => {
  const KEY = 'justpass'

  function sessionExchange(session: unknown): FlowExchange {
    return exchangeWith({ headers: {}, session }, 'no response')
  }

  function nowInSeconds(): number {
    return Math.floor(Date.now() / 1000)
  }

  test('put then take gives the flow back once: the second take is unknown, the session key is gone', () => {
    const store = new SessionFlowStore(KEY, 600, 5)
    const session: Record<string, unknown> = { passport: { user: 'alice' } }
    const state = newState()
    const before = nowInSeconds()
    store.put(sessionExchange(session), state, REG)
    const after = nowInSeconds()
    const stored = (session[KEY] as Record<string, PendingFlow>)[state]!
    assert.deepEqual({ ...stored, started: 0 }, { ...REG, started: 0 })
    assert.ok(stored.started >= before && stored.started <= after)
    const taken = store.take(sessionExchange(session), state)
    assert.deepEqual(taken, { status: 'found', flow: stored })
    assert.deepEqual(session, { passport: { user: 'alice' } }, 'the last flow taken removes the key')
    assert.deepEqual(store.take(sessionExchange(session), state), { status: 'unknown' })
  })

  test('the session store never touches the response', () => {
    const store = new SessionFlowStore(KEY, 600, 5)
    const session = {}
    const res = response()
    const state = newState()
    store.put(exchangeWith({ headers: {}, session }, res), state, REG)
    assert.equal(store.take(exchangeWith({ headers: {}, session }, res), state).status, 'found')
    assert.deepEqual(res.lines, [])
  })

  test('flows of several tabs are kept side by side and taken each by its state', () => {
    const store = new SessionFlowStore('custom.key', 600, 5)
    const session: Record<string, unknown> = {}
    const [a, b] = [newState(), newState()]
    store.put(sessionExchange(session), a, REG)
    store.put(sessionExchange(session), b, LOGIN)
    assert.deepEqual(Object.keys(session['custom.key'] as object).sort(), [a, b].sort())
    assert.equal(flowOf(store.take(sessionExchange(session), b)).mode, 'login')
    assert.deepEqual(Object.keys(session['custom.key'] as object), [a], 'the other flow stays')
    assert.equal(flowOf(store.take(sessionExchange(session), a)).mode, 'register')
    assert.deepEqual(session, {})
  })

  test('an unknown state leaves the session as it was, and creates nothing', () => {
    const store = new SessionFlowStore(KEY, 600, 5)
    const empty: Record<string, unknown> = {}
    assert.deepEqual(store.take(sessionExchange(empty), newState()), { status: 'unknown' })
    assert.deepEqual(empty, {})
    const session: Record<string, unknown> = {}
    const state = newState()
    store.put(sessionExchange(session), state, REG)
    const snapshot = structuredClone(session)
    for (const other of [newState(), 'toString', '__proto__', 'constructor', 'hasOwnProperty', '']) {
      assert.deepEqual(store.take(sessionExchange(session), other), { status: 'unknown' }, JSON.stringify(other))
    }
    assert.deepEqual(session, snapshot)
  })

  test('a session key holding something else than flows is no flow', () => {
    const store = new SessionFlowStore(KEY, 600, 5)
    for (const value of ['text', 42, null, true]) {
      const session: Record<string, unknown> = { [KEY]: value }
      assert.deepEqual(store.take(sessionExchange(session), newState()), { status: 'unknown' })
      const state = newState()
      store.put(sessionExchange(session), state, LOGIN)
      assert.deepEqual(Object.keys(session[KEY] as object), [state], `put replaces ${JSON.stringify(value)}`)
    }
  })

  describe('expiry', () => {
    test('a flow started longer ago than maxAge is expired, handed back with its flow, and removed', () => {
      const store = new SessionFlowStore(KEY, 600, 5)
      const state = newState()
      const flow: PendingFlow = { ...REG, started: nowInSeconds() - 605 }
      const session: Record<string, unknown> = { [KEY]: { [state]: flow } }
      assert.deepEqual(store.take(sessionExchange(session), state), { status: 'expired', flow })
      assert.deepEqual(session, {})
      assert.deepEqual(store.take(sessionExchange(session), state), { status: 'unknown' }, 'an expired flow is not taken twice either')
    })

    test('a flow started a little less than maxAge ago is still found', () => {
      const store = new SessionFlowStore(KEY, 600, 5)
      const state = newState()
      const flow: PendingFlow = { ...LOGIN, started: nowInSeconds() - 590 }
      assert.deepEqual(store.take(sessionExchange({ [KEY]: { [state]: flow } }), state), { status: 'found', flow })
    })

    test('in real time: with maxAge 1, a flow taken two seconds later is expired', async () => {
      const store = new SessionFlowStore(KEY, 1, 5)
      const session: Record<string, unknown> = {}
      const state = newState()
      store.put(sessionExchange(session), state, LOGIN)
      await sleep(2100)
      assert.equal(store.take(sessionExchange(session), state).status, 'expired')
    })

    test('put drops the expired flows it finds', () => {
      const store = new SessionFlowStore(KEY, 600, 5)
      const now = nowInSeconds()
      const session: Record<string, unknown> = {
        [KEY]: { stale: { ...LOGIN, started: now - 700 }, live: { ...LOGIN, started: now - 10 } },
      }
      const state = newState()
      store.put(sessionExchange(session), state, REG)
      assert.deepEqual(Object.keys(session[KEY] as object).sort(), ['live', state].sort())
    })
  })

  describe('the maxPending bound', () => {
    test('each put keeps at most maxPending flows, dropping the oldest', () => {
      const store = new SessionFlowStore(KEY, 600, 3)
      const session: Record<string, unknown> = {}
      const states: string[] = []
      for (let i = 0; i < 6; i++) {
        const state = newState()
        states.push(state)
        store.put(sessionExchange(session), state, { ...LOGIN, nonce: `nonce-${i}` })
        assert.equal(Object.keys(session[KEY] as object).length, Math.min(i + 1, 3))
      }
      for (const [i, state] of states.entries()) {
        const taken = store.take(sessionExchange(session), state)
        if (i < 3) assert.deepEqual(taken, { status: 'unknown' }, `flow ${i + 1} was dropped`)
        else assert.equal(flowOf(taken).nonce, `nonce-${i}`, `flow ${i + 1} is kept`)
      }
    })

    test('the oldest go first by their start time, not by the order they were stored in', () => {
      const store = new SessionFlowStore(KEY, 600, 3)
      const now = nowInSeconds()
      const session: Record<string, unknown> = {
        [KEY]: { newest: { ...LOGIN, started: now - 10 }, oldest: { ...LOGIN, started: now - 300 }, middle: { ...LOGIN, started: now - 100 } },
      }
      const state = newState()
      store.put(sessionExchange(session), state, REG)
      assert.deepEqual(Object.keys(session[KEY] as object).sort(), ['middle', 'newest', state].sort())
    })

    test('maxPending 1 keeps only the newest flow', () => {
      const store = new SessionFlowStore(KEY, 600, 1)
      const session: Record<string, unknown> = {}
      const [a, b] = [newState(), newState()]
      store.put(sessionExchange(session), a, LOGIN)
      store.put(sessionExchange(session), b, REG)
      assert.deepEqual(Object.keys(session[KEY] as object), [b])
    })
  })

  describe('a missing session is the usage error', () => {
    for (const [label, session] of [
      ['no session', undefined],
      ['a null session', null],
      ['a session that is a string', 'sid'],
    ] as const) {
      test(label, () => {
        const store = new SessionFlowStore(KEY, 600, 5)
        const isUsage = (err: Error) => err instanceof JustpassUsageError && /session/.test(err.message)
        assert.throws(() => store.put(sessionExchange(session), newState(), REG), isUsage)
        assert.throws(() => store.take(sessionExchange(session), newState()), isUsage)
      })
    }
  })
})
