/**
 * The way back: the code exchanged, the ID token verified, userinfo fetched, and the
 * identity bound to the flow. Returns a verified flow or throws a refusal.
 *
 * @packageDocumentation
 */
import * as client from 'openid-client'
import type { JWTPayload } from 'jose'
import { JustpassRefusal } from './errors.js'
import type { PendingFlow } from './flow.js'
import type { IdTokenVerifier } from './id-token.js'
import type { ProviderConnection } from './provider-connection.js'
import { classifyProviderFailure } from './provider-failure.js'

/** What a flow is called in a message, by mode. */
const FLOW_NOUN: Record<PendingFlow['mode'], string> = { register: 'registration', login: 'login', confirm: 'confirmation' }

/** The token endpoint's answer, as openid-client returns it. */
export type JustpassTokens = client.TokenEndpointResponse & client.TokenEndpointResponseHelpers

/** The userinfo endpoint's answer, with the username justpass.me vouches for. */
export type JustpassUserinfo = client.UserInfoResponse & {
  /** The username the passkey belongs to: the site looks its user up by it. */
  preferred_username: string
}

/** A flow whose every check has passed. */
export interface VerifiedFlow {
  /** The token endpoint's answer. */
  tokens: JustpassTokens
  /** The verified ID token claims. */
  claims: JWTPayload
  /** The userinfo endpoint's answer. */
  userinfo: JustpassUserinfo
  /** The username the passkey belongs to (`preferred_username`). */
  username: string
}

/**
 * Complete a flow: exchange the code (state, PKCE, nonce and `iss` checked by
 * openid-client), verify the ID token, fetch userinfo for the same `sub`, and bind the
 * identity: the passkey must belong to the username the flow was started for.
 *
 * @param callbackURL - the callback URL with the query the provider sent back
 * @throws {@link JustpassRefusal} when a check fails; {@link JustpassProviderError} on an outage
 */
export async function exchangeCode(
  context: ProviderConnection,
  idTokens: IdTokenVerifier,
  flow: PendingFlow,
  state: string,
  callbackURL: URL,
): Promise<VerifiedFlow> {
  let tokens: JustpassTokens
  try {
    tokens = await client.authorizationCodeGrant(context.config, callbackURL, {
      pkceCodeVerifier: flow.verifier,
      expectedState: state,
      expectedNonce: flow.nonce,
      // No maxAge: auth_time is checked once, per mode, by IdTokenVerifier (auth_too_old).
      idTokenExpected: true,
    })
  } catch (err) {
    throw classifyProviderFailure(err, 'token')
  }
  if (typeof tokens.token_type !== 'string' || tokens.token_type.toLowerCase() !== 'bearer') {
    throw new JustpassRefusal('response_invalid', 'The token endpoint answered a token type other than Bearer. Start again.')
  }
  // idTokenExpected: openid-client has refused an answer without an ID token.
  const claims = await idTokens.verify(tokens.id_token as string, flow)

  let userinfo: client.UserInfoResponse
  try {
    userinfo = await client.fetchUserInfo(context.config, tokens.access_token, claims.sub as string)
  } catch (err) {
    throw classifyProviderFailure(err, 'userinfo')
  }
  const username = userinfo.preferred_username
  if (typeof username !== 'string' || username === '') {
    throw new JustpassRefusal(
      'userinfo_invalid',
      'The userinfo answer has no preferred_username: the provider releases it only for a scope that includes it, or when it is configured to add it to scope openid. Start again.',
    )
  }
  if (flow.username !== undefined && username !== flow.username) {
    throw new JustpassRefusal('identity_mismatch', `The passkey belongs to another user than the one this ${FLOW_NOUN[flow.mode]} was for. Use your own passkey.`)
  }
  return { tokens, claims, userinfo: userinfo as JustpassUserinfo, username }
}
