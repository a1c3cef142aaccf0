/**
 * The package as users get it: `npm pack`, installed from the tarball into fresh
 * projects, imported from ESM, required from CommonJS, type-checked from TypeScript;
 * publint and arethetypeswrong report nothing; the tarball holds only what users need.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..', '..')
const run = (command: string, args: string[], cwd: string) => execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

/** A typical TypeScript Express site: a user store, the strategy (with and without the request), the routes, the notice. */
const TYPICAL_SITE = `import express, { type Request } from 'express'
import session from 'express-session'
import passport from 'passport'
import { JustpassStrategy, justpassCallback, takeJustpassNotice, type JustpassUserStore, type JustpassFlowInfo } from 'passport-justpass'

interface User { id: number; username: string; justpassEnabled: boolean }
const users = new Map<string, User>()
const userStore: JustpassUserStore<User> = {
  async findByUsername(username) { return users.get(username) },
  async setJustpassEnabled(username, enabled) { const user = users.get(username); if (user) user.justpassEnabled = enabled; return user },
}
passport.use(new JustpassStrategy<User>({ opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'c', clientSecret: 'a-client-secret-0123456789abcdef0123', callbackURL: 'https://shop.example/justpass/callback', userStore }))
passport.use('justpass-custom', new JustpassStrategy<User, Request>({ opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'c', clientSecret: 'a-client-secret-0123456789abcdef0123', callbackURL: 'https://shop.example/justpass/callback', passReqToCallback: true },
  (req, _tokens, userinfo, info: JustpassFlowInfo, done) => done(null, users.get(userinfo.preferred_username) ?? false, { message: req.path + info.mode })))

const app = express()
app.use(session({ secret: 's', resave: false, saveUninitialized: false }))
app.use(passport.initialize())
app.use(passport.session())
app.post('/login', (req, res) => { req.session.base_username = 'alice'; res.redirect('/justpass/login') })
app.get('/justpass/reg', passport.authenticate('justpass', { mode: 'register' }))
app.get('/justpass/login', passport.authenticate('justpass', { mode: 'login' }))
app.get('/justpass/callback', justpassCallback({ appToken: (req, user) => req.sessionID + (user as User).id, onLoginFailed: (_req, res, info) => void res.redirect('/login?reason=' + info.reason) }))
app.get('/', (req, res) => {
  const notice = takeJustpassNotice(req)
  const user = req.user as User | undefined
  res.send(\`\${user?.username ?? 'nobody'} \${notice?.ok ?? ''}\`)
})
`

/**
 * Install `types` in `consumer` (where the package is installed, so that its declarations
 * find them as a site's would), write {@link TYPICAL_SITE} into `project` below it and
 * type-check it, libraries included.
 */
function typeCheckSite(consumer: string, project: string, types: string[]): void {
  mkdirSync(project, { recursive: true })
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] } }),
  )
  writeFileSync(join(project, 'index.ts'), TYPICAL_SITE)
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '-D', ...types], consumer)
  run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', '.'], project)
}

describe('the packed package', () => {
  let dir: string
  let tarball: string
  let files: string[]

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-pack-'))
    run('npm', ['run', 'build'], ROOT)
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>
    tarball = join(dir, packed!.filename)
    files = packed!.files.map((file) => file.path)
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }))
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, 'passport@0.7', 'express@5', 'express-session@1', '@types/node@20'], dir)
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('holds only built JavaScript, declarations, the README, the license and package.json', () => {
    for (const file of files) assert.match(file, /^(dist\/(?:flow-store\/|hosts\/)?[\w-]+\.(js|d\.ts)|README\.md|LICENSE|package\.json)$/, `${file} does not belong in the tarball`)
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts') && files.includes('LICENSE'))
  })

  test("names its repository, home page and issue tracker, so the registry page's links to docs/ resolve", () => {
    const installed = JSON.parse(readFileSync(join(dir, 'node_modules', 'passport-justpass', 'package.json'), 'utf8')) as Record<string, { url?: string } | string>
    const repository = installed.repository as { type: string; url: string }
    assert.equal(repository.type, 'git')
    assert.match(repository.url, /^git\+https:\/\/github\.com\/[\w-]+\/passport-justpass\.git$/)
    const base = repository.url.slice('git+'.length, -'.git'.length)
    assert.equal(installed.homepage, `${base}#readme`)
    assert.deepEqual(installed.bugs, { url: `${base}/issues` })
  })

  test('imports from ESM', () => {
    mkdirSync(join(dir, 'esm'))
    writeFileSync(join(dir, 'esm', 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(
      join(dir, 'esm', 'index.js'),
      `import { JustpassStrategy, MemoryUserStore, justpassCallback } from 'passport-justpass'
const strategy = new JustpassStrategy({ opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'c', clientSecret: 'a-client-secret-0123456789abcdef0123', callbackURL: 'https://shop.example/cb', userStore: new MemoryUserStore() })
console.log(strategy.name, typeof justpassCallback())`,
    )
    assert.equal(run('node', ['index.js'], join(dir, 'esm')).trim(), 'justpass function')
  })

  test('imports the Fastify and Koa entries, which load neither host, with the same helpers under the same names', () => {
    assert.ok(files.includes('dist/hosts/fastify.js') && files.includes('dist/hosts/koa.js'))
    mkdirSync(join(dir, 'hosts'))
    writeFileSync(join(dir, 'hosts', 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(
      join(dir, 'hosts', 'index.js'),
      `import * as fastify from 'passport-justpass/fastify'
import * as koa from 'passport-justpass/koa'
import { takeJustpassNotice } from 'passport-justpass'
const authenticator = { authenticate: () => async () => {} }
const names = (entry) => Object.keys(entry).sort().join(' ')
const built = [fastify, koa].map((entry) => [entry.justpassSetup(), entry.justpassStart({ authenticator, mode: 'register' }), entry.justpassCallback({ authenticator }), entry.requireJustpassConfirmation({ authenticator }), entry.justpassLogout({ authenticator })].map((f) => typeof f).join(' '))
const hosts = ['fastify', '@fastify/passport', '@fastify/session', 'koa', 'koa-passport', 'koa-session'].filter((name) => { try { import.meta.resolve(name); return true } catch { return false } })
console.log(names(fastify))
console.log(names(koa))
console.log(built.join(' | '), fastify.takeJustpassNotice === takeJustpassNotice && koa.takeJustpassNotice === takeJustpassNotice, JSON.stringify(hosts))`,
    )
    // The consumer has passport, express and express-session, and no Fastify or Koa package.
    const helpers = 'justpassCallback justpassLogout justpassSetup justpassStart requireJustpassConfirmation takeJustpassNotice'
    const each = 'function function function function function'
    assert.deepEqual(run('node', ['index.js'], join(dir, 'hosts')).trim().split('\n'), [helpers, helpers, `${each} | ${each} true []`])
  })

  test('type-checks the Fastify and Koa entries against structural types, with no Fastify, Koa, Express or passport types installed', () => {
    mkdirSync(join(dir, 'hosts-ts'))
    writeFileSync(join(dir, 'hosts-ts', 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(
      join(dir, 'hosts-ts', 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'] } }),
    )
    writeFileSync(
      join(dir, 'hosts-ts', 'index.ts'),
      `import { justpassCallback, justpassSetup, justpassStart, takeJustpassNotice, type JustpassFastifyAuthenticator, type JustpassHostResponse } from 'passport-justpass/fastify'
import * as koa from 'passport-justpass/koa'
declare const fastifyPassport: JustpassFastifyAuthenticator
declare const koaPassport: koa.JustpassKoaAuthenticator
const onCallback = justpassCallback({ authenticator: fastifyPassport, homeURL: '/home', appToken: (request, user) => String(request.session) + String(user), onLoggedIn: async (_request, reply, info) => void reply.redirect(info.returnTo ?? '/') })
const koaCallback = koa.justpassCallback({ authenticator: koaPassport, loginURL: '/signin', appToken: (ctx, user) => ctx.status + String(user) })
const start = justpassStart({ authenticator: fastifyPassport, mode: 'confirm', returnTo: '/account' })
const response: JustpassHostResponse | undefined = undefined
const notice = takeJustpassNotice({ session: {} })?.message
export { onCallback, koaCallback, start, response, notice, justpassSetup }
`,
    )
    assert.deepEqual(readdirSync(join(dir, 'node_modules', '@types')), ['node'])
    run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', '.'], join(dir, 'hosts-ts'))
  })

  test('requires from CommonJS on Node.js 20.19+', () => {
    mkdirSync(join(dir, 'cjs'))
    writeFileSync(join(dir, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }))
    writeFileSync(
      join(dir, 'cjs', 'index.js'),
      `const { JustpassStrategy, MemoryUserStore, JustpassConfigError } = require('passport-justpass')
const strategy = new JustpassStrategy({ opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'c', clientSecret: 'a-client-secret-0123456789abcdef0123', callbackURL: 'https://shop.example/cb', userStore: new MemoryUserStore() })
try { new JustpassStrategy({}) } catch (err) { console.log(strategy.name, err instanceof JustpassConfigError, err.option) }`,
    )
    assert.equal(run('node', ['--no-warnings', 'index.js'], join(dir, 'cjs')).trim(), 'justpass true opURL')
  })

  test('type-checks a typical TypeScript setup, with the types the site installs for Express 5', () => {
    typeCheckSite(dir, join(dir, 'ts'), ['@types/express@5', '@types/express-session@1', '@types/passport@1'])
  })

  test('publint reports nothing', () => {
    const output = run(join(ROOT, 'node_modules', '.bin', 'publint'), ['--strict'], ROOT)
    assert.match(output, /All good!/)
  })

  test('arethetypeswrong reports nothing for an ESM-only package loaded with import or require(esm)', () => {
    // esm-only: CommonJS consumers load the package with require(esm), Node.js 20.19+.
    run(join(ROOT, 'node_modules', '.bin', 'attw'), ['--pack', '.', '--profile', 'esm-only', '--format', 'ascii'], ROOT)
  })
})

describe('the packed package in an Express 4 site', () => {
  let dir: string

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-express4-'))
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dir], ROOT)) as Array<{ filename: string }>
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'express4-site', private: true, type: 'module' }))
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed!.filename), 'passport@0.7', 'express@4', 'express-session@1'], dir)
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('a JavaScript site gets no type packages with it', () => {
    assert.equal(existsSync(join(dir, 'node_modules', '@types')), false, 'installing passport-justpass added @types packages')
    writeFileSync(join(dir, 'index.js'), `import { JustpassStrategy, justpassCallback } from 'passport-justpass'
console.log(typeof JustpassStrategy, typeof justpassCallback())`)
    assert.equal(run('node', ['index.js'], dir).trim(), 'function function')
  })

  test("a TypeScript site type-checks against its own @types/express@4", () => {
    typeCheckSite(dir, join(dir, 'ts'), ['@types/express@4', '@types/express-session@1', '@types/passport@1', '@types/node@20'])
    const installed = (name: string) => (JSON.parse(readFileSync(join(dir, 'node_modules', '@types', name, 'package.json'), 'utf8')) as { version: string }).version
    assert.match(installed('express'), /^4\./)
  })
})
