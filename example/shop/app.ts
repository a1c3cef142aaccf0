/**
 * The example shop: an Express 5 site with a password login, passkeys from justpass.me
 * through passport-justpass as a second factor or the only one, passkey registration
 * for logged-in users, a passkey confirmation before the account page and before turning
 * passkey login off (or the password again, for the latter), and logout here and at
 * justpass.me. The Node.js counterpart of the Django example.
 */
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express'
import session, { type Store } from 'express-session'
import { Passport } from 'passport'
import { JustpassProviderError, JustpassStrategy, justpassCallback, justpassLogout, requireJustpassConfirmation, takeJustpassNotice } from '../../src/index.ts'
import { ShopDatabase, type ShopUser } from './db.ts'
import { noticeKind, noticeText } from './messages.ts'
import { shopUserStore } from './user-store.ts'
import { accountPage, errorPage, homePage, loginPage, recoveredPage, recoverFailedPage, recoverPasswordPage, recoverRequestPage } from './views.ts'

/** How to build the shop. */
export interface ShopOptions {
  /** The justpass.me (or local provider) base URL, e.g. https://acme.accounts.justpass.me/openid/ */
  opURL: string
  /** The client id of the shop's justpass.me application. */
  clientID: string
  /** The client secret of the shop's justpass.me application. */
  clientSecret: string
  /** The shop's own origin, e.g. http://localhost:3000; callbackURL is origin + '/justpass/callback' */
  origin: string
  /** SQLite file path, or ':memory:' */
  database: string
  /** Signs the session cookie; the same for every instance of the shop. */
  sessionSecret: string
  /**
   * Sends a user their one-time recovery link (the stand-in for an e-mail). Default: one
   * line in the shop's console.
   */
  sendRecoveryLink?: (username: string, link: string) => void
  /** An express-session store; default the memory store (one process only). */
  sessionStore?: Store
  /**
   * How recent, in seconds, a passkey confirmation must be for the account page and for
   * turning passkey login off without asking again. Default 300 (5 minutes).
   */
  confirmMaxAge?: number
}

/** The shop: its Express app, its database, and how to close the database. */
export interface Shop {
  /** The Express app; mount it on an HTTP server (`app.listen`, or a test server). */
  app: express.Express
  /** The users table, to seed users or to inspect the passkey flag. */
  db: ShopDatabase
  /** Close the database (the HTTP server is the caller's to close). */
  close(): void
}

declare module 'express-session' {
  interface SessionData {
    /** The shop's own notice for the next home page (after turning passkey login off), shown once. */
    shop_notice?: { ok: boolean; text: string }
    /** The user a recovery link signed in, and when (seconds): they may turn passkey login off without asking again, for a few minutes. */
    recovered?: { username: string; at: number }
  }
}

/** How long a recovery link works, in seconds. */
export const RECOVERY_LINK_TTL = 15 * 60
/** How long after signing in with a recovery link passkey login can be turned off without another proof, in seconds. */
const RECOVERED_TURN_OFF_WINDOW = 10 * 60

/** The form field `name` when it is a single string, else `''`. */
function field(body: unknown, name: string): string {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
  return typeof value === 'string' ? value : ''
}

/**
 * Whether a form post comes from the shop's own pages: its `Origin` header, or without
 * one its `Referer`, has the shop's origin. Together with the `SameSite=Lax` session
 * cookie, which a cross-site post does not carry, this keeps other sites (and sibling
 * subdomains) from posting the shop's forms in the user's name.
 */
function fromShop(req: Request, origin: string): boolean {
  const sender = req.get('origin')
  if (sender !== undefined) return sender === origin
  const referer = req.get('referer')
  if (referer === undefined || !URL.canParse(referer)) return false
  return new URL(referer).origin === origin
}

/** Build the shop: the Express app, its database, and how to close them. */
export function createShop(options: ShopOptions): Shop {
  const db = new ShopDatabase(options.database)
  const origin = new URL(options.origin)
  const secure = origin.protocol === 'https:'
  const users = shopUserStore(db)

  const authenticator = new Passport()
  authenticator.use(
    new JustpassStrategy<ShopUser>({
      opURL: options.opURL,
      clientID: options.clientID,
      clientSecret: options.clientSecret,
      callbackURL: `${origin.origin}/justpass/callback`,
      userStore: users,
    }),
  )
  authenticator.serializeUser<string>((user, done) => done(null, (user as ShopUser).username))
  authenticator.deserializeUser<string>((username, done) => done(null, db.findByUsername(username) ?? false))

  const app = express()
  app.disable('x-powered-by')
  // Over https the shop sits behind a TLS-terminating proxy on the same host or network;
  // trusting its X-Forwarded-Proto lets express-session send the Secure cookie.
  if (secure) app.set('trust proxy', 'loopback, linklocal, uniquelocal')

  app.get('/healthz', (_req, res) => void res.type('text/plain').send('ok'))

  // Cookies belong to one host name: a session or a pending passkey flow started at
  // 127.0.0.1 is never sent to localhost (where the provider sends the browser back), nor
  // the other way round. Any other host name goes to the configured origin first.
  app.use((req, res, next) => {
    if (req.host === origin.host) return next()
    res.redirect(req.method === 'GET' || req.method === 'HEAD' ? 302 : 303, `${origin.origin}${req.originalUrl.startsWith('/') ? req.originalUrl : '/'}`)
  })

  app.use(
    session({
      name: 'shop.sid',
      secret: options.sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure },
      ...(options.sessionStore ? { store: options.sessionStore } : {}),
    }),
  )
  app.use(express.urlencoded({ extended: false, limit: '8kb' }))
  app.use(authenticator.initialize())
  app.use(authenticator.session())
  // Whatever a logged-in user is answered (their pages, a redirect) is theirs alone: never
  // kept by the browser's cache (Back after logging out) or a shared one.
  app.use((req, res, next) => {
    if (req.user) res.set('Cache-Control', 'no-store')
    next()
  })

  /** Only for a logged-in user; anyone else goes to the login page. */
  const loggedIn: RequestHandler = (req, res, next) => (req.user ? next() : res.redirect('/login'))

  /** The notice of the last passkey flow, in the shop's words, once. */
  const takeNotice = (req: Request) => {
    const notice = takeJustpassNotice(req)
    return notice && { ok: notice.ok, text: noticeText(notice), info: noticeKind(notice) === 'info' }
  }

  // The passkey confirmation: a user with passkey login on shows it is them with the
  // passkey again (prompt=login, max_age=0 at justpass.me) before a sensitive page or
  // change, once every `confirmMaxAge` seconds. A user with passkey login off has no
  // passkey to confirm with (it would be refused as passkey_login_off): the account page
  // is theirs on their session alone, and they have no passkey login to turn off.
  const maxAge = options.confirmMaxAge ?? 300
  const confirmForAccount = requireJustpassConfirmation({ authenticator, maxAge })
  // A form's POST cannot be sent again after the confirmation: back to the page with the form.
  const confirmForTurnOff = requireJustpassConfirmation({ authenticator, maxAge, returnTo: '/' })

  app.get('/', (req, res) => {
    const user = req.user as ShopUser | undefined
    if (!user) return res.redirect('/login')
    const own = req.session.shop_notice
    delete req.session.shop_notice
    res.send(homePage(user, takeNotice(req) ?? own))
  })

  // A sensitive page: the user's account, after a recent passkey confirmation.
  app.get('/account', loggedIn, (req, res, next) => {
    const show = () => void res.send(accountPage(req.user as ShopUser, takeNotice(req)))
    if (!(req.user as ShopUser).justpassEnabled) return show()
    confirmForAccount(req, res, (err?: unknown) => (err ? next(err) : show()))
  })

  // A signed-in user has nothing to do on the login page: home.
  app.get('/login', (req, res) => {
    if (req.user) return res.redirect('/')
    const notice = takeJustpassNotice(req)
    res.send(loginPage(notice && !notice.ok ? noticeText(notice) : undefined, notice && noticeKind(notice) === 'info' ? 'info' : 'bad'))
  })

  // Lost passkey recovery. "Lost your passkey?" asks for the username and sends a one-time
  // link (here: the console, standing in for e-mail), valid 15 minutes, kept as a hash.
  // The page says the same whether the account exists or not. The link alone signs
  // nobody in: its page asks for the account's password too. Then the user creates a new
  // passkey (REG) or turns passkey login off.
  // #region recovery
  const sendRecoveryLink = options.sendRecoveryLink ?? ((username: string, link: string) => console.log(`Recovery link for ${username} (valid 15 minutes, used once): ${link}`))
  app.get('/recover', (req, res) => {
    const known = typeof req.session.base_username === 'string' ? req.session.base_username : ''
    res.send(recoverRequestPage(known, false))
  })
  app.post('/recover', (req, res) => {
    if (!fromShop(req, origin.origin)) return void res.status(403).send(errorPage('Nothing was sent', 'That request did not come from a Corner Shop page, so nothing was sent.'))
    const username = field(req.body, 'username')
    const user = db.findByUsername(username)
    if (user?.active) sendRecoveryLink(user.username, `${origin.origin}/recover/${db.createRecoveryToken(user.username, RECOVERY_LINK_TTL)}`)
    res.send(recoverRequestPage(username, true))
  })
  // Before /recover/:token, which would otherwise take "off" for a token.
  app.post('/recover/off', loggedIn, async (req, res, next) => {
    const user = req.user as ShopUser
    const recovered = req.session.recovered
    if (!fromShop(req, origin.origin)) return void res.status(403).send(errorPage('Nothing was changed', 'That request did not come from a Corner Shop page, so nothing was changed.'))
    if (recovered?.username !== user.username || Math.floor(Date.now() / 1000) - recovered.at > RECOVERED_TURN_OFF_WINDOW) {
      return void res.status(403).send(errorPage('Nothing was changed', 'Turning passkey login off from here works for a few minutes after a recovery link. Use the button on the home page instead.'))
    }
    delete req.session.recovered
    turnOff(req, res).catch(next)
  })
  const RECOVERY_FAILED = {
    unknown: 'This recovery link is not one the shop sent, or it was copied only in part.',
    expired: 'This recovery link has expired: links work for 15 minutes.',
    used: 'This recovery link was already used: each link works once.',
  } as const
  app.get('/recover/:token', (req, res) => {
    res.set('Cache-Control', 'no-store')
    const link = db.peekRecoveryToken(req.params.token)
    if (typeof link === 'string') return void res.status(410).send(recoverFailedPage(`${RECOVERY_FAILED[link]} Ask for a new one.`))
    res.send(recoverPasswordPage(link.username, `/recover/${encodeURIComponent(req.params.token)}`))
  })
  app.post('/recover/:token', async (req, res, next) => {
    res.set('Cache-Control', 'no-store')
    if (!fromShop(req, origin.origin)) return void res.status(403).send(errorPage('Nothing was changed', 'That request did not come from a Corner Shop page, so nothing was changed.'))
    const link = db.peekRecoveryToken(req.params.token)
    if (typeof link === 'string') return void res.status(410).send(recoverFailedPage(`${RECOVERY_FAILED[link]} Ask for a new one.`))
    const user = await db.verifyPassword(link.username, field(req.body, 'password'))
    if (!user || !user.active) {
      return void res.status(401).send(recoverPasswordPage(link.username, `/recover/${encodeURIComponent(req.params.token)}`, 'That password is not right. The link still works, until it expires.'))
    }
    // Used once, checked and marked in one statement: a second use at the same time fails.
    const used = db.useRecoveryToken(req.params.token)
    if (typeof used === 'string') return void res.status(410).send(recoverFailedPage(`${RECOVERY_FAILED[used]} Ask for a new one.`))
    req.logIn(user, (err) => {
      if (err) return next(err)
      req.session.recovered = { username: user.username, at: Math.floor(Date.now() / 1000) }
      res.redirect('/recovered')
    })
  })
  // #endregion
  app.get('/recovered', loggedIn, (req, res) => void res.send(recoveredPage(req.user as ShopUser)))

  // The password step. A user with passkey login goes on to the passkey (the second
  // factor), with the base username in the session and nobody logged in yet; the
  // others are logged in (passport regenerates the session id). A disabled account is
  // refused, and told so once the password is right.
  app.post('/login', async (req, res, next) => {
    delete req.session.base_username
    const user = await db.verifyPassword(field(req.body, 'username'), field(req.body, 'password'))
    if (!user) return void res.status(401).send(loginPage('Wrong username or password.'))
    if (!user.active) return void res.status(403).send(loginPage('This account is disabled.'))
    if (user.justpassEnabled) {
      req.session.base_username = user.username
      return res.redirect('/justpass/login')
    }
    req.logIn(user, (err) => (err ? next(err) : res.redirect('/')))
  })

  // Logout here, then at justpass.me: a session that signed in (or confirmed) with a
  // passkey kept its ID token, and the provider's sign-out ends the provider's session
  // too, then sends the browser back to the login page (registered there for this
  // client). A password-only session has no sign-in at the provider to end: it is
  // logged out here only, without a detour through the provider's sign-out page.
  const logoutAtProvider = justpassLogout({ authenticator, postLogoutRedirectURL: `${origin.origin}/login`, homeURL: '/login' })
  app.post('/logout', (req, res, next) => {
    if (req.session.justpassIdToken !== undefined) return logoutAtProvider(req, res, next)
    req.logOut((err) => (err ? next(err) : res.redirect('/login')))
  })

  /** Passkey login off for the logged-in user; home says so. */
  const turnOff = async (req: Request, res: Response) => {
    await users.setJustpassEnabled((req.user as ShopUser).username, false)
    req.session.shop_notice = { ok: true, text: 'Passkey login is now off. Your password alone logs you in.' }
    res.redirect('/')
  }

  // Turn passkey login off: for the logged-in user, from the shop's own page, with a proof
  // that it is them (a session left open is not enough). Two forms post here. The one
  // with a password is checked by the password: an account that has one may still use
  // it, and a wrong one is refused, never sent on to the passkey. The one
  // without goes through the passkey confirmation (at most `confirmMaxAge` seconds old,
  // else asked for, then back home to press the button again), so that a user who signs
  // in with the passkey alone, and may not remember a password, can turn it off too.
  app.post('/passkey/off', loggedIn, async (req, res, next) => {
    const user = req.user as ShopUser
    if (!fromShop(req, origin.origin)) {
      return void res.status(403).send(errorPage('Nothing was changed', 'That request did not come from a Corner Shop page, so nothing was changed.'))
    }
    if (!user.justpassEnabled) return res.redirect('/')
    const body = (req.body ?? {}) as Record<string, unknown>
    if (!Object.hasOwn(body, 'password')) {
      return confirmForTurnOff(req, res, (err?: unknown) => (err ? next(err) : turnOff(req, res).catch(next)))
    }
    if (!(await db.verifyPassword(user.username, field(body, 'password')))) {
      return void res.status(401).send(homePage(user, { ok: false, text: 'That password is not right, so passkey login is still on.' }))
    }
    await turnOff(req, res)
  })

  // REG needs a logged-in user: without one, passport's failure goes to the login page.
  app.get('/justpass/reg', authenticator.authenticate('justpass', { mode: 'register', failureRedirect: '/login' }))
  app.get('/justpass/login', authenticator.authenticate('justpass', { mode: 'login' }))
  // Confirm it is you, then back to `?next=` (the guards above start the same flow themselves).
  app.get('/justpass/confirm', authenticator.authenticate('justpass', { mode: 'confirm', failureRedirect: '/login' }))
  // A failed confirmation goes home, with its notice; a successful one back to the page that asked.
  app.get('/justpass/callback', justpassCallback({ authenticator, homeURL: '/', loginURL: '/login' }))

  app.use((_req, res) => void res.status(404).send(errorPage('Page not found', 'There is no page at this address.')))

  const onError: ErrorRequestHandler = (err: unknown, _req, res, next) => {
    const name = err instanceof Error ? err.name : typeof err
    const code = typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined
    console.error(`shop: ${name}${code ? ` (${code})` : ''}`)
    if (res.headersSent) return next(err)
    if (err instanceof JustpassProviderError) {
      res.status(502).send(errorPage('Passkeys are unavailable', 'justpass.me could not be reached. Please try again in a moment.'))
    } else {
      res.status(500).send(errorPage('Something went wrong', 'Something went wrong. Please try again.'))
    }
  }
  app.use(onError)

  return { app, db, close: () => db.close() }
}
