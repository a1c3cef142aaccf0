/**
 * The confirmation guard and logout without a host: what the guard decides for a request,
 * and what a logout keeps of the session before it ends and where it sends the browser.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassConfigError, JustpassUsageError } from '../../src/errors.ts'
import { CONFIRMATION_REQUIRED, confirmationGuard, logoutSteps } from '../../src/hosts/confirm-and-logout.ts'

const now = () => Math.floor(Date.now() / 1000)

describe('confirmationGuard', () => {
  const guard = confirmationGuard({ maxAge: 60, returnTo: '/account' })
  const request = (confirmedAt: unknown, method = 'GET', platform?: string) => ({ session: { justpassConfirmedAt: confirmedAt }, method, url: '/account/email?x=1', platform })

  test('lets a request through only after a recent confirmation, not one from the future', () => {
    assert.deepEqual(guard.decide(request(now() - 30)), { pass: true })
    for (const at of [now() - 61, now() + 5, String(now()), undefined]) assert.equal(guard.decide(request(at)).pass, false, String(at))
  })

  test('otherwise asks an app in JSON, and sends a browser back to the URL (GET) or to returnTo', () => {
    assert.deepEqual(guard.decide(request(undefined, 'POST', 'app')), { pass: false, app: true })
    assert.deepEqual(guard.decide(request(undefined, 'GET')), { pass: false, app: false, returnTo: '/account/email?x=1' })
    assert.deepEqual(guard.decide(request(undefined, 'POST')), { pass: false, app: false, returnTo: '/account' })
    assert.deepEqual(confirmationGuard({}).decide(request(undefined, 'POST')), { pass: false, app: false, returnTo: '/account/email?x=1' })
    assert.match(CONFIRMATION_REQUIRED.err, /^Confirm it is you with your passkey, then try again\.$/)
  })

  test('needs a session, and names the option that is wrong', () => {
    for (const session of [undefined, null]) assert.throws(() => guard.decide({ session, method: 'GET', url: '/', platform: undefined }), JustpassUsageError)
    for (const [options, option] of [[{ maxAge: 0 }, 'maxAge'], [{ returnTo: 'account' }, 'returnTo'], [{ platformHeader: 'a b' }, 'platformHeader'], [{ keepSessionData: [] }, 'keepSessionData']] as const) {
      assert.throws(() => confirmationGuard(options as never), (err: unknown) => err instanceof JustpassConfigError && err.option === option, option)
    }
    assert.equal(confirmationGuard({ platformHeader: 'X-Platform' }).platformHeader, 'x-platform')
  })
})

describe('logoutSteps', () => {
  /** A passport instance holding one strategy whose logoutURL answers `url`; the requests it was given. */
  const holding = (url: string | undefined, lookup: '_strategy' | 'strategy' = '_strategy') => {
    const requests: unknown[] = []
    const strategy = { logoutURL: async (request: unknown) => (requests.push(request), url) }
    return { authenticator: { [lookup]: (name: string) => (name === 'justpass' ? strategy : undefined) }, requests }
  }

  test("sends the browser to the provider with the session's ID token and the registered return URL", async () => {
    const { authenticator, requests } = holding('https://idp.example/end-session/?id_token_hint=x')
    const steps = logoutSteps({ postLogoutRedirectURL: 'https://shop.example/bye' })
    const session: Record<string, unknown> = { justpassIdToken: 'the-id-token' }
    const logout = steps.begin(authenticator, session)
    delete session.justpassIdToken // the session ends before the browser is sent on
    assert.equal(await logout.destination(), 'https://idp.example/end-session/?id_token_hint=x')
    assert.deepEqual(requests, [{ idTokenHint: 'the-id-token', postLogoutRedirectURL: 'https://shop.example/bye' }])
  })

  test('goes home when the provider has no end-session endpoint; finds the strategy on @fastify/passport too', async () => {
    const { authenticator, requests } = holding(undefined, 'strategy')
    assert.equal(await logoutSteps({ homeURL: '/goodbye' }).begin(authenticator, null).destination(), '/goodbye')
    assert.deepEqual(requests, [{}])
  })

  test('refuses an authenticator without the strategy, and options it does not have', () => {
    assert.throws(() => logoutSteps({ strategy: 'other' }).begin(holding('x').authenticator, {}), (err: unknown) => err instanceof JustpassUsageError && /no justpass strategy is registered as "other"/.test(err.message))
    assert.throws(() => logoutSteps({ returnTo: '/' } as never), (err: unknown) => err instanceof JustpassConfigError && err.option === 'returnTo')
  })
})
