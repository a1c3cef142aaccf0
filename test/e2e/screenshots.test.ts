/**
 * `npm run screenshots` (tools/screenshots.ts) takes the documentation's pictures from
 * the current shop and provider: each is a PNG of the expected size, and the docs show
 * each by its file name.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { PICTURES, takeScreenshots } from '../../tools/screenshots.ts'

const ROOT = resolve(import.meta.dirname, '..', '..')

describe('npm run screenshots', () => {
  let out: string
  let shots: string[]
  before(async () => {
    out = mkdtempSync(join(tmpdir(), 'justpass-shots-'))
    shots = await takeScreenshots(out)
  })
  after(() => rmSync(out, { recursive: true, force: true }))

  test('writes every picture the docs show, as PNG, 1280 pixels wide', () => {
    assert.deepEqual(shots.map((shot) => basename(shot)), [...PICTURES])
    const docs = `${readFileSync(join(ROOT, 'README.md'), 'utf8')}${readFileSync(join(ROOT, 'docs', 'local-provider.md'), 'utf8')}`
    for (const shot of shots) {
      const png = readFileSync(shot)
      assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG')
      assert.equal(png.readUInt32BE(16), 1280)
      assert.ok(png.readUInt32BE(20) >= 600)
      assert.ok(docs.includes(`images/${basename(shot)}`), `the docs show ${basename(shot)}`)
    }
  })
})
