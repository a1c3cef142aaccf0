/**
 * The Koa entry's helpers on their own: each needs the koa-passport instance and says so,
 * the start passes the strategy its options, and the setup middleware lets the strategy
 * write through the context. (The flows themselves run over HTTP in koa.test.ts.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassUsageError } from '../../src/errors.ts'
import * as koa from '../../src/hosts/koa.ts'
import type { JustpassHostResponse } from '../../src/host-objects.ts'

describe('passport-justpass/koa', () => {
  test('every helper refuses to be built without the authenticator, naming itself and the entry', () => {
    const helpers = { justpassStart: koa.justpassStart, justpassCallback: koa.justpassCallback, requireJustpassConfirmation: koa.requireJustpassConfirmation, justpassLogout: koa.justpassLogout }
    for (const [name, helper] of Object.entries(helpers)) {
      for (const options of [undefined, {}, { authenticator: { authenticate: 'no' } }]) {
        assert.throws(() => (helper as (options: unknown) => unknown)(options), (err: unknown) => err instanceof JustpassUsageError && err.message.includes(`${name} of passport-justpass/koa needs options.authenticator`), name)
      }
    }
  })

  test('justpassStart hands the strategy its name and options, without the authenticator', () => {
    const calls: unknown[][] = []
    const authenticator = { authenticate: (...args: unknown[]) => (calls.push(args), async () => undefined) }
    koa.justpassStart({ authenticator, mode: 'login' })
    koa.justpassStart({ authenticator, strategy: 'other', mode: 'register', urlOnly: true })
    assert.deepEqual(calls, [['justpass', { mode: 'login' }], ['other', { mode: 'register', urlOnly: true }]])
  })

  test('justpassSetup gives the request, and any object built on it, a response that writes through the context', async () => {
    const appended: Array<[string, unknown]> = []
    const set = new Map<string, string>()
    const ctx = {
      request: {} as { justpassResponse?: JustpassHostResponse },
      status: 404,
      body: undefined as unknown,
      res: {},
      append: (field: string, value: string | string[]) => void appended.push([field, value]),
      set: (field: string, value: string) => void set.set(field, value),
      redirect: () => undefined,
      login: async () => undefined,
    }
    let nextCalled = false
    await koa.justpassSetup()(ctx, async () => (nextCalled = true))
    assert.equal(nextCalled, true)
    let standInEnded = false
    const standIn = Object.create(ctx.request, { res: { value: { end: () => (standInEnded = true) } } }) as { justpassResponse: JustpassHostResponse }
    const response = standIn.justpassResponse
    response.statusCode = 200
    response.appendHeader('Set-Cookie', ['a=1'])
    response.setHeader('Content-Length', 11)
    response.end('{"url":"x"}')
    assert.deepEqual([ctx.status, ctx.body, appended, Object.fromEntries(set)], [200, '{"url":"x"}', [['Set-Cookie', ['a=1']]], { 'Content-Length': '11' }])
    assert.equal(standInEnded, true, "koa-passport's stand-in is ended, so that its middleware finishes")
    ctx.request.justpassResponse!.end('again')
    assert.equal(ctx.body, 'again')
  })
})
