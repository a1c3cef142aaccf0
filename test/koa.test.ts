/**
 * Koa with koa-passport and koa-session: the example site (example/koa) completes every
 * flow over HTTP against the local provider, with the cookie flow store (through
 * justpassKoa) and with the session flow store.
 */
import './support/package-from-source.ts'
import type { HostSiteInput } from './support/host-flows.ts'

const { createKoaSite } = await import('../example/koa/site.ts')
const { hostFlowSuite } = await import('./support/host-flows.ts')

async function buildKoaSite(input: HostSiteInput): Promise<() => Promise<void>> {
  const app = createKoaSite({
    opURL: input.provider.opURL,
    clientID: input.provider.clientID,
    clientSecret: input.provider.clientSecret,
    callbackURL: input.callbackURL,
    sessionKeys: ['koa-session-key-0123456789abcdef'],
    users: input.users,
    passwords: input.passwords,
    flowStore: input.flowStore,
  })
  input.server.handle(app.callback())
  return async () => {}
}

hostFlowSuite('Koa', 'cookie', buildKoaSite)
hostFlowSuite('Koa', 'session', buildKoaSite)
