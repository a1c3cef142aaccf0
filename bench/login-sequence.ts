/**
 * The autocannon request sequence of one full login, repeated by each connection: GET
 * the initiation route (keep the session cookie and the `state` and `nonce` of the
 * Location, when it has them), then GET the callback with a bench `code` for them and
 * the cookie. A login
 * is complete when the callback answers the success redirect; anything else is counted
 * as a failure, with the first one kept to explain it.
 *
 * @packageDocumentation
 */
import type autocannon from 'autocannon'
import { encodeCode } from './auth-code.ts'
import { BENCH_USERS, SUCCESS_REDIRECT } from './config.ts'

/** What a connection carries from the initiation response to the callback request. */
interface FlowContext {
  /** The session cookie, `name=value`. */
  cookie?: string
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

/** A response header, by case-insensitive name, first value. */
function header(headers: autocannon.Request['headers'], name: string): string | undefined {
  if (!headers) return undefined
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value
  }
  return undefined
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
      const cookie = header(headers, 'set-cookie')
      if (status !== 302 || !location || !cookie) return fail('initiation', status, location, body)
      const params = new URL(location).searchParams
      flow.cookie = cookie.split(';', 1)[0]
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
      if (flow.cookie === undefined) return undefined as unknown as autocannon.Request
      const user = BENCH_USERS[nextUser++ % BENCH_USERS.length]!
      const code = encodeCode(flow.nonce === undefined ? { user } : { user, nonce: flow.nonce })
      // openid-client's Strategy sends no state when it sends a nonce: the callback has none either.
      const state = flow.state === undefined ? '' : `&state=${encodeURIComponent(flow.state)}`
      return { ...request, path: `${callbackPath}?code=${code}${state}`, headers: { ...request.headers, cookie: flow.cookie } }
    },
    onResponse(status, body, _context, headers) {
      const location = header(headers, 'location')
      if (status === 302 && location === SUCCESS_REDIRECT) counters.completed++
      else fail('callback', status, location, body)
    },
  }

  return { requests: [initiation, callback], counters }
}
