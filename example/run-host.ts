/**
 * `npm run example:fastify` and `npm run example:koa`: the Fastify or Koa example site
 * against the local justpass-compatible provider, both in this process, with two demo
 * users. Fastify listens on http://localhost:3100 (its provider on 3101), Koa on 3200
 * (3201), so that either runs next to `npm start`; PORT and PROVIDER_PORT choose others.
 * The sites answer JSON to stay short: /try is a page with the forms and links to walk
 * through them in a browser. Passkeys and users live in memory: a restart starts over.
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import { MemoryUserStore } from 'passport-justpass'
import { PortInUseError, startLocalProvider, type LocalProvider } from '../provider/index.ts'
import { createFastifySite } from './fastify/site.ts'
import { createKoaSite } from './koa/site.ts'

/** The demo users and their passwords. */
const DEMO = new Map([['demo', 'demo-password'], ['bob', 'bob-password']])

/** The ports of each host, by default. */
const PORTS = { fastify: { site: 3100, provider: 3101 }, koa: { site: 3200, provider: 3201 } } as const

/** A port in use: one line naming it and the variable that changes it. */
class BusyPort extends Error {
  constructor(port: number, variable: string, command: string) {
    super(`Port ${port} is already in use (is this example already running?). Start with ${variable}=<another port> npm run ${command}.`)
  }
}

/** The page that walks through the site in a browser: the password step, REG, LOGIN, logout. */
export function tryPage(host: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>passport-justpass on ${host}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}form{margin:1rem 0}input{margin-right:.5rem}</style></head>
<body>
<h1>passport-justpass on ${host}</h1>
<p>The site's pages answer JSON; come back here after each step. Users: <code>demo</code> / <code>demo-password</code> and <code>bob</code> / <code>bob-password</code>.</p>
<ol>
<li><form method="post" action="/login">Password step: <input name="username" value="demo" aria-label="Username"><input name="password" type="password" value="demo-password" aria-label="Password"><button id="login">Log in</button></form></li>
<li><a id="reg" href="/justpass/reg">Enable passkey login</a> (REG, for the logged-in user)</li>
<li><form method="post" action="/logout"><button id="logout">Log out</button></form></li>
<li>Log in again: the password step above now asks for the passkey too, or <a id="passkey-login" href="/justpass/login">log in with the passkey alone</a>.</li>
<li><a href="/">Who is logged in</a>, <a href="/account">a page behind a passkey confirmation</a>.</li>
</ol>
</body></html>`
}

/** Start the example of `host` on `sitePort` with its provider on `providerPort`; resolves once both listen. */
export async function runHost(host: 'fastify' | 'koa', sitePort: number, providerPort: number): Promise<{ origin: string; provider: LocalProvider; close(): Promise<void> }> {
  const command = `example:${host}`
  const origin = `http://localhost:${sitePort}`
  const callbackURL = `${origin}/justpass/callback`
  const client = { clientID: `${host}-example`, clientSecret: randomBytes(32).toString('base64url') }
  const provider = await startLocalProvider({
    port: providerPort,
    clients: [{ ...client, clientName: `The ${host === 'fastify' ? 'Fastify' : 'Koa'} example`, redirectURIs: [callbackURL], postLogoutRedirectURIs: [`${origin}/`] }],
  }).catch((err: unknown) => {
    throw err instanceof PortInUseError ? new BusyPort(providerPort, 'PROVIDER_PORT', command) : err
  })
  const users = new MemoryUserStore([...DEMO.keys()])
  const settings = { opURL: provider.opURL, ...client, callbackURL, users, passwords: DEMO }
  const page = tryPage(host === 'fastify' ? 'Fastify' : 'Koa')
  let close: () => Promise<void>
  try {
    if (host === 'fastify') {
      const app = createFastifySite({ ...settings, sessionSecret: randomBytes(32).toString('base64url') })
      app.get('/try', async (_request, reply) => reply.type('text/html').send(page))
      await app.listen({ port: sitePort, host: '127.0.0.1' })
      close = () => app.close()
    } else {
      const app = createKoaSite({ ...settings, sessionKeys: [randomBytes(32).toString('base64url')] })
      app.use(async (ctx, next) => {
        if (ctx.path !== '/try') return next()
        ctx.type = 'text/html'
        ctx.body = page
      })
      const server: Server = await new Promise((resolve, reject) => {
        const listening = app.listen(sitePort, '127.0.0.1', () => resolve(listening)).once('error', reject)
      })
      close = () => new Promise((resolve) => server.close(() => resolve()))
    }
  } catch (err) {
    await provider.close()
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE' ? new BusyPort(sitePort, 'PORT', command) : err
  }
  return { origin, provider, close: async () => {
    await close()
    await provider.close()
  } }
}

/** A port number from the environment variable `name`, else `fallback`. */
function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new Error(`${name} must be a port number.`)
  return value
}

if (process.argv[1]?.endsWith('run-host.ts')) {
  const host = process.argv[2]
  if (host !== 'fastify' && host !== 'koa') {
    console.error('Name the example to run: fastify or koa (npm run example:fastify, npm run example:koa).')
    process.exit(2)
  }
  runHost(host, port('PORT', PORTS[host].site), port('PROVIDER_PORT', PORTS[host].provider)).then(
    (running) => {
      console.log(`Open ${running.origin}/try: the ${host === 'fastify' ? 'Fastify' : 'Koa'} example with its local provider at ${running.provider.opURL}. Ctrl-C stops both.`)
      const stop = () => void running.close().then(() => process.exit(0))
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    },
    (err: unknown) => {
      console.error(err instanceof BusyPort ? err.message : `The example could not start: ${err instanceof Error ? err.message : String(err)}`)
      process.exit(1)
    },
  )
}
