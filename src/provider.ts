/**
 * The provider as the strategy talks to it: the openid-client Configuration and the key
 * that verifies ID tokens, built once (from the derived endpoints at construction, or
 * from discovery on first use).
 *
 * @packageDocumentation
 */
import * as client from 'openid-client'
import { createRemoteJWKSet, customFetch, type JWTClaimVerificationOptions, type JWTVerifyGetKey } from 'jose'
import type { KeyObject } from 'node:crypto'
import { JustpassProviderError } from './errors.js'
import type { HmacAlgorithm } from './hmac-jwt.js'
import type { ResolvedOptions } from './options.js'
import { capProviderFetch, createProviderFetch, findTransportError, MAX_RESPONSE_SIZE, type ProviderFetch } from './transport.js'

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

function finish(config: client.Configuration, options: ResolvedOptions, jwksURI: string | undefined, fetch: ProviderFetch): ProviderContext {
  config[client.customFetch] = fetch
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
  const keySet = createRemoteJWKSet(new URL(jwksURI), { timeoutDuration: options.timeout, [customFetch]: fetch })
  return { config, issuer, idTokenKey: { type: 'jwks', keySet }, idTokenClaims }
}

/**
 * The provider context from the endpoints derived from `opURL`. Makes no network call:
 * the JWKS (asymmetric algorithms only) is fetched on the first ID token it verifies.
 *
 * @param fetch - the transport of every call to the provider; a new one by default
 */
export async function staticProviderContext(options: ResolvedOptions, fetch: ProviderFetch = createProviderFetch()): Promise<ProviderContext> {
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
  return finish(config, options, endpoints.jwks, fetch)
}

/**
 * Read the provider's metadata from its discovery document and build the context.
 *
 * @param fetch - the transport of every call to the provider; a new one by default
 * @throws {@link JustpassProviderError} `provider_metadata` when the document cannot be
 *   fetched or does not describe this issuer; `provider_bad_response` when it is larger
 *   than the transport reads
 */
export async function discoverProviderContext(options: ResolvedOptions, fetch: ProviderFetch = createProviderFetch()): Promise<ProviderContext> {
  let config: client.Configuration
  try {
    config = await client.discovery(new URL(options.endpoints.issuer), options.clientID, clientMetadata(options), clientAuth(options), {
      execute: options.insecureHTTP ? [client.allowInsecureRequests] : [],
      timeout: options.timeout / 1000,
      [client.customFetch]: fetch,
    })
  } catch (err) {
    if (findTransportError(err)?.code === 'ERR_RESPONSE_TOO_LARGE') {
      throw new JustpassProviderError('provider_bad_response', `the discovery endpoint answered more than ${MAX_RESPONSE_SIZE}`, { cause: err })
    }
    throw new JustpassProviderError('provider_metadata', `could not read the provider metadata of ${options.endpoints.issuer}`, { cause: err })
  }
  return finish(config, options, config.serverMetadata().jwks_uri, fetch)
}

/**
 * Hands out the provider context: built at construction when the endpoints are derived
 * (no network call, only the key import), and from one shared discovery otherwise. A
 * failed discovery is forgotten, so the next flow retries. Every call to the provider
 * goes through one transport, made here: its kept-alive sockets outlive a retried
 * discovery.
 */
export class ProviderContextSource {
  #context: Promise<ProviderContext> | undefined
  readonly #options: ResolvedOptions
  readonly #fetch: ProviderFetch

  /** @param options - resolved strategy options */
  constructor(options: ResolvedOptions) {
    this.#options = options
    this.#fetch = options.fetch ? capProviderFetch(options.fetch) : createProviderFetch()
    if (!options.discovery) this.#context = staticProviderContext(options, this.#fetch)
  }

  /** The context, discovering it first when needed. */
  get(): Promise<ProviderContext> {
    this.#context ??= discoverProviderContext(this.#options, this.#fetch).catch((err: unknown) => {
      this.#context = undefined
      throw err
    })
    return this.#context
  }
}
