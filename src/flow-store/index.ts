/**
 * The flow store a strategy uses, built once from its options.
 *
 * @packageDocumentation
 */
import { CookieFlowStore } from './cookie.js'
import { deriveSealKey, Sealer } from './seal.js'
import { SessionFlowStore } from './session.js'
import type { JustpassFlowStore } from './types.js'

/** What choosing and building a flow store takes: the strategy's resolved options carry it. */
export interface FlowStoreSettings {
  /** `'cookie'`, `'session'`, or the site's own store. */
  flowStore: 'cookie' | 'session' | JustpassFlowStore
  /** The cookie secrets, the sealing one first; empty: derive the key from `clientSecret`. */
  cookieSecrets: readonly string[]
  clientSecret: string
  /** With the callback URL, part of the key derivation: a key serves one client and one site. */
  clientID: string
  callbackURL: string
  /** Whether the callback URL is https: `Secure` and `__Host-` cookies. */
  secureCallback: boolean
  /** Seconds a flow stays valid. */
  flowMaxAge: number
  /** Flows kept per browser. */
  maxPendingFlows: number
  /** The session key of the session store. */
  sessionKey: string
}

/**
 * The store `options.flowStore` names: the sealed cookie store (keys derived here, once),
 * the session store, or the site's own.
 */
export function createFlowStore(options: FlowStoreSettings): JustpassFlowStore {
  const choice = options.flowStore
  if (typeof choice === 'object') return choice
  if (choice === 'session') return new SessionFlowStore(options.sessionKey, options.flowMaxAge, options.maxPendingFlows)
  const keys =
    options.cookieSecrets.length > 0
      ? options.cookieSecrets.map((secret) => deriveSealKey(secret, 'cookieSecret', options.clientID, options.callbackURL))
      : [deriveSealKey(options.clientSecret, 'clientSecret', options.clientID, options.callbackURL)]
  return new CookieFlowStore({ sealer: new Sealer(keys), secure: options.secureCallback, maxAge: options.flowMaxAge, maxPending: options.maxPendingFlows })
}
