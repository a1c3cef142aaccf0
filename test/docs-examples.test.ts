/**
 * The documentation's code and links: in README.md and every docs/*.md, each TypeScript
 * or JavaScript block names the file (or the region of a file) it is taken from, with
 * `<!-- example: example/readme/<file>.ts#<region> -->` on the line before its fence,
 * and equals it; the tests that run those files are test/readme.test.ts and
 * test/readme-*.test.ts, and test/fastify.test.ts and test/koa.test.ts for the Fastify
 * and Koa guides' sites (example/fastify/site.ts, example/koa/site.ts). Every relative
 * link resolves: its file exists, and an `#anchor` into a markdown file names one of its
 * headings. Shell, Mermaid, HTML and text blocks are not checked. Reads files only: it
 * needs no build.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** README.md, SECURITY.md and every markdown file in docs/, as paths from the root. */
const DOCUMENTS = [
  'README.md',
  'SECURITY.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
]

/** The documents whose code blocks must be checked against example files: all of them. */
const CHECKED_DOCUMENTS = DOCUMENTS

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8')

// ---------------------------------------------------------------------------------
// Code blocks

/** A fenced code block. */
interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number
  lang: string
  content: string[]
  /** The `<!-- example: ... -->` marker on the last non-blank line before the fence. */
  marker?: { file: string; region?: string }
}

const MARKER = /^<!--\s*example:\s*([^\s#]+)(?:#([\w-]+))?\s*-->$/
const CHECKED_LANGUAGES = new Set(['ts', 'typescript', 'tsx', 'mts', 'cts', 'js', 'javascript', 'jsx', 'mjs', 'cjs'])
const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w+-]*)/
const REGION = /^\s*\/\/\s*#region\s+([\w-]+)\s*$/
const END_REGION = /^\s*\/\/\s*#endregion\b/

/** Every fenced code block of `markdown`, with the marker before it when there is one. */
function codeBlocks(markdown: string, file: string): CodeBlock[] {
  const lines = markdown.split('\n')
  const blocks: CodeBlock[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!)
    if (!open) continue
    const fence = open[2]!
    const block: CodeBlock = { line: i + 1, lang: open[3]!.toLowerCase(), content: [] }
    let previous = i - 1
    while (previous >= 0 && lines[previous]!.trim() === '') previous--
    const marker = previous >= 0 ? MARKER.exec(lines[previous]!.trim()) : null
    if (marker) block.marker = marker[2] ? { file: marker[1]!, region: marker[2] } : { file: marker[1]! }
    let j = i + 1
    while (j < lines.length && !lines[j]!.trim().startsWith(fence)) block.content.push(lines[j++]!)
    assert.ok(j < lines.length, `${file} line ${i + 1}: the code block is not closed`)
    blocks.push(block)
    i = j
  }
  return blocks
}

/** Lines without trailing whitespace, and without blank lines at the end. */
function normalize(lines: string[]): string[] {
  const out = lines.map((line) => line.trimEnd())
  while (out.length > 0 && out.at(-1) === '') out.pop()
  return out
}

/** The lines of an example file, or of one region of it, without region marker lines. */
function exampleLines(file: string, region?: string): string[] {
  const lines = read(file).split('\n')
  const isMarker = (line: string) => REGION.test(line) || END_REGION.test(line)
  if (region === undefined) return normalize(lines.filter((line) => !isMarker(line)))
  const start = lines.findIndex((line) => REGION.exec(line)?.[1] === region)
  assert.ok(start !== -1, `${file} has no "// #region ${region}"`)
  const out: string[] = []
  let depth = 1
  for (const line of lines.slice(start + 1)) {
    if (REGION.test(line)) depth++
    else if (END_REGION.test(line) && --depth === 0) return normalize(out)
    if (!isMarker(line)) out.push(line)
  }
  assert.fail(`${file}: region "${region}" has no "// #endregion"`)
}

describe('README and guides: the code blocks', () => {
  test('the README has its minimal site, one Mermaid diagram and the demo commands', () => {
    const blocks = codeBlocks(read('README.md'), 'README.md')
    assert.ok(
      blocks.some((block) => block.marker?.file === 'example/readme/minimal.ts'),
      'the minimal site is example/readme/minimal.ts',
    )
    assert.equal(blocks.filter((block) => block.lang === 'mermaid').length, 1, 'one Mermaid diagram')
    const shell = blocks.filter((block) => block.lang === 'sh').flatMap((block) => block.content.map((line) => line.trim()))
    for (const command of ['npm ci', 'npm start', 'npm test']) assert.ok(shell.includes(command), `the README shows \`${command}\``)
  })

  test('the README is at most 300 lines', () => {
    const lines = read('README.md').split('\n')
    if (lines.at(-1) === '') lines.pop()
    assert.ok(lines.length <= 300, `README.md has ${lines.length} lines`)
  })

  test('the README\'s minimal site is at most 30 lines', () => {
    const minimal = codeBlocks(read('README.md'), 'README.md').find((block) => block.marker?.file === 'example/readme/minimal.ts')
    assert.ok(minimal)
    assert.ok(normalize(minimal.content).length <= 30, `${minimal.content.length} lines`)
  })

  for (const document of CHECKED_DOCUMENTS) {
    describe(document, () => {
      const markdown = read(document)
      const blocks = codeBlocks(markdown, document)
      const checked = blocks.filter((block) => CHECKED_LANGUAGES.has(block.lang))

      test('every TypeScript or JavaScript block has an example marker', () => {
        const unmarked = checked.filter((block) => block.marker === undefined).map((block) => `line ${block.line}`)
        assert.deepEqual(unmarked, [], 'code blocks without <!-- example: example/readme/<file>.ts#<region> -->')
      })

      test('every example marker is followed by a TypeScript or JavaScript block', () => {
        const lines = markdown.split('\n')
        // Lines inside code blocks show markers; they are not markers.
        const inside = new Set(blocks.flatMap((block) => Array.from({ length: block.content.length }, (_, k) => block.line + 1 + k)))
        const markerLines = lines.flatMap((line, index) => (MARKER.test(line.trim()) && !inside.has(index + 1) ? [index + 1] : []))
        const used = new Set(checked.flatMap((block) => (block.marker ? [block.line] : [])))
        for (const line of markerLines) {
          let next = line
          while (next < lines.length && lines[next]!.trim() === '') next++
          assert.ok(used.has(next + 1), `${document} line ${line}: the marker is not followed by a ts/js code block`)
        }
      })

      for (const block of checked) {
        if (!block.marker) continue
        const { file, region } = block.marker
        test(`line ${block.line} equals ${file}${region ? `#${region}` : ''}`, () => {
          assert.match(file, /^example\/(readme|nestjs|fastify|koa|shop|existing-app)\/[\w.-]+\.ts$/, 'markers name a file under example/readme/, example/nestjs/, example/fastify/, example/koa/, example/shop/ or example/existing-app/')
          assert.ok(existsSync(join(ROOT, file)), `${file} does not exist`)
          assert.deepEqual(normalize(block.content), exampleLines(file, region))
        })
      }
    })
  }

  test('every example file a document names is run by a test', () => {
    const named = new Set(
      CHECKED_DOCUMENTS.flatMap((document) => codeBlocks(read(document), document).flatMap((block) => (block.marker ? [block.marker.file] : []))),
    )
    const tests = readdirSync(join(ROOT, 'test'))
      // The readme tests, the host tests that run the Fastify and Koa sites, and the shop's.
      .filter((name) => /^(readme(-[\w-]+)?|fastify|koa|shop(-[\w-]+)?|existing-app)\.test\.ts$/.test(name))
      .map((name) => read(`test/${name}`))
      // The package tests run files of the examples too (a declaration file, in a fresh project).
      .concat(readdirSync(join(ROOT, 'test', 'package')).map((name) => read(`test/package/${name}`)))
      .join('\n')
    const ran = (file: string) => {
      const base = file.replace(/^example\//, '').replace(/\.ts$/, '')
      // Imported (directly, or through the example that imports it) or spawned by name.
      return tests.includes(`example/${base}.ts`) || tests.includes(`example/${base}.js`)
    }
    const nestFiles = [...named].filter((file) => file.startsWith('example/nestjs/'))
    const unrun = [...named].filter((file) => !file.startsWith('example/nestjs/') && !ran(file))
    assert.deepEqual(unrun, [], 'example files no readme, Fastify or Koa test imports or runs')
    // The NestJS module's files are imported by example/readme/nest-main.ts.
    if (nestFiles.length > 0) assert.ok(ran('example/readme/nest-main.ts'), 'example/readme/nest-main.ts runs the NestJS module')
  })
})

// ---------------------------------------------------------------------------------
// Links

/**
 * The anchor GitHub gives a heading: lower case, punctuation dropped (letters, digits,
 * spaces, `-` and `_` kept), each space a `-`; repeats get `-1`, `-2`, ...
 */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  let fence: string | undefined
  for (const line of markdown.split('\n')) {
    const open = FENCE.exec(line)
    if (open) {
      if (fence === undefined) fence = open[2]!
      else if (line.trim().startsWith(fence)) fence = undefined
      continue
    }
    if (fence !== undefined) continue
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)
    if (!heading) continue
    const text = heading[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    anchors.add(count === 0 ? base : `${base}-${count}`)
  }
  return anchors
}

/** The link targets of `markdown`, outside code blocks and code spans, with their lines. */
function linksOf(markdown: string): Array<{ line: number; target: string }> {
  const links: Array<{ line: number; target: string }> = []
  let fence: string | undefined
  markdown.split('\n').forEach((line, index) => {
    const open = FENCE.exec(line)
    if (open) {
      if (fence === undefined) fence = open[2]!
      else if (line.trim().startsWith(fence)) fence = undefined
      return
    }
    if (fence !== undefined) return
    const text = line.replace(/`[^`]*`/g, '')
    for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: index + 1, target: match[1]! })
    for (const match of text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/g)) links.push({ line: index + 1, target: match[1]! })
  })
  return links
}

describe('README and guides: the links', () => {
  for (const document of DOCUMENTS) {
    test(`${document}: every relative link resolves`, () => {
      const broken: string[] = []
      for (const { line, target } of linksOf(read(document))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // https:, mailto: ...
        const [path = '', anchor] = target.split('#', 2)
        const file = path === '' ? document : relative(ROOT, resolve(ROOT, dirname(document), decodeURIComponent(path)))
        if (file.startsWith('..') || !existsSync(join(ROOT, file))) {
          broken.push(`line ${line}: ${target} (no file ${file})`)
          continue
        }
        if (anchor === undefined) continue
        if (!file.endsWith('.md') || statSync(join(ROOT, file)).isDirectory()) {
          broken.push(`line ${line}: ${target} (an anchor into a file that is not markdown)`)
          continue
        }
        if (!anchorsOf(read(file)).has(decodeURIComponent(anchor))) broken.push(`line ${line}: ${target} (no heading #${anchor} in ${file})`)
      }
      assert.deepEqual(broken, [])
    })
  }

  test('the README links every guide in docs/', () => {
    const linked = new Set(linksOf(read('README.md')).map(({ target }) => target.split('#')[0]))
    const guides = DOCUMENTS.filter((file) => file.startsWith('docs/'))
    assert.deepEqual(guides.filter((guide) => !linked.has(guide)), [])
    for (const target of ['SECURITY.md', 'docs/options.md']) assert.ok(linked.has(target), `the README links ${target}`)
  })

  test('the anchors are GitHub\'s', () => {
    const anchors = anchorsOf('# Single factor (passkey only)\n## Starting a flow from a page: `urlOnly`\n## Outcomes\n## Outcomes\n```sh\n# not a heading\n```\n### mozilla-django-oidc\'s settings\n')
    assert.deepEqual([...anchors], ['single-factor-passkey-only', 'starting-a-flow-from-a-page-urlonly', 'outcomes', 'outcomes-1', 'mozilla-django-oidcs-settings'])
  })
})
