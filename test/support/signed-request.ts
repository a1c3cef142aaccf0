/**
 * Authorization requests as justpass.me's own clients send them, signed: for the local
 * provider's tests, which call it without a site in front.
 */
import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'

/** A client registered at the provider. */
export interface SigningClient {
  clientID: string
  clientSecret: string
  redirectURIs: string[]
}

/**
 * An authorization URL for alice: a fresh `state` and `nonce`, and the `signature` over
 * `state` and `login_hint` (plus `claims`), HS256 with the client secret.
 */
export async function signedAuthorizationURL(
  opURL: string,
  client: SigningClient,
  options: { prompt?: 'create' | 'login'; claims?: Record<string, unknown> } = {},
): Promise<{ url: string; state: string; query: URLSearchParams }> {
  const state = randomBytes(24).toString('base64url')
  const signature = await new SignJWT({ state, login_hint: 'alice', ...options.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(client.clientSecret))
  const query = new URLSearchParams({
    client_id: client.clientID,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: client.redirectURIs[0]!,
    state,
    nonce: randomBytes(16).toString('base64url'),
    login_hint: 'alice',
    signature,
    prompt: options.prompt ?? 'create',
  })
  return { url: `${opURL}authorize/?${query}`, state, query }
}
