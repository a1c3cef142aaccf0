/**
 * The justpass strategy as a NestJS provider: `PassportStrategy(JustpassStrategy,
 * 'justpass')`, with `validate` leaving the decision to the user store's checks, and the
 * `authorizationParams` hook overridden to show justpass.me's pages in the language the
 * site's own page was in.
 */
import { Inject, Injectable } from '@nestjs/common'
import { PassportStrategy } from '@nestjs/passport'
import type { Request } from 'express'
import {
  JustpassStrategy,
  type JustpassFlowInfo,
  type JustpassFlowStart,
  type JustpassStrategyOptions,
  type JustpassTokens,
  type JustpassUserinfo,
  type JustpassUserStore,
} from 'passport-justpass'

/** A language the site's pages offer, as `?lang=` names it. */
const SITE_LANGUAGE = /^(?:en|fr|de|ar)$/

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
export class JustpassNestStrategy extends PassportStrategy(JustpassStrategy<NestUser>, 'justpass') {
  /** The options, with the site's user store as `userStore`: `validate` runs its checks. */
  constructor(
    @Inject(JUSTPASS_OPTIONS) options: Omit<JustpassStrategyOptions<NestUser>, 'userStore'>,
    @Inject(JUSTPASS_USERS) users: JustpassUserStore<NestUser>,
  ) {
    super({ ...options, userStore: users })
  }

  /**
   * The site's language first: a start link carrying `?lang=fr` shows the passkey step
   * in French whatever the browser prefers; without one, the defaults (the browser's
   * `Accept-Language`) stay.
   */
  protected override authorizationParams(req: Request, flow: JustpassFlowStart): Record<string, string | undefined> {
    const params = super.authorizationParams(req, flow)
    const lang = req.query.lang
    return typeof lang === 'string' && SITE_LANGUAGE.test(lang) ? { ...params, ui_locales: lang } : params
  }

  /**
   * The user store decides, with every check it offers: REG records the passkey's `sub`;
   * LOGIN and confirmations need an active account (`isActive`), passkey login on
   * (`justpassEnabledOf`) and the `sub` recorded at REG. A check that refuses throws, and
   * the callback guard answers with its reason; `false` (no such user) is `unknown_user`.
   */
  validate(tokens: JustpassTokens, userinfo: JustpassUserinfo, info: JustpassFlowInfo): Promise<NestUser | false> {
    return this.verifyWithStore(tokens, userinfo, info)
  }
}
