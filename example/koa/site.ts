/**
 * A complete Koa site with passkey login through justpass.me: koa-passport, koa-session
 * and @koa/router, a password step (the first factor), REG, second-factor and
 * single-factor LOGIN, a page behind a passkey confirmation, logout here and at
 * justpass.me, a cart that survives LOGIN, and the notices.
 */
import Koa from 'koa'
import session from 'koa-session'
import koaPassport from 'koa-passport'
import Router from '@koa/router'
import { JustpassStrategy, MemoryUserStore, type MemoryUser } from 'passport-justpass'
import { justpassCallback, justpassLogout, justpassSetup, justpassStart, requireJustpassConfirmation, takeJustpassNotice } from 'passport-justpass/koa'

/** What {@link createKoaSite} needs. */
export interface KoaSiteConfig {
  /** `https://<organization>.accounts.justpass.me/openid/` */
  opURL: string
  clientID: string
  clientSecret: string
  /** The absolute URL of `/justpass/callback` on this site, registered at justpass.me. */
  callbackURL: string
  /** Keys koa-session signs its cookie with. */
  sessionKeys: string[]
  /** The site's users and their passwords (a real site checks password hashes). */
  users: MemoryUserStore
  passwords: Map<string, string>
  /** Where pending flows are kept: `'cookie'` (the default, through justpassSetup) or `'session'`. */
  flowStore?: 'cookie' | 'session'
}

/** A urlencoded form body, read whole (a real site uses a body parser). */
async function formOf(req: AsyncIterable<Buffer>): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk)
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

/** The site as a Koa app; start it with `createKoaSite(config).listen(3000)`. */
export function createKoaSite(config: KoaSiteConfig): Koa {
  const { users, passwords } = config
  // #region core
  const passport = new koaPassport.KoaPassport()
  passport.use(new JustpassStrategy<MemoryUser>({
    opURL: config.opURL,
    clientID: config.clientID,
    clientSecret: config.clientSecret,
    callbackURL: config.callbackURL,
    userStore: users,
    flowStore: config.flowStore ?? 'cookie',
  }))
  passport.serializeUser((user, done) => done(null, (user as MemoryUser).username))
  passport.deserializeUser((username: string, done) => {
    users.findByUsername(username).then((user) => done(null, user ?? false), done)
  })

  const app = new Koa()
  app.keys = config.sessionKeys
  // On https the session cookie is __Host- prefixed (Secure, Path=/ by default, no Domain), so
  // that no other site under the same domain can plant one. Behind a proxy that terminates TLS,
  // set app.proxy = true: Koa refuses to send a Secure cookie over a connection it takes for http.
  const https = new URL(config.callbackURL).protocol === 'https:'
  // The session must come before passport: passport logs users in there.
  app.use(session({ key: https ? '__Host-shop.sess' : 'shop.sess', secure: https, sameSite: 'lax' }, app))
  app.use(passport.initialize())
  app.use(passport.session())
  // Lets the strategy set its flow cookies on the response.
  app.use(justpassSetup())
  // #endregion

  // #region routes
  const router = new Router()
  router.post('/login', async (ctx) => {
    const form = await formOf(ctx.req)
    const username = form.get('username') ?? ''
    const user = await users.findByUsername(username)
    if (!user || passwords.get(username) !== form.get('password')) return ctx.redirect('/login?failed=1')
    if (user.justpassEnabled) {
      // The password was right; the passkey is the second factor.
      ctx.session!.base_username = user.username
      return ctx.redirect('/justpass/login')
    }
    await ctx.login(user)
    ctx.redirect('/')
  })

  router.get('/justpass/reg', justpassStart({ authenticator: passport, mode: 'register' }))
  router.get('/justpass/login', justpassStart({ authenticator: passport, mode: 'login' }))
  router.get('/justpass/login-url', justpassStart({ authenticator: passport, mode: 'login', urlOnly: true }))
  router.get('/justpass/confirm', justpassStart({ authenticator: passport, mode: 'confirm' }))
  // #region keep-session-data
  // The visitor's cart survives a passkey LOGIN; the rest of the anonymous session does not.
  router.get('/justpass/callback', justpassCallback({ authenticator: passport, keepSessionData: ['cart'] }))
  // #endregion
  // #region logout
  // Ends the session here, then at justpass.me.
  router.post('/logout', justpassLogout({ authenticator: passport }))
  // #endregion

  // #region confirm
  // A sensitive page: only after the logged-in user confirmed it is them, in the last 5 minutes.
  router.get('/account', requireJustpassConfirmation({ authenticator: passport, maxAge: 300 }), (ctx) => {
    ctx.body = { user: (ctx.state.user as MemoryUser).username, confirmedAt: (ctx.session as { justpassConfirmedAt?: number }).justpassConfirmedAt }
  })
  // #endregion
  router.get('/cart', (ctx) => {
    ctx.body = { cart: ctx.session?.cart ?? [] }
  })
  router.post('/cart', async (ctx) => {
    const item = (await formOf(ctx.req)).get('item') ?? ''
    ctx.session!.cart = [...((ctx.session!.cart as string[] | undefined) ?? []), item]
    ctx.body = { cart: ctx.session!.cart }
  })

  // The pages answer JSON to keep the example short; render your templates instead.
  router.get('/login', (ctx) => {
    const notice = takeJustpassNotice(ctx)
    ctx.body = { failed: ctx.query.failed === '1' || notice?.ok === false, message: notice?.message, reason: notice?.reason }
  })
  router.get('/', (ctx) => {
    const user = ctx.state.user as MemoryUser | undefined
    ctx.body = { user: user?.username ?? null, justpassEnabled: user?.justpassEnabled ?? false, notice: takeJustpassNotice(ctx) ?? null }
  })
  app.use(router.routes())
  app.use(router.allowedMethods())
  // #endregion
  return app
}
