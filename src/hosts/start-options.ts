/**
 * The options of every host's `justpassStart`, checked once, when the route is made: a
 * misspelt option or an unknown mode fails at start-up, not on a visitor's request.
 *
 * @packageDocumentation
 */
import { JustpassConfigError } from '../errors.js'
import type { JustpassAuthenticateOptions } from '../strategy.js'
import { optionalBoolean, optionalString, settingsObject } from '../validate.js'

const START_OPTIONS = new Set(['authenticator', 'strategy', 'mode', 'returnTo', 'urlOnly'])
const MODES = new Set(['register', 'login', 'confirm'])

/**
 * The strategy's name and the options it is run with, from `justpassStart`'s options
 * (the authenticator left to the host).
 *
 * @throws {@link JustpassConfigError} naming an option that `justpassStart` does not have or that is malformed
 */
export function resolveStartOptions(options: unknown): { strategy: string; authenticate: JustpassAuthenticateOptions } {
  const raw = settingsObject(options ?? {}, 'options')
  for (const key of Object.keys(raw)) {
    if (!START_OPTIONS.has(key)) {
      throw new JustpassConfigError(key, "is not an option of justpassStart (mode, returnTo, urlOnly, strategy, authenticator); for passport's own options, such as failureRedirect, use passport.authenticate('justpass', { mode, … })")
    }
  }
  if (raw.mode !== undefined && !MODES.has(raw.mode as string)) throw new JustpassConfigError('mode', "must be 'register', 'login' or 'confirm'")
  if (raw.returnTo !== undefined && (typeof raw.returnTo !== 'string' || !raw.returnTo.startsWith('/') || raw.returnTo.startsWith('//'))) {
    throw new JustpassConfigError('returnTo', 'must be a path on this site, starting with a single /')
  }
  const authenticate: JustpassAuthenticateOptions = {}
  if (raw.mode !== undefined) authenticate.mode = raw.mode as JustpassAuthenticateOptions['mode']
  if (raw.returnTo !== undefined) authenticate.returnTo = raw.returnTo as string
  if (raw.urlOnly !== undefined) authenticate.urlOnly = optionalBoolean(raw, 'urlOnly')
  return { strategy: optionalString(raw, 'strategy', 'justpass'), authenticate }
}
