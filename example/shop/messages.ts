/**
 * What the shop tells the user after a passkey flow, by mode and refusal reason.
 */
import type { JustpassNotice } from '../../src/index.ts'

/** The sentence shown for a notice left by `justpassCallback`, phrased for its mode. */
export function noticeText(notice: JustpassNotice): string {
  const register = notice.mode === 'register'
  if (notice.ok) return register ? 'Passkey login is now enabled for your account.' : 'Welcome back.'
  switch (notice.reason) {
    case 'provider_denied':
      return register ? 'Passkey registration was cancelled.' : 'Passkey sign-in was cancelled.'
    case 'identity_mismatch':
      return 'That passkey belongs to another account.'
    case 'account_disabled':
      return 'This account is disabled.'
    case 'unknown_user':
      return 'No account here matches that passkey.'
    case 'state_expired':
    case 'state_unknown':
      return 'That sign-in link expired or was already used. Please try again.'
    default:
      return register ? 'Passkey registration failed. Please try again.' : 'Passkey sign-in failed. Please try again.'
  }
}
