/**
 * A justpass-compatible OpenID provider for tests: oidc-provider on loopback, mounted
 * under /openid/ with justpass.me's paths, HS256 ID tokens, `prompt=create`, and the
 * `signature` parameter checked. The passkey step is completed by the test: each
 * interaction approves or cancels as `behaviour` says.
 */
import express from 'express'
import { startLoopbackServer } from './server.ts'
import { jwtVerify, generateKeyPair, exportJWK } from 'jose'
import Provider, { errors, interactionPolicy } from 'oidc-provider'

/** What the next passkey step does. */
export interface InteractionBehaviour {
  /** Approve (the user presented a passkey) or cancel. */
  action: 'approve' | 'cancel'
  /**
   * Whose passkey is presented. Default: the `login_hint` (the right user); required for
   * single-factor LOGIN, where there is no hint.
   */
  account?: string
}

export interface TestProvider {
  /** The base URL to give the strategy as `opURL`, with its trailing slash. */
  opURL: string
  issuer: string
  clientID: string
  clientSecret: string
  /** Every authorization request received, as its query parameters, in order. */
  authorizationRequests: URLSearchParams[]
  /** Every interaction the provider started, with the parameters it saw. */
  interactions: Array<Record<string, unknown>>
  /** Requests the provider received, of any kind. */
  requestCount: number
  /** While true, the provider answers every request with 503. */
  unavailable: boolean
  /** What the next interactions do; tests change it. */
  behaviour: InteractionBehaviour
  /** The `sub` the provider uses for a username. */
  subOf(username: string): string
  close(): Promise<void>
}

export interface TestProviderOptions {
  clientID?: string
  clientSecret?: string
  redirectURIs: string[]
  /** The ID token algorithm registered for the client. Default HS256. */
  idTokenAlg?: 'HS256' | 'RS256'
}

/** Start the provider on 127.0.0.1, on a free port. */
export async function startTestProvider(options: TestProviderOptions): Promise<TestProvider> {
  const clientID = options.clientID ?? 'shop-client'
  const clientSecret = options.clientSecret ?? 'shop-secret-0123456789abcdef0123456789abcdef'
  const app = express()
  const server = await startLoopbackServer()
  server.handle(app)
  const issuer = `${server.origin}/openid`
  const secretKey = new TextEncoder().encode(clientSecret)

  const policy = interactionPolicy.base()
  policy.add(new interactionPolicy.Prompt({ name: 'create', requestable: true }), 0)

  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-rs256', use: 'sig', alg: 'RS256' }

  const authorizationRequests: URLSearchParams[] = []
  const interactions: Array<Record<string, unknown>> = []

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientID,
        client_secret: clientSecret,
        redirect_uris: options.redirectURIs,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: options.idTokenAlg ?? 'HS256',
      },
    ],
    jwks: { keys: [signingKey] },
    routes: { authorization: '/authorize/', token: '/token/', userinfo: '/userinfo/', jwks: '/jwks' },
    enabledJWA: { idTokenSigningAlgValues: ['HS256', 'RS256'] },
    acrValues: ['keys'],
    claims: { openid: ['sub', 'preferred_username'] },
    extraParams: {
      // justpass.me refuses a request that its site's backend did not sign.
      async signature(ctx, value) {
        const params = ctx.oidc.params as Record<string, string | undefined>
        if (typeof value !== 'string') throw new errors.InvalidRequest('signature parameter missing')
        try {
          const { payload } = await jwtVerify(value, secretKey, { algorithms: ['HS256'] })
          if (payload.state !== params.state || payload.login_hint !== params.login_hint) throw new Error('payload mismatch')
        } catch {
          throw new errors.InvalidRequest('signature invalid')
        }
      },
      hint_mode: null,
      username: null,
      AMWALPLATFORM: null,
    },
    interactions: {
      policy,
      url: (_ctx, interaction) => `/openid/interaction/${interaction.uid}`,
    },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ['test-provider-cookie-key'] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    async findAccount(_ctx, id) {
      return { accountId: id, claims: () => ({ sub: id, preferred_username: id.replace(/^sub-/, '') }) }
    },
  })

  const state: TestProvider = {
    opURL: `${issuer}/`,
    issuer,
    clientID,
    clientSecret,
    authorizationRequests,
    interactions,
    requestCount: 0,
    unavailable: false,
    behaviour: { action: 'approve' },
    subOf: (username) => `sub-${username}`,
    close: () => server.close(),
  }

  app.use((_req, res, next) => {
    state.requestCount++
    if (state.unavailable) res.status(503).end()
    else next()
  })
  app.use('/openid/authorize/', (req, _res, next) => {
    if (req.method === 'GET' && req.path === '/') authorizationRequests.push(new URLSearchParams(req.url.split('?')[1] ?? ''))
    next()
  })
  app.get('/openid/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res)
      const params = details.params as Record<string, unknown>
      interactions.push(params)
      const { action, account } = state.behaviour
      const username = account ?? (params.login_hint as string | undefined)
      if (action === 'cancel' || username === undefined) {
        await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user cancelled' }, { mergeWithLastSubmission: false })
        return
      }
      const accountId = state.subOf(username)
      // One grant per account and client, reused by later flows, as a provider keeps its consent.
      const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined
      const grant = existing?.accountId === accountId ? existing : new provider.Grant({ accountId, clientId: clientID })
      grant.addOIDCScope('openid')
      const grantId = await grant.save()
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId, acr: 'keys' }, consent: { grantId }, create: {} },
        { mergeWithLastSubmission: false },
      )
    } catch (err) {
      next(err)
    }
  })
  app.use('/openid', provider.callback())
  return state
}
