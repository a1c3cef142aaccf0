/**
 * A local, justpass-compatible OpenID provider: oidc-provider under `/openid/` with
 * justpass.me's paths, HS256 ID tokens, `prompt=create`, the request `signature`
 * checked (each signed request accepted once, and not past its `exp`), and real passkeys
 * (@simplewebauthn) kept in SQLite. It lets anyone run a site with passport-justpass
 * offline; the tests use it too, completing the passkey step programmatically. Its whole
 * state (sign-ins in progress, sessions, codes, tokens, WebAuthn challenges, the signed
 * requests already used, cookie and signing keys) is in the same SQLite file as the passkeys.
 */
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createHash, randomBytes } from 'node:crypto'
import { errors as joseErrors, jwtVerify, generateKeyPair, exportJWK, importJWK, decodeJwt, decodeProtectedHeader, SignJWT, type JWTPayload } from 'jose'
import type { KoaContextWithOIDC } from 'oidc-provider'
import { Provider, errors, interactionPolicy } from './oidc.ts'
import { ProviderState } from './adapter.ts'
import { PasskeyStore, type Account } from './passkeys.ts'
import { confirmRemovePage, logoutPage, managePage, manageSignInPage, manageURL, noticePage, passkeyPage, type ListedPasskey, type NoticePage, type SiteLink } from './pages.ts'
import { WebAuthnCeremonies } from './webauthn.ts'

/** A site registered at the provider. */
export interface LocalClient {
  clientID: string
  /** The site's name, as the provider's pages show it. Default: the client id. */
  clientName?: string
  clientSecret: string
  redirectURIs: string[]
  /**
   * Where the provider may send the browser after signing it out (the end-session
   * request's `post_logout_redirect_uri`). Default none: the provider shows its own page.
   */
  postLogoutRedirectURIs?: string[]
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

/** How to start the local provider: its sites, where it listens, where it keeps its state. */
export interface LocalProviderOptions {
  clients: LocalClient[]
  /** Port on 127.0.0.1; 0 (the default) for a free one. */
  port?: number
  /**
   * The host name in the provider's URLs. Default `localhost`: WebAuthn refuses an IP
   * address as relying-party id. The server itself always listens on 127.0.0.1.
   */
  hostname?: string
  /**
   * The public origin, when it is not `http://HOSTNAME:PORT`: several instances sharing
   * one `database` behind one address (a load balancer) all set it to that address.
   */
  origin?: string
  /** SQLite file for accounts, passkeys and the provider's state; default `:memory:`. */
  database?: string
  /** Complete passkey steps in code instead of serving the passkey pages (tests). */
  completeInteraction?: (step: PasskeyStep) => Promise<PasskeyStepOutcome>
  /** Middleware run before every request (tests count or refuse requests with it). */
  onRequest?: RequestHandler
  /**
   * Told the parameters of every request to the end-session endpoint (its query, or its
   * form body) once the provider has answered it (tests record them with it).
   */
  onEndSession?: (params: URLSearchParams) => void
}

/** A running local provider: what a site configures, its accounts, and how to stop it. */
export interface LocalProvider {
  /** The base URL a site configures as `opURL`: `http://localhost:PORT/openid/`. */
  opURL: string
  /** The issuer: the `opURL` without its trailing slash. */
  issuer: string
  /** The port it listens on, on 127.0.0.1 (behind a proxy, not the one in `opURL`). */
  port: number
  /** The accounts and passkeys. */
  passkeys: PasskeyStore
  /** Stop listening, end open connections, and close the SQLite databases. */
  close(): Promise<void>
}

/** The notice for a sign-in the provider no longer has: finished, expired, or never started. */
const STALE: Omit<NoticePage, 'site'> = {
  heading: 'This sign-in is over',
  message:
    'This sign-in page was already used, has expired (sign-ins last 10 minutes), or comes from an old link. Nothing was changed. Go back to the site and start again from there.',
}

/** The notice for a request the provider could not read. */
const MALFORMED: Omit<NoticePage, 'site'> = {
  heading: 'This request could not be read',
  message: 'The provider received a request it could not understand, so nothing was changed. Go back to the site and start again from there.',
}

/** The notice for an address the provider does not serve. */
const NOT_FOUND: Omit<NoticePage, 'site'> = {
  heading: 'There is nothing here',
  message: 'This address is not a page of the provider. Sites send you here when you sign in with a passkey; go back to the site and start from there.',
}

/** The notice for a failure of the provider itself. */
const BROKEN: Omit<NoticePage, 'site'> = {
  heading: 'Something went wrong',
  message: 'Something went wrong at the provider, so nothing was changed. Please go back to the site and try again.',
}

/**
 * A signed authorization request the provider will not start again: already used, or its
 * signature too old. Shown on the provider's own page, never sent back to the site: the
 * link may be replayed from any browser, and the site has nothing to do with the answer.
 */
class SignInLinkOver extends errors.InvalidRequest {
  override allow_redirect = false
}

/** The notice for a sign-in link that was already used, or has expired. */
const LINK_OVER: Omit<NoticePage, 'site'> = {
  heading: 'This sign-in link was already used or has expired',
  message:
    'A sign-in link from a site works once, for a few minutes. This one was already used, or is too old, so nothing was changed and no passkey was created or used. Go back to the site and start again from there.',
}

/** A developer detail from oidc-provider, shown only when it is one plain sentence. */
function plainDetail(error: string, description: string | undefined): string {
  const plain = description !== undefined && description.length <= 200 && /^[\w\s'",.:;()=_\-{}]*$/.test(description) && !/\bat\s/.test(description)
  return plain ? `${error}: ${description}` : error
}

/** The notice for an error oidc-provider renders (requests it cannot send back to the site). */
function providerNotice(error: Error | undefined, out: { error: string; error_description?: string }): Omit<NoticePage, 'site'> {
  if (error instanceof errors.SessionNotFound) return STALE
  if (error instanceof SignInLinkOver) return { ...LINK_OVER, detail: plainDetail(out.error, out.error_description) }
  if (out.error === 'server_error') return BROKEN
  if (out.error === 'invalid_client') {
    return {
      heading: 'This site is not known here',
      message: 'The site that sent you here is not registered with this provider, so you cannot sign in. Tell the site; nothing was changed.',
      detail: plainDetail(out.error, out.error_description),
    }
  }
  if (out.error === 'invalid_redirect_uri') {
    return {
      heading: 'This site sent a wrong return address',
      message: 'The site asked to be sent back to an address it has not registered, so the provider stopped here. Tell the site; nothing was changed.',
      detail: plainDetail(out.error, out.error_description),
    }
  }
  return {
    heading: 'This sign-in request was refused',
    message: 'The site sent a sign-in request the provider cannot accept, so nothing was changed. Go back to the site and try again; if it keeps happening, tell the site.',
    detail: plainDetail(out.error, out.error_description),
  }
}

/** The notice for a sign-out page used twice, or too late. */
const LOGOUT_STALE: Omit<NoticePage, 'site'> = {
  heading: 'This sign-out page is over',
  message: 'This sign-out page was already used or has expired, so nothing was changed here. If you meant to sign out, go back to the site and sign out again.',
}

/** The notice for an end-session request the provider refuses (oidc-provider's routes end_session*). */
function logoutNotice(error: Error | undefined, out: { error: string; error_description?: string }): Omit<NoticePage, 'site'> {
  if (out.error === 'server_error') return BROKEN
  const description = out.error_description ?? ''
  if (error instanceof errors.SessionNotFound || /logout details|xsrf/.test(description)) return LOGOUT_STALE
  if (/post_logout_redirect_uri/.test(description)) {
    return {
      heading: 'This site sent a wrong return address',
      message: 'The site asked to be sent back, once you are signed out, to an address it has not registered, so the provider stopped here and did not sign you out. Tell the site.',
      detail: plainDetail(out.error, out.error_description),
    }
  }
  return {
    heading: 'This sign-out request was refused',
    message: 'The site sent a sign-out request the provider cannot accept, so you were not signed out here. Go back to the site and try again; if it keeps happening, tell the site.',
    detail: plainDetail(out.error, out.error_description),
  }
}

/** The notice when the provider session has ended and no site asked to have the browser back. */
const SIGNED_OUT_HERE: Omit<NoticePage, 'site'> = {
  heading: 'You are signed out at the provider',
  message: 'Your sign-in here has ended: a site that asks for your passkey will ask you for it again. Sites keep their own sign-in until you sign out there.',
}

/** The notice for a management request without a live passkey sign-in at the provider. */
const SIGNED_OUT: Omit<NoticePage, 'site'> = {
  heading: 'Sign in again to manage your passkeys',
  message:
    'Managing your passkeys needs a recent sign-in here with one of your passkeys, and there is none: a sign-in lasts 10 minutes, and ends when you sign out, when the passkey you signed in with is removed, or when a passkey of your account is removed elsewhere. Nothing was changed. Open "Manage your passkeys" again and sign in with a passkey.',
}

/** Said on the management sign-in page when the browser's sign-in there has ended by itself. */
const MANAGE_ENDED =
  'Your sign-in here has ended: it lasts 10 minutes, and ends when the passkey you signed in with is removed or a passkey of your account is removed elsewhere. Sign in again with a passkey.'
/** Said on the management sign-in page after Sign out. */
const MANAGE_SIGNED_OUT = 'You are signed out here. Your passkeys are unchanged.'

/** The notice for a state-changing request that did not come from the provider's own page. */
const CROSS_SITE: Omit<NoticePage, 'site'> = {
  heading: 'This request was refused',
  message: 'This request did not come from the provider\'s own page, so nothing was changed. Open "Manage your passkeys" at the provider and try again there.',
}

/** The notice for a passkey that is not one of the signed-in user's. */
const NOT_YOURS: Omit<NoticePage, 'site'> = {
  heading: 'This passkey is not on your account',
  message: 'The passkey you asked to remove is not one of yours here (it may already have been removed). Nothing was changed.',
}

/** How long a passkey sign-in to the management page lasts. */
const MANAGE_MS = 10 * 60_000
/** The management session's cookie, and the one tying a sign-in to its WebAuthn challenge. */
const MANAGE_COOKIE = 'justpass_manage'
const SIGNIN_COOKIE = 'justpass_manage_signin'

/** A cookie of the request, by name. */
function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return value.join('=')
  }
  return undefined
}

/** The scopes the provider answers with claims. */
const SCOPES = new Set(['openid', 'email', 'profile'])

/** The authentication methods of a passkey sign-in (RFC 8176): a hardware-bound key, with the user verified. */
const PASSKEY_AMR = ['hwk', 'user']

/**
 * An account's claims: `sub`, `preferred_username` (the site's username), `name`, and
 * `email` when the username is an address (marked unverified: the provider never checks it).
 */
function accountClaims(account: Account): { sub: string; [claim: string]: unknown } {
  const email = /^[^@\s]+@[^@\s]+$/.test(account.username) ? { email: account.username, email_verified: false } : {}
  return { sub: account.handle, preferred_username: account.username, name: account.username, ...email }
}

const SIGNATURE_HELP =
  'the signature parameter is missing or invalid: it must be a compact HS256 JWS, keyed with the client secret, of {"state", "login_hint", "iat", "exp"} (login_hint when the request has one; iat and exp optional)'

/**
 * Seconds a signature's `exp` may be behind the provider's clock and still be accepted:
 * the clocks of the site and the provider never agree exactly. 30 s, the same tolerance
 * passport-justpass allows the provider's ID tokens by default.
 */
const SIGNATURE_CLOCK_TOLERANCE_S = 30
/** Seconds a signature's `iat` may be ahead of the provider's clock: beyond, the site's clock is wrong. */
const SIGNATURE_FUTURE_IAT_S = 60
/**
 * The life of a signature that has an `iat` and no `exp`, in seconds: as long as a
 * sign-in at the provider (the Interaction ttl), and as passport-justpass's default `exp`.
 */
const SIGNATURE_IAT_ONLY_LIFETIME_S = 600

/** A port that another process already listens on: the message names it. */
export class PortInUseError extends Error {
  /** @param port - the port asked for */
  constructor(readonly port: number) {
    super(`Port ${port} is already in use.`)
    this.name = 'PortInUseError'
  }
}

/** A listen error as the caller can say it: {@link PortInUseError} for a port in use. */
function portError(err: Error, port: number): Error {
  return (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new PortInUseError(port) : err
}

/** Start the provider. */
export async function startLocalProvider(options: LocalProviderOptions): Promise<LocalProvider> {
  const app = express()
  const server: Server = await new Promise((resolve, reject) => {
    // Express 5 hands a listen error (a port in use) to this callback.
    const listening = app.listen(options.port ?? 0, '127.0.0.1', (err?: Error) => (err ? reject(portError(err, options.port ?? 0)) : resolve(listening)))
  })
  const port = (server.address() as AddressInfo).port
  const origin = options.origin?.replace(/\/+$/, '') ?? `http://${options.hostname ?? 'localhost'}:${port}`
  const issuer = `${origin}/openid`
  const passkeys = new PasskeyStore(options.database ?? ':memory:')
  const state = new ProviderState(options.database ?? ':memory:')
  state.sweep()
  const sweeper = setInterval(() => state.sweep(), 60_000).unref()
  const ceremonies = new WebAuthnCeremonies(passkeys, { rpID: new URL(origin).hostname, origin })
  const secrets = new Map(options.clients.map((client) => [client.clientID, new TextEncoder().encode(client.clientSecret)]))
  const sites = new Map<string, SiteLink>()
  for (const client of options.clients) {
    const callback = client.redirectURIs[0]
    if (callback) sites.set(client.clientID, { href: `${new URL(callback).origin}/`, name: client.clientName ?? client.clientID })
  }
  /** The site of `clientID` when it is registered; the only site when there is one. */
  const siteOf = (clientID: unknown): SiteLink | undefined =>
    (typeof clientID === 'string' ? sites.get(clientID) : undefined) ?? (sites.size === 1 ? [...sites.values()][0] : undefined)
  /** The site a request to an interaction route came from: its `client` query parameter. */
  const siteOfRequest = (req: Request): SiteLink | undefined => siteOf(typeof req.query.client === 'string' ? req.query.client : undefined)

  const policy = interactionPolicy.base()
  policy.add(new interactionPolicy.Prompt({ name: 'create', requestable: true }), 0)
  // The RS256 signing key, made once and kept: every instance and restart signs with it.
  const fresh = JSON.stringify(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey))
  const signingKey = JSON.parse(state.secret('rs256-jwk', () => fresh)) as Record<string, unknown>

  const provider = new Provider(issuer, {
    clients: options.clients.map((client) => ({
      client_id: client.clientID,
      client_secret: client.clientSecret,
      redirect_uris: client.redirectURIs,
      post_logout_redirect_uris: client.postLogoutRedirectURIs ?? [],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      // oidc-provider accepts client_secret_basic as well for a client registered with either.
      token_endpoint_auth_method: 'client_secret_post',
      // auth_time in every ID token: when the user last authenticated at the provider.
      require_auth_time: true,
      id_token_signed_response_alg: client.idTokenAlg ?? 'HS256',
    })),
    jwks: { keys: [{ ...signingKey, kid: 'local-rs256', use: 'sig', alg: 'RS256' }] },
    adapter: state.adapter(),
    // justpass.me's end-session/ (django-oidc-provider's); oidc-provider adds its confirmation
    // (end-session/confirm) and its page for a sign-out with no way back (end-session/success).
    routes: { authorization: '/authorize/', token: '/token/', userinfo: '/userinfo/', jwks: '/jwks', end_session: '/end-session/' },
    enabledJWA: { idTokenSigningAlgValues: ['HS256', 'RS256'] },
    acrValues: ['keys'],
    // acr and amr in every ID token of a passkey sign-in: "keys" (the level justpass.me's
    // clients ask for) and the methods, a hardware key with user verification (RFC 8176);
    // oidc-provider puts a session's amr only in tokens whose scope names it.
    claims: { acr: null, openid: ['sub', 'preferred_username', 'amr'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
    scopes: ['openid', 'email', 'profile'],
    extraParams: {
      // justpass.me refuses a request that the site's backend did not sign. Here a signed
      // request also starts one sign-in only: refused past its `exp` (with the clock
      // tolerance above), with an `iat` more than a minute ahead, and the second time its
      // (client_id, state) comes. oidc-provider runs this check at the authorization
      // endpoint (and would at a pushed request); resuming a sign-in does not run it again.
      async signature(ctx: KoaContextWithOIDC, value: unknown) {
        const params = ctx.oidc.params as Record<string, unknown>
        const clientID = String(params.client_id)
        const secret = secrets.get(clientID)
        if (typeof value !== 'string' || !secret || typeof params.state !== 'string' || params.state === '') throw new errors.InvalidRequest(SIGNATURE_HELP)
        let payload: JWTPayload
        try {
          ;({ payload } = await jwtVerify(value, secret, { algorithms: ['HS256'], clockTolerance: SIGNATURE_CLOCK_TOLERANCE_S }))
        } catch (err) {
          // jose checks the key before the times: an expired signature is the site's own.
          if (err instanceof joseErrors.JWTExpired) throw new SignInLinkOver('this authorization request has expired (its signature is past exp)')
          throw new errors.InvalidRequest(SIGNATURE_HELP)
        }
        if (payload.state !== params.state || payload.login_hint !== params.login_hint) throw new errors.InvalidRequest(SIGNATURE_HELP)
        const now = Math.floor(Date.now() / 1000)
        if (payload.iat !== undefined && payload.iat > now + SIGNATURE_FUTURE_IAT_S) {
          throw new errors.InvalidRequest("the signature's iat is more than a minute ahead of the provider's clock: check the site's clock")
        }
        // Until when the signature is accepted. Without exp: justpass.me's Django client signs
        // only {state, login_hint}, and justpass.me accepts that, so this provider does too,
        // once per state like any other, remembered for good (with nothing to tell its age);
        // with an iat alone (justpass.me's Firebase client), it lives as long as a sign-in here.
        const until = payload.exp ?? (payload.iat === undefined ? undefined : payload.iat + SIGNATURE_IAT_ONLY_LIFETIME_S)
        if (until !== undefined && until <= now - SIGNATURE_CLOCK_TOLERANCE_S) throw new SignInLinkOver('this authorization request has expired (its signature is past iat plus 600 s)')
        // Marked used at the authorization endpoint only: a pushed request's own check must
        // not use up the authorization that follows it.
        if (ctx.oidc.route !== 'authorization') return
        const forgetAt = until === undefined ? null : (until + SIGNATURE_CLOCK_TOLERANCE_S) * 1000
        if (!state.useRequestState(clientID, params.state, forgetAt)) throw new SignInLinkOver('this authorization request was already used (each state is accepted once)')
      },
      hint_mode: null,
      username: null,
      AMWALPLATFORM: null,
      justpass_me_platform: null,
    },
    interactions: {
      policy,
      // The client id rides along so that a page about a stale sign-in can still link back to its site.
      url: (_ctx, interaction) => `/openid/interaction/${interaction.uid}?client=${encodeURIComponent(String(interaction.params.client_id))}`,
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        // oidc-provider asks the browser to POST its confirmation; this page does it at once.
        logoutSource: async (ctx) => renderLogout(ctx),
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html'
          ctx.body = noticePage({ ...SIGNED_OUT_HERE, site: siteOf(ctx.oidc.client?.clientId) })
        },
      },
    },
    cookies: { keys: [state.cookieKey()] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    async renderError(ctx, out, error) {
      ctx.type = 'html'
      const notice = (/^end_session/.test(String(ctx.oidc?.route)) ? logoutNotice : providerNotice)(error, { error: String(out.error), error_description: out.error_description === undefined ? undefined : String(out.error_description) })
      ctx.body = noticePage({ ...notice, site: siteOf(ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id) })
    },
    async findAccount(_ctx, handle) {
      const account = passkeys.accountByHandle(handle)
      return account && { accountId: handle, claims: () => accountClaims(account) }
    },
  })

  /**
   * The page that ends the provider session (the whole of it: `logout=yes`). It submits
   * itself when the request named its site with a valid `id_token_hint`, as justpass.me
   * does, or when there is no provider session to lose; otherwise it asks first. Its one
   * script runs by its nonce, under a Content-Security-Policy that allows no other.
   */
  function renderLogout(ctx: KoaContextWithOIDC): void {
    const autoSubmit = ctx.oidc.entities.IdTokenHint !== undefined || !ctx.oidc.session?.accountId
    const nonce = autoSubmit ? randomBytes(16).toString('base64') : undefined
    ctx.set('content-security-policy', `default-src 'none'; script-src ${nonce ? `'nonce-${nonce}'` : "'none'"}; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'`)
    ctx.type = 'html'
    ctx.body = logoutPage({
      action: ctx.oidc.urlFor('end_session_confirm'),
      xsrf: String(ctx.oidc.session?.state?.secret ?? ''),
      nonce,
      site: siteOf(ctx.oidc.client?.clientId),
    })
  }

  /** The interaction result that logs `account` in, reusing its grant for the client, with the scopes asked for. */
  async function loginResult(grantId: string | undefined, clientId: string, account: Account, scope: unknown) {
    const existing = grantId ? await provider.Grant.find(grantId) : undefined
    const grant = existing?.accountId === account.handle ? existing : new provider.Grant({ accountId: account.handle, clientId })
    const asked = typeof scope === 'string' ? scope.split(' ').filter((name) => SCOPES.has(name)) : []
    grant.addOIDCScope([...new Set(['openid', ...asked])].join(' '))
    return { login: { accountId: account.handle, acr: 'keys', amr: PASSKEY_AMR }, consent: { grantId: await grant.save() }, create: {} }
  }

  const denied = { error: 'access_denied', error_description: 'the user cancelled the passkey step' }

  if (options.onRequest) app.use(options.onRequest)
  // Opened at another host name (127.0.0.1 for localhost), its pages could not use the
  // passkeys (which belong to the configured host name) nor its cookies: a GET goes to the
  // same address on the configured origin first, as the example shop does. Behind a proxy
  // (`origin` given), the proxy decides the host names.
  if (options.origin === undefined) {
    const own = new URL(origin).host
    app.use((req, res, next) => {
      if (req.headers.host === own || (req.method !== 'GET' && req.method !== 'HEAD')) return next()
      res.redirect(302, `${origin}${req.originalUrl.startsWith('/') ? req.originalUrl : '/'}`)
    })
  }
  const bundle = join(dirname(createRequire(import.meta.url).resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js')
  app.get('/openid/assets/simplewebauthn-browser.js', (_req, res) => res.sendFile(bundle))

  /**
   * The interaction of this request, when it can still go on; a finished one (its result
   * given, its resume not yet followed) counts as over, as a missing one does.
   */
  async function liveInteraction(req: Request, res: express.Response) {
    const details = await provider.interactionDetails(req, res)
    if (details.result) throw new errors.SessionNotFound('interaction already finished')
    return details
  }

  app.get('/openid/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res)
      // Finished, not yet resumed (a Back press in between): send the browser on to the site.
      if (details.result) return void res.redirect(303, details.returnTo)
      const params = details.params as Record<string, unknown>
      const mode = details.prompt.name === 'create' ? 'register' : 'login'
      const username = typeof params.login_hint === 'string' ? params.login_hint : undefined
      if (options.completeInteraction) {
        const outcome = await options.completeInteraction({ mode, params })
        const result = 'cancel' in outcome ? denied : await loginResult(details.grantId, String(params.client_id), passkeys.ensureAccount(outcome.username), params.scope)
        await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false })
        return
      }
      const site = siteOf(params.client_id)
      res.type('html').send(passkeyPage({ uid: details.uid, mode, username, clientID: String(params.client_id), siteName: site?.name ?? String(params.client_id), site }))
    } catch (err) {
      next(err)
    }
  })

  app.post('/openid/interaction/:uid/options', express.json({ limit: '1kb' }), async (req, res, next) => {
    try {
      const details = await liveInteraction(req, res)
      const params = details.params as Record<string, unknown>
      const username = typeof params.login_hint === 'string' ? params.login_hint : undefined
      // A create step may sign in with a passkey this device already has for the user instead.
      const register = details.prompt.name === 'create' && (req.body as { mode?: unknown } | undefined)?.mode !== 'login'
      const started = register ? await ceremonies.startRegistration(details.uid, username) : await ceremonies.startAuthentication(details.uid, username)
      res.status('error' in started ? 400 : 200).json('error' in started ? started : started.options)
    } catch (err) {
      next(err)
    }
  })

  app.post('/openid/interaction/:uid/verify', express.json({ limit: '64kb' }), async (req, res, next) => {
    try {
      const details = await liveInteraction(req, res)
      const verdict = await ceremonies.finish(details.uid, req.body, req.get('user-agent'))
      if ('error' in verdict) return void res.status(400).json(verdict)
      const result = await loginResult(details.grantId, String(details.params.client_id), verdict.account, details.params.scope)
      res.json({ redirectTo: await provider.interactionResult(req, res, result, { mergeWithLastSubmission: false }) })
    } catch (err) {
      next(err)
    }
  })

  app.post('/openid/interaction/:uid/cancel', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res)
      // A second Cancel (double click, or Back then Cancel before the site was reached): the same way on.
      if (details.result) return void res.redirect(303, details.returnTo)
      await provider.interactionFinished(req, res, denied, { mergeWithLastSubmission: false })
    } catch (err) {
      next(err)
    }
  })


  // The passkey management page: a fresh passkey sign-in here first, then list, add, remove.
  // Every POST must come from the provider's own page (its Origin) and, once signed in, carry
  // the session's token; the session cookie is HttpOnly, SameSite=Strict, for these paths only.
  const secure = origin.startsWith('https:') ? '; Secure' : ''
  const manageCookie = (name: string, value: string, maxAgeS: number) => `${name}=${value}; Path=/openid/passkeys; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`
  const clientOf = (req: Request): string | undefined => (typeof req.query.client === 'string' && sites.has(req.query.client) ? req.query.client : undefined)
  const listed = (username: string): ListedPasskey[] =>
    passkeys.passkeysOf(username).map((passkey) => ({ id: passkey.id, name: passkey.name, createdAt: passkey.createdAt, device: passkey.device, lastUsedAt: passkey.lastUsedAt }))
  /** Refuse, in the page's own terms: JSON for its calls, the provider's page for its forms. */
  const refuse = (req: Request, res: express.Response, status: number, notice: Omit<NoticePage, 'site'>) => {
    res.set('cache-control', 'no-store')
    if (/\/(options|verify)$/.test(req.path)) return void res.status(status).json({ error: notice.message, over: false })
    res.status(status).type('html').send(noticePage({ ...notice, site: siteOfRequest(req) }))
  }
  /** Whether a POST came from the provider's own page: its Origin, or the browser's same-origin mark. */
  const sameOrigin = (req: Request) => {
    const from = req.get('origin')
    return from !== undefined ? from === origin : req.get('sec-fetch-site') === 'same-origin'
  }
  /** The signed-in management session of a request; for a POST, only with its token and from the page itself. */
  const manageSession = (req: Request, res: express.Response, token?: unknown) => {
    if (req.method === 'POST' && !sameOrigin(req)) return void refuse(req, res, 403, CROSS_SITE)
    const session = passkeys.manageSession(cookieOf(req, MANAGE_COOKIE))
    if (!session) return void refuse(req, res, 401, SIGNED_OUT)
    if (req.method === 'POST' && token !== session.csrf) return void refuse(req, res, 403, CROSS_SITE)
    return session
  }

  app.get('/openid/passkeys', (req, res) => {
    const client = clientOf(req)
    const site = siteOfRequest(req)
    res.set('cache-control', 'no-store')
    const token = cookieOf(req, MANAGE_COOKIE)
    const session = passkeys.manageSession(token)
    if (!session) {
      // A cookie whose session is over (ended, removed, expired): said so, and the cookie goes.
      if (token) res.set('set-cookie', manageCookie(MANAGE_COOKIE, '', 0))
      const notice = token ? MANAGE_ENDED : req.query.done === 'signedout' ? MANAGE_SIGNED_OUT : undefined
      return void res.type('html').send(manageSignInPage({ clientID: client, site, notice }))
    }
    const done = req.query.done === 'added' ? 'The passkey was added.' : req.query.done === 'removed' ? 'The passkey was removed.' : undefined
    res.type('html').send(managePage({ username: session.account.username, passkeys: listed(session.account.username), csrf: session.csrf, notice: done, clientID: client, site }))
  })

  app.post('/openid/passkeys/signin/options', async (req, res, next) => {
    try {
      if (!sameOrigin(req)) return void refuse(req, res, 403, CROSS_SITE)
      const nonce = randomBytes(24).toString('base64url')
      const started = await ceremonies.startAuthentication(`manage-signin:${nonce}`, undefined)
      if ('error' in started) return void res.status(400).json(started)
      res.set('cache-control', 'no-store').set('set-cookie', manageCookie(SIGNIN_COOKIE, nonce, 300)).json(started.options)
    } catch (err) {
      next(err)
    }
  })

  app.post('/openid/passkeys/signin/verify', express.json({ limit: '64kb' }), async (req, res, next) => {
    try {
      if (!sameOrigin(req)) return void refuse(req, res, 403, CROSS_SITE)
      const nonce = cookieOf(req, SIGNIN_COOKIE)
      if (!nonce) return void res.status(400).json({ error: 'This sign-in took too long and expired. Press the button again to start over.' })
      const verdict = await ceremonies.finish(`manage-signin:${nonce}`, req.body)
      if ('error' in verdict) return void res.status(400).json(verdict)
      const token = passkeys.startManageSession(verdict.account, verdict.credentialID, MANAGE_MS)
      res.set('cache-control', 'no-store').set('set-cookie', [manageCookie(SIGNIN_COOKIE, '', 0), manageCookie(MANAGE_COOKIE, token, MANAGE_MS / 1000)]).json({ ok: true })
    } catch (err) {
      next(err)
    }
  })

  app.post('/openid/passkeys/add/options', async (req, res, next) => {
    try {
      const session = manageSession(req, res, req.get('x-csrf-token'))
      if (!session) return
      const started = await ceremonies.startRegistration(`manage-add:${session.csrf}`, session.account.username)
      res.set('cache-control', 'no-store').status('error' in started ? 400 : 200).json('error' in started ? started : started.options)
    } catch (err) {
      next(err)
    }
  })

  app.post('/openid/passkeys/add/verify', express.json({ limit: '64kb' }), async (req, res, next) => {
    try {
      const session = manageSession(req, res, req.get('x-csrf-token'))
      if (!session) return
      const verdict = await ceremonies.finish(`manage-add:${session.csrf}`, req.body, req.get('user-agent'))
      if ('error' in verdict) return void res.status(400).json(verdict)
      res.set('cache-control', 'no-store').json({ ok: true })
    } catch (err) {
      next(err)
    }
  })

  app.post('/openid/passkeys/remove', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const body = (req.body ?? {}) as { csrf?: unknown; id?: unknown; confirm?: unknown }
    const session = manageSession(req, res, body.csrf)
    if (!session) return
    const passkey = typeof body.id === 'string' ? passkeys.passkey(body.id) : undefined
    if (!passkey || passkey.handle !== session.account.handle) return void refuse(req, res, 404, NOT_YOURS)
    const client = clientOf(req)
    res.set('cache-control', 'no-store')
    if (passkeys.passkeysOf(session.account.username).length === 1 && body.confirm !== 'yes') {
      const shown = { id: passkey.id, name: passkey.name, createdAt: passkey.createdAt, device: passkey.device, lastUsedAt: passkey.lastUsedAt }
      return void res.type('html').send(confirmRemovePage({ passkey: shown, csrf: session.csrf, clientID: client }))
    }
    // Every other management session of the account ends with it: one opened with a copy of
    // a passkey does not outlive the owner's cleaning up.
    passkeys.removePasskey(session.account.handle, passkey.id, cookieOf(req, MANAGE_COOKIE))
    res.redirect(303, manageURL('', client, 'removed'))
  })

  // Sign out of the management page: a form of the page, with its token.
  app.post('/openid/passkeys/signout', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const body = (req.body ?? {}) as { csrf?: unknown }
    const session = manageSession(req, res, body.csrf)
    if (!session) return
    const token = cookieOf(req, MANAGE_COOKIE)
    if (token) passkeys.endManageSession(token)
    res.set('cache-control', 'no-store').set('set-cookie', manageCookie(MANAGE_COOKIE, '', 0))
    res.redirect(303, manageURL('', clientOf(req), 'signedout'))
  })

  // The token endpoint's ID token gets at_hash, as justpass.me's has (oidc-provider 9 only
  // adds it at the authorization endpoint): the same claims and key, signed again.
  const rsKey = await importJWK({ ...signingKey, alg: 'RS256' }, 'RS256')
  provider.use(async (ctx, next) => {
    await next()
    const body = ctx.body as { id_token?: unknown; access_token?: unknown } | undefined
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200 || typeof body?.id_token !== 'string' || typeof body.access_token !== 'string') return
    const header = decodeProtectedHeader(body.id_token)
    const claims: JWTPayload = decodeJwt(body.id_token)
    const digest = createHash('sha256').update(body.access_token).digest()
    claims.at_hash = digest.subarray(0, digest.length / 2).toString('base64url')
    const secret = secrets.get(String(ctx.oidc.client?.clientId))
    const key = header.alg === 'HS256' ? secret : header.alg === 'RS256' ? rsKey : undefined
    if (!key) return
    body.id_token = await new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key)
  })

  // The end-session endpoint: its parameters told to onEndSession; without a provider session
  // oidc-provider answers with its own bare self-submitting form: the provider's page instead.
  provider.use(async (ctx, next) => {
    await next()
    if (ctx.oidc?.route !== 'end_session') return
    if (ctx.status === 200 && ctx.oidc.session && !ctx.oidc.session.accountId && ctx.oidc.session.state?.secret) renderLogout(ctx as KoaContextWithOIDC)
    options.onEndSession?.(new URLSearchParams(ctx.querystring))
  })

  // oidc-provider answers an address it does not serve with a bare 404: give it the provider's page.
  provider.use(async (ctx, next) => {
    await next()
    if (ctx.status === 404 && ctx.body === undefined) {
      ctx.status = 404
      ctx.type = 'html'
      ctx.body = noticePage({ ...NOT_FOUND, site: siteOf(undefined) })
    }
  })
  // justpass.me takes end-session/ as GET or POST. oidc-provider takes POST there only with
  // enableHttpPostMethods, which needs SameSite=None cookies; so a POST's form goes to it as
  // the query of the GET it stands for.
  app.post('/openid/end-session/', express.urlencoded({ extended: false, limit: '16kb' }), (req, _res, next) => {
    const params = new URLSearchParams(req.url.split('?')[1] ?? '')
    for (const [name, value] of Object.entries((req.body ?? {}) as Record<string, unknown>)) for (const one of [value].flat()) params.append(name, String(one))
    req.method = 'GET'
    req.url = `/openid/end-session/?${params}`
    next()
  })
  app.use('/openid', provider.callback())
  app.use((req, res) => void res.status(404).type('html').send(noticePage({ ...NOT_FOUND, site: siteOfRequest(req) })))

  // Every error of the routes above: plain words in the provider's look (JSON for the passkey
  // page's own calls), never a stack trace, a server path or a parser's message.
  const onError: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err)
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500
    const notice = err instanceof errors.SessionNotFound ? STALE : status >= 400 && status < 500 ? MALFORMED : BROKEN
    if (notice === BROKEN) console.error('local provider: %s %s failed: %s', req.method, req.path, err instanceof Error ? err.message : String(err))
    const code = notice === STALE ? 400 : notice === MALFORMED ? 400 : 500
    res.set('cache-control', 'no-store')
    if (/\/(options|verify)$/.test(req.path)) {
      res.status(code).json({ error: notice === STALE ? `${notice.message}` : notice.message, over: notice !== BROKEN })
      return
    }
    res.status(code).type('html').send(noticePage({ ...notice, site: siteOfRequest(req) }))
  }
  app.use(onError)

  return {
    opURL: `${issuer}/`,
    issuer,
    port,
    passkeys,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      clearInterval(sweeper)
      passkeys.close()
      state.close()
    },
  }
}
