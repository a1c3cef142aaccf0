/**
 * docs/options.md, generated from the TSDoc of the option interfaces: the strategy's
 * options, the provider settings of `justpassProvider`, and the two flow stores'
 * settings. The descriptions live once, where the options are declared; this writes
 * them out as tables. `npm run docs:options` rewrites the file; a test fails when it is
 * not what this would write.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

/** One table of the reference: an interface, and what the page says above it. */
interface Section {
  title: string
  file: string
  name: string
  intro: string
}

const SECTIONS: Section[] = [
  {
    title: 'The strategy: `new JustpassStrategy(options, verify?)`',
    file: 'src/options.ts',
    name: 'JustpassStrategyOptions',
    intro: 'The site\'s side of a flow. `callbackURL` is required, with the provider (`provider`, or the shorthand `opURL` or `organization`, `clientID`, `clientSecret`) and `userStore` unless a verify callback is given. Any other name is refused; one that belongs to the provider settings, the flow store or the `authorizationParams` hook is refused with a message that says where it goes.',
  },
  {
    title: 'The provider: `justpassProvider(settings)`',
    file: 'src/provider-settings.ts',
    name: 'JustpassProviderSettings',
    intro: 'The provider, this client at it, and the calls between them; the result goes into the strategy\'s `provider` option. `clientID`, `clientSecret` and one of `opURL` or `organization` are required.',
  },
  {
    title: "The cookie flow store: `flowStore: { type: 'cookie', … }`",
    file: 'src/flow-store/index.ts',
    name: 'CookieFlowStoreSettings',
    intro: "The default store; `flowStore: 'cookie'` is the same with every setting at its default. See [flow storage](flow-storage.md).",
  },
  {
    title: "The session flow store: `flowStore: { type: 'session', … }`",
    file: 'src/flow-store/index.ts',
    name: 'SessionFlowStoreSettings',
    intro: "`flowStore: 'session'` is the same with every setting at its default. See [flow storage](flow-storage.md).",
  },
]

/** A property's TSDoc as one line of Markdown: links reduced to their names, pipes escaped. */
function describe(member: ts.PropertySignature): string {
  const docs = ts.getJSDocCommentsAndTags(member).filter(ts.isJSDoc)
  const text = docs.map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '').join(' ')
  return text
    .replace(/\{@link\s+([^}\s|]+)(?:\s*\|\s*([^}]+))?\s*\}/g, (_all, target: string, label?: string) => `\`${(label ?? target).trim()}\``)
    .replace(/\s+/g, ' ')
    .replace(/\|/g, '\\|')
    .trim()
}

/** A property's declared type, on one line. */
function typeOf(member: ts.PropertySignature, source: ts.SourceFile): string {
  return (member.type?.getText(source) ?? 'unknown').replace(/\s+/g, ' ').replace(/\|/g, '\\|').replace(/^\\\| /, '')
}

/** The properties of interface `name` in `file`, in declaration order. */
export function optionsOf(file: string, name: string): Array<{ name: string; optional: boolean; type: string; description: string }> {
  const source = ts.createSourceFile(file, readFileSync(`${ROOT}${file}`, 'utf8'), ts.ScriptTarget.ES2022, true)
  const declaration = source.statements.find((statement): statement is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(statement) && statement.name.text === name)
  if (declaration === undefined) throw new Error(`${file} declares no interface ${name}`)
  return declaration.members.filter(ts.isPropertySignature).map((member) => ({
    name: member.name.getText(source),
    optional: member.questionToken !== undefined,
    type: typeOf(member, source),
    description: describe(member),
  }))
}

/** The whole of docs/options.md. */
export function optionsReference(): string {
  const lines = [
    '# Options reference',
    '',
    '<!-- Generated from the TSDoc in src/ by `npm run docs:options`: edit the TSDoc, not this file. -->',
    '',
    'Every option, where it belongs, and what it does, as declared in the source. The API reference (`npm run docs`) has the rest of the types.',
    '',
  ]
  for (const section of SECTIONS) {
    lines.push(`## ${section.title}`, '', section.intro, '', '| Option | Type | Description |', '| --- | --- | --- |')
    for (const option of optionsOf(section.file, section.name)) {
      lines.push(`| \`${option.name}\`${option.optional ? '' : ' (required)'} | \`${option.type}\` | ${option.description} |`)
    }
    lines.push('')
  }
  return lines.join('\n')
}

/** Where the reference is written. */
export const OPTIONS_REFERENCE = `${ROOT}docs/options.md`

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) writeFileSync(OPTIONS_REFERENCE, optionsReference())
  else process.stdout.write(optionsReference())
}
