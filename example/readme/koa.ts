/**
 * docs/koa.md's site: koa-passport and koa-session with justpassKoa, a password step
 * (the first factor), REG, second-factor and single-factor LOGIN, a URL-only start, and
 * pages that show the notice.
 */
import Koa from 'koa'
import session from 'koa-session'
import koaPassport from 'koa-passport'
import Router from '@koa/router'
import { JustpassStrategy, justpassKoa, justpassKoaCallback, takeJustpassKoaNotice, type MemoryUser, type MemoryUserStore } from 'passport-justpass'

/** What {@link createKoaGuideSite} needs. */
export interface KoaGuideConfig {
  /** `https://<organization>.accounts.justpass.me/openid/` */
  opURL: string
  clientID: string
  clientSecret: string
  /** The absolute URL of `/justpass/callback` on this site, registered at justpass.me. */
  callbackURL: string
  /** Keys koa-session signs its cookie with. */
  sessionKeys: string[]
  users: MemoryUserStore
  /** The first factor: the user when the password is right (a real site checks a password hash). */
  checkPassword(username: string, password: string): Promise<MemoryUser | undefined>
}

/** A urlencoded form body, read whole (a real site uses a body parser). */
async function formOf(req: AsyncIterable<Buffer>): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk)
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

/** The site as a Koa app; start it with `createKoaGuideSite(config).listen(3000)`. */
export function createKoaGuideSite(config: KoaGuideConfig): Koa {
  const { users } = config
  // #region core
  const passport = new koaPassport.KoaPassport()
  passport.use(new JustpassStrategy<MemoryUser>({
    opURL: config.opURL,
    clientID: config.clientID,
    clientSecret: config.clientSecret,
    callbackURL: config.callbackURL,
    userStore: users,
  }))
  passport.serializeUser((user, done) => done(null, (user as MemoryUser).username))
  passport.deserializeUser((username: string, done) => {
    users.findByUsername(username).then((user) => done(null, user ?? false), done)
  })

  const app = new Koa()
  app.keys = config.sessionKeys
  // The session must come before passport: passport logs users in there.
  app.use(session({ key: 'shop.sess', sameSite: 'lax' }, app))
  app.use(passport.initialize())
  app.use(passport.session())
  // Lets the strategy set its flow cookies on the response.
  app.use(justpassKoa())

  const router = new Router()
  router.post('/login', async (ctx) => {
    const form = await formOf(ctx.req)
    const user = await config.checkPassword(form.get('username') ?? '', form.get('password') ?? '')
    if (!user) return ctx.redirect('/login?failed=1')
    if (user.justpassEnabled) {
      // The password was right; the passkey is the second factor.
      ctx.session!.base_username = user.username
      return ctx.redirect('/justpass/login')
    }
    await ctx.login(user)
    ctx.redirect('/')
  })
  router.get('/justpass/reg', passport.authenticate('justpass', { mode: 'register' }))
  router.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' }))
  router.get('/justpass/login-url', passport.authenticate('justpass', { mode: 'login', urlOnly: true }))
  router.get('/justpass/callback', justpassKoaCallback({ authenticator: passport }))
  router.get('/', (ctx) => {
    const user = ctx.state.user as MemoryUser | undefined
    ctx.body = { user: user?.username ?? null, justpassEnabled: user?.justpassEnabled ?? false, notice: takeJustpassKoaNotice(ctx) ?? null }
  })
  // #endregion
  router.get('/login', (ctx) => {
    const notice = takeJustpassKoaNotice(ctx)
    ctx.body = { failed: ctx.query.failed === '1' || notice?.ok === false, message: notice?.message, reason: notice?.reason }
  })
  app.use(router.routes())
  app.use(router.allowedMethods())
  return app
}
