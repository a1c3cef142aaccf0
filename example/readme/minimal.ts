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
// For trying it out only: stands in for your password step, which logs users in (or sets req.session.base_username).
app.get('/dev-login', async (req, res, next) => {
  const name = String(req.query.username ?? 'alice')
  req.logIn((await users.findByUsername(name)) ?? users.add(name), (err) => (err ? next(err) : res.redirect('/')))
})
app.get('/justpass/reg', passport.authenticate('justpass', { mode: 'register' })) // REG: a logged-in user adds a passkey
app.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' })) // LOGIN: second or only factor
app.get('/justpass/callback', justpassCallback())
app.get(['/', '/login'], (req, res) => void res.json({ user: req.user ?? null, notice: takeJustpassNotice(req) }))
const port = Number(process.env.PORT ?? 4000), site = new URL(process.env.JUSTPASS_CALLBACK_URL!).origin
app.listen(port, () => console.log(`Open ${site}/dev-login, then ${site}/justpass/reg to add a passkey.`))
// #endregion
