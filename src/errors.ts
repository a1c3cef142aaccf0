/**
 * The errors passport-justpass raises. Each has a stable `code` that a route or a log
 * can rely on; messages name the option or the check that failed and never carry a
 * secret, an authorization code or a token.
 *
 * @packageDocumentation
 */
import type { JustpassMode, RefusalReason } from './flow.js'

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
 * not a protocol answer at all (a 5xx, a body or an ID token that is not JSON). The strategy hands it
 * to `next(err)` through passport's `error()`: this is an outage, not a refusal.
 */
export class JustpassProviderError extends JustpassError {
  declare readonly code: ProviderErrorCode
  /** The flow the outage interrupted, when a callback found it: the callback handlers answer with it. */
  mode?: JustpassMode
  /** The platform the interrupted flow started from (`app` for a mobile app), when known. */
  platform?: string

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

/** What a refusal carries besides its reason and message. */
export interface JustpassRefusalOptions extends ErrorOptions {
  /** The `error` code the provider answered (`access_denied`, ...), when it answered one. */
  providerError?: string
}

/**
 * A flow was refused: every check that refuses throws one, and the strategy reports it
 * through passport's `fail()`, with what it knows of the flow. Its `code` (the reason)
 * says which check refused it; `message` is safe to show to a user.
 */
export class JustpassRefusal extends JustpassError {
  declare readonly code: RefusalReason
  /** The provider's `error` code, for `provider_denied` and answers that carried one. */
  readonly providerError: string | undefined

  /**
   * @param reason - the check that refused the flow
   * @param message - explanation, free of secrets and of provider-supplied markup
   * @param options - the provider's code, and the standard `cause`
   */
  constructor(reason: RefusalReason, message: string, options: JustpassRefusalOptions = {}) {
    super(reason, message, options.cause === undefined ? undefined : { cause: options.cause })
    this.providerError = options.providerError
  }
}
