/**
 * A fast local provider playing justpass.me under `/openid/`: node:http, no framework,
 * only what a callback needs. The token endpoint answers an HS256 ID token for the user
 * and nonce the bench encoded in the `code`; the userinfo endpoint answers who an access
 * token is for. There is no authorization endpoint: the bench makes its codes itself.
 *
 * @packageDocumentation
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { SignJWT } from 'jose'
import { decodeCode } from './auth-code.ts'
import { startLoopbackServer } from '../test/support/server.ts'

/** A running bench provider. */
export interface BenchProvider {
  /** The base URL to configure as `opURL`: `http://127.0.0.1:PORT/openid/`. */
  opURL: string
  /** The `iss` of its ID tokens: `opURL` without the trailing slash. */
  issuer: string
  /** Stop it. */
  close(): Promise<void>
}

/** Seconds an ID token and an access token are valid. */
const TOKEN_LIFETIME = 300
const ACCESS_TOKEN_PREFIX = 'bench-at.'

/** The `sub` the provider gives a user. */
export function subjectOf(user: string): string {
  return `sub-${user}`
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => resolve(body))
    req.on('error', reject)
  })
}

function sendJSON(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  })
  res.end(body)
}

/**
 * Start the provider on 127.0.0.1 for one client.
 *
 * @param clientID - the `aud` of the ID tokens
 * @param clientSecret - the HS256 key of the ID tokens, imported once
 */
export async function startBenchProvider(clientID: string, clientSecret: string): Promise<BenchProvider> {
  const server = await startLoopbackServer()
  const issuer = `${server.origin}/openid`
  // A CryptoKey: jose would import a KeyObject or bytes again for every token it signs.
  const key = await crypto.subtle.importKey('raw', Buffer.from(clientSecret, 'utf8'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])

  async function token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req))
    const grant = form.get('grant_type') === 'authorization_code' ? decodeCode(form.get('code') ?? '') : undefined
    if (grant === undefined) return sendJSON(res, 400, { error: 'invalid_grant' })
    const now = Math.floor(Date.now() / 1000)
    const claims: Record<string, unknown> = { auth_time: now }
    if (grant.nonce !== undefined) claims.nonce = grant.nonce
    const idToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(clientID)
      .setSubject(subjectOf(grant.user))
      .setIssuedAt(now)
      .setExpirationTime(now + TOKEN_LIFETIME)
      .sign(key)
    sendJSON(res, 200, {
      access_token: `${ACCESS_TOKEN_PREFIX}${Buffer.from(grant.user).toString('base64url')}`,
      token_type: 'Bearer',
      id_token: idToken,
      expires_in: TOKEN_LIFETIME,
    })
  }

  function userinfo(req: IncomingMessage, res: ServerResponse): void {
    const auth = req.headers.authorization ?? ''
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : ''
    if (!token.startsWith(ACCESS_TOKEN_PREFIX)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' })
      res.end()
      return
    }
    const user = Buffer.from(token.slice(ACCESS_TOKEN_PREFIX.length), 'base64url').toString('utf8')
    sendJSON(res, 200, { sub: subjectOf(user), preferred_username: user })
  }

  server.handle((req, res) => {
    const path = (req.url ?? '').split('?', 1)[0]
    if (req.method === 'POST' && path === '/openid/token/') {
      token(req, res).catch(() => sendJSON(res, 500, { error: 'server_error' }))
    } else if (req.method === 'GET' && path === '/openid/userinfo/') {
      userinfo(req, res)
    } else {
      sendJSON(res, 404, { error: 'not_found' })
    }
  })
  return { opURL: `${issuer}/`, issuer, close: () => server.close() }
}
