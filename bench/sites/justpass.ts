/**
 * Site A: JustpassStrategy, single-factor LOGIN, its own passport instance, and a
 * callback route with plain `successRedirect` / `failureRedirect`. The strategy runs
 * with its default flow store: each pending flow in a sealed cookie of its own
 * (`justpass.<state prefix>` on this http callback URL), so a start writes no session.
 * The session middleware stays: passport logs the user in there at the callback.
 *
 * @packageDocumentation
 */
import { Passport } from 'passport'
import { JustpassStrategy, MemoryUserStore, type MemoryUser } from '../../src/index.ts'
import { BENCH_USERS, CLIENT_ID, CLIENT_SECRET, FAILURE_REDIRECT, SUCCESS_REDIRECT } from '../config.ts'
import { siteShell, type BenchSite } from './site.ts'

/** The session key the session flow store (`flowStore: 'session'`, not the default) keeps pending flows under. */
const SESSION_KEY = 'justpass'

/**
 * Start site A against the provider at `opURL`.
 *
 * @param opURL - the bench provider's base URL
 * @param redisURL - keep the sessions in Redis there; in memory without it
 */
export async function startJustpassSite(opURL: string, redisURL?: string): Promise<BenchSite> {
  const { server, app, store, close } = await siteShell('A', redisURL)
  const callbackPath = '/justpass/callback'
  const users = new MemoryUserStore()
  for (const username of BENCH_USERS) users.add(username, true) // passkey login on: the store checks it at every LOGIN
  const authenticator = new Passport()
  authenticator.use(
    new JustpassStrategy<MemoryUser>({
      opURL,
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      callbackURL: `${server.origin}${callbackPath}`,
      userStore: users,
    }),
  )
  authenticator.serializeUser<string>((user, done) => done(null, (user as MemoryUser).username))
  authenticator.deserializeUser<string>((username, done) => {
    users.findByUsername(username).then((user) => done(null, user ?? false), done)
  })
  app.use(authenticator.initialize())
  app.use(authenticator.session())
  app.get('/justpass/login', authenticator.authenticate('justpass', { mode: 'login' }))
  app.get(callbackPath, authenticator.authenticate('justpass', { successRedirect: SUCCESS_REDIRECT, failureRedirect: FAILURE_REDIRECT }))
  server.handle(app)
  return {
    origin: server.origin,
    initiationPath: '/justpass/login',
    callbackPath,
    store,
    pending(session) {
      // Empty with the default cookie flow store: no flow is ever in the session.
      const flows = session[SESSION_KEY]
      return typeof flows === 'object' && flows !== null ? { key: SESSION_KEY, flows: Object.keys(flows).length } : undefined
    },
    close,
  }
}
