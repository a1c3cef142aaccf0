/**
 * The provider as a flow talks to it: openid-client's Configuration and the key that
 * verifies ID tokens, built once from the provider settings (from the derived endpoints
 * at construction, or from discovery on first use).
 *
 * @packageDocumentation
 */
import * as client from 'openid-client'
import { createRemoteJWKSet, customFetch } from 'jose'
import { JustpassProviderError } from './errors.js'
import type { IdTokenKey } from './id-token.js'
import type { JustpassProvider } from './provider-settings.js'
import { log } from './log.js'
import { capProviderFetch, createProviderFetch, findTransportError, MAX_RESPONSE_SIZE, type ProviderFetch } from './transport.js'

/** What a flow needs of the provider: where and how to call it, and how to verify its ID tokens. */
export interface ProviderConnection {
  /** openid-client's view of the provider and of this client. */
  config: client.Configuration
  /** The issuer ID tokens must carry. */
  issuer: string
  /** The key (HS*) or key set (asymmetric algorithms) that verifies ID tokens. */
  idTokenKey: IdTokenKey
  /** Where logout at the provider sends the browser, or `undefined` for logout at the site only. */
  endSessionEndpoint: string | undefined
}

function clientMetadata(provider: JustpassProvider): Partial<client.ClientMetadata> {
  return {
    client_secret: provider.clientSecret,
    id_token_signed_response_alg: provider.idTokenAlg,
    token_endpoint_auth_method: provider.tokenEndpointAuthMethod,
    // openid-client checks the ID token's times too, before jose: with the same tolerance.
    [client.clockTolerance]: provider.clockTolerance,
  }
}

function clientAuth(provider: JustpassProvider): client.ClientAuth {
  return provider.tokenEndpointAuthMethod === 'client_secret_basic'
    ? client.ClientSecretBasic(provider.clientSecret)
    : client.ClientSecretPost(provider.clientSecret)
}

/** The least time between two fetches of the provider's key set, in milliseconds. */
export const JWKS_COOLDOWN_MS = 5_000

/** `fetch` for the key set, with a debug line for every fetch. */
function loggedKeySetFetch(fetch: ProviderFetch): ProviderFetch {
  return (url, init) => {
    log('fetching the provider\'s key set (JWKS): first use, an unknown kid, or a refresh')
    return fetch(url, init)
  }
}

function finish(config: client.Configuration, provider: JustpassProvider, jwksURI: string | undefined, fetch: ProviderFetch): ProviderConnection {
  config[client.customFetch] = fetch
  const metadata = config.serverMetadata()
  const issuer = metadata.issuer
  const endSessionEndpoint = provider.endSessionURL === false ? undefined : (provider.endSessionURL ?? metadata.end_session_endpoint)
  const alg = provider.idTokenAlg
  if (alg === 'HS256' || alg === 'HS384' || alg === 'HS512') {
    return { config, issuer, endSessionEndpoint, idTokenKey: { type: 'secret', alg, key: provider.clientSecretKey } }
  }
  if (!jwksURI) throw new JustpassProviderError('provider_metadata', 'the provider metadata has no jwks_uri, needed for asymmetric ID tokens')
  // A key the set does not have yet (a rotation) is fetched again after a few seconds, not jose's 30.
  const keySet = createRemoteJWKSet(new URL(jwksURI), { timeoutDuration: provider.timeout, cooldownDuration: JWKS_COOLDOWN_MS, [customFetch]: loggedKeySetFetch(fetch) })
  return { config, issuer, endSessionEndpoint, idTokenKey: { type: 'jwks', alg, keySet } }
}

/**
 * openid-client's Configuration for the endpoints derived from `opURL`, with the
 * provider's client, client authentication, timeout and (on loopback) plain HTTP; calls
 * go through openid-client's default fetch until a context gives it the transport.
 */
export function providerConfiguration(provider: JustpassProvider): client.Configuration {
  const { endpoints } = provider
  const config = new client.Configuration(
    {
      issuer: endpoints.issuer,
      authorization_endpoint: endpoints.authorization,
      token_endpoint: endpoints.token,
      userinfo_endpoint: endpoints.userinfo,
      jwks_uri: endpoints.jwks,
      end_session_endpoint: endpoints.endSession,
    },
    provider.clientID,
    clientMetadata(provider),
    clientAuth(provider),
  )
  config.timeout = provider.timeout / 1000
  if (provider.insecureHTTP) client.allowInsecureRequests(config)
  return config
}

/**
 * The provider context from the endpoints derived from `opURL`. Makes no network call:
 * the JWKS (asymmetric algorithms only) is fetched on the first ID token it verifies.
 *
 * @param fetch - the transport of every call to the provider; a new one by default
 */
export function staticProviderConnection(provider: JustpassProvider, fetch: ProviderFetch = createProviderFetch()): ProviderConnection {
  return finish(providerConfiguration(provider), provider, provider.endpoints.jwks, fetch)
}

/**
 * Read the provider's metadata from its discovery document and build the context.
 *
 * @param fetch - the transport of every call to the provider; a new one by default
 * @throws {@link JustpassProviderError} `provider_metadata` when the document cannot be
 *   fetched or does not describe this issuer; `provider_bad_response` when it is larger
 *   than the transport reads
 */
export async function discoverProviderConnection(provider: JustpassProvider, fetch: ProviderFetch = createProviderFetch()): Promise<ProviderConnection> {
  let config: client.Configuration
  try {
    config = await client.discovery(new URL(provider.endpoints.issuer), provider.clientID, clientMetadata(provider), clientAuth(provider), {
      execute: provider.insecureHTTP ? [client.allowInsecureRequests] : [],
      timeout: provider.timeout / 1000,
      [client.customFetch]: fetch,
    })
  } catch (err) {
    if (findTransportError(err)?.code === 'ERR_RESPONSE_TOO_LARGE') {
      throw new JustpassProviderError('provider_bad_response', `the discovery endpoint answered more than ${MAX_RESPONSE_SIZE}`, { cause: err })
    }
    throw new JustpassProviderError('provider_metadata', `could not read the provider metadata of ${provider.endpoints.issuer}`, { cause: err })
  }
  return finish(config, provider, config.serverMetadata().jwks_uri, fetch)
}

/**
 * Hands out the provider context: built at construction when the endpoints are derived
 * (no network call), and from one shared discovery otherwise. A
 * failed discovery is forgotten, so the next flow retries. Every call to the provider
 * goes through one transport, made here: its kept-alive sockets outlive a retried
 * discovery.
 */
export class ProviderConnectionSource {
  #context: Promise<ProviderConnection> | undefined
  readonly #provider: JustpassProvider
  readonly #fetch: ProviderFetch

  /** @param provider - the resolved provider settings */
  constructor(provider: JustpassProvider) {
    this.#provider = provider
    this.#fetch = provider.fetch ? capProviderFetch(provider.fetch) : createProviderFetch()
    if (!provider.discovery) this.#context = Promise.resolve(staticProviderConnection(provider, this.#fetch))
  }

  /** The context, discovering it first when needed. */
  get(): Promise<ProviderConnection> {
    this.#context ??= discoverProviderConnection(this.#provider, this.#fetch).catch((err: unknown) => {
      this.#context = undefined
      throw err
    })
    return this.#context
  }
}
