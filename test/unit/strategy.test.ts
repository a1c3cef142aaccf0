/**
 * JustpassStrategy's own decisions, called directly through a subclass: which request is
 * a callback, the authorization parameters it adds, whose username a REG is for, which
 * response it writes to, and the logout URL. (Whole flows run over HTTP in the behaviour
 * suites.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassUsageError } from '../../src/errors.ts'
import type { JustpassRequest } from '../../src/host-objects.ts'
import { JustpassStrategy, type JustpassAuthenticateOptions } from '../../src/strategy.ts'
import { justpassProvider } from '../../src/provider-settings.ts'
import { MemoryUserStore } from '../../src/user-store.ts'

/** The strategy with its protected decisions opened for the test. */
class OpenStrategy extends JustpassStrategy {
  callback = (req: JustpassRequest, options: JustpassAuthenticateOptions = {}) => this.isCallback(req, new URLSearchParams(req.url?.split('?')[1] ?? ''), options)
  params = (req: JustpassRequest, platform?: string) => this.authorizationParams(req, { mode: 'login', ...(platform ? { platform } : {}) })
  username = (req: JustpassRequest) => this.usernameOf(req)
  response = (req: JustpassRequest) => this.responseOf(req)
}

const OPTIONS = {
  opURL: 'https://acme.accounts.justpass.me/openid/',
  clientID: 'shop',
  clientSecret: 'a-client-secret-0123456789abcdef0123',
  callbackURL: 'https://shop.example/justpass/callback',
  userStore: new MemoryUserStore(),
}
const strategy = new OpenStrategy(OPTIONS)

describe('JustpassStrategy', () => {
  test("is named 'justpass' and refuses a verify callback that is not a function", () => {
    assert.equal(strategy.name, 'justpass')
    assert.throws(() => new JustpassStrategy(OPTIONS, 'verify' as never), JustpassUsageError)
  })

  test('a request is a callback on the callback path, or with code, error or state, unless a route gives a mode', () => {
    assert.equal(strategy.callback({ url: '/justpass/callback', headers: {} }), true)
    assert.equal(strategy.callback({ url: '/elsewhere?state=abc', headers: {} }), true)
    assert.equal(strategy.callback({ url: '/elsewhere?error=access_denied', headers: {} }), true)
    assert.equal(strategy.callback({ url: '/justpass/login', headers: {} }), false)
    assert.equal(strategy.callback({ url: '/justpass/callback?code=x', headers: {} }, { mode: 'login' }), false)
    assert.equal(strategy.callback({ originalUrl: '/justpass/callback', url: '/callback', headers: {} }), true, 'the URL as sent, before a mount point was stripped')
  })

  test("justpass.me's authorization parameters: acr_values, hint_mode, the visitor's languages, an app's platform", () => {
    assert.deepEqual(strategy.params({ headers: { 'accept-language': 'fr-CH, fr;q=0.9, en;q=0.8' } }, 'app'), { hint_mode: 'token', acr_values: 'keys', ui_locales: 'fr-CH fr en', AMWALPLATFORM: 'app' })
    assert.deepEqual(strategy.params({ headers: {} }), { hint_mode: 'token', acr_values: 'keys', ui_locales: undefined, AMWALPLATFORM: undefined })
  })

  test("a REG is for the logged-in user's username, which must be a non-empty string", () => {
    assert.equal(strategy.username({ headers: {}, user: { username: 'alice' } }), 'alice')
    assert.equal(strategy.username({ headers: {} }), undefined)
    assert.throws(() => strategy.username({ headers: {}, user: { username: '' } }), (err: unknown) => err instanceof JustpassUsageError && /usernameField/.test(err.message))
  })

  test("writes to the host adapter's response first, else req.res, and to nothing that cannot add a header", () => {
    const writable = { statusCode: 200, appendHeader: () => undefined, setHeader: () => undefined, end: () => undefined }
    const other = { ...writable }
    assert.equal(strategy.response({ headers: {}, justpassResponse: writable, res: other }), writable)
    assert.equal(strategy.response({ headers: {}, res: other }), other)
    assert.equal(strategy.response({ headers: {}, res: { end: () => undefined } }), undefined)
  })

  test('the logout URL carries the ID token, the return URL, the client and a fresh state', async () => {
    const url = new URL((await strategy.logoutURL({ idTokenHint: 'the-id-token', postLogoutRedirectURL: 'https://shop.example/bye' }))!)
    const again = new URL((await strategy.logoutURL())!)
    assert.equal(`${url.origin}${url.pathname}`, 'https://acme.accounts.justpass.me/openid/end-session/')
    assert.deepEqual([url.searchParams.get('id_token_hint'), url.searchParams.get('post_logout_redirect_uri'), url.searchParams.get('client_id')], ['the-id-token', 'https://shop.example/bye', 'shop'])
    assert.match(url.searchParams.get('state')!, /^[\w-]{32}$/)
    assert.notEqual(again.searchParams.get('state'), url.searchParams.get('state'))
    const { opURL, clientID, clientSecret, ...rest } = OPTIONS
    const siteOnly = new JustpassStrategy({ ...rest, provider: justpassProvider({ opURL, clientID, clientSecret, endSessionURL: false }) })
    assert.equal(await siteOnly.logoutURL(), undefined)
  })
})
