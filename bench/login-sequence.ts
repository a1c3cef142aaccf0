/**
 * The autocannon request sequence of one full login, repeated by each connection, each
 * time as a new visitor with an empty cookie jar: GET the initiation route (keep every
 * cookie it sets, the session cookie or JustpassStrategy's flow cookie, and the `state`
 * and `nonce` of the Location, when it has them), then GET the callback with a bench
 * `code` for them and the visitor's cookies. A login is complete when the callback
 * answers the success redirect; anything else is counted as a failure, with the first
 * one kept to explain it.
 *
 * @packageDocumentation
 */
import type autocannon from 'autocannon'
import { encodeCode } from './auth-code.ts'
import { BENCH_USERS, FLOW_COOKIE_PREFIX, SUCCESS_REDIRECT } from './config.ts'
import { cookieHeader, storeCookies, type CookieJar } from './cookies.ts'

/** What a connection carries from the initiation response to the callback request. */
interface FlowContext {
  /** The visitor's cookies (autocannon starts every sequence with a fresh context: a new visitor). */
  cookies?: CookieJar
  /** The `state` of the authorization URL, when it has one. */
  state?: string
  /** The `nonce` of the authorization URL, when it has one. */
  nonce?: string
}

/** The outcome of a login sequence so far. */
export interface LoginCounters {
  /** Callbacks answered with the success redirect. */
  completed: number
  /** Initiations or callbacks answered anything else. */
  failures: number
  /** The first failure, described, when there was one. */
  firstFailure?: string
}

/** A login sequence and the counters it updates. */
export interface LoginSequence {
  /** The requests to give autocannon. */
  requests: autocannon.Request[]
  /** Updated as responses come in. */
  counters: LoginCounters
}

/** A response header, by case-insensitive name: every value (autocannon gives a repeated header as an array). */
function headerValues(headers: autocannon.Request['headers'], name: string): string[] {
  if (!headers) return []
  const values: string[] = []
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue
    values.push(...(Array.isArray(value) ? value : [value]))
  }
  return values
}

/** A response header, by case-insensitive name, first value. */
function header(headers: autocannon.Request['headers'], name: string): string | undefined {
  return headerValues(headers, name)[0]
}

/** Build a login sequence against a site's initiation and callback paths. */
export function loginSequence(initiationPath: string, callbackPath: string): LoginSequence {
  const counters: LoginCounters = { completed: 0, failures: 0 }
  let nextUser = 0
  const fail = (what: string, status: number, location: string | undefined, body: string) => {
    counters.failures++
    counters.firstFailure ??= `${what}: HTTP ${status}, location ${location ?? '(none)'}, body ${body.slice(0, 200)}`
  }

  const initiation: autocannon.Request = {
    method: 'GET',
    path: initiationPath,
    onResponse(status, body, context, headers) {
      const flow = context as FlowContext
      const location = header(headers, 'location')
      const cookies: CookieJar = {}
      storeCookies(cookies, headerValues(headers, 'set-cookie'))
      // Every contender keeps its flow somewhere the browser points to: a session cookie or a flow cookie.
      if (status !== 302 || !location || cookieHeader(cookies) === undefined) return fail('initiation', status, location, `${body} (cookies set: ${Object.keys(cookies).join(', ') || 'none'})`)
      const params = new URL(location).searchParams
      flow.cookies = cookies
      const state = params.get('state')
      const nonce = params.get('nonce')
      if (state !== null) flow.state = state
      if (nonce !== null) flow.nonce = nonce
    },
  }

  const callback: autocannon.Request = {
    method: 'GET',
    setupRequest(request, context) {
      const flow = context as FlowContext
      // A failed initiation (counted already): skip the callback, start the sequence again.
      const cookie = flow.cookies === undefined ? undefined : cookieHeader(flow.cookies)
      if (cookie === undefined) return undefined as unknown as autocannon.Request
      const user = BENCH_USERS[nextUser++ % BENCH_USERS.length]!
      const code = encodeCode(flow.nonce === undefined ? { user } : { user, nonce: flow.nonce })
      // openid-client's Strategy sends no state when it sends a nonce: the callback has none either.
      const state = flow.state === undefined ? '' : `&state=${encodeURIComponent(flow.state)}`
      return { ...request, path: `${callbackPath}?code=${code}${state}`, headers: { ...request.headers, cookie } }
    },
    onResponse(status, body, context, headers) {
      const flow = context as FlowContext
      const location = header(headers, 'location')
      if (status !== 302 || location !== SUCCESS_REDIRECT) return fail('callback', status, location, body)
      // A finished flow leaves no flow cookie behind in the browser.
      const cookies = flow.cookies ?? {}
      storeCookies(cookies, headerValues(headers, 'set-cookie'))
      const left = Object.keys(cookies).filter((name) => name.startsWith(FLOW_COOKIE_PREFIX))
      if (left.length > 0) return fail('callback', status, location, `${body} (flow cookie left set: ${left.join(', ')})`)
      counters.completed++
    },
  }

  return { requests: [initiation, callback], counters }
}
