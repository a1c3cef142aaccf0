/**
 * Site C, the floor: a bare Express route that makes a random state and PKCE verifier,
 * writes them to the session and redirects to the same kind of authorization URL. No
 * strategy, no passport: the least an initiation route can do.
 *
 * @packageDocumentation
 */
import { createHash, randomBytes } from 'node:crypto'
import { CLIENT_ID } from '../config.ts'
import { siteShell, type BenchSite } from './site.ts'

/** The session key the floor keeps its one pending flow under. */
const SESSION_KEY = 'floor'

/** Start site C; `opURL` only names the authorization endpoint it redirects to; `redisURL`, when given, holds the sessions. */
export async function startFloorSite(opURL: string, redisURL?: string): Promise<BenchSite> {
  const { server, app, store, close } = await siteShell('C', redisURL)
  const authorization = `${opURL}authorize/`
  const redirectURI = encodeURIComponent(`${server.origin}/floor/callback`)
  app.get('/floor/login', (req, res) => {
    const state = randomBytes(32).toString('base64url')
    const verifier = randomBytes(32).toString('base64url')
    const challenge = createHash('sha256').update(verifier).digest('base64url')
    ;(req.session as unknown as Record<string, unknown>)[SESSION_KEY] = { state, verifier }
    // A bare redirect, as passport's own (no res.redirect: it negotiates and writes a body).
    res.statusCode = 302
    res.setHeader(
      'Location',
      `${authorization}?response_type=code&client_id=${CLIENT_ID}&redirect_uri=${redirectURI}&scope=openid` +
        `&state=${state}&code_challenge=${challenge}&code_challenge_method=S256`,
    )
    res.setHeader('Content-Length', '0')
    res.end()
  })
  server.handle(app)
  return {
    origin: server.origin,
    initiationPath: '/floor/login',
    store,
    pending(session) {
      return typeof session[SESSION_KEY] === 'object' && session[SESSION_KEY] !== null ? { key: SESSION_KEY, flows: 1 } : undefined
    },
    close,
  }
}
