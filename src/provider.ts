/**
 * The provider as the strategy talks to it: the openid-client Configuration and the key
 * that verifies ID tokens, built once (from the derived endpoints at construction, or
 * from discovery on first use).
 *
 * @packageDocumentation
 */
import * as client from 'openid-client'
import { createRemoteJWKSet, type JWTClaimVerificationOptions, type JWTVerifyGetKey } from 'jose'
import type { KeyObject } from 'node:crypto'
import { JustpassProviderError } from './errors.js'
import type { HmacAlgorithm } from './hmac-jwt.js'
import type { ResolvedOptions } from './options.js'

/** What verifies the provider's ID tokens: the client secret (HS*) or the provider's key set. */
export type IdTokenKey =
  | {
      /** An HS* algorithm: the MAC key is the client secret. */
      type: 'secret'
      alg: HmacAlgorithm
      /** The client secret as a secret KeyObject, imported once. */
      key: KeyObject
    }
  | {
      /** An asymmetric algorithm: the keys come from the provider's JWKS. */
      type: 'jwks'
      /** jose's remote key set: fetched on first use, cached, refreshed on an unknown `kid`. */
      keySet: JWTVerifyGetKey
    }

/** What a flow needs of the provider: where and how to call it, how to verify its ID tokens. */
export interface ProviderContext {
  /** openid-client's view of the provider and of this client. */
  config: client.Configuration
  /** The issuer ID tokens must carry. */
  issuer: string
  /** The key (HS*) or key set (asymmetric algorithms) that verifies ID tokens. */
  idTokenKey: IdTokenKey
  /** The claim checks every ID token must pass (issuer, audience, age, required claims), set once. */
  idTokenClaims: JWTClaimVerificationOptions
}

function clientMetadata(options: ResolvedOptions): Partial<client.ClientMetadata> {
  return {
    client_secret: options.clientSecret,
    id_token_signed_response_alg: options.idTokenAlg,
    token_endpoint_auth_method: options.tokenEndpointAuthMethod,
    redirect_uris: [options.callbackURL],
    // openid-client checks the ID token's times too, before jose: with the same tolerance.
    [client.clockTolerance]: options.clockTolerance,
  }
}

function clientAuth(options: ResolvedOptions): client.ClientAuth {
  return options.tokenEndpointAuthMethod === 'client_secret_basic'
    ? client.ClientSecretBasic(options.clientSecret)
    : client.ClientSecretPost(options.clientSecret)
}

function finish(config: client.Configuration, options: ResolvedOptions, jwksURI: string | undefined): ProviderContext {
  config.timeout = options.timeout / 1000
  if (options.insecureHTTP) client.allowInsecureRequests(config)
  const issuer = config.serverMetadata().issuer
  const idTokenClaims: JWTClaimVerificationOptions = {
    issuer,
    audience: options.clientID,
    maxTokenAge: options.flowMaxAge,
    clockTolerance: options.clockTolerance,
    requiredClaims: ['sub', 'exp', 'iat', 'nonce'],
  }
  const alg = options.idTokenAlg
  if (alg === 'HS256' || alg === 'HS384' || alg === 'HS512') {
    return { config, issuer, idTokenKey: { type: 'secret', alg, key: options.clientSecretKey }, idTokenClaims }
  }
  if (!jwksURI) throw new JustpassProviderError('provider_metadata', 'the provider metadata has no jwks_uri, needed for asymmetric ID tokens')
  const keySet = createRemoteJWKSet(new URL(jwksURI), { timeoutDuration: options.timeout })
  return { config, issuer, idTokenKey: { type: 'jwks', keySet }, idTokenClaims }
}

/**
 * The provider context from the endpoints derived from `opURL`. Makes no network call:
 * the JWKS (asymmetric algorithms only) is fetched on the first ID token it verifies.
 */
export async function staticProviderContext(options: ResolvedOptions): Promise<ProviderContext> {
  const { endpoints } = options
  const config = new client.Configuration(
    {
      issuer: endpoints.issuer,
      authorization_endpoint: endpoints.authorization,
      token_endpoint: endpoints.token,
      userinfo_endpoint: endpoints.userinfo,
      jwks_uri: endpoints.jwks,
    },
    options.clientID,
    clientMetadata(options),
    clientAuth(options),
  )
  return finish(config, options, endpoints.jwks)
}

/**
 * Read the provider's metadata from its discovery document and build the context.
 *
 * @throws {@link JustpassProviderError} `provider_metadata` when the document cannot be
 *   fetched or does not describe this issuer
 */
export async function discoverProviderContext(options: ResolvedOptions): Promise<ProviderContext> {
  let config: client.Configuration
  try {
    config = await client.discovery(new URL(options.endpoints.issuer), options.clientID, clientMetadata(options), clientAuth(options), {
      execute: options.insecureHTTP ? [client.allowInsecureRequests] : [],
      timeout: options.timeout / 1000,
    })
  } catch (err) {
    throw new JustpassProviderError('provider_metadata', `could not read the provider metadata of ${options.endpoints.issuer}`, { cause: err })
  }
  return finish(config, options, config.serverMetadata().jwks_uri)
}

/**
 * Hands out the provider context: built at construction when the endpoints are derived
 * (no network call, only the key import), and from one shared discovery otherwise. A
 * failed discovery is forgotten, so the next flow retries.
 */
export class ProviderContextSource {
  #context: Promise<ProviderContext> | undefined
  readonly #options: ResolvedOptions

  /** @param options - resolved strategy options */
  constructor(options: ResolvedOptions) {
    this.#options = options
    if (!options.discovery) this.#context = staticProviderContext(options)
  }

  /** The context, discovering it first when needed. */
  get(): Promise<ProviderContext> {
    this.#context ??= discoverProviderContext(this.#options).catch((err: unknown) => {
      this.#context = undefined
      throw err
    })
    return this.#context
  }
}
