/**
 * The errors passport-justpass raises. Each has a stable `code` that a route or a log
 * can rely on; messages name the option or the check that failed and never carry a
 * secret, an authorization code or a token.
 *
 * @packageDocumentation
 */

/** Base class of every error this package raises. */
export class JustpassError extends Error {
  /** A stable, machine-readable reason. */
  readonly code: string

  /**
   * @param code - stable reason code
   * @param message - human-readable explanation, free of secrets
   * @param options - standard error options (`cause`)
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/**
 * A strategy option is missing or malformed. Thrown by the constructor, at once, so
 * that a misconfigured site fails at start-up rather than on its first login.
 */
export class JustpassConfigError extends JustpassError {
  /** The name of the offending option, as passed to the constructor. */
  readonly option: string

  /**
   * @param option - name of the option at fault
   * @param message - what is wrong with it
   */
  constructor(option: string, message: string) {
    super('invalid_option', `passport-justpass: option "${option}" ${message}`)
    this.option = option
  }
}

/** Why a provider call did not produce a usable answer. */
export type ProviderErrorCode =
  | 'provider_timeout'
  | 'provider_unreachable'
  | 'provider_server_error'
  | 'provider_bad_response'
  | 'provider_metadata'

/**
 * The provider could not be reached, was too slow, or answered with something that is
 * not a protocol answer at all (a 5xx, a body that is not JSON). The strategy hands it
 * to `next(err)` through passport's `error()`: this is an outage, not a refusal.
 */
export class JustpassProviderError extends JustpassError {
  declare readonly code: ProviderErrorCode

  /**
   * @param code - what went wrong
   * @param message - explanation naming the endpoint role, never a secret
   * @param options - standard error options (`cause`)
   */
  constructor(code: ProviderErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options)
  }
}

/**
 * The strategy is used in a way it cannot work: no session middleware, an unknown
 * `mode` passed to `passport.authenticate`. Handed to `error()`.
 */
export class JustpassUsageError extends JustpassError {
  /**
   * @param message - what the site must change
   */
  constructor(message: string) {
    super('invalid_usage', `passport-justpass: ${message}`)
  }
}

/** Every reason for which a flow is refused; carried by {@link JustpassRefusal}. */
export type RefusalReason =
  /** REG was asked for without a logged-in user. */
  | 'login_required'
  /** The callback carried no usable `state`, or the same parameter twice. */
  | 'invalid_callback'
  /** No pending flow has this `state` in this session (unknown, replayed, another session's). */
  | 'state_unknown'
  /** The pending flow is older than `flowMaxAge`. */
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

/**
 * A flow was refused: what the strategy reports through passport's `fail()`. Its
 * `reason` says which check refused it; `message` is safe to show to a user.
 */
export class JustpassRefusal extends JustpassError {
  declare readonly code: RefusalReason

  /**
   * @param reason - the check that refused the flow
   * @param message - explanation, free of secrets and of provider-supplied markup
   * @param options - standard error options (`cause`)
   */
  constructor(reason: RefusalReason, message: string, options?: ErrorOptions) {
    super(reason, message, options)
  }
}
