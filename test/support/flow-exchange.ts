/**
 * What the unit tests of the built-in flow stores share: flows to keep, the exchange a
 * store is called with (a request and a response that records its Set-Cookie lines), and
 * a browser's cookie jar for one site.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Request } from 'express'
import { CookieFlowStore } from '../../src/flow-store/cookie.ts'
import { deriveSealKey, Sealer } from '../../src/flow-store/seal.ts'
import type { FlowExchange, TakenFlow } from '../../src/flow-store/types.ts'
import type { NewFlow, PendingFlow } from '../../src/flow.ts'

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const REG: NewFlow = { mode: 'register', verifier: 'v'.repeat(44), nonce: 'n'.repeat(44), username: 'alice', platform: 'app', returnTo: '/account?tab=keys' }
export const LOGIN: NewFlow = { mode: 'login', verifier: 'w'.repeat(44), nonce: 'm'.repeat(44) }

export function newState(): string {
  return randomBytes(33).toString('base64url')
}

export function sealerOf(secret: string): Sealer {
  return new Sealer([deriveSealKey(secret, 'cookieSecret', 'shop', 'https://shop.example/justpass/callback')])
}

export const SEALER = sealerOf('flow-cookie-secret-0123456789abcdef')

/** A response as the store sees it: it records the Set-Cookie lines appended. */
export interface RecordingResponse {
  statusCode: number
  lines: string[]
  appendHeader(name: string, value: string | string[]): unknown
  setHeader(name: string, value: string | number): unknown
  end(body?: string): unknown
}

export function response(): RecordingResponse {
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
export function exchangeWith(req: { headers: Record<string, string | undefined>; session?: unknown }, res: RecordingResponse | 'no response' = response()): FlowExchange & { res: RecordingResponse | undefined } {
  return { req: req as unknown as Request, res: res === 'no response' ? undefined : res }
}

export interface SetCookie {
  name: string
  value: string
  attributes: string[]
  maxAge: number
}

export function parseSetCookie(line: string): SetCookie {
  const [pair = '', ...attributes] = line.split('; ')
  const at = pair.indexOf('=')
  const maxAge = attributes.find((attribute) => attribute.startsWith('Max-Age='))
  return { name: pair.slice(0, at), value: pair.slice(at + 1), attributes, maxAge: maxAge === undefined ? NaN : Number(maxAge.slice('Max-Age='.length)) }
}

/** The cookies of one site in a browser: sends them, and applies what the site sets. */
export class Jar {
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

export function cookieStore(options: { secure?: boolean; maxAge?: number; maxPending?: number; sealer?: Sealer } = {}): CookieFlowStore {
  return new CookieFlowStore({ sealer: options.sealer ?? SEALER, secure: options.secure ?? false, maxAge: options.maxAge ?? 600, maxPending: options.maxPending ?? 5 })
}

/**
 * The value of a flow cookie re-sealed as if its flow had started at `startedMs`: the
 * sealed flow is opened and sealed again under the same name and state, with the module's
 * documented IV (the 12 bytes of the state's first 16 characters) and additional data
 * (`name`, state and start time in base 36, one per line).
 */
export function restarted(name: string, value: string, state: string, startedMs: number, sealer = SEALER): string {
  const dot = value.indexOf('.')
  const iv = Buffer.from(state.slice(0, 16), 'base64url')
  const plaintext = sealer.open(value.slice(dot + 1), iv, `${name}\n${state}\n${value.slice(0, dot)}`)
  assert.ok(plaintext !== undefined, 'the cookie opens as the module describes it')
  const started = startedMs.toString(36)
  return `${started}.${sealer.seal(plaintext, iv, `${name}\n${state}\n${started}`)}`
}

export function flowOf(taken: TakenFlow): PendingFlow {
  assert.ok(taken.status !== 'unknown', `a flow was taken, not ${taken.status}`)
  return taken.flow
}

