/**
 * Fastify with @fastify/passport and @fastify/session: the example site (example/fastify)
 * completes every flow over HTTP against the local provider, with the cookie flow store
 * (through justpassFastifyHook) and with the session flow store; NestJS on Fastify
 * (@nestjs/platform-fastify) with the same module shape as on Express.
 */
import 'reflect-metadata'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import './support/package-from-source.ts'
import type { HostSiteInput } from './support/host-flows.ts'

const { createFastifySite } = await import('../example/fastify/site.ts')
const { hostFlowSuite } = await import('./support/host-flows.ts')

async function buildFastifySite(input: HostSiteInput): Promise<() => Promise<void>> {
  const app = createFastifySite({
    opURL: input.provider.opURL,
    clientID: input.provider.clientID,
    clientSecret: input.provider.clientSecret,
    callbackURL: input.callbackURL,
    sessionSecret: 'fastify-session-secret-0123456789abcdef',
    users: input.users,
    passwords: input.passwords,
    flowStore: input.flowStore,
  })
  await app.ready()
  input.server.handle((req, res) => app.routing(req, res))
  return () => app.close()
}

hostFlowSuite('Fastify', 'cookie', buildFastifySite)
hostFlowSuite('Fastify', 'session', buildFastifySite)
