/**
 * What a pending flow costs, where each contender keeps it. One visitor (one cookie jar)
 * starts several flows in a row, as from several tabs. JustpassStrategy keeps each in a
 * sealed cookie of its own: the bytes are read from the real start responses (the
 * `Set-Cookie` each start adds) and from the `Cookie` header the visitor then sends. The
 * others keep the flow in the session: the site's process reads that session from its
 * store and counts the bytes its pending flows take in the session's JSON.
 *
 * @packageDocumentation
 */
import { FLOW_COOKIE_PREFIX, SESSION_COOKIE } from './config.ts'
import type { ServerProcess } from './children.ts'
import { cookieHeader, parseSetCookie, storeCookies, type CookieJar } from './cookies.ts'
import type { CookieBytes, PendingBytes, SessionBytes } from './ipc.ts'
import { median } from './stats.ts'

/** Bytes a header adds to an HTTP/1.1 message beside its value: `Name: ` and CRLF. */
function headerLineBytes(name: string, value: string): number {
  return Buffer.byteLength(`${name}: ${value}\r\n`)
}

/** The session id inside an express-session cookie value (`s:<id>.<signature>`, URL-encoded). */
export function sessionIdOf(cookieValue: string): string | undefined {
  const value = decodeURIComponent(cookieValue)
  if (!value.startsWith('s:')) return undefined
  const dot = value.lastIndexOf('.')
  return dot > 2 ? value.slice(2, dot) : undefined
}

/** The flow cookies' bytes: what each start's `Set-Cookie` adds, what each held flow adds to `Cookie`. */
function cookieBytes(jar: CookieJar, flowSetCookies: string[]): CookieBytes | undefined {
  const held = Object.entries(jar).filter(([name]) => name.startsWith(FLOW_COOKIE_PREFIX))
  if (held.length === 0) return undefined
  // In the Cookie header each pair is `name=value`, and all but the first add the `; ` before them.
  const pairBytes = held.map(([name, value]) => Buffer.byteLength(`${name}=${value}`) + 2)
  const flowsOnly = held.map(([name, value]) => `${name}=${value}`).join('; ')
  const [name, value] = held[held.length - 1]!
  const dot = value.indexOf('.')
  const attributes = flowSetCookies[flowSetCookies.length - 1]!.split(';').slice(1).join(';')
  return {
    flows: held.length,
    setCookiePerStart: median(flowSetCookies.map((each) => headerLineBytes('Set-Cookie', each))),
    cookieHeaderPerFlow: median(pairBytes),
    cookieHeaderWithAll: headerLineBytes('Cookie', flowsOnly),
    parts: {
      name: Buffer.byteLength(name),
      'start time': dot,
      sealed: Buffer.byteLength(value.slice(dot + 1)),
      attributes: Buffer.byteLength(attributes),
    },
  }
}

/** Start `flows` flows as one visitor of `site` and measure what they cost. */
export async function measurePendingBytes(site: ServerProcess, flows: number): Promise<PendingBytes> {
  await site.call({ type: 'reset' })
  const url = `${site.ready.origin}${site.ready.routes!.initiationPath}`
  const jar: CookieJar = {}
  const flowSetCookies: string[] = []
  for (let i = 0; i < flows; i++) {
    const cookie = cookieHeader(jar)
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} })
    await response.arrayBuffer()
    if (response.status !== 302) throw new Error(`initiation answered HTTP ${response.status}`)
    const setCookies = response.headers.getSetCookie()
    for (const setCookie of setCookies) {
      const parsed = parseSetCookie(setCookie)
      if (parsed?.name.startsWith(FLOW_COOKIE_PREFIX) && !parsed.expired) flowSetCookies.push(setCookie)
    }
    storeCookies(jar, setCookies)
  }
  const sessionCookie = jar[SESSION_COOKIE]
  const sid = sessionCookie === undefined ? undefined : sessionIdOf(sessionCookie)
  const result: PendingBytes = {
    started: flows,
    sessionsStored: await site.call<number>({ type: 'sessions' }),
    sessionCookie: sessionCookie === undefined ? 0 : Buffer.byteLength(`${SESSION_COOKIE}=${sessionCookie}`),
  }
  if (sid !== undefined) result.session = await site.call<SessionBytes>({ type: 'session', sid })
  const cookies = cookieBytes(jar, flowSetCookies)
  if (cookies !== undefined) result.cookie = cookies
  if (result.session === undefined && result.cookie === undefined) throw new Error('the site kept the flows neither in a session nor in flow cookies')
  return result
}
