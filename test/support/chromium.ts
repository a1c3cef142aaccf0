/**
 * Headless Chromium (Debian's, /usr/bin/chromium) with one page and a WebAuthn virtual
 * authenticator on it that holds resident keys and verifies the user: passkeys made and
 * used without a person.
 */
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core'

/** The flags the browser tests run Chromium with. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** A browser, its page, and the page's virtual authenticator. */
export interface PasskeyBrowser {
  browser: Browser
  page: Page
  cdp: CDPSession
  authenticatorId: string
}

/** Launch Chromium with a page that has a virtual authenticator; the caller closes `browser`. */
export async function launchWithPasskeys(): Promise<PasskeyBrowser> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS })
  const page = await browser.newPage()
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  })
  return { browser, page, cdp, authenticatorId }
}
