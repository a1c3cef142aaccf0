/**
 * The four justpass routes of a NestJS site, behind their guards.
 */
import { Controller, Get, Req, Res, UseGuards } from '@nestjs/common'
import type { Request, Response } from 'express'
import type { JustpassFlowInfo } from 'passport-justpass'
import { JustpassCallbackGuard, JustpassConfirmGuard, JustpassLoginGuard, JustpassRegisterGuard } from './justpass.guards.ts'

@Controller('justpass')
export class JustpassController {
  /** The guard redirects to justpass.me; nothing runs here. */
  @Get('reg')
  @UseGuards(JustpassRegisterGuard)
  register(): void {}

  /** The guard redirects to justpass.me; nothing runs here. */
  @Get('login')
  @UseGuards(JustpassLoginGuard)
  login(): void {}

  /** The guard redirects to justpass.me; nothing runs here. */
  @Get('confirm')
  @UseGuards(JustpassConfirmGuard)
  confirm(): void {}

  /**
   * The guard has verified the flow; log the user in (a new session for LOGIN) and answer.
   * A confirmation logs nobody in: the session stays, with `justpassConfirmedAt` set.
   */
  @Get('callback')
  @UseGuards(JustpassCallbackGuard)
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const info = req.authInfo as JustpassFlowInfo
    if (info.mode !== 'confirm') {
      await new Promise<void>((resolve, reject) =>
        req.logIn(req.user!, { session: true, keepSessionInfo: info.mode === 'register' }, (err) => (err ? reject(err) : resolve())),
      )
    }
    if (info.platform === 'app') res.json({ username: info.username, mode: info.mode })
    else res.redirect(info.returnTo ?? '/')
  }
}
