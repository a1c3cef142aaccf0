/**
 * The strategy's own options, the site's side of a flow: its callback URL, its users,
 * its session keys, and what it asks of the provider per flow. The provider settings
 * have their builder ({@link justpassProvider}); the flow settings go with the flow
 * store. Validated once, at construction.
 *
 * @packageDocumentation
 */
import { JustpassConfigError } from './errors.js'
import { createFlowStore, DEFAULT_FLOW_MAX_AGE, type JustpassFlowStoreOption } from './flow-store/index.js'
import type { JustpassFlowStore } from './flow-store/types.js'
import type { JustpassMode } from './flow.js'
import { isJustpassProvider, isLoopback, justpassProvider, PROVIDER_SETTINGS, PROVIDER_SHORTHAND, type JustpassProvider } from './provider-settings.js'
import type { JustpassUserStore } from './user-store.js'
import { optionalBoolean, optionalInteger, optionalString, plainHttpURL, refuseUnknown, settingsObject, type RawSettings } from './validate.js'

/** Options of {@link JustpassStrategy}: `callbackURL`, the provider (`provider`, or the shorthand), and `userStore` or a verify callback. */
export interface JustpassStrategyOptions<User = unknown> {
  /**
   * The provider and this client at it, from {@link justpassProvider}. Instead, the
   * shorthand `opURL` (or `organization`), `clientID` and `clientSecret` may be given
   * here, for the provider with every other setting at its default.
   */
  provider?: JustpassProvider
  /** Shorthand for `provider: justpassProvider({ opURL, clientID, clientSecret })`: the provider base URL. */
  opURL?: string
  /** Shorthand: the organization's name at justpass.me, instead of `opURL`. */
  organization?: string
  /** Shorthand: the app's client id at justpass.me. */
  clientID?: string
  /** Shorthand: the app's client secret. Never logged, never in a message. */
  clientSecret?: string
  /**
   * The site's absolute callback URL, registered at justpass.me as a redirect URI. Its
   * host is where flows start: a start on another host name is redirected to the same
   * path on this origin first (or refused with `wrong_host`); serve the site on one
   * canonical host.
   */
  callbackURL: string
  /**
   * The site's users. Required unless a verify callback is given: the default verify
   * looks LOGIN users up with it and sets the passkey flag on REG.
   */
  userStore?: JustpassUserStore<User>
  /** The field of `req.user` that holds the username sent to justpass.me. Default `'username'`. */
  usernameField?: string
  /**
   * The session key under which the password step stores the base username for a
   * second-factor LOGIN (`req.session[baseUsernameKey]`). Default `'base_username'`.
   */
  baseUsernameKey?: string
  /** Scopes to ask for; must include `openid`. Default `'openid'`. */
  scope?: string | readonly string[]
  /** `false` (the default): the verify callback does not receive the request. */
  passReqToCallback?: false
  /** The `max_age` sent, in seconds from 0 to 86400; the ID token's `auth_time` is checked against it. Default `60`. */
  maxAge?: number
  /**
   * The longest time, in seconds, between the user's authentication at the provider
   * (the ID token's `auth_time`) and the callback; `false` to accept any age. One value
   * for both modes, or `{ register, login }`. Default: REG not enforced (the identity
   * binding protects REG, and some providers reuse a login session for it), LOGIN
   * `maxAge`. An older `auth_time` is refused with reason `auth_too_old`.
   */
  authTimeMaxAge?: AuthTimeMaxAge
  /**
   * The request header in which a mobile app names its platform (letters, digits and
   * `-`). Default `'amwal-platform'`; the Firebase extension's apps send
   * `'justpass-me-platform'`. Its value (`app`, …) reaches the `authorizationParams` hook
   * as `flow.platform`, and the outcome.
   */
  platformHeader?: string
  /** Where pending flows are kept, with that store's settings. Default `'cookie'`: see `JustpassFlowStoreOption`. */
  flowStore?: JustpassFlowStoreOption
}

/**
 * The longest age of `auth_time` accepted, in seconds from 0 to 86400, or `false` for
 * none: one value for both modes, or one per mode.
 */
export type AuthTimeMaxAge =
  | number
  | false
  | {
      /** REG's bound, in seconds, or `false` (the default) for none. */
      register?: number | false
      /** LOGIN's bound, in seconds, or `false` for none. Default `maxAge`. */
      login?: number | false
    }

/** Options of a {@link JustpassStrategy} whose verify callback receives the request first. */
export interface JustpassStrategyOptionsWithRequest<User = unknown> extends Omit<JustpassStrategyOptions<User>, 'passReqToCallback'> {
  /** Pass `req` as the first argument of the verify callback. */
  passReqToCallback: true
}

/** The strategy's options after validation, with defaults applied and the stores built. */
export interface StrategySettings<User = unknown> {
  provider: JustpassProvider
  callbackURL: string
  /** The path of `callbackURL`, to recognise a callback request that carries nothing. */
  callbackPath: string
  userStore: JustpassUserStore<User> | undefined
  usernameField: string
  baseUsernameKey: string
  scope: string
  passReqToCallback: boolean
  maxAge: number
  /** The enforced age of `auth_time` for REG and LOGIN, in seconds, or `false` for none. */
  authTimeMaxAge: Record<Exclude<JustpassMode, 'confirm'>, number | false>
  /** Lower-cased, as Node.js presents header names. */
  platformHeader: string
  flowStore: JustpassFlowStore
  /** Seconds a flow stays valid in the flow store. */
  flowMaxAge: number
}

const STRATEGY_OPTIONS = new Set([
  'provider', ...PROVIDER_SHORTHAND, 'callbackURL', 'userStore', 'usernameField', 'baseUsernameKey', 'scope',
  'passReqToCallback', 'maxAge', 'authTimeMaxAge', 'platformHeader', 'flowStore',
])

const TO_HOOK = 'the authorization parameters come from the authorizationParams(req, flow) method: override it in a subclass'
/**
 * Options that belong elsewhere, and where: every provider setting but the shorthand, and
 * names other passport strategies use (`sessionKey`, `acrValues`, `uiLocales`).
 */
const MOVED: Record<string, string> = {
  ...Object.fromEntries(
    [...PROVIDER_SETTINGS]
      .filter((name) => !(PROVIDER_SHORTHAND as readonly string[]).includes(name))
      .map((name) => [name, `it belongs to the provider settings: provider: justpassProvider({ …, ${name} })`]),
  ),
  sessionKey: "it belongs to the session flow store: flowStore: { type: 'session', key }",
  acrValues: TO_HOOK,
  uiLocales: TO_HOOK,
}

const HEADER_NAME = /^[A-Za-z0-9-]+$/

/** The provider: the one given, or one built from the shorthand (never both). */
function resolveProvider(options: RawSettings): JustpassProvider {
  const shorthand = PROVIDER_SHORTHAND.filter((name) => options[name] !== undefined)
  if (options.provider === undefined) {
    return justpassProvider(Object.fromEntries(shorthand.map((name) => [name, options[name]])) as never)
  }
  if (!isJustpassProvider(options.provider)) throw new JustpassConfigError('provider', 'must be made by justpassProvider({ … })')
  if (shorthand.length > 0) throw new JustpassConfigError(shorthand[0]!, 'and provider name the provider twice: give it only in justpassProvider({ … })')
  return options.provider
}

function resolveScope(value: unknown): string {
  if (value === undefined) return 'openid'
  const scopes = typeof value === 'string' ? value.split(' ').filter(Boolean) : value
  if (!Array.isArray(scopes) || scopes.some((scope) => typeof scope !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope))) {
    throw new JustpassConfigError('scope', 'must be a space-separated string or an array of scope names')
  }
  if (!scopes.includes('openid')) throw new JustpassConfigError('scope', 'must include "openid"')
  return scopes.join(' ')
}

function resolveUserStore<User>(value: unknown, hasVerify: boolean): JustpassUserStore<User> | undefined {
  if (value === undefined) {
    if (hasVerify) return undefined
    throw new JustpassConfigError('userStore', 'is required unless a verify callback is given')
  }
  const store = value as Partial<JustpassUserStore<User>> | null
  if (typeof store !== 'object' || store === null || typeof store.findByUsername !== 'function' || typeof store.setJustpassEnabled !== 'function') {
    throw new JustpassConfigError('userStore', 'must have findByUsername(username) and setJustpassEnabled(username, enabled) methods')
  }
  for (const method of ['createUser', 'isActive', 'justpassSubOf', 'justpassEnabledOf'] as const) {
    if (store[method] !== undefined && typeof store[method] !== 'function') {
      throw new JustpassConfigError('userStore', `${method}, when present, must be a function`)
    }
  }
  return store as JustpassUserStore<User>
}

function ageOrFalse(value: unknown): number | false {
  if (value === false) return false
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 86_400) {
    throw new JustpassConfigError('authTimeMaxAge', 'must be false or an integer number of seconds from 0 to 86400')
  }
  return value
}

function resolveAuthTimeMaxAge(value: unknown, maxAge: number): StrategySettings['authTimeMaxAge'] {
  if (value === undefined) return { register: false, login: maxAge }
  if (typeof value === 'object' && value !== null) {
    const modes = value as RawSettings
    for (const key of Object.keys(modes)) {
      if (key !== 'register' && key !== 'login') throw new JustpassConfigError('authTimeMaxAge', `has an unknown mode "${key}": use register and login`)
    }
    return {
      register: modes.register === undefined ? false : ageOrFalse(modes.register),
      login: modes.login === undefined ? maxAge : ageOrFalse(modes.login),
    }
  }
  const age = ageOrFalse(value)
  return { register: age, login: age }
}

/**
 * Validate the constructor's options and resolve them once: the provider settings
 * resolved (from `provider` or the shorthand), defaults applied, the flow store built.
 *
 * @throws {@link JustpassConfigError} naming the first option that is missing, malformed, or not the strategy's
 */
export function resolveOptions<User>(input: JustpassStrategyOptions<User> | JustpassStrategyOptionsWithRequest<User>, hasVerify: boolean): StrategySettings<User> {
  const options = settingsObject(input, 'options')
  refuseUnknown(options, STRATEGY_OPTIONS, MOVED, 'the strategy')
  const provider = resolveProvider(options)
  const passReqToCallback = optionalBoolean(options, 'passReqToCallback')
  if (passReqToCallback && !hasVerify) throw new JustpassConfigError('passReqToCallback', 'needs a verify callback (the second constructor argument)')
  const callbackURL = plainHttpURL('callbackURL', options.callbackURL)
  if (callbackURL.protocol === 'http:' && !isLoopback(callbackURL.hostname) && !provider.allowInsecureHTTP) {
    throw new JustpassConfigError(
      'callbackURL',
      'must use https: (plain http: is accepted only for loopback hosts, or with allowInsecureHTTP: true in the provider settings): on plain http the flow cookies cannot be Secure or __Host-, and a sibling subdomain could plant one',
    )
  }
  const maxAge = optionalInteger(options, 'maxAge', 60, 0, 86_400)
  const flowStore = createFlowStore(options.flowStore, { provider, callbackURL: callbackURL.href, secureCallback: callbackURL.protocol === 'https:' })
  return {
    provider,
    callbackURL: callbackURL.href,
    callbackPath: callbackURL.pathname,
    userStore: resolveUserStore<User>(options.userStore, hasVerify),
    usernameField: optionalString(options, 'usernameField', 'username'),
    baseUsernameKey: optionalString(options, 'baseUsernameKey', 'base_username'),
    scope: resolveScope(options.scope),
    passReqToCallback,
    maxAge,
    authTimeMaxAge: resolveAuthTimeMaxAge(options.authTimeMaxAge, maxAge),
    platformHeader: optionalString(options, 'platformHeader', 'amwal-platform', HEADER_NAME).toLowerCase(),
    flowStore,
    flowMaxAge: flowStore.maxAge ?? DEFAULT_FLOW_MAX_AGE,
  }
}
