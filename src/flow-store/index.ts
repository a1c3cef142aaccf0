/**
 * The flow store a strategy uses, built once from its options.
 *
 * @packageDocumentation
 */
import type { ResolvedOptions } from '../options.js'
import { CookieFlowStore } from './cookie.js'
import { deriveSealKey, Sealer } from './seal.js'
import { SessionFlowStore } from './session.js'
import type { JustpassFlowStore } from './types.js'

/**
 * The store `options.flowStore` names: the sealed cookie store (keys derived here, once),
 * the session store, or the site's own.
 */
export function createFlowStore(options: ResolvedOptions): JustpassFlowStore {
  const choice = options.flowStore
  if (typeof choice === 'object') return choice
  if (choice === 'session') return new SessionFlowStore(options.sessionKey, options.flowMaxAge, options.maxPendingFlows)
  const keys =
    options.cookieSecrets.length > 0
      ? options.cookieSecrets.map((secret) => deriveSealKey(secret, 'cookieSecret', options.clientID, options.callbackURL))
      : [deriveSealKey(options.clientSecret, 'clientSecret', options.clientID, options.callbackURL)]
  return new CookieFlowStore({ sealer: new Sealer(keys), secure: options.secureCallback, maxAge: options.flowMaxAge, maxPending: options.maxPendingFlows })
}
