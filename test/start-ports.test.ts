/**
 * `npm start` (example/start.ts) when a port it needs is taken: one line naming the port
 * and the variable that changes it, exit 1. Real processes; a
 * loopback server holds the port.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLoopbackServer, type LoopbackServer } from './support/server.ts'

/** Run example/start.ts with `env` until it exits (killed after 30 s); its exit code and output. */
function runStart(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('JUSTPASS_') && name !== 'REDIS_URL'))
  const child = spawn(process.execPath, ['--import', 'tsx', 'example/start.ts'], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer)
    resolve({ code, output })
  }))
}

describe('npm start with a port taken', () => {
  let dir: string
  let holder: LoopbackServer
  let held: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-start-'))
    holder = await startLoopbackServer()
    held = new URL(holder.origin).port
  })
  after(async () => {
    await holder.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** A port nothing listens on: one the system gave a loopback server, closed again. */
  async function freePort(): Promise<string> {
    const free = await startLoopbackServer()
    await free.close()
    return new URL(free.origin).port
  }

  test("the provider's port: names it and PROVIDER_PORT", async () => {
    const { code, output } = await runStart({ PORT: await freePort(), PROVIDER_PORT: held, DATA_DIR: dir })
    assert.equal(code, 1)
    assert.equal(output, `Port ${held} is already in use (is npm start already running?). Start with PROVIDER_PORT=<another port> npm start.\n`)
  })

  test("the shop's port: names it and PORT, and exits although its provider had started", async () => {
    const { code, output } = await runStart({ PORT: held, PROVIDER_PORT: await freePort(), DATA_DIR: dir })
    assert.equal(code, 1)
    assert.equal(output, `Port ${held} is already in use (is npm start already running?). Start with PORT=<another port> npm start.\n`)
  })
})
