/**
 * A NestJS module with the justpass strategy, its guards, its routes and session
 * serialization. The site gives the strategy options and its user store: the strategy
 * runs the store's checks (`isActive`, `justpassEnabledOf`, `justpassSubOf`), and the
 * serializer finds the session's user in it.
 */
import { Module, type DynamicModule, Injectable, Inject } from '@nestjs/common'
import { PassportModule, PassportSerializer } from '@nestjs/passport'
import type { JustpassStrategyOptions, JustpassUserStore } from 'passport-justpass'
import { JustpassController } from './justpass.controller.ts'
import { JUSTPASS_OPTIONS, JUSTPASS_USERS, JustpassNestStrategy, type NestUser } from './justpass.strategy.ts'

/** Keeps the username in the session, and finds the user again on each request. */
@Injectable()
export class SessionSerializer extends PassportSerializer {
  constructor(@Inject(JUSTPASS_USERS) private readonly users: JustpassUserStore<NestUser>) {
    super()
  }

  serializeUser(user: NestUser, done: (err: Error | null, id?: string) => void): void {
    done(null, user.username)
  }

  deserializeUser(username: string, done: (err: Error | null, user?: NestUser | false) => void): void {
    this.users.findByUsername(username).then((user) => done(null, user ?? false), done)
  }
}

@Module({})
export class JustpassModule {
  /** The module, configured: strategy options (without `userStore`) and the user store, which the strategy gets as `userStore`. */
  static register(options: { strategy: Omit<JustpassStrategyOptions<NestUser>, 'userStore'>; users: JustpassUserStore<NestUser> }): DynamicModule {
    return {
      module: JustpassModule,
      imports: [PassportModule.register({ session: true })],
      controllers: [JustpassController],
      providers: [
        { provide: JUSTPASS_OPTIONS, useValue: options.strategy },
        { provide: JUSTPASS_USERS, useValue: options.users },
        JustpassNestStrategy,
        SessionSerializer,
      ],
    }
  }
}
