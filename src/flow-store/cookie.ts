/**
 * The default flow store: one cookie per pending flow, sealed with AES-256-GCM. Nothing
 * is written on the server, so concurrent tabs never overwrite each other's flows and an
 * anonymous visitor creates no session.
 *
 * The cookie of a flow whose state is `S`:
 * - name: `__Host-justpass.` (https callback URL) or `justpass.` (http), then the first
 *   16 characters of `S`;
 * - value: `<started>.<sealed>`, where `started` is the start time in milliseconds, in
 *   base 36, and `sealed` the base64url of the AES-256-GCM ciphertext of the flow (a
 *   JSON array) followed by its 16-byte tag. The IV is the 12 bytes the name's 16
 *   characters of `S` encode (fresh random for every flow); the additional data is the
 *   cookie name, the whole state and `started`, so a value opens only under its own
 *   name, for its own state, with its own start time;
 * - attributes: `Path=/; HttpOnly; SameSite=Lax`, `Secure` with an https callback URL,
 *   `Max-Age` the flow's maximum age.
 *
 * @packageDocumentation
 */
import type { JustpassHostResponse } from '../host-objects.js'
import { JustpassUsageError } from '../errors.js'
import type { Sealer } from './seal.js'
import { log, statePrefix } from '../log.js'
import type { JustpassMode, NewFlow, PendingFlow } from '../flow.js'
import type { FlowExchange, JustpassFlowStore, TakenFlow } from './types.js'

/** What {@link CookieFlowStore} needs, resolved from the strategy's options. */
export interface CookieFlowStoreOptions {
  /** Seals with the current key, opens with every configured one. */
  sealer: Sealer
  /** Whether the callback URL is https: the cookies are then `Secure` and `__Host-` prefixed. */
  secure: boolean
  /** Seconds a flow stays valid; also the cookie's `Max-Age`. */
  maxAge: number
  /** Flow cookies kept per browser; the oldest ones are expired on the next start. */
  maxPending: number
}

/** The characters of a state this store can key a cookie on: base64url, as the strategy draws them. */
const STATE = /^[A-Za-z0-9_-]{22,128}$/
/** The characters of a state that name the cookie and encode its IV (12 bytes). */
const ID_LENGTH = 16
const STARTED = /^[0-9a-z]{1,11}$/

/** A flow cookie found in a request. */
interface FlowCookie {
  name: string
  value: string
}

/** Spaces and tabs around a cookie pair (RFC 6265's OWS); nothing else is trimmed, such as U+00A0. */
const COOKIE_OWS = /^[ \t]+|[ \t]+$/g

/**
 * The flow cookies among a request's cookies, in the order the browser sent them: those
 * whose whole name is `name` (the prefix and a cookie id), with only spaces and tabs
 * around them.
 */
function flowCookies(header: string | undefined, name: RegExp): FlowCookie[] {
  const found: FlowCookie[] = []
  if (!header) return found
  for (const part of header.split(';')) {
    const pair = part.replace(COOKIE_OWS, '')
    const at = pair.indexOf('=')
    if (at > 0 && name.test(pair.slice(0, at))) found.push({ name: pair.slice(0, at), value: pair.slice(at + 1) })
  }
  return found
}

/** The start time (milliseconds) a flow cookie's value carries in clear, or 0 when it carries none. */
function startedOf(value: string): number {
  const dot = value.indexOf('.')
  const started = value.slice(0, dot)
  return dot > 0 && STARTED.test(started) ? parseInt(started, 36) : 0
}

/** A mode as sealed: `0` LOGIN, `1` REG, `2` confirm. */
const MODE_CODES: readonly JustpassMode[] = ['login', 'register', 'confirm']

/** The flow as sealed: `[mode, verifier, nonce, username, platform, returnTo, acrValues]`, `null` for what it lacks. */
function encodeFlow(flow: NewFlow): string {
  return JSON.stringify([MODE_CODES.indexOf(flow.mode), flow.verifier, flow.nonce, flow.username ?? null, flow.platform ?? null, flow.returnTo ?? null, flow.acrValues ?? null])
}

function optionalText(value: unknown): value is string | null {
  return value === null || typeof value === 'string'
}

/** The flow an opened cookie holds, or `undefined` when it is not one this store sealed. */
function decodeFlow(plaintext: string, started: number): PendingFlow | undefined {
  let fields: unknown
  try {
    fields = JSON.parse(plaintext)
  } catch {
    return undefined
  }
  // Six fields: sealed before acr_values were kept (a flow in flight across an upgrade).
  if (!Array.isArray(fields) || (fields.length !== 6 && fields.length !== 7)) return undefined
  const [mode, verifier, nonce, username, platform, returnTo, acrValues = null] = fields as unknown[]
  if ((mode !== 0 && mode !== 1 && mode !== 2) || typeof verifier !== 'string' || typeof nonce !== 'string') return undefined
  if (!optionalText(username) || !optionalText(platform) || !optionalText(returnTo) || !optionalText(acrValues)) return undefined
  const flow: PendingFlow = { mode: MODE_CODES[mode]!, verifier, nonce, started }
  if (username !== null) flow.username = username
  if (platform !== null) flow.platform = platform
  if (returnTo !== null) flow.returnTo = returnTo
  if (acrValues !== null) flow.acrValues = acrValues
  return flow
}

function responseOf(exchange: FlowExchange): JustpassHostResponse {
  if (exchange.res === undefined) {
    throw new JustpassUsageError("the cookie flow store needs the response (req.res), which this host does not provide: use flowStore: 'session'")
  }
  return exchange.res
}

/**
 * Keeps each pending flow in a sealed cookie of its own (see the module's description
 * for the format). The browser holds at most `maxPending` of them; the callback clears
 * its flow's cookie in the same response.
 */
export class CookieFlowStore implements JustpassFlowStore {
  /** Seconds a flow stays valid; also its cookie's `Max-Age`. */
  readonly maxAge: number
  readonly #sealer: Sealer
  readonly #maxAgeMs: number
  readonly #maxPending: number
  readonly #prefix: string
  /** The whole name of a flow cookie: the prefix and a cookie id. */
  readonly #name: RegExp
  /** `; Max-Age=…; Path=/; HttpOnly; SameSite=Lax[; Secure]`, built once. */
  readonly #setAttributes: string
  /** The attributes that clear a cookie, built once. */
  readonly #clearAttributes: string

  /** @param options - see {@link CookieFlowStoreOptions} */
  constructor(options: CookieFlowStoreOptions) {
    this.maxAge = options.maxAge
    this.#sealer = options.sealer
    this.#maxAgeMs = options.maxAge * 1000
    this.#maxPending = options.maxPending
    this.#prefix = options.secure ? '__Host-justpass.' : 'justpass.'
    this.#name = new RegExp(`^${this.#prefix.replace('.', '\\.')}[A-Za-z0-9_-]{${ID_LENGTH}}$`)
    const common = `; Path=/; HttpOnly; SameSite=Lax${options.secure ? '; Secure' : ''}`
    this.#setAttributes = `; Max-Age=${options.maxAge}${common}`
    this.#clearAttributes = `; Max-Age=0${common}`
  }

  /** The name of the cookie that holds the flow of `state`. */
  cookieName(state: string): string {
    return this.#prefix + state.slice(0, ID_LENGTH)
  }

  /** Seal `flow` into its cookie, and expire the oldest flow cookies beyond `maxPending`. */
  put(exchange: FlowExchange, state: string, flow: NewFlow): void {
    if (!STATE.test(state)) throw new JustpassUsageError('the cookie flow store needs a base64url state of 22 to 128 characters')
    const res = responseOf(exchange)
    const name = this.cookieName(state)
    const started = Date.now().toString(36)
    const sealed = this.#sealer.seal(encodeFlow(flow), Buffer.from(state.slice(0, ID_LENGTH), 'base64url'), `${name}\n${state}\n${started}`)
    const cookies = this.#overflow(exchange.req.headers.cookie).map((old) => `${old}=${this.#clearAttributes}`)
    cookies.push(`${name}=${started}.${sealed}${this.#setAttributes}`)
    res.appendHeader('Set-Cookie', cookies)
  }

  /**
   * Take the flow of `state` from its cookie, and clear the cookie in the response.
   * A cookie that does not open (tampered, truncated, another state's, another secret's)
   * is `unknown`, as is a missing one.
   */
  take(exchange: FlowExchange, state: string): TakenFlow {
    if (!STATE.test(state)) return { status: 'unknown' }
    const name = this.cookieName(state)
    const cookie = flowCookies(exchange.req.headers.cookie, this.#name).find((each) => each.name === name)
    if (cookie === undefined) {
      log('callback, state %s: no flow cookie for it in this browser (not started here, already taken, or expired from the browser)', statePrefix(state))
      return { status: 'unknown' }
    }
    responseOf(exchange).appendHeader('Set-Cookie', `${name}=${this.#clearAttributes}`)
    const taken = this.#unseal(cookie, state)
    if (taken.status === 'unknown') {
      log('callback, state %s: its flow cookie does not open (sealed with another secret, by another instance or before a rotation, or altered)', statePrefix(state))
    }
    return taken
  }

  /**
   * Read the flow of `state` from a `Cookie` header without clearing anything: what
   * {@link CookieFlowStore.take} reads, for diagnostics and tests.
   */
  open(cookieHeader: string | undefined, state: string): TakenFlow {
    if (!STATE.test(state)) return { status: 'unknown' }
    const name = this.cookieName(state)
    const cookie = flowCookies(cookieHeader, this.#name).find((each) => each.name === name)
    return cookie === undefined ? { status: 'unknown' } : this.#unseal(cookie, state)
  }

  /** The flow sealed in `cookie` for `state`: found, expired, or unknown when it does not open. */
  #unseal(cookie: FlowCookie, state: string): TakenFlow {
    const dot = cookie.value.indexOf('.')
    const started = cookie.value.slice(0, dot)
    if (dot <= 0 || !STARTED.test(started)) return { status: 'unknown' }
    const iv = Buffer.from(state.slice(0, ID_LENGTH), 'base64url')
    const plaintext = this.#sealer.open(cookie.value.slice(dot + 1), iv, `${cookie.name}\n${state}\n${started}`)
    const startedMs = parseInt(started, 36)
    const flow = plaintext === undefined ? undefined : decodeFlow(plaintext, Math.floor(startedMs / 1000))
    if (flow === undefined) return { status: 'unknown' }
    return Date.now() - startedMs > this.#maxAgeMs ? { status: 'expired', flow } : { status: 'found', flow }
  }

  /**
   * The names of the flow cookies to expire before one more is added: those past their
   * age, and the oldest beyond `maxPending - 1`. Ages come from the start time each value
   * carries in clear (a forged one only reorders the sender's own cookies); between equal
   * times, the order the browser sent them in (creation order) decides. At most
   * `maxPending` names a response: the rest are expired by later starts.
   */
  #overflow(header: string | undefined): string[] {
    const cookies = flowCookies(header, this.#name)
    if (cookies.length === 0) return []
    const oldest = Date.now() - this.#maxAgeMs
    const aged = cookies.map((cookie, order) => ({ name: cookie.name, started: startedOf(cookie.value), order }))
    const live = aged.filter((cookie) => cookie.started >= oldest).sort((a, b) => b.started - a.started || b.order - a.order)
    const keep = new Set(live.slice(0, this.#maxPending - 1).map((cookie) => cookie.name))
    // At most maxPending clears a response: a browser sent a thousand planted names gets a bounded answer.
    return [...new Set(aged.map((cookie) => cookie.name))].filter((name) => !keep.has(name)).slice(0, this.#maxPending)
  }
}
