/**
 * An existing passport-local app (the shape of passport's own todos example: Express,
 * passport-local, a SQLite `users` table with pbkdf2 password hashes) with passkeys added:
 * the migration, the user store, the passkey as second factor behind
 * `passport.authenticate('local')`, REG for a logged-in user, and logout.
 */
import { pbkdf2, timingSafeEqual } from 'node:crypto'
import express from 'express'
import session from 'express-session'
import { Passport } from 'passport'
import { Strategy as LocalStrategy } from 'passport-local'
import type Database from 'better-sqlite3'
import { JustpassStrategy, justpassCallback, takeJustpassNotice } from 'passport-justpass'
import { callbackUserStore, migrate, type CallbackDatabase, type User } from './store.ts'

/** The app's first schema, as it was before passkeys: the table the migration finds. */
export const VERSION_1_SCHEMA = 'CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, username TEXT UNIQUE, hashed_password BLOB, salt BLOB)'

/** The app's password hash (pbkdf2, as the todos example has it). */
export function hashPassword(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => pbkdf2(password, salt, 310_000, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key))))
}

/**
 * better-sqlite3 behind the callback API of `sqlite3` (what the todos example uses), so
 * that this example runs without a native download; an app on `sqlite3` passes its
 * `new sqlite3.Database(file)` instead.
 */
export function callbackDriver(db: Database.Database): CallbackDatabase {
  const later = <T>(work: () => T, callback: (err: Error | null, value?: T) => void) =>
    setImmediate(() => {
      let value: T
      try {
        value = work()
      } catch (err) {
        return callback(err as Error)
      }
      callback(null, value)
    })
  return {
    get: (sql, params, callback) => later(() => db.prepare(sql).get(...params), callback),
    all: (sql, params, callback) => later(() => db.prepare(sql).all(...params), callback),
    run: (sql, params, callback) => later(() => void db.prepare(sql).run(...params), (err) => callback(err)),
  }
}

/** What the app needs. */
export interface ExistingAppConfig {
  db: CallbackDatabase
  opURL: string
  clientID: string
  clientSecret: string
  callbackURL: string
  sessionSecret: string
}

/** The app, once its `users` table has the passkey columns. */
export async function createExistingApp(config: ExistingAppConfig): Promise<express.Express> {
  const { db } = config
  await migrate(db)
  const users = callbackUserStore(db)
  const passport = new Passport()

  // The app's own password strategy, as it was.
  passport.use(new LocalStrategy((username, password, done) => {
    db.get('SELECT id, username, hashed_password, salt FROM users WHERE username = ?', [username], (err, row) => {
      if (err) return done(err)
      const found = row as { id: number; username: string; hashed_password: Buffer; salt: Buffer } | undefined
      if (!found) return done(null, false, { message: 'Incorrect username or password.' })
      hashPassword(password, found.salt).then((hashed) => {
        if (!timingSafeEqual(found.hashed_password, hashed)) return done(null, false, { message: 'Incorrect username or password.' })
        users.findByUsername(found.username).then((user) => done(null, user ?? false), done)
      }, done)
    })
  }))
  passport.use(new JustpassStrategy<User>({ opURL: config.opURL, clientID: config.clientID, clientSecret: config.clientSecret, callbackURL: config.callbackURL, userStore: users }))
  passport.serializeUser<string>((user, done) => done(null, (user as User).username))
  // findByUsername finds every user, password-only ones too: safe here.
  passport.deserializeUser<string>((username, done) => void users.findByUsername(username).then((user) => done(null, user ?? false), done))

  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(session({ secret: config.sessionSecret, resave: false, saveUninitialized: false, cookie: { sameSite: 'lax' } }))
  app.use(passport.initialize())
  app.use(passport.session())

  // #region second-factor
  // The app's password route, with the passkey added as the second factor: the local
  // strategy checks the password without logging in (session: false); a user with
  // passkey login on goes on to the passkey, the others are logged in as before.
  app.post(
    '/login/password',
    passport.authenticate('local', { session: false, failureRedirect: '/login?failed=1' }),
    (req, res, next) => {
      const user = req.user as User
      if (user.justpassEnabled) {
        req.session.base_username = user.username
        return res.redirect('/justpass/login')
      }
      req.logIn(user, (err) => (err ? next(err) : res.redirect('/')))
    },
  )
  app.get('/justpass/reg', passport.authenticate('justpass', { mode: 'register' }))
  app.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' }))
  app.get('/justpass/callback', justpassCallback({ authenticator: passport }))
  // #endregion
  app.post('/logout', (req, res, next) => req.logout((err) => (err ? next(err) : res.redirect('/login'))))
  // The pages answer JSON to keep the example short; the todos app renders EJS.
  app.get('/login', (req, res) => void res.json({ failed: req.query.failed === '1', notice: takeJustpassNotice(req) ?? null }))
  app.get('/', (req, res) => void res.json({ user: (req.user as User | undefined) ?? null, notice: takeJustpassNotice(req) ?? null }))
  return app
}
