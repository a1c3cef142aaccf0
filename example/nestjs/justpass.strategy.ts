/**
 * The justpass strategy as a NestJS provider: `PassportStrategy(JustpassStrategy,
 * 'justpass')`, with `validate` deciding which user a verified passkey logs in.
 */
import { Inject, Injectable } from '@nestjs/common'
import { PassportStrategy } from '@nestjs/passport'
import { JustpassStrategy, type JustpassFlowInfo, type JustpassStrategyOptions, type JustpassTokens, type JustpassUserinfo, type JustpassUserStore } from 'passport-justpass'

/** Injection token of the strategy options. */
export const JUSTPASS_OPTIONS = Symbol('JUSTPASS_OPTIONS')
/** Injection token of the site's user store. */
export const JUSTPASS_USERS = Symbol('JUSTPASS_USERS')

/** The site's user, as the example keeps it. */
export interface NestUser {
  username: string
  justpassEnabled: boolean
}

@Injectable()
export class JustpassNestStrategy extends PassportStrategy(JustpassStrategy, 'justpass') {
  constructor(
    @Inject(JUSTPASS_OPTIONS) options: JustpassStrategyOptions<NestUser>,
    @Inject(JUSTPASS_USERS) private readonly users: JustpassUserStore<NestUser>,
  ) {
    super(options)
  }

  /** REG: set the passkey flag; LOGIN: the user the passkey belongs to, or `null` to refuse. */
  async validate(_tokens: JustpassTokens, userinfo: JustpassUserinfo, info: JustpassFlowInfo): Promise<NestUser | null> {
    if (info.mode === 'register') return (await this.users.setJustpassEnabled(userinfo.preferred_username, true)) ?? null
    return (await this.users.findByUsername(userinfo.preferred_username)) ?? null
  }
}
