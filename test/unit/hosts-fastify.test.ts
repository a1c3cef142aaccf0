/**
 * The Fastify entry's helpers on their own: each needs the @fastify/passport instance and
 * says so, the start passes the strategy its options, and the setup hook lets the
 * strategy write through the reply. (The flows themselves run over HTTP in fastify.test.ts.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassUsageError } from '../../src/errors.ts'
import * as fastify from '../../src/hosts/fastify.ts'
import type { JustpassHostResponse } from '../../src/host-objects.ts'

describe('passport-justpass/fastify', () => {
  test('every helper refuses to be built without the authenticator, naming itself and the entry', () => {
    const helpers = { justpassStart: fastify.justpassStart, justpassCallback: fastify.justpassCallback, requireJustpassConfirmation: fastify.requireJustpassConfirmation, justpassLogout: fastify.justpassLogout }
    for (const [name, helper] of Object.entries(helpers)) {
      for (const options of [undefined, {}, { authenticator: {} }]) {
        assert.throws(() => (helper as (options: unknown) => unknown)(options), (err: unknown) => err instanceof JustpassUsageError && err.message.includes(`${name} of passport-justpass/fastify needs options.authenticator`), name)
      }
    }
  })

  test('justpassStart hands the strategy its name and options, without the authenticator', () => {
    const calls: unknown[][] = []
    const authenticator = { authenticate: (...args: unknown[]) => (calls.push(args), async () => 'handled') }
    fastify.justpassStart({ authenticator, mode: 'register', urlOnly: true })
    fastify.justpassStart({ authenticator, strategy: 'justpass-eu', mode: 'confirm', returnTo: '/account' })
    assert.deepEqual(calls, [['justpass', { mode: 'register', urlOnly: true }], ['justpass-eu', { mode: 'confirm', returnTo: '/account' }]])
  })

  test('justpassSetup attaches a response that writes status, headers and body through the reply', () => {
    const headers = new Map<string, unknown>()
    const sent: unknown[] = []
    const reply = {
      statusCode: 200,
      code(status: number) { this.statusCode = status },
      header(name: string, value: unknown) { headers.set(name.toLowerCase(), value) },
      getHeader: (name: string) => headers.get(name.toLowerCase()),
      send: (payload?: unknown) => void sent.push(payload),
      redirect: () => undefined,
    }
    const request: { justpassResponse?: JustpassHostResponse } = {}
    let done = false
    fastify.justpassSetup()(request, reply, () => (done = true))
    assert.equal(done, true)
    const response = request.justpassResponse!
    response.statusCode = 201
    response.appendHeader('Vary', 'Cookie')
    response.appendHeader('Vary', 'Origin')
    response.appendHeader('Set-Cookie', ['a=1'])
    response.setHeader('Cache-Control', 'no-store')
    response.end('{"url":"x"}')
    assert.equal(reply.statusCode, 201)
    assert.equal(response.statusCode, 201)
    assert.deepEqual(Object.fromEntries(headers), { vary: ['Cookie', 'Origin'], 'set-cookie': ['a=1'], 'cache-control': 'no-store' })
    assert.deepEqual(sent, ['{"url":"x"}'])
  })
})
