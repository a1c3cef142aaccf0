/**
 * A NestJS site with the justpass module (example/nestjs). Its bootstrap installs the
 * session and passport middleware on the app: the strategy reads the session (the
 * logged-in user, the base username), and the guards log users in through it.
 */
import 'reflect-metadata'
import { Controller, Get, Module, Req, type INestApplication } from '@nestjs/common'
import { NestFactory } from '@nestjs/core'
import session from 'express-session'
import passport from 'passport'
import type { Request } from 'express'
import type { JustpassUserStore } from 'passport-justpass'
import { JustpassModule } from '../nestjs/justpass.module.js'
import type { NestUser } from '../nestjs/justpass.strategy.js'

/** What {@link createNestSite} needs: the app's settings at justpass.me, a session secret, the users. */
export interface NestSiteConfig {
  opURL: string
  clientID: string
  clientSecret: string
  callbackURL: string
  sessionSecret: string
  users: JustpassUserStore<NestUser>
}

/** The home page: who is logged in. */
@Controller()
export class HomeController {
  /** `{ user }`: the logged-in username, or `null`. */
  @Get()
  home(@Req() req: Request): { user: string | null } {
    return { user: (req.user as NestUser | undefined)?.username ?? null }
  }
}

/** The Nest app, not listening yet: `await (await createNestSite(config)).listen(3000)`. */
export async function createNestSite(config: NestSiteConfig): Promise<INestApplication> {
  const { sessionSecret, users, ...strategy } = config

  @Module({ imports: [JustpassModule.register({ strategy, users })], controllers: [HomeController] })
  class AppModule {}

  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] })
  app.use(session({ secret: sessionSecret, resave: false, saveUninitialized: false }))
  app.use(passport.initialize())
  app.use(passport.session())
  return app
}
