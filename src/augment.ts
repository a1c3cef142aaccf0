/**
 * Type augmentations for Express and passport: `mode` in `passport.authenticate`
 * options, and the session fields passport-justpass reads and writes under their
 * default keys.
 *
 * @packageDocumentation
 */
import type { JustpassMode } from './flow.js'
import type { PendingFlows } from './flow-store/session.js'
import type { JustpassNotice } from './hosts/callback-answer.js'
import type {} from 'express-session'

declare module 'passport' {
  interface AuthenticateOptions {
    /** passport-justpass: the flow an initiation route starts, `'register'`, `'login'` or `'confirm'`. */
    mode?: JustpassMode
    /** passport-justpass: answer `{"url": …}` as JSON instead of redirecting. */
    urlOnly?: boolean
    /** passport-justpass: a same-site path to return to after the flow, instead of `?next=`. */
    returnTo?: string
  }
}

declare module 'express-session' {
  interface SessionData {
    /** The base username the password step stored for a second-factor LOGIN (default `baseUsernameKey`). */
    base_username?: string
    /** passport-justpass's pending flows, by `state`, with `flowStore: 'session'` (under the session store's `key`, `'justpass'` by default). */
    justpass?: PendingFlows
    /** The outcome notice left by `justpassCallback` (default `noticeKey`). */
    justpass_notice?: JustpassNotice
    /** When the session's user last confirmed it was them with a passkey (`mode: 'confirm'`), in seconds since the epoch. */
    justpassConfirmedAt?: number
    /** The ID token of the LOGIN, REG or confirmation that last succeeded in this session: the `id_token_hint` of `justpassLogout`. */
    justpassIdToken?: string
  }
}

export {}
