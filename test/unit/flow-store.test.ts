/**
 * The two built-in flow stores called directly, through their own interface: the
 * exchange `{ req, res }`, of which they read `req.headers.cookie` or `req.session` and
 * call `res.appendHeader('Set-Cookie', …)`. The Set-Cookie lines a cookie store answers
 * are fed back as the next request's Cookie header, as a browser would.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Request } from 'express'
import { JustpassUsageError } from '../../src/errors.ts'
import { CookieFlowStore } from '../../src/flow-store/cookie.ts'
import { SessionFlowStore } from '../../src/flow-store/session.ts'
import { deriveSealKey, Sealer } from '../../src/flow-store/seal.ts'
import type { FlowExchange, TakenFlow } from '../../src/flow-store/types.ts'
import type { NewFlow, PendingFlow } from '../../src/flow.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const REG: NewFlow = { mode: 'register', verifier: 'v'.repeat(44), nonce: 'n'.repeat(44), username: 'alice', platform: 'app', returnTo: '/account?tab=keys' }
const LOGIN: NewFlow = { mode: 'login', verifier: 'w'.repeat(44), nonce: 'm'.repeat(44) }

function newState(): string {
  return randomBytes(33).toString('base64url')
}

function sealerOf(secret: string): Sealer {
  return new Sealer([deriveSealKey(secret, 'cookieSecret', 'shop', 'https://shop.example/justpass/callback')])
}

const SEALER = sealerOf('flow-cookie-secret-0123456789abcdef')

/** A response as the store sees it: it records the Set-Cookie lines appended. */
interface RecordingResponse {
  statusCode: number
  lines: string[]
  appendHeader(name: string, value: string | string[]): unknown
  setHeader(name: string, value: string | number): unknown
  end(body?: string): unknown
}

function response(): RecordingResponse {
  return {
    statusCode: 200,
    lines: [],
    appendHeader(name, value) {
      assert.equal(name, 'Set-Cookie', 'a store writes only Set-Cookie')
      this.lines.push(...(Array.isArray(value) ? value : [value]))
    },
    setHeader() {
      assert.fail('a store never sets a header, it appends')
    },
    end() {
      assert.fail('a store never ends the response')
    },
  }
}

/** One request and its response: the store's exchange. */
function exchangeWith(req: { headers: Record<string, string | undefined>; session?: unknown }, res: RecordingResponse | 'no response' = response()): FlowExchange & { res: RecordingResponse | undefined } {
  return { req: req as unknown as Request, res: res === 'no response' ? undefined : res }
}

interface SetCookie {
  name: string
  value: string
  attributes: string[]
  maxAge: number
}

function parseSetCookie(line: string): SetCookie {
  const [pair = '', ...attributes] = line.split('; ')
  const at = pair.indexOf('=')
  const maxAge = attributes.find((attribute) => attribute.startsWith('Max-Age='))
  return { name: pair.slice(0, at), value: pair.slice(at + 1), attributes, maxAge: maxAge === undefined ? NaN : Number(maxAge.slice('Max-Age='.length)) }
}

/** The cookies of one site in a browser: sends them, and applies what the site sets. */
class Jar {
  readonly cookies = new Map<string, string>()

  constructor(initial: Record<string, string> = {}) {
    for (const [name, value] of Object.entries(initial)) this.cookies.set(name, value)
  }

  header(): string | undefined {
    return this.cookies.size === 0 ? undefined : [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  /** A request carrying the jar's cookies, with a fresh response. */
  exchange(): FlowExchange & { res: RecordingResponse } {
    return exchangeWith({ headers: { cookie: this.header() } }) as FlowExchange & { res: RecordingResponse }
  }

  apply(lines: readonly string[]): void {
    for (const line of lines) {
      const cookie = parseSetCookie(line)
      if (cookie.maxAge <= 0) this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
  }

  /** put, as a start request from this browser, applying the answer. */
  put(store: CookieFlowStore, state: string, flow: NewFlow): string[] {
    const exchange = this.exchange()
    store.put(exchange, state, flow)
    this.apply(exchange.res.lines)
    return exchange.res.lines
  }

  /** take, as a callback request from this browser, applying the answer. */
  take(store: CookieFlowStore, state: string): { taken: TakenFlow; lines: string[] } {
    const exchange = this.exchange()
    const taken = store.take(exchange, state)
    this.apply(exchange.res.lines)
    return { taken, lines: exchange.res.lines }
  }

  flowCookies(prefix = 'justpass.'): string[] {
    return [...this.cookies.keys()].filter((name) => name.startsWith(prefix))
  }
}

function cookieStore(options: { secure?: boolean; maxAge?: number; maxPending?: number; sealer?: Sealer } = {}): CookieFlowStore {
  return new CookieFlowStore({ sealer: options.sealer ?? SEALER, secure: options.secure ?? false, maxAge: options.maxAge ?? 600, maxPending: options.maxPending ?? 5 })
}

/**
 * The value of a flow cookie re-sealed as if its flow had started at `startedMs`: the
 * sealed flow is opened and sealed again under the same name and state, with the module's
 * documented IV (the 12 bytes of the state's first 16 characters) and additional data
 * (`name`, state and start time in base 36, one per line).
 */
function restarted(name: string, value: string, state: string, startedMs: number, sealer = SEALER): string {
  const dot = value.indexOf('.')
  const iv = Buffer.from(state.slice(0, 16), 'base64url')
  const plaintext = sealer.open(value.slice(dot + 1), iv, `${name}\n${state}\n${value.slice(0, dot)}`)
  assert.ok(plaintext !== undefined, 'the cookie opens as the module describes it')
  const started = startedMs.toString(36)
  return `${started}.${sealer.seal(plaintext, iv, `${name}\n${state}\n${started}`)}`
}

function flowOf(taken: TakenFlow): PendingFlow {
  assert.ok(taken.status !== 'unknown', `a flow was taken, not ${taken.status}`)
  return taken.flow
}

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
