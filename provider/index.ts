/**
 * A local, justpass-compatible OpenID provider: oidc-provider under `/openid/` with
 * justpass.me's paths, HS256 ID tokens, `prompt=create`, the request `signature`
 * checked, and real passkeys (@simplewebauthn) kept in SQLite. It lets anyone run a
 * site with passport-justpass offline; the tests use it too, completing the passkey
 * step programmatically.
 */
import express, { type RequestHandler } from 'express'
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { jwtVerify, generateKeyPair, exportJWK } from 'jose'
import Provider, { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider'
import { PasskeyStore, type Account } from './passkeys.ts'
import { errorPage, passkeyPage } from './pages.ts'
import { WebAuthnCeremonies } from './webauthn.ts'

/** A site registered at the provider. */
export interface LocalClient {
  clientID: string
  clientSecret: string
  redirectURIs: string[]
  /** The ID token algorithm. Default HS256 (keyed with the client secret), as justpass.me. */
  idTokenAlg?: 'HS256' | 'RS256'
}

/** One passkey step, for a programmatic `completeInteraction`. */
export interface PasskeyStep {
  mode: 'register' | 'login'
  /** The authorization request's parameters, justpass.me's own included. */
  params: Record<string, unknown>
}

/** The outcome of a programmatic passkey step: whose passkey was presented, or cancel. */
export type PasskeyStepOutcome = { username: string } | { cancel: true }

export interface LocalProviderOptions {
  clients: LocalClient[]
  /** Port on 127.0.0.1; 0 (the default) for a free one. */
  port?: number
  /**
   * The host name in the provider's URLs. Default `localhost`: WebAuthn refuses an IP
   * address as relying-party id. The server itself always listens on 127.0.0.1.
   */
  hostname?: string
  /** SQLite file for accounts and passkeys; default `:memory:`. */
  database?: string
  /** Complete passkey steps in code instead of serving the passkey pages (tests). */
  completeInteraction?: (step: PasskeyStep) => Promise<PasskeyStepOutcome>
  /** Middleware run before every request (tests count or refuse requests with it). */
  onRequest?: RequestHandler
}

export interface LocalProvider {
  /** The base URL a site configures as `opURL`: `http://localhost:PORT/openid/`. */
  opURL: string
  issuer: string
  /** The accounts and passkeys. */
  passkeys: PasskeyStore
  close(): Promise<void>
}

const SIGNATURE_HELP =
  'the signature parameter is missing or invalid: it must be a compact HS256 JWS, keyed with the client secret, of {"state", "login_hint"}'

/** Start the provider. */
export async function startLocalProvider(options: LocalProviderOptions): Promise<LocalProvider> {
  const app = express()
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port ?? 0, '127.0.0.1', () => resolve(listening)).once('error', reject)
  })
  const port = (server.address() as AddressInfo).port
  const origin = `http://${options.hostname ?? 'localhost'}:${port}`
  const issuer = `${origin}/openid`
  const passkeys = new PasskeyStore(options.database ?? ':memory:')
  const ceremonies = new WebAuthnCeremonies(passkeys, { rpID: new URL(origin).hostname, origin })
  const secrets = new Map(options.clients.map((client) => [client.clientID, new TextEncoder().encode(client.clientSecret)]))

  const policy = interactionPolicy.base()
  policy.add(new interactionPolicy.Prompt({ name: 'create', requestable: true }), 0)
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })

  const provider = new Provider(issuer, {
    clients: options.clients.map((client) => ({
      client_id: client.clientID,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectURIs,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: client.idTokenAlg ?? 'HS256',
    })),
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'local-rs256', use: 'sig', alg: 'RS256' }] },
    routes: { authorization: '/authorize/', token: '/token/', userinfo: '/userinfo/', jwks: '/jwks' },
    enabledJWA: { idTokenSigningAlgValues: ['HS256', 'RS256'] },
    acrValues: ['keys'],
    claims: { openid: ['sub', 'preferred_username'] },
    extraParams: {
      // justpass.me refuses a request that the site's backend did not sign.
      async signature(ctx: KoaContextWithOIDC, value: unknown) {
        const params = ctx.oidc.params as Record<string, unknown>
        const secret = secrets.get(String(params.client_id))
        if (typeof value !== 'string' || !secret) throw new errors.InvalidRequest(SIGNATURE_HELP)
        try {
          const { payload } = await jwtVerify(value, secret, { algorithms: ['HS256'] })
          if (payload.state !== params.state || payload.login_hint !== params.login_hint) throw new Error('payload mismatch')
        } catch {
          throw new errors.InvalidRequest(SIGNATURE_HELP)
        }
      },
      hint_mode: null,
      username: null,
      AMWALPLATFORM: null,
      justpass_me_platform: null,
    },
    interactions: { policy, url: (_ctx, interaction) => `/openid/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    async renderError(ctx, out) {
      ctx.type = 'html'
      ctx.body = errorPage(String(out.error), out.error_description === undefined ? undefined : String(out.error_description))
    },
    async findAccount(_ctx, handle) {
      const account = passkeys.accountByHandle(handle)
      return account && { accountId: handle, claims: () => ({ sub: handle, preferred_username: account.username }) }
    },
  })

  /** The interaction result that logs `account` in, reusing its grant for the client. */
  async function loginResult(grantId: string | undefined, clientId: string, account: Account) {
    const existing = grantId ? await provider.Grant.find(grantId) : undefined
    const grant = existing?.accountId === account.handle ? existing : new provider.Grant({ accountId: account.handle, clientId })
    grant.addOIDCScope('openid')
    return { login: { accountId: account.handle, acr: 'keys' }, consent: { grantId: await grant.save() }, create: {} }
  }

  const denied = { error: 'access_denied', error_description: 'the user cancelled the passkey step' }

  if (options.onRequest) app.use(options.onRequest)
  const bundle = join(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js')
  app.get('/openid/assets/simplewebauthn-browser.js', (_req, res) => res.sendFile(bundle))

  app.get('/openid/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res)
      const params = details.params as Record<string, unknown>
      const mode = details.prompt.name === 'create' ? 'register' : 'login'
      const username = typeof params.login_hint === 'string' ? params.login_hint : undefined
      if (options.completeInteraction) {
        const outcome = await options.completeInteraction({ mode, params })
        const result = 'cancel' in outcome ? denied : await loginResult(details.grantId, String(params.client_id), passkeys.ensureAccount(outcome.username))
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false })
        return
      }
      res.type('html').send(passkeyPage({ uid: details.uid, mode, username, clientID: String(params.client_id) }))
    } catch (err) {
      next(err)
    }
  })

  app.post('/openid/interaction/:uid/options', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res)
      const params = details.params as Record<string, unknown>
      const username = typeof params.login_hint === 'string' ? params.login_hint : undefined
      const started = details.prompt.name === 'create' ? await ceremonies.startRegistration(details.uid, username) : await ceremonies.startAuthentication(details.uid, username)
      res.status('error' in started ? 400 : 200).json('error' in started ? started : started.options)
    } catch (err) {
      next(err)
    }
  })

  app.post('/openid/interaction/:uid/verify', express.json({ limit: '64kb' }), async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res)
      const verdict = await ceremonies.finish(details.uid, req.body)
      if ('error' in verdict) return void res.status(400).json(verdict)
      const result = await loginResult(details.grantId, String(details.params.client_id), verdict.account)
      res.json({ redirectTo: await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false }) })
    } catch (err) {
      next(err)
    }
  })

  app.post('/openid/interaction/:uid/cancel', async (req, res, next) => {
    try {
      await provider.interactionDetails(req, res)
      await provider.interactionFinished(req, res, denied, { mergeWithLastSubmission: false })
    } catch (err) {
      next(err)
    }
  })

  app.use('/openid', provider.callback())

  return {
    opURL: `${issuer}/`,
    issuer,
    passkeys,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      passkeys.close()
    },
  }
}
