/**
 * The install commands of docs/fastify.md and docs/koa.md, run as written (the package
 * itself from its tarball) in fresh projects on this Node.js: npm prints no EBADENGINE
 * warning. The temporary projects are deleted afterwards.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..', '..')

/** The lines of the first `sh` block of a guide. */
function installCommands(guide: string): string[] {
  const text = readFileSync(join(ROOT, 'docs', guide), 'utf8')
  const block = /```sh\n([\s\S]*?)```/.exec(text)?.[1] ?? ''
  return block.split('\n').filter((line) => line.startsWith('npm '))
}

describe('the Fastify and Koa guides\' install commands', () => {
  let dir: string
  let tarball: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'justpass-hosts-'))
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' })
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' })) as Array<{ filename: string }>
    tarball = join(dir, packed!.filename)
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  for (const guide of ['fastify.md', 'koa.md']) {
    test(`${guide}: installs without an EBADENGINE warning`, () => {
      const project = mkdtempSync(join(dir, 'site-'))
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'site', private: true, type: 'module' }))
      const commands = installCommands(guide)
      assert.ok(commands.some((command) => command.startsWith('npm install passport-justpass ')), `${guide} has an install command`)
      for (const command of commands) {
        const args = command.split(' ').slice(1).map((arg) => (arg === 'passport-justpass' ? tarball : arg))
        if (args[0] === 'install') args.push('--no-audit', '--no-fund', '--prefer-offline')
        const run = spawnSync('npm', args, { cwd: project, encoding: 'utf8' })
        assert.equal(run.status, 0, `${command}: ${run.stderr}`)
        assert.doesNotMatch(`${run.stdout}${run.stderr}`, /EBADENGINE/, command)
      }
    })
  }
})
