/**
 * The strategy's overridable methods: each one overridden in a subclass, as a site (or a
 * NestJS `PassportStrategy(JustpassStrategy)`) would, and shown to decide what it names,
 * against the local test provider.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Request } from 'express'
import { JustpassRefusal, JustpassStrategy, type JustpassAuthenticateOptions, type JustpassFlowInfo, type JustpassFlowStart, type JustpassHostResponse, type MemoryUser, type VerifiedFlow } from '../src/index.ts'
import { readFileSync } from 'node:fs'
import ts from 'typescript'
import { Browser } from './support/browser.ts'
import { finishFlow, runFlow, startFlow, harnessForSuite, startHarness, whoAmI, type Harness } from './support/harness.ts'

/** Log `username` in with the password, which continues to the passkey step (a second-factor LOGIN). */
async function passwordThenPasskey(browser: Browser, harness: Harness, username: string) {
  await harness.app.users.setJustpassEnabled(username, true)
  return startFlow(browser, harness, `/test/password?username=${username}`)
}

describe('the overridable methods', () => {
  test('each protected method of JustpassStrategy says it is meant to be overridden, and this file overrides it', () => {
    const path = new URL('../src/strategy.ts', import.meta.url)
    const source = ts.createSourceFile('strategy.ts', readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true)
    const strategy = source.statements.find((each): each is ts.ClassDeclaration => ts.isClassDeclaration(each) && each.name?.text === 'JustpassStrategy')!
    const hooks = strategy.members.filter(
      (member): member is ts.MethodDeclaration => ts.isMethodDeclaration(member) && (ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Protected) !== 0,
    )
    assert.deepEqual(hooks.map((hook) => hook.name.getText(source)).sort(), ['authorizationParams', 'isCallback', 'responseOf', 'usernameOf', 'verifyWithSessionUser'])
    const tests = readFileSync(new URL(import.meta.url), 'utf8')
    for (const hook of hooks) {
      const name = hook.name.getText(source)
      const doc = ts.getJSDocCommentsAndTags(hook).map((each) => each.getText(source)).join(' ').replace(/\s*\*?\s+/g, ' ')
      assert.match(doc, /Meant to be overridden/, `${name}'s TSDoc says it is meant to be overridden`)
      assert.match(tests, new RegExp(`override (async )?${name}\\(`), `${name} is overridden here`)
    }
  })
})

describe('authorizationParams(req, flow)', () => {
  class WithClaimsLocales extends JustpassStrategy<MemoryUser> {
    readonly seen: JustpassFlowStart[] = []
    protected override authorizationParams(req: Request, flow: JustpassFlowStart): Record<string, string | undefined> {
      this.seen.push(flow)
      return { ...super.authorizationParams(req, flow), ui_locales: undefined, claims_locales: 'de' }
    }
  }
  const harness = harnessForSuite({ strategyClass: WithClaimsLocales })

  test("adds and removes parameters of the redirect, and the flow completes", async () => {
    const browser = new Browser()
    browser.headers['accept-language'] = 'fr-CH, fr;q=0.9'
    const flow = await passwordThenPasskey(browser, harness, 'alice')
    assert.equal(flow.authorize?.get('claims_locales'), 'de')
    assert.equal(flow.authorize?.get('ui_locales'), null, 'an undefined value leaves the parameter out')
    assert.equal(flow.authorize?.get('acr_values'), 'keys', "the defaults stay when the override keeps super's")
    assert.equal(flow.authorize?.get('hint_mode'), 'token')
    const strategy = harness.app.strategy as WithClaimsLocales
    assert.deepEqual(strategy.seen.at(-1), { mode: 'login', username: 'alice' }, 'the hook is told who the flow is for')
    await finishFlow(browser, flow.callback!)
    assert.equal((await whoAmI(browser, harness)).user?.username, 'alice')
  })
})

describe('authorizationParams(req, flow) that sets a parameter of the strategy', () => {
  class SetsState extends JustpassStrategy<MemoryUser> {
    protected override authorizationParams(req: Request, flow: JustpassFlowStart): Record<string, string | undefined> {
      return { ...super.authorizationParams(req, flow), state: 'chosen-by-the-site' }
    }
  }
  const harness = harnessForSuite({ strategyClass: SetsState })

  test('is a usage error, and nothing is sent to the provider', async () => {
    const answer = await new Browser().get(`${harness.app.origin}/justpass/login`)
    assert.equal(answer.status, 502)
    assert.deepEqual(JSON.parse(answer.body), { error: 'invalid_usage', name: 'JustpassUsageError' })
    assert.match(harness.app.errors.at(-1)!.message, /may not set "state"/)
  })
})

describe('authorizationParams(req, flow) may not rewrite the flow, nor answer later', () => {
  /** An override that tries to drop the username the passkey must belong to. */
  class DropsTheUsername extends JustpassStrategy<MemoryUser> {
    protected override authorizationParams(req: Request, flow: JustpassFlowStart): Record<string, string | undefined> {
      delete (flow as { username?: string }).username
      return super.authorizationParams(req, flow)
    }
  }
  /** An override written async by mistake. */
  class Async extends JustpassStrategy<MemoryUser> {
    protected override authorizationParams(req: Request, flow: JustpassFlowStart): Record<string, string | undefined> {
      return Promise.resolve(super.authorizationParams(req, flow)) as never
    }
  }
  let drops: Harness
  let later: Harness
  before(async () => {
    drops = await startHarness({ strategyClass: DropsTheUsername })
    later = await startHarness({ strategyClass: Async })
  })
  after(async () => {
    await drops.close()
    await later.close()
  })

  test('the flow it is given is frozen: the second factor stays bound to the base username', async () => {
    const browser = new Browser()
    await drops.app.users.setJustpassEnabled('alice', true)
    const { hops } = await browser.follow(`${drops.app.origin}/test/password?username=alice`)
    assert.equal(hops.at(-1)?.status, 502, 'the start fails: nothing is sent to the provider')
    assert.ok(drops.app.errors.at(-1) instanceof TypeError)
    assert.ok(!hops.some((hop) => hop.url.startsWith(drops.provider.opURL)))
  })

  test('a promise is a usage error, not a request without the defaults', async () => {
    const answer = await new Browser().get(`${later.app.origin}/justpass/login`)
    assert.equal(answer.status, 502)
    assert.match(later.app.errors.at(-1)!.message, /plain object/)
  })
})

describe("a verify callback's refusal", () => {
  let harness: Harness
  before(async () => {
    harness = await startHarness({
      verify: (_tokens, _userinfo, _info, done) => done(new JustpassRefusal('account_disabled', 'not today')),
    })
  })
  after(() => harness.close())

  test('passed to done() as an error, is reported with the flow it refused', async () => {
    const browser = new Browser()
    await browser.get(`${harness.app.origin}/test/login-as?username=bob`)
    await runFlow(browser, harness, '/justpass/reg')
    assert.deepEqual((await whoAmI(browser, harness)).notice, { mode: 'register', ok: false, reason: 'account_disabled', message: 'not today' })

    const second = new Browser()
    const login = await passwordThenPasskey(second, harness, 'alice')
    await finishFlow(second, login.callback!)
    assert.equal((await whoAmI(second, harness)).notice?.mode, 'login')
    assert.equal((await second.json<Record<string, unknown>>(`${harness.app.origin}/test/session`)).base_username, undefined, 'the password step ends with it')
  })
})

describe('isCallback(req, query, options)', () => {
  /** A second callback route: a bare request on it is a (malformed) callback, not a new LOGIN. */
  class TwoCallbackRoutes extends JustpassStrategy<MemoryUser> {
    protected override isCallback(req: Request, query: URLSearchParams, options: JustpassAuthenticateOptions): boolean {
      return req.path === '/justpass/plain-callback' || super.isCallback(req, query, options)
    }
  }
  let plain: Harness
  let overridden: Harness
  before(async () => {
    plain = await startHarness()
    overridden = await startHarness({ strategyClass: TwoCallbackRoutes })
  })
  after(async () => {
    await plain.close()
    await overridden.close()
  })

  test('decides whether a request starts a flow or finishes one', async () => {
    const started = await new Browser().get(`${plain.app.origin}/justpass/plain-callback`)
    assert.equal(started.status, 302, 'by default a bare request off the callback path starts a LOGIN')
    assert.ok(started.location?.startsWith(`${plain.provider.opURL}authorize/?`))
    const finished = await new Browser().get(`${overridden.app.origin}/justpass/plain-callback`)
    assert.equal(finished.status, 400, 'the override makes it a callback, malformed without a state')
    assert.equal(finished.location, undefined)
  })
})

describe('usernameOf(req)', () => {
  /** A site whose REG registers the passkey under the user's email address. */
  class ByEmail extends JustpassStrategy<MemoryUser> {
    protected override usernameOf(req: Request): string | undefined {
      const user = req.user as MemoryUser | undefined
      return user === undefined ? undefined : `${user.username}@shop.example`
    }
  }
  /** A site where nobody may register a passkey. */
  class NobodyRegisters extends JustpassStrategy<MemoryUser> {
    protected override usernameOf(): string | undefined {
      return undefined
    }
  }
  let byEmail: Harness
  let nobody: Harness
  before(async () => {
    byEmail = await startHarness({ strategyClass: ByEmail })
    nobody = await startHarness({ strategyClass: NobodyRegisters })
  })
  after(async () => {
    await byEmail.close()
    await nobody.close()
  })

  test('names the user REG registers a passkey for', async () => {
    const browser = new Browser()
    await browser.get(`${byEmail.app.origin}/test/login-as?username=alice`)
    const flow = await startFlow(browser, byEmail, '/justpass/reg')
    assert.equal(flow.authorize?.get('login_hint'), 'alice@shop.example')
    assert.equal(flow.authorize?.get('username'), 'alice@shop.example')
  })

  test('answering nobody refuses REG with login_required, before the provider', async () => {
    const browser = new Browser()
    await browser.get(`${nobody.app.origin}/test/login-as?username=alice`)
    const answer = await browser.get(`${nobody.app.origin}/justpass/reg`)
    assert.equal(answer.status, 401)
    assert.equal(answer.location, undefined)
  })
})

describe('responseOf(req)', () => {
  /** A host whose response the strategy must be shown: here, every Set-Cookie also counted. */
  class CountingResponse extends JustpassStrategy<MemoryUser> {
    protected override responseOf(req: Request): JustpassHostResponse | undefined {
      const res = super.responseOf(req)
      if (res === undefined) return undefined
      return Object.assign(Object.create(res) as JustpassHostResponse, {
        appendHeader(name: string, value: string | string[]) {
          res.setHeader('x-flow-cookies', Array.isArray(value) ? value.length : 1)
          return res.appendHeader(name, value)
        },
      })
    }
  }
  /** A host that hides its response. */
  class NoResponse extends JustpassStrategy<MemoryUser> {
    protected override responseOf(): JustpassHostResponse | undefined {
      return undefined
    }
  }
  let counting: Harness
  let hidden: Harness
  before(async () => {
    counting = await startHarness({ strategyClass: CountingResponse })
    hidden = await startHarness({ strategyClass: NoResponse })
  })
  after(async () => {
    await counting.close()
    await hidden.close()
  })

  test('is where the flow cookie is set', async () => {
    const answer = await new Browser().get(`${counting.app.origin}/justpass/login`)
    assert.equal(answer.status, 302)
    assert.equal(answer.headers.get('x-flow-cookies'), '1')
    assert.match(answer.headers.get('set-cookie') ?? '', /justpass\./)
  })

  test('without one, the cookie store refuses with a usage error that names the fix', async () => {
    const answer = await new Browser().get(`${hidden.app.origin}/justpass/login`)
    assert.equal(answer.status, 502)
    assert.match(hidden.app.errors.at(-1)!.message, /flowStore: 'session'/)
  })
})

describe('verifyWithSessionUser(req, verified, info)', () => {
  /** A site with a check of its own on top of the user store's. */
  class NoBobs extends JustpassStrategy<MemoryUser> {
    protected override async verifyWithSessionUser(req: Request, verified: VerifiedFlow, info: JustpassFlowInfo): Promise<MemoryUser | false> {
      if (info.mode === 'login' && verified.username === 'bob') throw new JustpassRefusal('account_disabled', 'bob is on holiday')
      return super.verifyWithSessionUser(req, verified, info)
    }
  }
  const harness = harnessForSuite({ strategyClass: NoBobs })

  test('refuses with its own reason and message, and otherwise logs in as before', async () => {
    const bob = new Browser()
    const refused = await passwordThenPasskey(bob, harness, 'bob')
    await finishFlow(bob, refused.callback!)
    const state = await whoAmI(bob, harness)
    assert.equal(state.user, null)
    assert.deepEqual(state.notice, { mode: 'login', ok: false, reason: 'account_disabled', message: 'bob is on holiday' })
    assert.equal((await bob.json<Record<string, unknown>>(`${harness.app.origin}/test/session`)).base_username, undefined, 'a refused second factor ends the password step')

    const alice = new Browser()
    const flow = await passwordThenPasskey(alice, harness, 'alice')
    await finishFlow(alice, flow.callback!)
    assert.equal((await whoAmI(alice, harness)).user?.username, 'alice')
  })
})
