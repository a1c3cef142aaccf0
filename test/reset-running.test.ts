/**
 * `npm run reset` (example/reset.ts) while `npm start` runs on the same data folder: it
 * refuses in one sentence, deletes nothing, and works once the shop has stopped. Real
 * processes on free ports; every process started is stopped.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startLoopbackServer } from './support/server.ts'

/** A port free now. */
async function freePort(): Promise<string> {
  const probe = await startLoopbackServer()
  await probe.close()
  return new URL(probe.origin).port
}

/** `npm run reset` on `dataDir`: its exit code and output. */
function reset(dataDir: string): { code: number | null; output: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'example/reset.ts'], { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' })
  return { code: run.status, output: `${run.stdout}${run.stderr}` }
}

describe('npm run reset while npm start runs', () => {
  let dir: string
  let shop: ChildProcess
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-reset-'))
    const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('JUSTPASS_') && name !== 'REDIS_URL'))
    shop = spawn(process.execPath, ['--import', 'tsx', 'example/start.ts'], { env: { ...clean, PORT: await freePort(), PROVIDER_PORT: await freePort(), DATA_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    await new Promise<void>((resolve, reject) => {
      shop.stdout!.on('data', (chunk: Buffer) => {
        output += chunk
        if (output.includes('Ctrl-C stops both')) resolve()
      })
      shop.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${output}`)))
    })
  })
  after(async () => {
    if (shop.exitCode === null) {
      const exited = new Promise((resolve) => shop.once('exit', resolve))
      shop.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  })

  test('refuses in one sentence and deletes nothing; once the shop stopped, it resets', async () => {
    const refused = reset(dir)
    assert.equal(refused.code, 1)
    assert.equal(refused.output, `The shop is running (process ${shop.pid}): stop npm start (Ctrl+C), then run npm run reset again. Nothing was deleted.\n`)
    assert.ok(existsSync(join(dir, 'shop.sqlite')) && existsSync(join(dir, 'provider.sqlite')))
    const exited = new Promise((resolve) => shop.once('exit', resolve))
    shop.kill('SIGTERM')
    assert.equal(await exited, 0)
    const done = reset(dir)
    assert.equal(done.code, 0, done.output)
    assert.match(done.output, /^Removed the demo's data/)
    assert.ok(!existsSync(join(dir, 'shop.sqlite')))
  })

  test('a mark left by a process that died does not stop a reset', () => {
    // The shop above was stopped; a crashed one leaves its mark behind (simulated here with a pid that cannot exist).
    writeFileSync(join(dir, 'running.999999'), '999999\n')
    const done = reset(dir)
    assert.equal(done.code, 0, done.output)
    assert.ok(!existsSync(join(dir, 'running.999999')), 'the dead mark is removed')
  })
})
