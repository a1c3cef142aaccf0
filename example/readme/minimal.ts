/**
 * The smallest site with passkey login through justpass.me: REG for a logged-in user,
 * LOGIN (a second factor after the site's own password step, or the passkey alone) and
 * the callback. The app's settings at justpass.me come from the environment.
 */
// #region site
import express from 'express'
import session from 'express-session'
import passport from 'passport'
import { JustpassStrategy, MemoryUserStore, justpassCallback, takeJustpassNotice, type MemoryUser } from 'passport-justpass'

const users = new MemoryUserStore([], { createOnLogin: true }) // a first passkey LOGIN creates the user; yours: docs/user-store.md
passport.use(new JustpassStrategy({
  opURL: process.env.JUSTPASS_OP_URL!, // https://<organization>.accounts.justpass.me/openid/
  clientID: process.env.JUSTPASS_CLIENT_ID!,
  clientSecret: process.env.JUSTPASS_CLIENT_SECRET!,
  callbackURL: process.env.JUSTPASS_CALLBACK_URL!, // this site's /justpass/callback, registered at justpass.me
  userStore: users,
}))
passport.serializeUser<string>((user, done) => done(null, (user as MemoryUser).username))
passport.deserializeUser<string>((name, done) => void users.findByUsername(name).then((user) => done(null, user ?? false), done))

const app = express()
app.use(session({ secret: process.env.SESSION_SECRET!, resave: false, saveUninitialized: false }))
app.use(passport.initialize())
app.use(passport.session())
// Your password step logs users in, or sets req.session.base_username for a second factor.
app.get('/justpass/reg', passport.authenticate('justpass', { mode: 'register' })) // REG: a logged-in user adds a passkey
app.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' })) // LOGIN: second or only factor
app.get('/justpass/callback', justpassCallback())
app.get('/', (req, res) => void res.json({ user: req.user ?? null, notice: takeJustpassNotice(req) }))
app.listen(Number(process.env.PORT ?? 3000))
// #endregion
