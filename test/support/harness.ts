/**
 * One site and one provider on loopback, wired together, and the steps of a flow as a
 * browser takes them.
 */
import { after, before } from 'node:test'
import { buildTestApp, reserveTestApp, type TestApp, type TestAppOptions } from './app.ts'
import { Browser, type Hop } from './browser.ts'
import { startTestProvider, type TestProvider, type TestProviderOptions } from './provider.ts'

export interface Harness {
  app: TestApp
  provider: TestProvider
  close(): Promise<void>
}

/** Start a provider and a site that trusts it. */
export async function startHarness(
  appOptions: TestAppOptions = {},
  providerOptions: Omit<TestProviderOptions, 'redirectURIs'> = {},
): Promise<Harness> {
  const server = await reserveTestApp()
  const provider = await startTestProvider({ ...providerOptions, redirectURIs: [server.callbackURL] })
  return { ...siteOf(server, provider, appOptions), provider }
}

/** The test site on `server`, trusting `provider` (any provider the site can talk to), closed with it. */
export function siteOf<Provider extends { close(): Promise<void> } & Parameters<typeof buildTestApp>[1]>(
  server: Parameters<typeof buildTestApp>[0],
  provider: Provider,
  appOptions: TestAppOptions = {},
): { app: TestApp; provider: Provider; close(): Promise<void> } {
  const app = buildTestApp(server, provider, appOptions)
  return {
    app,
    provider,
    close: async () => {
      await app.close()
      await provider.close()
    },
  }
}

/** A flow taken as far as the provider's redirect back to the site. */
export interface StartedFlow {
  /** The hops from the site's start route to the provider and back. */
  hops: Hop[]
  /** The authorization request's parameters, as the browser carried them. */
  authorize?: URLSearchParams
  /** The callback URL the provider sent the browser to, not yet requested. */
  callback?: string
}

/**
 * Request `path` on the site and follow redirects through the provider until the
 * browser is sent back to the site's callback (not requested yet).
 */
export async function startFlow(browser: Browser, harness: Harness, path: string): Promise<StartedFlow> {
  const { hops, stoppedAt } = await browser.follow(`${harness.app.origin}${path}`, (next) => next.href.startsWith(harness.app.callbackURL))
  const authorizeHop = hops.find((hop) => hop.url.startsWith(`${harness.provider.opURL}authorize/?`))
  const flow: StartedFlow = { hops }
  if (authorizeHop) flow.authorize = new URL(authorizeHop.url).searchParams
  if (stoppedAt) flow.callback = stoppedAt
  return flow
}

/** Request the callback and follow the site's redirects; returns the hops. */
/** Start the flow of `path` and follow the provider's redirect back through the callback: the hops after it. */
export async function runFlow(browser: Browser, harness: Harness, path: string): Promise<Hop[]> {
  const flow = await startFlow(browser, harness, path)
  if (flow.callback === undefined) throw new Error(`${path} did not come back to the callback`)
  return finishFlow(browser, flow.callback)
}

/**
 * Run the flow of `path` in `browser` (a fresh one by default): where the callback sent
 * it, and who the site then says is logged in, with the notice.
 */
export async function flowOutcome(harness: Harness, path: string, browser = new Browser()): Promise<{ location: string | undefined; me: Awaited<ReturnType<typeof whoAmI>> }> {
  const [answer] = await runFlow(browser, harness, path)
  return { location: answer?.location, me: await whoAmI(browser, harness) }
}

export async function finishFlow(browser: Browser, callback: string): Promise<Hop[]> {
  return (await browser.follow(callback)).hops
}

/** Who the site says is logged in, and the notice it shows once. */
export async function whoAmI(browser: Browser, harness: Harness): Promise<{ user: { username: string; justpassEnabled: boolean } | null; notice: { mode: string; ok: boolean; reason?: string } | null; sessionID: string }> {
  return browser.json(`${harness.app.origin}/me`)
}

/**
 * Start a harness before the tests of the enclosing `describe` and close it after them.
 * The object returned is filled in by the `before` hook: read it inside tests and hooks.
 */
export function harnessForSuite(appOptions?: TestAppOptions, providerOptions?: Omit<TestProviderOptions, 'redirectURIs'>): Harness {
  const harness = {} as Harness
  before(async () => {
    Object.assign(harness, await startHarness(appOptions, providerOptions))
  })
  after(() => harness.close())
  return harness
}
