/**
 * Guards for the four justpass routes: three start a flow in their mode, one finishes it.
 */
import { Injectable, UnauthorizedException, type ExecutionContext } from '@nestjs/common'
import { AuthGuard } from '@nestjs/passport'
import type { JustpassFailureInfo } from 'passport-justpass'

/** Starts REG: redirects the logged-in user to justpass.me to create a passkey. */
@Injectable()
export class JustpassRegisterGuard extends AuthGuard('justpass') {
  override getAuthenticateOptions(_context: ExecutionContext) {
    return { mode: 'register' as const }
  }
}

/** Starts LOGIN: second factor when the session holds a base username, single factor otherwise. */
@Injectable()
export class JustpassLoginGuard extends AuthGuard('justpass') {
  override getAuthenticateOptions(_context: ExecutionContext) {
    return { mode: 'login' as const }
  }
}

/** Starts a confirmation: the logged-in user confirms it is them with a passkey, then returns to `?next=`. */
@Injectable()
export class JustpassConfirmGuard extends AuthGuard('justpass') {
  override getAuthenticateOptions(_context: ExecutionContext) {
    return { mode: 'confirm' as const }
  }
}

/** Finishes a flow on the callback route; a refusal becomes a 401 carrying its reason. */
@Injectable()
export class JustpassCallbackGuard extends AuthGuard('justpass') {
  override handleRequest<TUser>(err: unknown, user: TUser | false, info: JustpassFailureInfo | undefined): TUser {
    if (err) throw err
    if (!user) throw new UnauthorizedException({ reason: info?.reason, message: info?.message, mode: info?.mode })
    return user
  }
}
