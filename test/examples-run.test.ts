/**
 * The commands that run the Fastify and Koa examples (`npm run example:fastify`,
 * `npm run example:koa`: example/run-host.ts): each says where to open it and serves its
 * /try page and the site; a busy port is one line naming it and the variable; a missing
 * host name is a usage message. Real processes on free ports, always stopped. (The
 * browser walk through each example is test/e2e/host-examples.test.ts.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { startLoopbackServer } from './support/server.ts'

/** A port free now. */
async function freePort(): Promise<string> {
  const probe = await startLoopbackServer()
  await probe.close()
  return new URL(probe.origin).port
}

/** Run example/run-host.ts with `args` and `env`; resolves once `until` matches its output (then it keeps running) or it exits. */
function run(args: string[], env: Record<string, string>, until?: RegExp): Promise<{ child: ChildProcess; code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'example/run-host.ts', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  return new Promise((resolve) => {
    const read = (chunk: Buffer) => {
      output += chunk
      if (until?.test(output)) resolve({ child, code: null, output })
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.once('exit', (code) => resolve({ child, code, output }))
  })
}

/** Stop a child and wait for it. */
async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  return exited
}

describe('npm run example:fastify and example:koa', () => {
  for (const host of ['fastify', 'koa']) {
    test(`${host}: one line says where to open it; /try, the site and the provider answer; Ctrl-C stops both`, async () => {
      const port = await freePort()
      const providerPort = await freePort()
      const started = await run([host], { PORT: port, PROVIDER_PORT: providerPort }, /Ctrl-C stops both\.\n/)
      try {
        assert.equal(started.code, null, started.output)
        assert.equal(started.output, `Open http://localhost:${port}/try: the ${host === 'fastify' ? 'Fastify' : 'Koa'} example with its local provider at http://localhost:${providerPort}/openid/. Ctrl-C stops both.\n`)
        const tryPage = await fetch(`http://127.0.0.1:${port}/try`)
        assert.match(await tryPage.text(), /<form method="post" action="\/logout">/)
        assert.deepEqual(await (await fetch(`http://127.0.0.1:${port}/`)).json(), { user: null, justpassEnabled: false, notice: null })
        assert.equal((await fetch(`http://127.0.0.1:${providerPort}/openid/.well-known/openid-configuration`)).status, 200)
      } finally {
        assert.equal(await stop(started.child), 0)
      }
    })

    test(`${host}: a busy port is one line naming it and the variable`, async () => {
      const holder = await startLoopbackServer()
      try {
        const held = new URL(holder.origin).port
        const site = await run([host], { PORT: held, PROVIDER_PORT: await freePort() })
        assert.equal(site.code, 1)
        assert.equal(site.output, `Port ${held} is already in use (is this example already running?). Start with PORT=<another port> npm run example:${host}.\n`)
        const provider = await run([host], { PORT: await freePort(), PROVIDER_PORT: held })
        assert.equal(provider.code, 1)
        assert.equal(provider.output, `Port ${held} is already in use (is this example already running?). Start with PROVIDER_PORT=<another port> npm run example:${host}.\n`)
      } finally {
        await holder.close()
      }
    })
  }

  test('without a host: says which to name, exit 2', async () => {
    const { code, output } = await run([], {})
    assert.equal(code, 2)
    assert.equal(output, 'Name the example to run: fastify or koa (npm run example:fastify, npm run example:koa).\n')
  })
})
