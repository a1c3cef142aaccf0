/**
 * The flow stores on their own: the sealed cookie (format, attributes, every way a cookie
 * can be wrong, key rotation) and its options, on a site. Plus the
 * cookie attributes a real site sends with an https callback URL.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { IncomingMessage, ServerResponse } from 'node:http'
import { Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import type { Request } from 'express'
import { JustpassConfigError, JustpassUsageError } from '../src/index.ts'
import { resolveOptions, type JustpassStrategyOptions } from '../src/options.ts'
import type { CookieFlowStore } from '../src/flow-store/cookie.ts'
import type { FlowExchange } from '../src/flow-store/types.ts'
import type { NewFlow } from '../src/flow.ts'
import { Browser } from './support/browser.ts'
import { buildTestApp, reserveTestApp } from './support/app.ts'

const BASE: JustpassStrategyOptions = {
  opURL: 'https://acme.accounts.justpass.me/openid/',
  clientID: 'shop',
  clientSecret: 'shop-secret-0123456789abcdef0123456789abcdef',
  callbackURL: 'http://localhost:3000/justpass/callback',
}
const FLOW: NewFlow = { mode: 'register', verifier: 'v'.repeat(44), nonce: 'n'.repeat(44), username: 'alice', returnTo: '/account?tab=keys' }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The cookie store of a strategy with BASE's client and site, changed by `options`. */
function store(options: { secret?: string | string[]; maxAge?: number; maxPending?: number; clientID?: string; clientSecret?: string; callbackURL?: string } = {}): CookieFlowStore {
  const { secret, maxAge, maxPending, ...client } = options
  return resolveOptions({ ...BASE, ...client, flowStore: { type: 'cookie', secret, maxAge, maxPending } }, true).flowStore as CookieFlowStore
}

function newState(): string {
  return randomBytes(33).toString('base64url')
}

/** A real request/response pair carrying `cookie`. */
function exchange(cookie?: string): FlowExchange & { setCookies(): string[] } {
  const req = new IncomingMessage(new Socket())
  if (cookie !== undefined) req.headers.cookie = cookie
  const res = new ServerResponse(req)
  const setCookies = () => {
    const header = res.getHeader('set-cookie')
    return header === undefined ? [] : Array.isArray(header) ? header : [String(header)]
  }
  return { req: req as unknown as Request, res, setCookies }
}

/** Seal FLOW under a fresh state with `from`; returns the state and the `name=value` pair. */
function sealed(from: CookieFlowStore, flow: NewFlow = FLOW): { state: string; pair: string; line: string } {
  const state = newState()
  const ex = exchange()
  from.put(ex, state, flow)
  const line = ex.setCookies().at(-1)!
  return { state, pair: line.split(';')[0]!, line }
}

describe('the cookie flow store', () => {
  test('a flow goes out sealed and comes back whole, once per cookie', () => {
    const cookies = store()
    const { state, pair } = sealed(cookies)
    assert.ok(!pair.includes('alice') && !pair.includes(FLOW.verifier) && !pair.includes('account'), 'nothing of the flow is readable')
    const ex = exchange(`other=1; ${pair}`)
    const taken = cookies.take(ex, state)
    assert.equal(taken.status, 'found')
    assert.deepEqual({ ...(taken as { flow: object }).flow, started: 0 }, { ...FLOW, started: 0 })
    assert.deepEqual(ex.setCookies(), [`${cookies.cookieName(state)}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax`], 'the callback clears its cookie')
    assert.equal(cookies.take(exchange(), state).status, 'unknown', 'a browser without the cookie has no flow')
  })

  test('every optional field round-trips, and their absence too', () => {
    const cookies = store()
    for (const flow of [
      { mode: 'login', verifier: 'a'.repeat(44), nonce: 'b'.repeat(44) },
      { mode: 'login', verifier: 'a'.repeat(44), nonce: 'b'.repeat(44), username: 'émile "x" \\ y', platform: 'app', returnTo: '/' },
    ] as NewFlow[]) {
      const { state, pair } = sealed(cookies, flow)
      const taken = cookies.open(pair, state) as { status: string; flow: Record<string, unknown> }
      assert.equal(taken.status, 'found')
      const { started, ...rest } = taken.flow
      assert.deepEqual(rest, flow)
      assert.ok(Math.abs((started as number) - Date.now() / 1000) < 5)
    }
  })

  test('attributes on http: HttpOnly, SameSite=Lax, Path=/, Max-Age = the store maxAge, not Secure, no prefix', () => {
    const { line, state } = sealed(store({ maxAge: 300 }))
    assert.match(line, new RegExp(`^justpass\\.${state.slice(0, 16)}=[0-9a-z]+\\.[A-Za-z0-9_-]+; Max-Age=300; Path=/; HttpOnly; SameSite=Lax$`))
  })

  test('attributes on https: __Host- prefix and Secure as well', () => {
    const { line, state } = sealed(store({ callbackURL: 'https://shop.example/justpass/callback' }))
    assert.match(line, new RegExp(`^__Host-justpass\\.${state.slice(0, 16)}=[0-9a-z]+\\.[A-Za-z0-9_-]+; Max-Age=600; Path=/; HttpOnly; SameSite=Lax; Secure$`))
  })

  test('a tampered, truncated or emptied cookie is refused', () => {
    const cookies = store()
    const { state, pair } = sealed(cookies)
    const [name, value] = pair.split('=') as [string, string]
    const dot = value.indexOf('.')
    const sealedPart = value.slice(dot + 1)
    const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1)
    const wrong = [
      `${value.slice(0, dot)}.${flip(sealedPart, 0)}`,
      `${value.slice(0, dot)}.${flip(sealedPart, sealedPart.length - 3)}`,
      `${(parseInt(value.slice(0, dot), 36) - 1000).toString(36)}.${sealedPart}`,
      `${value.slice(0, dot)}.${sealedPart.slice(0, -4)}`,
      `${value.slice(0, dot)}.${sealedPart.slice(0, 20)}`,
      `${value.slice(0, dot)}.`,
      sealedPart,
      '',
    ]
    for (const each of wrong) assert.equal(cookies.open(`${name}=${each}`, state).status, 'unknown', each)
    assert.equal(cookies.open(`${name}=${value}`, state).status, 'found', 'the untouched cookie still opens')
  })

  test('a cookie moved to another state, or under another name, is refused', () => {
    const cookies = store()
    const a = sealed(cookies)
    const b = sealed(cookies)
    const valueOfA = a.pair.slice(a.pair.indexOf('=') + 1)
    assert.equal(cookies.open(`${cookies.cookieName(b.state)}=${valueOfA}`, b.state).status, 'unknown')
    const sameName = a.state.slice(0, 16) + b.state.slice(16)
    assert.equal(cookies.open(a.pair, sameName).status, 'unknown', 'the whole state is bound, not only the part in the name')
  })

  test('an expired cookie is refused as expired, with its flow', async () => {
    const cookies = store({ maxAge: 1 })
    const { state, pair } = sealed(cookies)
    await sleep(1_100)
    const taken = cookies.take(exchange(pair), state)
    assert.equal(taken.status, 'expired')
    assert.equal((taken as { flow: { mode: string } }).flow.mode, 'register')
  })

  test('another secret, another client or another callback URL cannot open a cookie', () => {
    const { state, pair } = sealed(store())
    assert.equal(store({ secret: 'x'.repeat(32) }).open(pair, state).status, 'unknown')
    assert.equal(store({ clientID: 'other-shop' }).open(pair, state).status, 'unknown')
    assert.equal(store({ callbackURL: 'http://localhost:3001/justpass/callback' }).open(pair, state).status, 'unknown')
    assert.equal(store({ clientSecret: 'another-secret-0123456789abcdef0123456789' }).open(pair, state).status, 'unknown')
  })

  test('rotation: the first secret seals, every secret opens', () => {
    const previous = 'previous-cookie-secret-0123456789abcdef'
    const current = 'current-cookie-secret-0123456789abcdef'
    const old = sealed(store({ secret: previous }))
    const rotated = store({ secret: [current, previous] })
    assert.equal(rotated.open(old.pair, old.state).status, 'found')
    const fresh = sealed(rotated)
    assert.equal(store({ secret: current }).open(fresh.pair, fresh.state).status, 'found', 'the first secret sealed it')
    assert.equal(store({ secret: previous }).open(fresh.pair, fresh.state).status, 'unknown')
    assert.equal(store({ secret: current }).open(old.pair, old.state).status, 'unknown', 'a retired secret no longer opens')
  })

  test('a start expires the oldest flow cookies beyond maxPendingFlows, and any past their age', () => {
    const cookies = store({ maxPending: 3 })
    const pairs = Array.from({ length: 4 }, () => sealed(cookies))
    const ex = exchange(['unrelated=1', ...pairs.map((each) => each.pair)].join('; '))
    cookies.put(ex, newState(), FLOW)
    const lines = ex.setCookies()
    const cleared = lines.filter((line) => line.includes('Max-Age=0')).map((line) => line.split('=')[0])
    assert.deepEqual(cleared, [pairs[0]!, pairs[1]!].map((each) => cookies.cookieName(each.state)), 'the two oldest go: two stay, with the new one three')
    assert.equal(lines.length, 3)
  })

  test('states the store cannot key a cookie on are unknown, never an error', () => {
    const cookies = store()
    for (const state of ['', 'short', '__proto__', 'a'.repeat(200), 'ÿ'.repeat(30), 'a b'.repeat(10)]) {
      assert.equal(cookies.take(exchange('justpass.x=1'), state).status, 'unknown')
    }
  })

  test('without the response (a host that hides it), a clear error naming the session store', () => {
    const ex = exchange()
    assert.throws(() => store().put({ req: ex.req, res: undefined }, newState(), FLOW), (err: Error) => err instanceof JustpassUsageError && /flowStore: 'session'/.test(err.message))
  })
})

describe('flow store options', () => {
  const invalid: Array<[string, unknown]> = [
    ['flowStore', 'redis'],
    ['flowStore', {}],
    ['flowStore', { put() {} }],
    ['flowStore', { put() {}, take() {}, maxAge: 0 }],
    ['flowStore.secret', { type: 'cookie', secret: 'too-short' }],
    ['flowStore.secret', { type: 'cookie', secret: [] }],
    ['flowStore.secret', { type: 'cookie', secret: ['x'.repeat(32), 7] }],
    ['flowStore.secret', { type: 'cookie', secret: 42 }],
  ]
  for (const [option, value] of invalid) {
    test(`flowStore ${JSON.stringify(value) ?? typeof value} is refused naming ${option}`, () => {
      assert.throws(() => resolveOptions({ ...BASE, flowStore: value as never }, true), (err: Error) => err instanceof JustpassConfigError && err.option === option)
    })
  }

  test('a secret with the session store is refused: it would do nothing', () => {
    assert.throws(() => resolveOptions({ ...BASE, flowStore: { type: 'session', secret: 'x'.repeat(32) } as never }, true), (err: Error) => err instanceof JustpassConfigError && err.option === 'flowStore.secret')
  })

  test("a store of the site's own is used as given, and its maxAge bounds the flow", () => {
    const own = { put() {}, take: () => ({ status: 'unknown' as const }), maxAge: 120 }
    const settings = resolveOptions({ ...BASE, flowStore: own }, true)
    assert.equal(settings.flowStore, own)
    assert.equal(settings.flowMaxAge, 120)
    assert.equal(resolveOptions({ ...BASE, flowStore: { put() {}, take: () => ({ status: 'unknown' as const }) } }, true).flowMaxAge, 600)
  })
})

describe('a site with an https callback URL', () => {
  test('its start answers a __Host- flow cookie, Secure, and nothing else', async () => {
    const server = await reserveTestApp()
    const callbackURL = server.callbackURL.replace('http:', 'https:')
    const app = buildTestApp({ ...server, callbackURL }, { opURL: 'http://127.0.0.1:9/openid/', clientID: 'c', clientSecret: 'shop-secret-0123456789abcdef0123456789abcdef' })
    try {
      const hop = await new Browser().get(`${app.origin}/justpass/login`)
      assert.equal(hop.status, 302)
      const cookies = hop.headers.getSetCookie()
      assert.equal(cookies.length, 1, 'no session cookie for an anonymous start')
      assert.match(cookies[0]!, /^__Host-justpass\.[A-Za-z0-9_-]{16}=[^;]+; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax; Secure$/)
    } finally {
      await app.close()
    }
  })
})
