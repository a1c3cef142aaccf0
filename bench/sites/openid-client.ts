/**
 * Site B: openid-client's own passport Strategy (`openid-client/passport`) against the
 * same provider, with a verify that does what site A's default verify does: fetch
 * userinfo and look the user up in the same kind of store.
 *
 * @packageDocumentation
 */
import type { Request } from 'express'
import { Passport } from 'passport'
import * as client from 'openid-client'
import { Strategy, type AuthenticateOptions, type VerifyFunction } from 'openid-client/passport'
import { MemoryUserStore, justpassProvider, type MemoryUser } from '../../src/index.ts'
import { providerConfiguration } from '../../src/provider-connection.ts'
import { BENCH_USERS, CLIENT_ID, CLIENT_SECRET, FAILURE_REDIRECT, MAX_AGE, SUCCESS_REDIRECT } from '../config.ts'
import { siteShell, type BenchSite } from './site.ts'

/**
 * openid-client's Strategy, asking for a `nonce` and `max_age` as JustpassStrategy
 * does, through its documented extension point: the Strategy itself then stores them
 * with the flow and has openid-client check them at the callback, so that both
 * contenders check a nonce, PKCE and `auth_time`. (With a nonce, openid-client's
 * Strategy sends no `state` of its own; JustpassStrategy sends both.)
 */
class SameChecksStrategy extends Strategy {
  override authorizationRequestParams<TOptions extends AuthenticateOptions>(req: Request, options: TOptions): URLSearchParams {
    const params = new URLSearchParams(super.authorizationRequestParams(req, options))
    params.set('nonce', client.randomNonce())
    params.set('max_age', String(MAX_AGE))
    return params
  }
}

/**
 * Start site B against the provider at `opURL`.
 *
 * @param opURL - the bench provider's base URL
 * @param redisURL - keep the sessions in Redis there; in memory without it
 */
export async function startOpenidClientSite(opURL: string, redisURL?: string): Promise<BenchSite> {
  const { server, app, store, close } = await siteShell('B', redisURL)
  const callbackPath = '/oidc/callback'
  const callbackURL = `${server.origin}${callbackPath}`
  const users = new MemoryUserStore(BENCH_USERS)
  // The Configuration site A's strategy builds for the same provider, without A's transport:
  // B keeps openid-client's own fetch.
  const config = providerConfiguration(justpassProvider({ opURL, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET }))

  const verify: VerifyFunction = (tokens, done) => {
    const sub = tokens.claims()?.sub
    if (sub === undefined) return done(null, false)
    client
      .fetchUserInfo(config, tokens.access_token, sub)
      .then((userinfo) => (typeof userinfo.preferred_username === 'string' ? users.findByUsername(userinfo.preferred_username) : undefined))
      .then((user) => done(null, user ?? false), done)
  }
  const strategy = new SameChecksStrategy({ config, name: 'oidc', scope: 'openid', callbackURL }, verify)
  const sessionKey = new URL(config.serverMetadata().issuer).host

  const authenticator = new Passport()
  authenticator.use(strategy)
  authenticator.serializeUser<string>((user, done) => done(null, (user as MemoryUser).username))
  authenticator.deserializeUser<string>((username, done) => {
    users.findByUsername(username).then((user) => done(null, user ?? false), done)
  })
  app.use(authenticator.initialize())
  app.use(authenticator.session())
  app.get('/oidc/login', authenticator.authenticate('oidc'))
  app.get(callbackPath, authenticator.authenticate('oidc', { successRedirect: SUCCESS_REDIRECT, failureRedirect: FAILURE_REDIRECT }))
  server.handle(app)
  return {
    origin: server.origin,
    initiationPath: '/oidc/login',
    callbackPath,
    store,
    pending(session) {
      return typeof session[sessionKey] === 'object' && session[sessionKey] !== null ? { key: sessionKey, flows: 1 } : undefined
    },
    close,
  }
}
