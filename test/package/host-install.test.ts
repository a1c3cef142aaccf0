/**
 * The install commands of docs/fastify.md and docs/koa.md, run as written (the package
 * itself from its tarball) in fresh projects on this Node.js: npm prints no EBADENGINE
 * warning, and the Fastify example site type-checks without skipLibCheck with the guide's
 * type packages and declaration file. The temporary projects are deleted afterwards.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '..', '..')

/** The `npm` lines of a guide's `sh` block: the first (the install) by default. */
function installCommands(guide: string, block = 0): string[] {
  const text = readFileSync(join(ROOT, 'docs', guide), 'utf8')
  const lines = [...text.matchAll(/```sh\n([\s\S]*?)```/g)][block]?.[1] ?? ''
  return lines.split('\n').filter((line) => line.startsWith('npm '))
}

/** Run `command` (an npm line of a guide) in `project`, the package taken from `tarball`; npm must succeed without an EBADENGINE warning. */
function runGuideCommand(command: string, project: string, tarball: string): void {
  const args = command.split(' ').slice(1).map((arg) => (arg === 'passport-justpass' ? tarball : arg))
  if (args[0] === 'install') args.push('--no-audit', '--no-fund', '--prefer-offline')
  const run = spawnSync('npm', args, { cwd: project, encoding: 'utf8' })
  assert.equal(run.status, 0, `${command}: ${run.stderr}`)
  assert.doesNotMatch(`${run.stdout}${run.stderr}`, /EBADENGINE/, command)
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
      for (const command of commands) runGuideCommand(command, project, tarball)
      if (guide !== 'fastify.md') return
      // The guide's site type-checks with its libraries (skipLibCheck: false), given the guide's type packages and declaration file.
      const typeCommands = installCommands(guide, 1)
      assert.deepEqual(typeCommands, ['npm install -D @types/express @types/express-session @types/passport'])
      for (const command of typeCommands) runGuideCommand(command, project, tarball)
      const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '-D', 'typescript@5.9', '@types/node@20'], { cwd: project, encoding: 'utf8' })
      assert.equal(install.status, 0, install.stderr)
      // example/fastify/secure-session.d.ts, which the guide shows (the docs test keeps the two equal).
      writeFileSync(join(project, 'secure-session.d.ts'), readFileSync(join(ROOT, 'example', 'fastify', 'secure-session.d.ts'), 'utf8'))
      writeFileSync(join(project, 'site.ts'), readFileSync(join(ROOT, 'example', 'fastify', 'site.ts'), 'utf8'))
      writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true },
        files: ['site.ts', 'secure-session.d.ts'],
      }))
      const check = spawnSync(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' })
      assert.equal(check.status, 0, check.stdout)
    })
  }
})
