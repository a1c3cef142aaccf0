/**
 * Session bytes per pending flow: start several flows in one session (one cookie), then
 * have the site's process read that session from its store and count the bytes its
 * pending flows take in the session's JSON.
 *
 * @packageDocumentation
 */
import { SESSION_COOKIE } from './config.ts'
import type { ServerProcess } from './children.ts'
import type { SessionBytes } from './ipc.ts'

/** The session id inside an express-session cookie (`s:<id>.<signature>`, URL-encoded). */
export function sessionIdOf(setCookie: string): string | undefined {
  const pair = setCookie.split(';', 1)[0]!
  if (!pair.startsWith(`${SESSION_COOKIE}=`)) return undefined
  const value = decodeURIComponent(pair.slice(SESSION_COOKIE.length + 1))
  if (!value.startsWith('s:')) return undefined
  const dot = value.lastIndexOf('.')
  return dot > 2 ? value.slice(2, dot) : undefined
}

/** Start `flows` flows in one session of `site` and measure what they hold. */
export async function measureSessionBytes(site: ServerProcess, flows: number): Promise<SessionBytes> {
  const url = `${site.ready.origin}${site.ready.routes!.initiationPath}`
  let cookie: string | undefined
  let sid: string | undefined
  for (let i = 0; i < flows; i++) {
    const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} })
    await response.arrayBuffer()
    if (response.status !== 302) throw new Error(`initiation answered HTTP ${response.status}`)
    const setCookie = response.headers.getSetCookie()[0]
    if (setCookie !== undefined) {
      cookie = setCookie.split(';', 1)[0]
      sid = sessionIdOf(setCookie)
    }
  }
  if (sid === undefined) throw new Error('the site set no session cookie')
  return site.call<SessionBytes>({ type: 'session', sid })
}
