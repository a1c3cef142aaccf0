/**
 * The example shop: an Express 5 site with a password login, passkeys from justpass.me
 * through passport-justpass as a second factor or the only one, and passkey
 * registration for logged-in users. The Node.js counterpart of the Django example.
 */
import express, { type ErrorRequestHandler } from 'express'
import session, { type Store } from 'express-session'
import { Passport } from 'passport'
import { JustpassProviderError, JustpassStrategy, justpassCallback, takeJustpassNotice, type JustpassNotice } from 'passport-justpass'
import { ShopDatabase, type ShopUser } from './db.ts'
import { shopUserStore } from './user-store.ts'
import { errorPage, homePage, loginPage } from './views.ts'

/** How to build the shop. */
export interface ShopOptions {
  /** The justpass.me (or local provider) base URL, its client id and secret. */
  opURL: string
  clientID: string
  clientSecret: string
  /** The shop's own origin, e.g. http://localhost:3000; the callback is origin + '/justpass/callback'. */
  origin: string
  /** SQLite file path, or ':memory:'. */
  database: string
  /** Signs the session cookie; the same for every instance of the shop. */
  sessionSecret: string
  /** An express-session store; default the memory store (one process only). */
  sessionStore?: Store
}

/** What the user reads after a flow, by mode and reason. */
export function noticeText(notice: JustpassNotice): string {
  const register = notice.mode === 'register'
  if (notice.ok) return register ? 'Passkey login is now enabled for your account.' : 'Welcome back.'
  switch (notice.reason) {
    case 'provider_denied':
      return register ? 'Passkey registration was cancelled.' : 'Passkey sign-in was cancelled.'
    case 'identity_mismatch':
      return 'That passkey belongs to another account.'
    case 'unknown_user':
      return 'No account here matches that passkey.'
    case 'state_expired':
    case 'state_unknown':
      return 'That sign-in link expired or was already used. Please try again.'
    default:
      return register ? 'Passkey registration failed. Please try again.' : 'Passkey sign-in failed. Please try again.'
  }
}

/** Build the shop: the Express app, its database, and how to close them. */
export function createShop(options: ShopOptions): { app: express.Express; db: ShopDatabase; close(): void } {
  const db = new ShopDatabase(options.database)
  const authenticator = new Passport()
  authenticator.use(
    new JustpassStrategy<ShopUser>({
      opURL: options.opURL,
      clientID: options.clientID,
      clientSecret: options.clientSecret,
      callbackURL: `${options.origin}/justpass/callback`,
      userStore: shopUserStore(db),
    }),
  )
  authenticator.serializeUser<string>((user, done) => done(null, (user as ShopUser).username))
  authenticator.deserializeUser<string>((username, done) => done(null, db.findByUsername(username) ?? false))

  const app = express()
  app.disable('x-powered-by')
  app.use(
    session({
      name: 'shop.sid',
      secret: options.sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: options.origin.startsWith('https:') },
      ...(options.sessionStore ? { store: options.sessionStore } : {}),
    }),
  )
  app.use(express.urlencoded({ extended: false, limit: '8kb' }))
  app.use(authenticator.initialize())
  app.use(authenticator.session())

  app.get('/healthz', (_req, res) => void res.type('text').send('ok'))

  app.get('/', (req, res) => {
    const user = req.user as ShopUser | undefined
    if (!user) return res.redirect('/login')
    const notice = takeJustpassNotice(req)
    res.send(homePage(user, notice && { ok: notice.ok, text: noticeText(notice) }))
  })

  app.get('/login', (req, res) => {
    const notice = takeJustpassNotice(req)
    res.send(loginPage(notice && !notice.ok ? noticeText(notice) : undefined))
  })

  // The password step. A user with passkey login continues to the passkey (second
  // factor) with the base username in the session; the others are logged in.
  app.post('/login', (req, res, next) => {
    const user = db.verifyPassword(String(req.body?.username ?? ''), String(req.body?.password ?? ''))
    if (!user) return void res.status(401).send(loginPage('Wrong username or password.'))
    if (user.justpassEnabled) {
      req.session.base_username = user.username
      return res.redirect('/justpass/login')
    }
    req.logIn(user, (err) => (err ? next(err) : res.redirect('/')))
  })

  app.post('/logout', (req, res, next) => {
    req.logOut((err) => (err ? next(err) : res.redirect('/login')))
  })

  app.get('/justpass/reg', authenticator.authenticate('justpass', { mode: 'register', failureRedirect: '/login' }))
  app.get('/justpass/login', authenticator.authenticate('justpass', { mode: 'login' }))
  app.get('/justpass/callback', justpassCallback({ authenticator, homeURL: '/', loginURL: '/login' }))

  const onError: ErrorRequestHandler = (err: Error & { code?: string }, _req, res, _next) => {
    console.error(`shop: ${err.name}${err.code ? ` (${err.code})` : ''}`)
    if (err instanceof JustpassProviderError) {
      res.status(502).send(errorPage('Passkeys are unavailable', 'justpass.me could not be reached. Please try again in a moment.'))
    } else {
      res.status(500).send(errorPage('Something went wrong', 'Something went wrong. Please try again.'))
    }
  }
  app.use(onError)

  return { app, db, close: () => db.close() }
}
