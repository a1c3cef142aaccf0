/**
 * A hostile provider: a small loopback server that plays justpass.me (authorization,
 * token, userinfo and JWKS endpoints under /openid/) and, per test case, breaks one
 * thing. Tokens are made with jose. With no breakage it completes every flow correctly,
 * which the suite checks first, so that every refusal is the breakage's doing.
 */
import express from 'express'
import { randomBytes } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload, type JWK } from 'jose'
import { startLoopbackServer } from './server.ts'

/** The keys the provider signs with. */
export interface HostileKeys {
  /** The client secret's bytes (HS256). */
  secret: Uint8Array
  privateKey: CryptoKey
  publicJwk: JWK
}

/** What a grant looks like when the token endpoint answers. */
export interface HostileGrant {
  /** The username whose passkey was presented. */
  username: string
  nonce: string | undefined
}

/** One way of breaking the provider. Every hook is optional; the rest behaves. */
export interface Breakage {
  /** Whose passkey is presented; default the `login_hint`. */
  account?: string
  /** Change the authorization response parameters sent back to the site. */
  authorizeResponse?(params: URLSearchParams): void
  /** Change the ID token claims before signing. */
  claims?(claims: JWTPayload): JWTPayload
  /** Sign the ID token another way (or return anything in its place, `undefined` to leave it out). */
  sign?(claims: JWTPayload, keys: HostileKeys): Promise<string | undefined>
  /** Change the token endpoint's JSON body. */
  tokenBody?(body: Record<string, unknown>): Record<string, unknown>
  /** Answer the token request entirely (status, headers, body). */
  token?(res: ServerResponse): void
  /** Change the userinfo JSON body. */
  userinfoBody?(body: Record<string, unknown>): Record<string, unknown>
  /** Answer the userinfo request entirely. */
  userinfo?(res: ServerResponse): void
  /** Answer the JWKS request entirely. */
  jwks?(res: ServerResponse): void
}

/** How much of a huge body {@link streamHugeBody} has produced so far. */
export interface HugeBodyCounter {
  /** Bytes handed to the response stream. */
  sent: number
}

const HUGE_CHUNK = Buffer.alloc(64 * 1024, 'a')

/**
 * Answer 200 with a JSON-typed body of `bytes` bytes, made lazily, 64 KiB at a time, as
 * the connection takes them: the provider holds no more than a chunk or two, whatever
 * `bytes` is. With `contentLength`, the length is announced up front; without, the body
 * is chunked. Stops when the client goes away.
 */
export function streamHugeBody(res: ServerResponse, options: { bytes: number; contentLength: boolean; counter: HugeBodyCounter }): void {
  let left = options.bytes
  const source = new Readable({
    read() {
      if (left <= 0) return void this.push(null)
      const size = Math.min(left, HUGE_CHUNK.length)
      left -= size
      options.counter.sent += size
      this.push(size === HUGE_CHUNK.length ? HUGE_CHUNK : HUGE_CHUNK.subarray(0, size))
    },
  })
  res.writeHead(200, { 'content-type': 'application/json', ...(options.contentLength ? { 'content-length': String(options.bytes) } : {}) })
  pipeline(source, res).catch(() => undefined)
}

export interface HostileProvider {
  opURL: string
  issuer: string
  clientID: string
  clientSecret: string
  /** The breakage of the current case; `{}` behaves. */
  breakage: Breakage
  /** The sub the provider gives a username. */
  subOf(username: string): string
  /** The last ID token issued, and the nonce of its authorization request. */
  issued: { idToken?: string; nonce?: string }
  /** Requests that hang until the provider closes. */
  hanging: ServerResponse[]
  keys: HostileKeys
  close(): Promise<void>
}

/** Start a hostile provider on 127.0.0.1 for a client registered with `redirectURI`. */
export async function startHostileProvider(options: { redirectURI: string; idTokenAlg?: 'HS256' | 'RS256' }): Promise<HostileProvider> {
  const clientID = 'hostile-client'
  const clientSecret = 'hostile-secret-0123456789abcdef0123456789abcdef'
  const server = await startLoopbackServer()
  const issuer = `${server.origin}/openid`
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const keys: HostileKeys = {
    secret: new TextEncoder().encode(clientSecret),
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid: 'hostile-rs256', alg: 'RS256', use: 'sig' },
  }
  const idTokenAlg = options.idTokenAlg ?? 'HS256'
  const grants = new Map<string, HostileGrant>()
  const accessTokens = new Map<string, string>()

  const hostile: HostileProvider = {
    opURL: `${issuer}/`,
    issuer,
    clientID,
    clientSecret,
    breakage: {},
    subOf: (username) => `sub-${username}`,
    issued: {},
    hanging: [],
    keys,
    close: async () => {
      for (const res of hostile.hanging) res.destroy()
      await server.close()
    },
  }

  const app = express()
  app.get('/openid/authorize/', (req, res) => {
    const params = new URLSearchParams(req.url.split('?')[1] ?? '')
    const redirectURI = params.get('redirect_uri')
    if (params.get('client_id') !== clientID || redirectURI !== options.redirectURI) return void res.status(400).send('bad client')
    const username = hostile.breakage.account ?? params.get('login_hint') ?? 'alice'
    const code = randomBytes(16).toString('base64url')
    grants.set(code, { username, nonce: params.get('nonce') ?? undefined })
    const back = new URLSearchParams({ code, state: params.get('state') ?? '' })
    hostile.breakage.authorizeResponse?.(back)
    res.redirect(`${redirectURI}?${back}`)
  })

  app.post('/openid/token/', express.urlencoded({ extended: false }), async (req, res, next) => {
    try {
      if (hostile.breakage.token) return hostile.breakage.token(res)
      const grant = grants.get(String(req.body.code))
      grants.delete(String(req.body.code))
      if (!grant || req.body.client_id !== clientID || req.body.client_secret !== clientSecret || !req.body.code_verifier) {
        return void res.status(400).json({ error: 'invalid_grant' })
      }
      const now = Math.floor(Date.now() / 1000)
      let claims: JWTPayload = { iss: issuer, aud: clientID, sub: hostile.subOf(grant.username), nonce: grant.nonce, iat: now, exp: now + 300, auth_time: now }
      if (hostile.breakage.claims) claims = hostile.breakage.claims(claims)
      const idToken = hostile.breakage.sign
        ? await hostile.breakage.sign(claims, keys)
        : idTokenAlg === 'HS256'
          ? await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(keys.secret)
          : await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: keys.publicJwk.kid! }).sign(privateKey)
      hostile.issued = { idToken, nonce: grant.nonce }
      const accessToken = randomBytes(16).toString('base64url')
      accessTokens.set(accessToken, grant.username)
      let body: Record<string, unknown> = { access_token: accessToken, token_type: 'Bearer', expires_in: 300 }
      if (idToken !== undefined) body.id_token = idToken
      if (hostile.breakage.tokenBody) body = hostile.breakage.tokenBody(body)
      res.set('cache-control', 'no-store').json(body)
    } catch (err) {
      next(err)
    }
  })

  app.get('/openid/userinfo/', (req, res) => {
    if (hostile.breakage.userinfo) return hostile.breakage.userinfo(res)
    const username = accessTokens.get((req.headers.authorization ?? '').replace(/^Bearer /, ''))
    if (!username) return void res.status(401).set('www-authenticate', 'Bearer error="invalid_token"').end()
    let body: Record<string, unknown> = { sub: hostile.subOf(username), preferred_username: username }
    if (hostile.breakage.userinfoBody) body = hostile.breakage.userinfoBody(body)
    res.json(body)
  })

  app.get('/openid/jwks', (_req, res) => {
    if (hostile.breakage.jwks) return hostile.breakage.jwks(res)
    res.json({ keys: [keys.publicJwk] })
  })
  server.handle(app)
  return hostile
}
