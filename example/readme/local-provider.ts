/**
 * A site's settings for the local justpass-compatible provider (`npm run provider`), and
 * the provider started from a site's own tests, with the passkey step completed in code.
 */
import { JustpassStrategy, type JustpassUserStore } from 'passport-justpass'
import { startLocalProvider, type LocalProvider } from '../../provider/index.ts'

/** The strategy of a site on http://localhost:4000 against `npm run provider` (its defaults). */
export function localStrategy<User>(userStore: JustpassUserStore<User>): JustpassStrategy<User> {
  // #region strategy
  return new JustpassStrategy({
    opURL: 'http://localhost:4001/openid/',
    clientID: 'my-site',
    clientSecret: process.env.JUSTPASS_CLIENT_SECRET!, // the secret npm run provider printed
    callbackURL: 'http://localhost:4000/justpass/callback',
    userStore,
  })
  // #endregion
}

/** The client secret of the site's tests. */
export const TEST_CLIENT_SECRET = 'a-test-secret-of-32-characters-or-more'

/** The provider for the tests of a site at `siteOrigin`: in memory, on a free port. */
export async function startProviderFor(siteOrigin: string): Promise<LocalProvider> {
  // #region tests
  return startLocalProvider({
    hostname: '127.0.0.1', // tests without a browser can use the IP address
    clients: [{ clientID: 'shop-test', clientSecret: TEST_CLIENT_SECRET, redirectURIs: [`${siteOrigin}/justpass/callback`] }],
    // The passkey of the user the site named (login_hint), else alice's; { cancel: true } cancels.
    completeInteraction: async ({ params }) => ({ username: typeof params.login_hint === 'string' ? params.login_hint : 'alice' }),
  })
  // #endregion
}
