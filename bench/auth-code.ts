/**
 * The authorization `code` of the benchmark. There is no authorization step: the bench
 * writes into the code what the token endpoint needs (the nonce to echo and the user
 * who "presented a passkey"), and the provider reads it back.
 *
 * @packageDocumentation
 */

/** What a bench code carries. */
export interface CodeGrant {
  /** The user the ID token and userinfo are for. */
  user: string
  /** The nonce of the authorization request, echoed in the ID token; none when the request had none. */
  nonce?: string
}

/** The code for `grant`: base64url JSON. */
export function encodeCode(grant: CodeGrant): string {
  const body: { u: string; n?: string } = { u: grant.user }
  if (grant.nonce !== undefined) body.n = grant.nonce
  return Buffer.from(JSON.stringify(body)).toString('base64url')
}

/** The grant a code carries, or `undefined` when it is not a bench code. */
export function decodeCode(code: string): CodeGrant | undefined {
  try {
    const body = JSON.parse(Buffer.from(code, 'base64url').toString('utf8')) as { u?: unknown; n?: unknown }
    if (typeof body.u !== 'string' || body.u === '') return undefined
    const grant: CodeGrant = { user: body.u }
    if (typeof body.n === 'string') grant.nonce = body.n
    return grant
  } catch {
    return undefined
  }
}
