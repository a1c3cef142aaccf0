/**
 * docs/fastify.md's and docs/koa.md's sites (example/readme/fastify.ts and koa.ts),
 * with the default cookie flow store, complete every flow a host must over HTTP against
 * the local provider: REG, second-factor and single-factor LOGIN, cancel, the identity
 * binding, a replayed callback, a mobile app's JSON answers and a URL-only start. Needs
 * `npm run build` first: the examples import the package by its name, which resolves
 * to dist/.
 */
import type { MemoryUser } from 'passport-justpass'
import { createFastifyGuideSite } from '../example/readme/fastify.ts'
import { createKoaGuideSite } from '../example/readme/koa.ts'
import { hostFlowSuite, type HostSiteInput } from './support/host-flows.ts'

/** The first factor of the test's users: `<name>-password`. */
function passwordCheck(input: HostSiteInput): (username: string, password: string) => Promise<MemoryUser | undefined> {
  return async (username, password) => {
    const user = await input.users.findByUsername(username)
    return user && input.passwords.get(username) === password ? user : undefined
  }
}

hostFlowSuite('docs/fastify.md', 'cookie', async (input) => {
  const app = createFastifyGuideSite({
    opURL: input.provider.opURL,
    clientID: input.provider.clientID,
    clientSecret: input.provider.clientSecret,
    callbackURL: input.callbackURL,
    sessionSecret: 'fastify-guide-session-secret-0123456789',
    users: input.users,
    checkPassword: passwordCheck(input),
  })
  await app.ready()
  input.server.handle((req, res) => app.routing(req, res))
  return () => app.close()
})

hostFlowSuite('docs/koa.md', 'cookie', async (input) => {
  const app = createKoaGuideSite({
    opURL: input.provider.opURL,
    clientID: input.provider.clientID,
    clientSecret: input.provider.clientSecret,
    callbackURL: input.callbackURL,
    sessionKeys: ['koa-guide-session-key'],
    users: input.users,
    checkPassword: passwordCheck(input),
  })
  input.server.handle(app.callback())
  return async () => {}
})
