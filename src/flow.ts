/**
 * The flow and what is said of it: its mode, who it is for, what the strategy keeps of
 * it between the redirect and the callback, and what it tells the site on success and
 * on refusal. One identity runs through all of them under one name, `username`: the
 * name the site knows its user by, sent to justpass.me as `login_hint` and
 * `username`, and vouched for by the provider as `preferred_username`.
 *
 * @packageDocumentation
 */
/** Every reason for which a flow is refused; carried by {@link JustpassRefusal}. */
export type RefusalReason =
  /** REG or a confirmation was asked for without a logged-in user. */
  | 'login_required'
  /** A flow was started on another host name than `callbackURL`'s and could not be sent there. */
  | 'wrong_host'
  /** The callback carried no usable `state`, or the same parameter twice. */
  | 'invalid_callback'
  /** No pending flow of this browser has this `state` (unknown, replayed, another browser's). */
  | 'state_unknown'
  /** The pending flow is older than the flow store's `maxAge`. */
  | 'state_expired'
  /** The provider answered `error=...` (the user cancelled, for one). */
  | 'provider_denied'
  /** The token endpoint refused the code (`invalid_grant` and the like). */
  | 'token_rejected'
  /** The token or authorization response broke the protocol (mix-up `iss`, token type, ...). */
  | 'response_invalid'
  /** The ID token failed a check: signature, alg, iss, aud, exp, iat, nonce, a missing auth_time. */
  | 'id_token_invalid'
  /** The ID token's `auth_time` is older than `authTimeMaxAge` allows for the flow's mode. */
  | 'auth_too_old'
  /** Userinfo failed a check: `sub` mismatch, `preferred_username` missing. */
  | 'userinfo_invalid'
  /** The passkey belongs to someone other than the user this flow was for. */
  | 'identity_mismatch'
  /** LOGIN succeeded at the provider but the site has no such user. */
  | 'unknown_user'
  /** The user store says the account may not log in (`isActive` answered `false`). */
  | 'account_disabled'
  /** The user store says passkey login is off for the account (`justpassEnabledOf` did not answer `true`). */
  | 'passkey_login_off'

/**
 * What a flow does: register a passkey (REG), log in with one (LOGIN), or re-check the
 * logged-in user with one before a sensitive action (`'confirm'`: nobody is logged in
 * or switched, the session keeps its data).
 */
export type JustpassMode = 'register' | 'login' | 'confirm'

/**
 * Who a flow is for, decided at initiation from the mode, the logged-in user and the
 * session. The `authorizationParams` hook receives it.
 */
export interface JustpassFlowStart {
  /** `'register'` (REG), `'login'` (LOGIN) or `'confirm'`. */
  mode: JustpassMode
  /**
   * The username the passkey must belong to: the logged-in user for REG and confirm, the
   * password step's base username for a second-factor LOGIN; none for a single-factor LOGIN.
   */
  username?: string
  /** The platform the request named in its platform header (`'app'` for a mobile app). */
  platform?: string
  /** A same-origin path to return to after the flow, from `?next=` (or a guard's `returnTo`). */
  returnTo?: string
}

/** What the strategy keeps of a started flow until its callback, besides its `state`. */
export interface NewFlow extends JustpassFlowStart {
  /** The PKCE code verifier. */
  verifier: string
  /** The nonce the ID token must carry. */
  nonce: string
  /** The `acr_values` the request asked for (space-separated), when it asked: an `acr` in the ID token must be one of them. */
  acrValues?: string
}

/** A kept flow, as a store hands it back: stamped with its start time. */
export interface PendingFlow extends NewFlow {
  /** When the flow started, in seconds since the epoch. */
  started: number
}

/** What the strategy knows of a flow; given to the verify callback and carried by success and fail. */
export interface JustpassFlowInfo {
  /** `'register'` (REG), `'login'` (LOGIN) or `'confirm'`. */
  mode: JustpassMode
  /** The platform the flow was started from (`'app'` for a mobile app), when it named one. */
  platform?: string
  /** The same-origin path to go to after LOGIN, from `?next=` at initiation. */
  returnTo?: string
  /** The username the passkey belongs to (`preferred_username`); set once userinfo vouched for it. */
  username?: string
  /** For LOGIN: whether it was a second factor (a base username was in the session). */
  secondFactor?: boolean
  /**
   * On success only: the flow's ID token, which the callback handlers keep in the
   * session for logout at the provider (`id_token_hint`). Not enumerable, so that it
   * stays out of `JSON.stringify` and `util.inspect` of the info.
   */
  readonly idToken?: string
}

/** What `fail()` carries: a user-safe message, the reason code, and what is known of the flow. */
export interface JustpassFailureInfo {
  /** A message fit to show to the user; never contains a secret or provider-supplied markup. */
  message: string
  /** The check that refused the flow. */
  reason: RefusalReason
  /** The flow's mode, when it is known: the started or found flow's (not for an unknown `state`). */
  mode?: JustpassMode
  /** The flow's platform, when the flow was found and named one (or the callback request's). */
  platform?: string
  /** The `error` code the provider answered (`access_denied`, ...), when it answered one. */
  providerError?: string
  /**
   * `state_unknown` only: the callback was already used, by a flow this process finished
   * (Back or a reload after signing in). Not set for flows finished by another instance.
   */
  alreadyUsed?: true
}

/**
 * What the site is told of a kept flow: its mode, platform, return path, and for LOGIN
 * whether it was a second factor. The username is added once userinfo vouched for it.
 */
export function flowInfoOf(flow: JustpassFlowStart): JustpassFlowInfo {
  const info: JustpassFlowInfo = { mode: flow.mode }
  if (flow.platform !== undefined) info.platform = flow.platform
  if (flow.returnTo !== undefined) info.returnTo = flow.returnTo
  if (flow.mode === 'login') info.secondFactor = flow.username !== undefined
  return info
}
