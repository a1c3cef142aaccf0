/**
 * Tracing with `debug`: `DEBUG=passport-justpass` prints each step of each flow. Lines
 * name the mode, the first characters of the state and the check that refused; never
 * the client secret, a code, a token or a whole state.
 *
 * @packageDocumentation
 */
import createDebug from 'debug'

/** The package's debug logger. */
export const log = createDebug('passport-justpass')

/**
 * The first six characters of a state, printable ASCII only: enough to follow a flow,
 * useless to replay it, and no way for a forged state to break a log line.
 */
export function statePrefix(state: string): string {
  return `${state.slice(0, 6).replace(/[^\x21-\x7e]/g, '?')}…`
}
