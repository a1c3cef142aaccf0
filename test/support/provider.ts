/**
 * The local justpass-compatible provider (provider/), set up for tests: on 127.0.0.1,
 * in memory, with the passkey step completed in code as `behaviour` says, and every
 * request counted and recorded.
 */
import { startLocalProvider, type PasskeyStep } from '../../provider/index.ts'

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
  /** Every request to the end-session endpoint, as its query (GET) or form body (POST) parameters, in order. */
  endSessionRequests: URLSearchParams[]
  /** Every passkey step the provider started, with the parameters it saw. */
  interactions: Array<Record<string, unknown>>
  /** Requests the provider received, of any kind. */
  requestCount: number
  /** Requests to the token endpoint (code exchanges). */
  tokenRequests: number
  /** While true, the provider answers every request with 503. */
  unavailable: boolean
  /** What the next passkey steps do; tests change it. */
  behaviour: InteractionBehaviour
  /** Run `body` with the passkey steps doing `behaviour`, then approve again, whatever `body` did. */
  withBehaviour<T>(behaviour: InteractionBehaviour, body: () => Promise<T>): Promise<T>
  /** The `sub` the provider gives a username. */
  subOf(username: string): string
  close(): Promise<void>
}

export interface TestProviderOptions {
  clientID?: string
  clientSecret?: string
  redirectURIs: string[]
  /** Where the provider may send the browser after logout (`post_logout_redirect_uri`). Default none. */
  postLogoutRedirectURIs?: string[]
  /** The ID token algorithm registered for the client. Default HS256. */
  idTokenAlg?: 'HS256' | 'RS256'
}

/** Start the provider on 127.0.0.1, on a free port. */
export async function startTestProvider(options: TestProviderOptions): Promise<TestProvider> {
  const clientID = options.clientID ?? 'shop-client'
  const clientSecret = options.clientSecret ?? 'shop-secret-0123456789abcdef0123456789abcdef'
  const authorizationRequests: URLSearchParams[] = []
  const interactions: Array<Record<string, unknown>> = []
  const endSessionRequests: URLSearchParams[] = []

  const completeInteraction = async ({ params }: PasskeyStep) => {
    interactions.push(params)
    const { action, account } = state.behaviour
    const username = account ?? (params.login_hint as string | undefined)
    return action === 'cancel' || username === undefined ? { cancel: true as const } : { username }
  }

  const local = await startLocalProvider({
    hostname: '127.0.0.1',
    clients: [{ clientID, clientSecret, redirectURIs: options.redirectURIs, postLogoutRedirectURIs: options.postLogoutRedirectURIs, idTokenAlg: options.idTokenAlg ?? 'HS256' }],
    completeInteraction,
    onEndSession: (params) => endSessionRequests.push(params),
    onRequest(req, res, next) {
      state.requestCount++
      if (state.unavailable) return void res.status(503).end()
      if (req.method === 'POST' && req.path === '/openid/token/') state.tokenRequests++
      if (req.method === 'GET' && req.path === '/openid/authorize/') authorizationRequests.push(new URLSearchParams(req.url.split('?')[1] ?? ''))
      next()
    },
  })

  const state: TestProvider = {
    opURL: local.opURL,
    issuer: local.issuer,
    clientID,
    clientSecret,
    authorizationRequests,
    endSessionRequests,
    interactions,
    requestCount: 0,
    tokenRequests: 0,
    unavailable: false,
    behaviour: { action: 'approve' },
    async withBehaviour(behaviour, body) {
      state.behaviour = behaviour
      try {
        return await body()
      } finally {
        state.behaviour = { action: 'approve' }
      }
    },
    subOf: (username) => local.passkeys.ensureAccount(username).handle,
    close: () => local.close(),
  }
  return state
}
