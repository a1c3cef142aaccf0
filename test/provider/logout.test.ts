/**
 * The local provider's end-session endpoint (`/openid/end-session/`, as justpass.me's), and
 * "confirm it is you" (`prompt=login&max_age=0`) with a live provider session. A site's
 * requests are sent by hand (signed, with PKCE), through a cookie-keeping client; the
 * passkey step is completed in code. Real servers on 127.0.0.1.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { jwtVerify, SignJWT, type JWTPayload } from 'jose'
import { startTestProvider, type TestProvider } from '../support/provider.ts'
import { parseCommand, startFromCommand } from '../../provider/cli.ts'
import { Browser, type Hop } from '../support/browser.ts'

/** The site: never requested (nothing listens there); the client stops before it. */
const SITE = 'http://127.0.0.1:9'
const CALLBACK = `${SITE}/cb`
const HOME = `${SITE}/`

const random = () => randomBytes(12).toString('base64url')
const unescape = (html: string) => html.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))

/** A browser that asks for pages, as a browser does (oidc-provider answers errors as JSON otherwise). */
function newBrowser(): Browser {
  const browser = new Browser()
  browser.headers = { accept: 'text/html,application/xhtml+xml' }
  return browser
}

describe('logout at the local provider, and confirming it is you', () => {
  let provider: TestProvider

  before(async () => {
    provider = await startTestProvider({ clientID: 'logout-site', redirectURIs: [CALLBACK], postLogoutRedirectURIs: [HOME] })
  })

  after(async () => {
    await provider?.close()
  })

  /** The request's `signature`: HS256 with the client secret over {state, login_hint}. */
  const sign = (state: string, loginHint: string | undefined) =>
    new SignJWT(loginHint === undefined ? { state } : { state, login_hint: loginHint }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(provider.clientSecret))

  /** An authorization request as a site sends it, followed until the browser is sent back to the site. */
  async function authorize(browser: Browser, extra: Record<string, string> = {}) {
    const state = random()
    const nonce = random()
    const verifier = randomBytes(32).toString('base64url')
    const query = new URLSearchParams({
      client_id: provider.clientID,
      response_type: 'code',
      scope: 'openid',
      redirect_uri: CALLBACK,
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...extra,
    })
    query.set('signature', await sign(state, extra.login_hint))
    const { stoppedAt } = await browser.follow(`${provider.opURL}authorize/?${query}`, (next) => next.origin === SITE)
    assert.ok(stoppedAt, 'back to the site')
    const back = new URL(stoppedAt)
    assert.equal(back.searchParams.get('state'), state)
    return { back, verifier, nonce }
  }

  /** The code exchanged at the token endpoint (client_secret_post, PKCE): the verified ID token's claims and the token itself. */
  async function exchange(code: string, verifier: string, nonce: string): Promise<{ idToken: string; claims: JWTPayload }> {
    const answer = await fetch(`${provider.opURL}token/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id: provider.clientID, client_secret: provider.clientSecret }),
    })
    assert.equal(answer.status, 200)
    const { id_token: idToken } = (await answer.json()) as { id_token: string }
    const { payload } = await jwtVerify(idToken, new TextEncoder().encode(provider.clientSecret), { algorithms: ['HS256'], issuer: provider.issuer, audience: provider.clientID })
    assert.equal(payload.nonce, nonce)
    return { idToken, claims: payload }
  }

  /** A passkey sign-in for `username` (no provider session yet): its ID token. */
  async function signIn(browser: Browser, username: string) {
    const steps = provider.interactions.length
    const { back, verifier, nonce } = await authorize(browser, { login_hint: username })
    assert.equal(provider.interactions.length, steps + 1, 'a passkey step ran')
    const code = back.searchParams.get('code')
    assert.ok(code, `a code, not ${back.searchParams.get('error')}`)
    return exchange(code, verifier, nonce)
  }

  /** The answer to `prompt=none`: a code while the provider session lives, else an error. */
  async function silent(browser: Browser): Promise<{ code: string | null; error: string | null }> {
    const { back } = await authorize(browser, { prompt: 'none' })
    return { code: back.searchParams.get('code'), error: back.searchParams.get('error') }
  }

  /** The logout page's form: where it goes and its fields, as a browser without script would send them. */
  function logoutForm(page: Hop): { action: string; fields: Record<string, string>; button: boolean } {
    const form = /<form id="logout-form" method="post" action="([^"]*)">([\s\S]*?)<\/form>/.exec(page.body)
    assert.ok(form, 'the page has the logout form')
    const fields: Record<string, string> = {}
    for (const [, name, value] of form[2]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields[unescape(name!)] = unescape(value!)
    return { action: new URL(unescape(form[1]!), page.url).href, fields, button: /<button[^>]*type="submit"[^>]*>Sign out<\/button>/.test(form[2]!) }
  }

  /** Every script of a page, with its nonce and src. */
  const scriptsOf = (body: string) =>
    [...body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)].map(([, attributes, code]) => ({
      nonce: /\bnonce="([^"]*)"/.exec(attributes!)?.[1],
      src: /\bsrc="([^"]*)"/.exec(attributes!)?.[1],
      code: code!,
    }))

  test('logout with id_token_hint and a registered post_logout_redirect_uri ends the provider session and returns with the state', async () => {
    const browser = newBrowser()
    const { idToken } = await signIn(browser, 'alice')
    const alive = await silent(browser)
    assert.ok(alive.code, `the provider session lives: prompt=none gets a code, not ${alive.error}`)

    const state = random()
    const page = await browser.post(`${provider.opURL}end-session/`, { id_token_hint: idToken, post_logout_redirect_uri: HOME, state })
    assert.equal(page.status, 200)
    const recorded = provider.endSessionRequests.at(-1)
    assert.deepEqual(recorded && Object.fromEntries(recorded), { id_token_hint: idToken, post_logout_redirect_uri: HOME, state }, 'the POST body recorded')

    // What the page's script submits, and its button without script: the same form.
    const { action, fields } = logoutForm(page)
    assert.equal(action, `${provider.opURL}end-session/confirm`)
    assert.deepEqual(Object.keys(fields).sort(), ['logout', 'xsrf'])
    assert.equal(fields.logout, 'yes', 'the whole provider session ends')
    const confirmed = await browser.post(action, fields)
    assert.equal(confirmed.status, 303)
    const landed = new URL(confirmed.location!)
    assert.equal(`${landed.origin}${landed.pathname}`, HOME, 'back at the registered URI')
    assert.equal(landed.searchParams.get('state'), state, 'with the same state')

    const after = await silent(browser)
    assert.equal(after.code, null)
    assert.equal(after.error, 'login_required', 'the provider session is over')

    // Back, and the form sent again: the provider's page about a used sign-out page.
    const resent = await browser.post(action, fields)
    assert.equal(resent.status, 400)
    assert.equal(resent.location, undefined)
    assert.match(resent.body, /<h1>This sign-out page is over<\/h1>/)

    // The site logs out again with no provider session left: the same page, the same way back.
    const again = await browser.get(`${provider.opURL}end-session/?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: HOME, state: 'again' })}`)
    assert.equal(again.status, 200)
    assert.match(again.body, /<h1>Signing you out<\/h1>/, 'the provider\'s page, not oidc-provider\'s bare form')
    const second = logoutForm(again)
    assert.equal(second.fields.logout, 'yes')
    const returned = await browser.post(second.action, second.fields)
    assert.equal(returned.location, `${HOME}?state=again`)
  })

  test('the end-session page submits itself by a script of its nonce only, and has a Sign out button; it asks first without id_token_hint', async () => {
    const browser = newBrowser()
    const { idToken } = await signIn(browser, 'bob')
    const query = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: HOME, state: 'page-state' })
    const page = await browser.get(`${provider.opURL}end-session/?${query}`)
    assert.equal(page.status, 200)
    assert.match(page.body, /<div class="brand">justpass\.me <small>local<\/small><\/div>/, 'the provider\'s look')
    assert.equal(provider.endSessionRequests.at(-1)?.get('state'), 'page-state', 'the GET query recorded')
    const { button, fields } = logoutForm(page)
    assert.ok(button, 'a visible Sign out button for browsers without script')
    assert.equal(fields.logout, 'yes')

    const csp = page.headers.get('content-security-policy') ?? ''
    const scriptSrc = /(?:^|;)\s*script-src ([^;]*)/.exec(csp)?.[1]?.trim().split(/\s+/)
    assert.ok(scriptSrc && scriptSrc.length === 1, `one script source: ${csp}`)
    const nonce = /^'nonce-([^']+)'$/.exec(scriptSrc[0]!)?.[1]
    assert.ok(nonce, `scripts by nonce only, no 'unsafe-inline': ${csp}`)
    const scripts = scriptsOf(page.body)
    assert.equal(scripts.length, 1, 'one script')
    for (const script of scripts) assert.equal(script.nonce, nonce, 'every script carries the nonce of the policy')
    assert.match(scripts[0]!.code, /getElementById\('logout-form'\)\.submit\(\)/, 'the script submits the form')

    // A second page, a second nonce.
    const again = await browser.get(`${provider.opURL}end-session/?${query}`)
    assert.notEqual(scriptsOf(again.body)[0]?.nonce, nonce)

    // Without id_token_hint the request does not show which site sent it: the page asks, with no script.
    const asked = await browser.get(`${provider.opURL}end-session/`)
    assert.equal(asked.status, 200)
    assert.equal(scriptsOf(asked.body).length, 0, 'no script')
    assert.match(asked.headers.get('content-security-policy') ?? '', /script-src 'none'/)
    assert.ok(logoutForm(asked).button)
    assert.ok((await silent(browser)).code, 'still signed in until the button is pressed')

    // The button pressed, with no place to return to: the provider's own page.
    const { action, fields: askedFields } = logoutForm(asked)
    const confirmed = await browser.post(action, askedFields)
    assert.equal(confirmed.status, 303)
    assert.equal(new URL(confirmed.location!).pathname, '/openid/end-session/success')
    const done = await browser.get(confirmed.location!)
    assert.equal(done.status, 200)
    assert.match(done.body, /<h1>You are signed out at the provider<\/h1>/)
    assert.match(done.body, new RegExp(`<a class="back" id="back" href="${HOME}">`), 'a link back to the site')
    assert.equal((await silent(browser)).error, 'login_required')
  })

  test('an unregistered post_logout_redirect_uri: the provider\'s notice page, no redirect, still signed in', async () => {
    const browser = newBrowser()
    const { idToken } = await signIn(browser, 'carol')
    const elsewhere = 'http://127.0.0.1:10/'
    for (const send of [
      () => browser.get(`${provider.opURL}end-session/?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: elsewhere, state: 's' })}`),
      () => browser.post(`${provider.opURL}end-session/`, { id_token_hint: idToken, post_logout_redirect_uri: elsewhere, state: 's' }),
    ]) {
      const page = await send()
      assert.equal(page.status, 400)
      assert.equal(page.location, undefined, 'no redirect')
      assert.match(page.headers.get('content-type') ?? '', /text\/html/)
      assert.match(page.body, /<div class="brand">justpass\.me <small>local<\/small><\/div>/, 'the provider\'s look')
      assert.match(page.body, /<h1>This site sent a wrong return address<\/h1>/)
      assert.match(page.body, /did not sign you out/)
      assert.ok(!page.body.includes(elsewhere), 'never a link to the unregistered address')
      assert.match(page.body, new RegExp(`<a class="back" id="back" href="${HOME}">`), 'back to the site')
      assert.doesNotMatch(page.body, /<form/, 'nothing to submit')
    }
    const hint = await browser.get(`${provider.opURL}end-session/?${new URLSearchParams({ id_token_hint: 'not-a-token', post_logout_redirect_uri: HOME })}`)
    assert.equal(hint.status, 400)
    assert.match(hint.body, /<h1>This sign-out request was refused<\/h1>/)
    assert.ok((await silent(browser)).code, 'still signed in at the provider')
  })

  test('prompt=login&max_age=0 with a live provider session runs the passkey step again; auth_time is at or after the request', async () => {
    const browser = newBrowser()
    const first = await signIn(browser, 'dave')
    assert.ok((await silent(browser)).code, 'a live provider session')
    // Into a later second than the first sign-in, so that its auth_time cannot pass for a fresh one.
    await new Promise((resolve) => setTimeout(resolve, 1100))

    const steps = provider.interactions.length
    const sent = Math.floor(Date.now() / 1000)
    const { back, verifier, nonce } = await authorize(browser, { prompt: 'login', max_age: '0', login_hint: 'dave' })
    assert.equal(provider.interactions.length, steps + 1, 'a fresh passkey step ran')
    assert.equal(provider.interactions.at(-1)?.prompt, 'login')
    assert.equal(provider.interactions.at(-1)?.login_hint, 'dave')
    const code = back.searchParams.get('code')
    assert.ok(code, `a code, not ${back.searchParams.get('error')}`)
    const { claims } = await exchange(code, verifier, nonce)
    assert.equal(claims.sub, first.claims.sub, 'the same account')
    assert.ok((claims.auth_time as number) >= sent, `auth_time ${claims.auth_time} is at or after the request (${sent})`)
    assert.ok((claims.auth_time as number) > (first.claims.auth_time as number), 'not the first sign-in\'s')
  })
})

describe('npm run provider: sign-out returns to the site', () => {
  const stops: Array<() => Promise<unknown>> = []
  after(async () => {
    for (const stop of stops) await stop()
  })

  test('each callback\'s origin with a / is registered as post_logout_redirect_uri; discovery announces end-session/', async () => {
    const argv = ['--client-id', 'cli-site', '--client-secret', 'cli-logout-secret-0123456789abcdef0123', '--redirect-uri', 'http://localhost:4000/justpass/callback,http://localhost:4001/cb']
    const command = parseCommand([...argv, '--port', '0', '--database', ':memory:', '--hostname', '127.0.0.1'], {})
    assert.notEqual(command, 'help')
    if (command === 'help') return
    assert.deepEqual(command.postLogoutRedirectURIs, ['http://localhost:4000/', 'http://localhost:4001/'])
    const provider = await startFromCommand(command)
    stops.push(() => provider.close())
    const discovery = (await (await fetch(`${provider.opURL}.well-known/openid-configuration`)).json()) as { end_session_endpoint?: string }
    assert.equal(discovery.end_session_endpoint, `${provider.opURL}end-session/`)
    const browser = newBrowser()
    const ask = (uri: string) => browser.get(`${provider.opURL}end-session/?${new URLSearchParams({ client_id: 'cli-site', post_logout_redirect_uri: uri })}`)
    for (const uri of command.postLogoutRedirectURIs) assert.equal((await ask(uri)).status, 200, `${uri} is registered`)
    const refused = await ask('http://localhost:4002/')
    assert.equal(refused.status, 400)
    assert.match(refused.body, /wrong return address/)
  })
})
