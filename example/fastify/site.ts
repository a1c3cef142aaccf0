/**
 * A complete Fastify site with passkey login through justpass.me: @fastify/passport and
 * @fastify/session, a password step (the first factor), REG, second-factor and
 * single-factor LOGIN, a page behind a passkey confirmation, logout here and at
 * justpass.me, a cart that survives LOGIN, and the notices.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { Authenticator } from '@fastify/passport'
import { JustpassStrategy, MemoryUserStore, type MemoryUser } from 'passport-justpass'
import { justpassCallback, justpassLogout, justpassSetup, justpassStart, requireJustpassConfirmation, takeJustpassNotice } from 'passport-justpass/fastify'

/** What {@link createFastifySite} needs. */
export interface FastifySiteConfig {
  /** `https://<organization>.accounts.justpass.me/openid/` */
  opURL: string
  clientID: string
  clientSecret: string
  /** The absolute URL of `/justpass/callback` on this site, registered at justpass.me. */
  callbackURL: string
  /** At least 32 characters. */
  sessionSecret: string
  /** The site's users and their passwords (a real site checks password hashes). */
  users: MemoryUserStore
  passwords: Map<string, string>
  /** Where pending flows are kept: `'cookie'` (the default, through justpassSetup) or `'session'`. */
  flowStore?: 'cookie' | 'session'
}

declare module 'fastify' {
  interface Session {
    base_username?: string
    cart?: string[]
    justpassConfirmedAt?: number
  }
}

/** The site as a Fastify instance; start it with `await createFastifySite(config).listen({ port: 3000 })`. */
export function createFastifySite(config: FastifySiteConfig): FastifyInstance {
  const { users, passwords } = config
  // #region core
  const passport = new Authenticator()
  passport.use(new JustpassStrategy<MemoryUser>({
    opURL: config.opURL,
    clientID: config.clientID,
    clientSecret: config.clientSecret,
    callbackURL: config.callbackURL,
    userStore: users,
    flowStore: config.flowStore ?? 'cookie',
  }))
  passport.registerUserSerializer(async (user: MemoryUser) => user.username)
  passport.registerUserDeserializer(async (username: string) => (await users.findByUsername(username)) ?? null)

  // On https the session cookie is __Host- prefixed (Secure, Path=/, no Domain), so that no
  // other site under the same domain can plant one. Behind a proxy that terminates TLS,
  // create the app with Fastify({ trustProxy: 1 }): the session cookie is set only over https.
  const https = new URL(config.callbackURL).protocol === 'https:'
  const app = Fastify()
  // The session must come before passport: passport logs users in there.
  app.register(fastifyCookie)
  app.register(fastifySession, {
    secret: config.sessionSecret,
    cookieName: https ? '__Host-sessionId' : 'sessionId',
    saveUninitialized: false,
    cookie: { secure: https, sameSite: 'lax', path: '/' },
  })
  app.register(passport.initialize())
  app.register(passport.secureSession())
  // Lets the strategy set its flow cookies on the reply.
  app.addHook('onRequest', justpassSetup())
  // #endregion
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })

  // #region routes
  app.post<{ Body: { username?: string; password?: string } }>('/login', async (request, reply) => {
    const username = String(request.body?.username ?? '')
    const user = await users.findByUsername(username)
    if (!user || passwords.get(username) !== request.body?.password) return reply.redirect('/login?failed=1')
    if (user.justpassEnabled) {
      // The password was right; the passkey is the second factor.
      request.session.base_username = user.username
      return reply.redirect('/justpass/login')
    }
    await request.logIn(user)
    return reply.redirect('/')
  })

  app.get('/justpass/reg', justpassStart({ authenticator: passport, mode: 'register' }))
  app.get('/justpass/login', justpassStart({ authenticator: passport, mode: 'login' }))
  app.get('/justpass/login-url', justpassStart({ authenticator: passport, mode: 'login', urlOnly: true }))
  app.get('/justpass/confirm', justpassStart({ authenticator: passport, mode: 'confirm' }))
  // The visitor's cart survives a passkey LOGIN; the rest of the anonymous session does not.
  app.get('/justpass/callback', justpassCallback({ authenticator: passport, keepSessionData: ['cart'] }))
  // Ends the session here, then at justpass.me.
  app.post('/logout', justpassLogout({ authenticator: passport }))

  // A sensitive page: only after the logged-in user confirmed it is them, in the last 5 minutes.
  app.get('/account', { preHandler: requireJustpassConfirmation<FastifyRequest, FastifyReply>({ authenticator: passport, maxAge: 300 }) }, async (request) => {
    return { user: (request.user as MemoryUser).username, confirmedAt: request.session.justpassConfirmedAt }
  })
  app.get('/cart', async (request) => ({ cart: request.session.cart ?? [] }))
  app.post<{ Body: { item?: string } }>('/cart', async (request) => {
    request.session.cart = [...(request.session.cart ?? []), String(request.body?.item ?? '')]
    return { cart: request.session.cart }
  })

  // The pages answer JSON to keep the example short; render your templates instead.
  app.get<{ Querystring: { failed?: string } }>('/login', async (request) => {
    const notice = takeJustpassNotice(request)
    return { failed: request.query.failed === '1' || notice?.ok === false, message: notice?.message, reason: notice?.reason }
  })
  app.get('/', async (request) => {
    const user = request.user as MemoryUser | undefined
    return { user: user?.username ?? null, justpassEnabled: user?.justpassEnabled ?? false, notice: takeJustpassNotice(request) ?? null }
  })
  // #endregion
  return app
}
