/**
 * The sealed cookie flow store called directly, through its own interface: the exchange
 * `{ req, res }`, of which it reads `req.headers.cookie` and calls
 * `res.appendHeader('Set-Cookie', …)`. The Set-Cookie lines it answers are fed back as the
 * next request's Cookie header, as a browser would.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassUsageError } from '../../src/errors.ts'
import { CookieFlowStore } from '../../src/flow-store/cookie.ts'
import { deriveSealKey, Sealer } from '../../src/flow-store/seal.ts'
import type { NewFlow } from '../../src/flow.ts'
import { sleep, REG, LOGIN, newState, sealerOf, exchangeWith, parseSetCookie, Jar, cookieStore, restarted, flowOf } from '../support/flow-exchange.ts'

describe('CookieFlowStore', () => {
  test('put then take gives the flow back once: the second take is unknown', () => {
    const store = cookieStore()
    const jar = new Jar()
    const state = newState()
    const before = Math.floor(Date.now() / 1000)
    jar.put(store, state, REG)
    const after = Math.floor(Date.now() / 1000)
    const first = jar.take(store, state)
    assert.equal(first.taken.status, 'found')
    const { started, ...rest } = flowOf(first.taken)
    assert.deepEqual(rest, REG)
    assert.ok(started >= before && started <= after, 'started is the put time, in seconds')
    assert.deepEqual(jar.flowCookies(), [], 'the take cleared the cookie')
    const second = jar.take(store, state)
    assert.deepEqual(second.taken, { status: 'unknown' })
    assert.deepEqual(second.lines, [], 'nothing to clear the second time')
  })

  test('a confirmation and its acr_values come back as they were sealed', () => {
    const store = cookieStore()
    const jar = new Jar()
    const state = newState()
    const confirm: NewFlow = { mode: 'confirm', verifier: 'c'.repeat(44), nonce: 'k'.repeat(44), username: 'alice', returnTo: '/account', acrValues: 'keys hwk' }
    jar.put(store, state, confirm)
    const { started: _, ...rest } = flowOf(jar.take(store, state).taken)
    assert.deepEqual(rest, confirm)
  })

  test('only spaces and tabs are trimmed around a cookie: a name led by U+00A0 (or any other character) is no flow cookie', () => {
    const store = cookieStore({ secure: true })
    const jar = new Jar()
    const state = newState()
    jar.put(store, state, REG)
    const header = jar.header()
    assert.equal(store.open(` \t${header}\t `, state).status, 'found', 'spaces and tabs around it are fine')
    for (const lead of ['\u00a0', '\u2028', '\u000b', 'x', '.']) {
      assert.equal(store.open(`${lead}${header}`, state).status, 'unknown', JSON.stringify(lead))
      const exchange = exchangeWith({ headers: { cookie: `${lead}${header}` } })
      assert.equal(store.take(exchange, state).status, 'unknown', JSON.stringify(lead))
      assert.deepEqual(exchange.res!.lines, [], 'nothing cleared for a name that is not a flow cookie')
    }
  })

  test('a start clears only names of the flow-cookie shape, at most maxPending of them', () => {
    const store = cookieStore({ maxPending: 5 })
    const junk = Array.from({ length: 1000 }, (_, i) => `justpass.junk${i}=x`)
    const planted = Array.from({ length: 1000 }, (_, i) => `justpass.${String(i).padStart(16, 'A')}=0.x`)
    for (const cookies of [junk, planted]) {
      const exchange = exchangeWith({ headers: { cookie: cookies.join('; ') } })
      store.put(exchange, newState(), LOGIN)
      const lines = exchange.res!.lines
      assert.ok(lines.length <= 6, `${lines.length} Set-Cookie lines`)
      assert.ok(lines.every((line) => /^justpass\.[A-Za-z0-9_-]{16}=/.test(line)), 'only flow-cookie names are set or cleared')
    }
  })

  test('a flow without the optional fields comes back without them', () => {
    const store = cookieStore()
    const jar = new Jar()
    const state = newState()
    jar.put(store, state, LOGIN)
    const flow = flowOf(jar.take(store, state).taken)
    assert.deepEqual(Object.keys(flow).sort(), ['mode', 'nonce', 'started', 'verifier'])
    assert.equal(flow.mode, 'login')
    assert.equal(flow.verifier, LOGIN.verifier)
    assert.equal(flow.nonce, LOGIN.nonce)
  })

  test('the store keeps nothing itself: the clearing Set-Cookie is what makes a take once', () => {
    const store = cookieStore()
    const jar = new Jar()
    const state = newState()
    jar.put(store, state, REG)
    const header = jar.header()
    for (let i = 0; i < 2; i++) {
      const exchange = exchangeWith({ headers: { cookie: header } })
      assert.equal(store.take(exchange, state).status, 'found')
      assert.deepEqual(exchange.res!.lines, [`${store.cookieName(state)}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax`])
    }
  })

  test('two flows of one browser (two tabs) are both kept and each taken by its own state', () => {
    const store = cookieStore()
    const jar = new Jar()
    const [a, b] = [newState(), newState()]
    jar.put(store, a, REG)
    jar.put(store, b, LOGIN)
    assert.equal(jar.flowCookies().length, 2)
    assert.equal(flowOf(jar.take(store, b).taken).mode, 'login')
    assert.equal(flowOf(jar.take(store, a).taken).mode, 'register')
    assert.deepEqual(jar.flowCookies(), [])
  })

  const schemes: Array<[string, boolean, string, string]> = [
    ['http callback', false, 'justpass.', ''],
    ['https callback', true, '__Host-justpass.', '; Secure'],
  ]
  for (const [label, secure, prefix, secureAttribute] of schemes) {
    test(`${label}: the Set-Cookie lines, name ${prefix}<16 characters of the state>, attributes${secureAttribute || ' without Secure'}`, () => {
      const store = cookieStore({ secure, maxAge: 600 })
      const jar = new Jar()
      const state = newState()
      assert.equal(store.cookieName(state), `${prefix}${state.slice(0, 16)}`)
      const before = Date.now()
      const lines = jar.put(store, state, REG)
      const after = Date.now()
      assert.equal(lines.length, 1, 'one line for one new flow')
      const line = lines[0]!
      const escapedName = `${prefix}${state.slice(0, 16)}`.replace(/[.\-]/g, '\\$&')
      assert.match(line, new RegExp(`^${escapedName}=[0-9a-z]{1,11}\\.[A-Za-z0-9_-]+; Max-Age=600; Path=/; HttpOnly; SameSite=Lax${secureAttribute}$`))
      const { value } = parseSetCookie(line)
      const started = parseInt(value.slice(0, value.indexOf('.')), 36)
      assert.ok(started >= before && started <= after, 'the value starts with the start time in milliseconds, base 36')
      for (const secret of [REG.verifier, REG.nonce, REG.username!, REG.returnTo!, state.slice(16)]) assert.ok(!line.includes(secret), `${secret} does not appear in the cookie`)
      if (!secure) assert.ok(!line.includes('Secure'))

      const taken = jar.take(store, state)
      assert.equal(taken.taken.status, 'found')
      assert.deepEqual(taken.lines, [`${prefix}${state.slice(0, 16)}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax${secureAttribute}`])
    })
  }

  test('an https store does not read the http cookie of the same state, nor the other way round', () => {
    const state = newState()
    const http = new Jar()
    http.put(cookieStore({ secure: false }), state, REG)
    assert.deepEqual(http.take(cookieStore({ secure: true }), state).taken, { status: 'unknown' })
    const https = new Jar()
    https.put(cookieStore({ secure: true }), state, REG)
    assert.deepEqual(https.take(cookieStore({ secure: false }), state).taken, { status: 'unknown' })
  })

  test('Max-Age is the flow maximum age', () => {
    for (const maxAge of [1, 60, 3600]) {
      const lines = new Jar().put(cookieStore({ maxAge }), newState(), LOGIN)
      assert.equal(parseSetCookie(lines[0]!).maxAge, maxAge)
    }
  })

  describe('expiry', () => {
    test('a flow started longer ago than maxAge is expired, handed back with its flow, and cleared', () => {
      const store = cookieStore({ maxAge: 600 })
      const jar = new Jar()
      const state = newState()
      jar.put(store, state, REG)
      const name = store.cookieName(state)
      const startedMs = Date.now() - 601_000
      jar.cookies.set(name, restarted(name, jar.cookies.get(name)!, state, startedMs))
      const { taken, lines } = jar.take(store, state)
      assert.equal(taken.status, 'expired')
      const { started, ...rest } = flowOf(taken)
      assert.deepEqual(rest, REG)
      assert.equal(started, Math.floor(startedMs / 1000))
      assert.deepEqual(lines, [`${name}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax`])
      assert.deepEqual(jar.take(store, state).taken, { status: 'unknown' })
    })

    test('a flow started a little less than maxAge ago is still found', () => {
      const store = cookieStore({ maxAge: 600 })
      const jar = new Jar()
      const state = newState()
      jar.put(store, state, REG)
      const name = store.cookieName(state)
      jar.cookies.set(name, restarted(name, jar.cookies.get(name)!, state, Date.now() - 590_000))
      assert.equal(jar.take(store, state).taken.status, 'found')
    })

    test('in real time: with maxAge 1, a flow taken after more than a second is expired', async () => {
      const store = cookieStore({ maxAge: 1 })
      const jar = new Jar()
      const [early, late] = [newState(), newState()]
      jar.put(store, early, LOGIN)
      jar.put(store, late, LOGIN)
      assert.equal(jar.take(store, early).taken.status, 'found')
      await sleep(1100)
      const { taken } = jar.take(store, late)
      assert.equal(taken.status, 'expired')
      assert.equal(flowOf(taken).mode, 'login')
    })
  })

  describe('the maxPending bound', () => {
    test('each start keeps at most maxPending flow cookies, dropping the oldest', () => {
      const store = cookieStore({ maxPending: 3 })
      const jar = new Jar({ 'shop.sid': 'the-session' })
      const states: string[] = []
      for (let i = 0; i < 6; i++) {
        const state = newState()
        states.push(state)
        const lines = jar.put(store, state, { ...LOGIN, nonce: `nonce-${i}` })
        assert.ok(jar.flowCookies().length <= 3, `after start ${i + 1}: ${jar.flowCookies().length} flow cookies`)
        const cleared = lines.slice(0, -1).map(parseSetCookie)
        assert.equal(cleared.length, i >= 3 ? 1 : 0, `start ${i + 1} clears ${i >= 3 ? 'one cookie' : 'nothing'}`)
        for (const each of cleared) {
          assert.equal(each.name, store.cookieName(states[i - 3]!), 'the oldest one')
          assert.equal(each.value, '')
          assert.deepEqual(each.attributes, ['Max-Age=0', 'Path=/', 'HttpOnly', 'SameSite=Lax'])
        }
        assert.equal(parseSetCookie(lines.at(-1)!).name, store.cookieName(state), 'the new cookie comes last')
      }
      assert.equal(jar.cookies.get('shop.sid'), 'the-session', 'other cookies are left alone')
      for (const [i, state] of states.entries()) {
        const { taken } = jar.take(store, state)
        if (i < 3) assert.deepEqual(taken, { status: 'unknown' }, `flow ${i + 1} was dropped`)
        else assert.equal(flowOf(taken).nonce, `nonce-${i}`, `flow ${i + 1} is kept`)
      }
    })

    test('the oldest go first by their start time, not by the order the browser sends them', () => {
      const store = cookieStore({ maxPending: 2 })
      const [older, newer] = [newState(), newState()]
      const made = new Jar()
      made.put(store, older, LOGIN)
      made.put(store, newer, LOGIN)
      const olderName = store.cookieName(older)
      const newerName = store.cookieName(newer)
      const now = Date.now()
      // The browser sends the newer cookie first.
      const jar = new Jar({
        [newerName]: restarted(newerName, made.cookies.get(newerName)!, newer, now - 1000),
        [olderName]: restarted(olderName, made.cookies.get(olderName)!, older, now - 5000),
      })
      const lines = jar.put(store, newState(), LOGIN)
      assert.deepEqual(lines.slice(0, -1).map((line) => parseSetCookie(line).name), [olderName])
      assert.equal(jar.take(store, newer).taken.status, 'found')
    })

    test('flow cookies past their age are cleared on the next start, even below the bound', () => {
      const store = cookieStore({ maxAge: 600, maxPending: 5 })
      const made = new Jar()
      const [stale, live] = [newState(), newState()]
      made.put(store, stale, LOGIN)
      made.put(store, live, LOGIN)
      const staleName = store.cookieName(stale)
      const jar = new Jar({ [staleName]: restarted(staleName, made.cookies.get(staleName)!, stale, Date.now() - 700_000), [store.cookieName(live)]: made.cookies.get(store.cookieName(live))! })
      const lines = jar.put(store, newState(), LOGIN)
      assert.deepEqual(lines.slice(0, -1).map((line) => parseSetCookie(line).name), [staleName])
      assert.equal(jar.flowCookies().length, 2)
    })

    test('a flow cookie whose value carries no readable start time counts as the oldest', () => {
      const store = cookieStore({ maxPending: 5 })
      const jar = new Jar({ 'justpass.AAAAAAAAAAAAAAAA': 'not-a-flow', 'justpass.BBBBBBBBBBBBBBBB': 'ZZZZZZZZZZZZ.x' })
      const lines = jar.put(store, newState(), LOGIN)
      assert.deepEqual(lines.slice(0, -1).map((line) => parseSetCookie(line).name).sort(), ['justpass.AAAAAAAAAAAAAAAA', 'justpass.BBBBBBBBBBBBBBBB'])
      assert.equal(jar.flowCookies().length, 1)
    })

    test('maxPending 1 keeps only the newest flow', () => {
      const store = cookieStore({ maxPending: 1 })
      const jar = new Jar()
      const [a, b] = [newState(), newState()]
      jar.put(store, a, LOGIN)
      jar.put(store, b, REG)
      assert.deepEqual(jar.flowCookies(), [store.cookieName(b)])
      assert.deepEqual(jar.take(store, a).taken, { status: 'unknown' })
      assert.equal(jar.take(store, b).taken.status, 'found')
    })
  })

  describe('a cookie that is not the one sealed for this state is unknown', () => {
    type Case = [label: string, forge: (store: CookieFlowStore, jar: Jar, state: string) => string]
    const cases: Case[] = [
      [
        'moved to another state (renamed to its cookie)',
        (store, jar, state) => {
          const other = newState()
          jar.cookies.set(store.cookieName(other), jar.cookies.get(store.cookieName(state))!)
          jar.cookies.delete(store.cookieName(state))
          return other
        },
      ],
      [
        'taken under a state that shares its first 16 characters (same cookie name)',
        (_store, _jar, state) => `${state.slice(0, 16)}${newState().slice(16)}`,
      ],
      [
        'a character of the sealed part changed',
        (store, jar, state) => {
          const name = store.cookieName(state)
          const value = jar.cookies.get(name)!
          const at = value.length - 5
          jar.cookies.set(name, `${value.slice(0, at)}${value[at] === 'A' ? 'B' : 'A'}${value.slice(at + 1)}`)
          return state
        },
      ],
      [
        'the start time changed (one millisecond later)',
        (store, jar, state) => {
          const name = store.cookieName(state)
          const value = jar.cookies.get(name)!
          const dot = value.indexOf('.')
          jar.cookies.set(name, `${(parseInt(value.slice(0, dot), 36) + 1).toString(36)}${value.slice(dot)}`)
          return state
        },
      ],
      [
        'the start time removed',
        (store, jar, state) => {
          const name = store.cookieName(state)
          jar.cookies.set(name, jar.cookies.get(name)!.replace(/^[0-9a-z]+/, ''))
          return state
        },
      ],
      [
        'no dot at all',
        (store, jar, state) => {
          const name = store.cookieName(state)
          jar.cookies.set(name, jar.cookies.get(name)!.replace('.', ''))
          return state
        },
      ],
      [
        'truncated',
        (store, jar, state) => {
          const name = store.cookieName(state)
          jar.cookies.set(name, jar.cookies.get(name)!.slice(0, -10))
          return state
        },
      ],
      [
        'empty',
        (store, jar, state) => {
          jar.cookies.set(store.cookieName(state), '')
          return state
        },
      ],
      [
        'the value of another flow of the same browser',
        (store, jar, state) => {
          const other = newState()
          jar.put(store, other, REG)
          jar.cookies.set(store.cookieName(state), jar.cookies.get(store.cookieName(other))!)
          return state
        },
      ],
      [
        'sealed under another secret',
        (store, jar, state) => {
          const name = store.cookieName(state)
          const elsewhere = new Jar()
          elsewhere.put(cookieStore({ sealer: sealerOf('another-cookie-secret-0123456789abcdef') }), state, REG)
          jar.cookies.set(name, elsewhere.cookies.get(name)!)
          return state
        },
      ],
    ]
    for (const [label, forge] of cases) {
      test(label, () => {
        const store = cookieStore()
        const jar = new Jar()
        const state = newState()
        jar.put(store, state, REG)
        const asked = forge(store, jar, state)
        const present = jar.cookies.has(store.cookieName(asked))
        const { taken, lines } = jar.take(store, asked)
        assert.deepEqual(taken, { status: 'unknown' })
        assert.deepEqual(lines, present ? [`${store.cookieName(asked)}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax`] : [], 'a cookie that was sent is cleared all the same')
      })
    }

    test('states the store could not have made are unknown, and nothing is cleared', () => {
      const store = cookieStore()
      const jar = new Jar()
      const state = newState()
      jar.put(store, state, REG)
      for (const bad of ['', 'short', state.slice(0, 21), `${state}!`, state.replace(/^./, '/'), 'x'.repeat(129)]) {
        const { taken, lines } = jar.take(store, bad)
        assert.deepEqual(taken, { status: 'unknown' }, JSON.stringify(bad))
        assert.deepEqual(lines, [])
      }
      assert.equal(jar.take(store, state).taken.status, 'found', 'the real flow is untouched')
    })
  })

  test('key rotation: a store whose sealer has the old key second opens the flows sealed before', () => {
    const oldKey = deriveSealKey('old-cookie-secret-0123456789abcdef', 'cookieSecret', 'shop', 'https://shop.example/justpass/callback')
    const newKey = deriveSealKey('new-cookie-secret-0123456789abcdef', 'cookieSecret', 'shop', 'https://shop.example/justpass/callback')
    const jar = new Jar()
    const [before, after] = [newState(), newState()]
    jar.put(cookieStore({ sealer: new Sealer([oldKey]) }), before, REG)
    const rotated = cookieStore({ sealer: new Sealer([newKey, oldKey]) })
    jar.put(rotated, after, LOGIN)
    const afterValue = jar.cookies.get(rotated.cookieName(after))!
    assert.equal(rotated.open(jar.header(), before).status, 'found')
    assert.equal(cookieStore({ sealer: new Sealer([oldKey]) }).open(jar.header(), after).status, 'unknown', 'new flows are sealed with the new key')
    assert.equal(jar.take(rotated, before).taken.status, 'found')
    assert.equal(jar.take(rotated, after).taken.status, 'found')
    assert.ok(afterValue.length > 0)
  })

  test('open reads a flow like take, without clearing anything', () => {
    const store = cookieStore()
    const jar = new Jar()
    const state = newState()
    jar.put(store, state, REG)
    assert.equal(store.open(jar.header(), state).status, 'found')
    assert.equal(store.open(jar.header(), state).status, 'found')
    assert.deepEqual(store.open(undefined, state), { status: 'unknown' })
    assert.deepEqual(store.open(jar.header(), newState()), { status: 'unknown' })
  })

  describe('a missing response is the usage error', () => {
    test('put without a response', () => {
      const store = cookieStore()
      assert.throws(
        () => store.put(exchangeWith({ headers: {} }, 'no response'), newState(), REG),
        (err: Error) => err instanceof JustpassUsageError && /response/.test(err.message) && /session/.test(err.message),
      )
    })

    test('take without a response, when the flow cookie is there to clear', () => {
      const store = cookieStore()
      const jar = new Jar()
      const state = newState()
      jar.put(store, state, REG)
      assert.throws(() => store.take(exchangeWith({ headers: { cookie: jar.header() } }, 'no response'), state), JustpassUsageError)
    })

    test('take without a response and without the cookie is only unknown', () => {
      assert.deepEqual(cookieStore().take(exchangeWith({ headers: {} }, 'no response'), newState()), { status: 'unknown' })
    })

    test('put with a state that is not base64url of 22 to 128 characters', () => {
      const store = cookieStore()
      for (const bad of ['', 'a'.repeat(21), 'a'.repeat(129), `${'a'.repeat(30)}=`, `${'a'.repeat(30)}/`, `${'a'.repeat(30)} `]) {
        const exchange = exchangeWith({ headers: {} })
        assert.throws(() => store.put(exchange, bad, REG), JustpassUsageError, JSON.stringify(bad))
        assert.deepEqual(exchange.res!.lines, [])
      }
      for (const good of ['a'.repeat(22), 'a'.repeat(128)]) {
        const exchange = exchangeWith({ headers: {} })
        store.put(exchange, good, REG)
        assert.equal(exchange.res!.lines.length, 1)
      }
    })
  })
})
