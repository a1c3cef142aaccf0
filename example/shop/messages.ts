/**
 * What the shop tells the user after a passkey flow, by mode and refusal reason.
 */
import type { JustpassNotice } from '../../src/index.ts'

/** How the shop shows a notice: a success, a failure, or information (the user's own cancel, which is no error). */
export function noticeKind(notice: JustpassNotice): 'ok' | 'bad' | 'info' {
  if (notice.ok) return 'ok'
  return notice.reason === 'provider_denied' && notice.providerError === 'access_denied' ? 'info' : 'bad'
}

/** The sentence shown for a notice left by `justpassCallback`, phrased for its mode. */
export function noticeText(notice: JustpassNotice): string {
  if (notice.mode === 'confirm') return confirmText(notice)
  const register = notice.mode === 'register'
  if (notice.ok) return register ? 'Passkey login is now enabled for your account.' : 'Welcome back.'
  switch (notice.reason) {
    case 'provider_denied':
      if (notice.providerError !== 'access_denied') return register ? 'Passkey registration did not complete at justpass.me. Please try again.' : 'Passkey sign-in did not complete at justpass.me. Please try again.'
      return register ? 'Passkey registration was cancelled.' : 'Passkey sign-in was cancelled.'
    case 'identity_mismatch':
      return 'That passkey belongs to another account.'
    case 'account_disabled':
      return 'This account is disabled.'
    case 'passkey_login_off':
      return 'Passkey login is turned off for this account. Sign in with your password.'
    case 'unknown_user':
      return 'No account here matches that passkey.'
    case 'state_expired':
    case 'state_unknown':
      return 'That sign-in link expired or was already used. Please try again.'
    case 'provider_unavailable':
      return 'justpass.me could not be reached, so nothing was changed. Please try again in a moment.'
    default:
      return register ? 'Passkey registration failed. Please try again.' : 'Passkey sign-in failed. Please try again.'
  }
}

/** The sentence for a confirmation (`mode: 'confirm'`): the logged-in user showing it is them with a passkey. */
function confirmText(notice: JustpassNotice): string {
  if (notice.ok) return 'You confirmed it is you.'
  switch (notice.reason) {
    case 'provider_denied':
      return 'You did not confirm it is you, so nothing was changed.'
    case 'identity_mismatch':
      return 'That passkey belongs to another account. Nothing was changed.'
    case 'account_disabled':
      return 'This account is disabled.'
    case 'passkey_login_off':
      return 'Passkey login is turned off for this account, so a passkey cannot confirm it is you.'
    case 'login_required':
      return 'Log in first, then confirm it is you.'
    case 'state_expired':
    case 'state_unknown':
      return 'That confirmation link expired or was already used. Please try again.'
    default:
      return 'Confirming it is you failed. Nothing was changed. Please try again.'
  }
}
