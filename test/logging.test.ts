/**
 * DEBUG=passport-justpass traces every step of a flow and never prints the client
 * secret, a code, a token or a whole state.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { format } from 'node:util'
import createDebug from 'debug'
import { Browser } from './support/browser.ts'
import { finishFlow, startFlow, startHarness, whoAmI, type Harness } from './support/harness.ts'

describe('debug logging', () => {
  const lines: string[] = []
  const secrets = new Set<string>()
  let harness: Harness
  const originalLog = createDebug.log

  before(async () => {
    harness = await startHarness({
      verify(tokens, userinfo, _info, done) {
        for (const token of [tokens.access_token, tokens.id_token]) if (token) secrets.add(token)
        harness.app.users.findByUsername(userinfo.preferred_username).then((user) => done(null, user ?? false), done)
      },
    })
    createDebug.log = (...args: unknown[]) => void lines.push(format(...args))
    createDebug.enable('passport-justpass')
  })
  after(async () => {
    createDebug.disable()
    createDebug.log = originalLog
    await harness.close()
  })

  test('traces start, callback, success and refusal, and redacts secrets, codes, tokens and states', async () => {
    secrets.add(harness.provider.clientSecret)
    await harness.app.users.setJustpassEnabled('alice', true)
    const browser = new Browser()
    const flow = await startFlow(browser, harness, '/test/password?username=alice')
    const state = flow.authorize!.get('state')!
    const code = new URL(flow.callback!).searchParams.get('code')!
    secrets.add(state).add(code).add(flow.authorize!.get('nonce')!)
    await finishFlow(browser, flow.callback!)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
    await finishFlow(browser, flow.callback!) // replayed: refused
    await browser.get(`${harness.app.callbackURL}?code=x&state=${encodeURIComponent('\nFAKE LOG LINE')}`)

    const trace = lines.join('\n')
    assert.match(trace, new RegExp(`start login \\(second factor\\), state ${state.slice(0, 6)}…`))
    assert.match(trace, new RegExp(`callback, state ${state.slice(0, 6)}…: a pending login flow`))
    const mark = `state ${state.slice(0, 6)}…`
    assert.ok(lines.some((line) => line.includes(`success: login, ${mark}`)), 'the success line carries the state prefix')
    assert.ok(lines.some((line) => line.includes(`refused, ${mark}: state_unknown`)), 'so does the refusal of the replay')
    assert.ok(lines.some((line) => line.includes(`callback, ${mark}: no flow cookie for it in this browser`)), 'an unknown state says the cookie is missing')
    assert.equal(secrets.size, 6, 'secret, state, code, nonce, access token and ID token were all seen')
    for (const line of lines) assert.ok(!line.includes('\n'), `a request broke a log line: ${JSON.stringify(line)}`)
    assert.match(trace, /state \?FAKE\?…: unknown/)

    // A flow cookie that does not open (another instance's secret, say) is told from a missing one.
    const other = new Browser()
    const started = await startFlow(other, harness, '/test/password?username=alice')
    const jar = other.cookies.get('127.0.0.1')!
    for (const [name, value] of jar) if (name.startsWith('justpass.')) jar.set(name, `${value.slice(0, -4)}AAAA`)
    await finishFlow(other, started.callback!)
    const otherState = started.authorize!.get('state')!
    assert.ok(lines.some((line) => line.includes(`callback, state ${otherState.slice(0, 6)}…: its flow cookie does not open`)))
    for (const secret of secrets) assert.ok(!trace.includes(secret), 'a secret value reached the log')
  })
})
