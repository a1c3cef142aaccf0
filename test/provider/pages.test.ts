/**
 * The local provider's pages when a sign-in cannot go on: stale, unknown, finished and
 * expired interactions, Back-button resubmits, double cancels, malformed requests and
 * unknown addresses. Each answer is the provider's own page (or, for the passkey page's
 * own calls, JSON) in plain words with a way back to the site, and never a stack trace, a
 * server path or a parser's message. Real servers on 127.0.0.1, a cookie-keeping client.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startLocalProvider, type LocalProvider } from '../../provider/index.ts'
import { Browser, type Hop } from '../support/browser.ts'
import { signedAuthorizationURL } from '../support/signed-request.ts'

const SITE = 'http://127.0.0.1:9'
const OTHER_SITE = 'http://127.0.0.1:10'
const CLIENT = { clientID: 'pages-site', clientSecret: 'pages-site-secret-0123456789abcdef0123', redirectURIs: [`${SITE}/cb`] }
const OTHER = { clientID: 'other-site', clientSecret: 'other-site-secret-0123456789abcdef0123', redirectURIs: [`${OTHER_SITE}/return`] }

/** What must never reach a page: stack frames, error class names, server paths, parser messages. */
const LEAKS: RegExp[] = [
  /\bat\s+[#\w.<>]+\s+\(/, // a stack frame
  /SessionNotFound|SyntaxError|TypeError|URIError|Error:/,
  /node_modules|\/work\/|\/home\/|\/tmp\//,
  /Unexpected token|is not valid JSON|Failed to decode/,
  /Cannot (GET|POST)/,
]

function assertNoLeak(body: string): void {
  for (const leak of LEAKS) assert.doesNotMatch(body, leak)
  assert.ok(!body.includes(process.cwd()), 'no server path')
}

/** The provider's own page, in its look, with `heading`, linking back to `site` (or to the previous page). */
function assertNotice(hop: Hop, status: number, heading: RegExp, site: string | undefined): void {
  assert.equal(hop.status, status, `status of ${hop.url}`)
  assert.match(hop.headers.get('content-type') ?? '', /text\/html/)
  assert.match(hop.body, /<div class="brand">justpass\.me <small>local<\/small><\/div>/, 'the provider\'s look')
  const h1 = /<h1>([^<]*)<\/h1>/.exec(hop.body)?.[1] ?? ''
  assert.match(h1, heading)
  const back = /<a class="back" id="back" href="([^"]*)"/.exec(hop.body)?.[1]
  assert.equal(back, site ?? 'javascript:history.back()', 'the way back')
  assertNoLeak(hop.body)
}

describe('the local provider when a sign-in cannot go on', () => {
  let provider: LocalProvider
  let twoSites: LocalProvider

  before(async () => {
    provider = await startLocalProvider({ hostname: '127.0.0.1', clients: [CLIENT] })
    twoSites = await startLocalProvider({ hostname: '127.0.0.1', clients: [CLIENT, OTHER] })
  })

  after(async () => {
    await provider?.close()
    await twoSites?.close()
  })

  /** An authorization request as a site sends it (signed), followed to the passkey page. */
  async function startSignIn(browser: Browser, at = provider, client = CLIENT): Promise<{ page: Hop; state: string }> {
    const { url, state } = await signedAuthorizationURL(at.opURL, client)
    const { hops } = await browser.follow(url)
    const page = hops.at(-1)!
    assert.equal(page.status, 200)
    assert.match(page.body, /Create a passkey/)
    return { page, state }
  }

  const routeOf = (page: Hop, route: string) => page.url.replace('?', `/${route}?`)

  test('an unknown interaction address: "this sign-in is over", back to the site', async () => {
    const browser = new Browser()
    assertNotice(await browser.get(`${provider.opURL}interaction/no-such-interaction`), 400, /sign-in is over/, `${SITE}/`)
    assertNotice(await browser.get(`${provider.opURL}interaction/no-such-interaction?client=pages-site`), 400, /sign-in is over/, `${SITE}/`)
    const options = await browser.post(`${provider.opURL}interaction/no-such-interaction/cancel`, {})
    assertNotice(options, 400, /sign-in is over/, `${SITE}/`)
  })

  test('with several sites, the page links back to the site named in its address, and never to an unregistered one', async () => {
    const browser = new Browser()
    assertNotice(await browser.get(`${twoSites.opURL}interaction/gone?client=other-site`), 400, /sign-in is over/, `${OTHER_SITE}/`)
    assertNotice(await browser.get(`${twoSites.opURL}interaction/gone?client=pages-site`), 400, /sign-in is over/, `${SITE}/`)
    assertNotice(await browser.get(`${twoSites.opURL}interaction/gone?client=${encodeURIComponent('https://evil.example')}`), 400, /sign-in is over/, undefined)
    const { page } = await startSignIn(browser, twoSites, OTHER)
    assert.match(page.body, new RegExp(`href="${OTHER_SITE}/"`), 'the passkey page links back to its own site')
  })

  test('cancel, then Back and Cancel again: the site got access_denied once; the second Cancel shows the plain page', async () => {
    const browser = new Browser()
    const { page, state } = await startSignIn(browser)
    const cancelled = await browser.post(routeOf(page, 'cancel'), {})
    assert.equal(cancelled.status, 303)
    const { stoppedAt } = await browser.follow(cancelled.location!, (next) => next.origin === SITE)
    assert.ok(stoppedAt, 'back to the site')
    const back = new URL(stoppedAt)
    assert.equal(back.searchParams.get('error'), 'access_denied')
    assert.equal(back.searchParams.get('state'), state)

    // Back, then Cancel again; the page again; its passkey button; the resume address again.
    assertNotice(await browser.post(routeOf(page, 'cancel'), {}), 400, /sign-in is over/, `${SITE}/`)
    assertNotice(await browser.get(page.url), 400, /sign-in is over/, `${SITE}/`)
    assertNotice(await browser.get(cancelled.location!), 400, /sign-in is over/, `${SITE}/`)
    for (const route of ['options', 'verify']) {
      const answer = await browser.post(routeOf(page, route), {}, { headers: { 'content-type': 'application/json' } })
      assert.equal(answer.status, 400)
      assert.match(answer.headers.get('content-type') ?? '', /application\/json/)
      const json = JSON.parse(answer.body) as { error: string; over: boolean }
      assert.equal(json.over, true)
      assert.match(json.error, /already used, has expired/)
      assertNoLeak(answer.body)
    }
  })

  test('a double cancel (two submits at once) leads back to the site, never to a raw error', async () => {
    const browser = new Browser()
    const { page } = await startSignIn(browser)
    const answers = await Promise.all([browser.post(routeOf(page, 'cancel'), {}), browser.post(routeOf(page, 'cancel'), {})])
    for (const answer of answers) {
      assertNoLeak(answer.body)
      assert.equal(answer.status, 303, 'both cancels send the browser on')
    }
    // The browser follows the last one.
    const { stoppedAt } = await browser.follow(answers[1].location!, (next) => next.origin === SITE)
    assert.equal(new URL(stoppedAt!).searchParams.get('error'), 'access_denied')
  })

  test('a finished sign-in not yet resumed: the page sends the browser on, the passkey calls are refused as over', async () => {
    const browser = new Browser()
    const { page } = await startSignIn(browser)
    const cancelled = await browser.post(routeOf(page, 'cancel'), {})
    const again = await browser.get(page.url)
    assert.equal(again.status, 303)
    assert.equal(again.location, cancelled.location)
    const options = await browser.post(routeOf(page, 'options'), {}, { headers: { 'content-type': 'application/json' } })
    assert.equal(options.status, 400)
    assert.equal((JSON.parse(options.body) as { over: boolean }).over, true)
  })

  test('another browser (no interaction cookie) opening a live sign-in page gets the plain page', async () => {
    const { page } = await startSignIn(new Browser())
    assertNotice(await new Browser().get(page.url), 400, /sign-in is over/, `${SITE}/`)
  })

  test('malformed passkey answers: plain JSON, no parser message', async () => {
    const browser = new Browser()
    const { page } = await startSignIn(browser)
    const bodies = ['{"id": ', 'not json at all', JSON.stringify({ id: 'x'.repeat(70_000) })]
    for (const body of bodies) {
      const answer = await fetch(routeOf(page, 'verify'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: [...browser.cookies.get('127.0.0.1')!].map(([k, v]) => `${k}=${v}`).join('; ') },
        body,
      })
      const text = await answer.text()
      assert.equal(answer.status, 400)
      assert.match(answer.headers.get('content-type') ?? '', /application\/json/)
      assert.match((JSON.parse(text) as { error: string }).error, /could not understand/)
      assertNoLeak(text)
    }
    // The sign-in itself goes on: the page still offers its passkey step.
    const options = await browser.post(routeOf(page, 'options'), {}, { headers: { 'content-type': 'application/json' } })
    assert.equal(options.status, 200)
  })

  test('a malformed address and unknown addresses: the provider\'s page, not Express\'s', async () => {
    const browser = new Browser()
    assertNotice(await browser.get(`${provider.opURL}interaction/%E0%A4%A`), 400, /could not be read/, `${SITE}/`)
    assertNotice(await browser.get(`${provider.opURL}no-such-page`), 404, /nothing here/, `${SITE}/`)
    assertNotice(await browser.get(`${provider.opURL.replace('/openid/', '/')}no-such-page`), 404, /nothing here/, `${SITE}/`)
    assertNotice(await browser.post(`${provider.opURL.replace('/openid/', '/')}`, { a: 'b' }), 404, /nothing here/, `${SITE}/`)
  })

  test('authorization requests the provider cannot send back: plain words, the code for the developer', async () => {
    const browser = new Browser()
    const missing = await browser.get(`${provider.opURL}authorize/`)
    assertNotice(missing, 400, /request was refused/, `${SITE}/`)
    assert.match(missing.body, /For the site's developer: <code>invalid_request/)
    const unknown = await browser.get(`${provider.opURL}authorize/?${new URLSearchParams({ client_id: 'nobody', response_type: 'code', scope: 'openid', redirect_uri: `${SITE}/cb` })}`)
    assertNotice(unknown, 400, /not known here/, `${SITE}/`)
    const wrongReturn = await browser.get(`${twoSites.opURL}authorize/?${new URLSearchParams({ client_id: 'other-site', response_type: 'code', scope: 'openid', redirect_uri: 'https://evil.example/cb' })}`)
    assertNotice(wrongReturn, 400, /wrong return address/, `${OTHER_SITE}/`)
  })

  test('a create step asked to sign in with an existing passkey instead: login options, or plain words when there is none', async () => {
    const browser = new Browser()
    const { page } = await startSignIn(browser)
    const create = await browser.post(routeOf(page, 'options'), {}, { headers: { 'content-type': 'application/json' } })
    assert.equal(create.status, 200)
    assert.ok('user' in (JSON.parse(create.body) as object), 'registration options by default')
    const instead = await fetch(routeOf(page, 'options'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: [...browser.cookies.get('127.0.0.1')!].map(([k, v]) => `${k}=${v}`).join('; ') },
      body: JSON.stringify({ mode: 'login' }),
    })
    assert.equal(instead.status, 400)
    assert.match((await instead.json() as { error: string }).error, /alice has no passkey here yet\. Sign in with your password at the site/)
  })
})
