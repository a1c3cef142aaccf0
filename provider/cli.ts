/**
 * `npm run provider`: the local justpass-compatible provider on its own, for any site in
 * development and in its tests. With no flags it serves a site on
 * `http://localhost:4000` (the README's minimal site), generates the client secret and
 * keeps it beside its data, and prints the lines the site needs. Each flag can also be
 * given as an environment variable; `--help` lists them. A secret the user gave (flag,
 * variable or file) is never printed.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { PortInUseError, startLocalProvider, type LocalProvider } from './index.ts'

/** The site the provider serves when no flag names one: the README's minimal site. */
export const DEFAULTS = {
  clientID: 'my-site',
  /** The name of the default site on the provider's pages (a site given by --client-id is named by its id). */
  clientName: 'My site',
  redirectURI: 'http://localhost:4000/justpass/callback',
  port: 4001,
  database: '.data/local-provider.sqlite',
} as const

/** The command's flags, with their environment variables and what they mean. */
export const FLAGS = {
  'client-id': { env: 'JUSTPASS_PROVIDER_CLIENT_ID', help: `the site's client id (default ${DEFAULTS.clientID})` },
  'client-name': { env: 'JUSTPASS_PROVIDER_CLIENT_NAME', help: `the site's name, as the provider's pages show it (default ${DEFAULTS.clientName} for ${DEFAULTS.clientID}, else the client id)` },
  'client-secret': {
    env: 'JUSTPASS_PROVIDER_CLIENT_SECRET',
    help: "the site's client secret, also the key of its HS256 ID tokens (32 characters or more; default: one generated, kept beside the data file, and printed)",
  },
  'client-secret-file': { env: 'JUSTPASS_PROVIDER_CLIENT_SECRET_FILE', help: 'a file holding the client secret (a final newline is ignored)' },
  'redirect-uri': {
    env: 'JUSTPASS_PROVIDER_REDIRECT_URI',
    help: `the site's callback URL; repeat the flag (or separate with commas) for several (default ${DEFAULTS.redirectURI}); its origin with a / is registered as where sign-out returns`,
  },
  port: { env: 'JUSTPASS_PROVIDER_PORT', help: `the port on 127.0.0.1 (default ${DEFAULTS.port}; 0 for a free one)` },
  hostname: { env: 'JUSTPASS_PROVIDER_HOSTNAME', help: "the host name in the provider's URLs (default localhost: passkeys refuse IP addresses)" },
  database: { env: 'JUSTPASS_PROVIDER_DATABASE', help: `the SQLite file of accounts, passkeys and sign-ins (default ${DEFAULTS.database}; :memory: for none)` },
  users: { env: 'JUSTPASS_PROVIDER_USERS', help: "accounts to create at start, comma-separated (a site's usernames, e.g. alice,bob)" },
} as const

/** Width of the meaning column of `--help`. */
const HELP_WIDTH = 56

/** `text` cut into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  return [...lines, line]
}

/** The `--help` text: flag, variable and meaning in aligned columns, long meanings wrapped under their column. */
export function helpText(): string {
  const rows: Array<[string, string, string]> = [...Object.entries(FLAGS).map(([name, flag]): [string, string, string] => [`--${name}`, flag.env, flag.help]), ['--help', '', 'this text']]
  const flagWidth = Math.max(...rows.map(([flag]) => flag.length))
  const envWidth = Math.max(...rows.map(([, env]) => env.length))
  const indent = ' '.repeat(2 + flagWidth + 2 + envWidth + 2)
  const lines = rows.flatMap(([flag, env, help]) => {
    const [first, ...rest] = wrap(help, HELP_WIDTH)
    return [`  ${flag.padEnd(flagWidth)}  ${env.padEnd(envWidth)}  ${first}`, ...rest.map((line) => `${indent}${line}`)]
  })
  return `Usage: npm run provider [-- --client-id ID --redirect-uri URL --port PORT --users alice,bob ...]

The local justpass-compatible provider (OpenID Connect under /openid/, passkeys), for a
site in development and in its tests. It prints the settings to give the site.

  ${'flag'.padEnd(flagWidth)}  ${'environment variable'.padEnd(envWidth)}  meaning
${lines.join('\n')}
`
}

/** Where the client secret came from. */
export type SecretSource = 'generated' | 'kept' | 'given' | 'file'

/** The provider's settings from flags and environment variables (flags win). */
export interface ProviderCommand {
  clientID: string
  /** The site's name on the provider's pages; `undefined` shows the client id. */
  clientName: string | undefined
  clientSecret: string
  /** Where the secret came from: given (flag or variable), a file, or generated now or on an earlier start and kept. */
  secretSource: SecretSource
  /** The file a generated secret is kept in; `undefined` for an in-memory database or a given secret. */
  secretFile: string | undefined
  redirectURIs: string[]
  /** Where sign-out may return: the origin of each callback URL, with a `/`. */
  postLogoutRedirectURIs: string[]
  port: number
  hostname: string
  database: string
  users: string[]
}

/** A usage mistake: the message says which flag and why. */
export class UsageError extends Error {}

/** Read the flags and the environment; `'help'` when `--help` was asked for. */
export function parseCommand(argv: string[], env: NodeJS.ProcessEnv): ProviderCommand | 'help' {
  let parsed: ReturnType<typeof parse>
  function parse() {
    return parseArgs({
      args: argv,
      options: {
        'client-id': { type: 'string' },
        'client-name': { type: 'string' },
        'client-secret': { type: 'string' },
        'client-secret-file': { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        port: { type: 'string' },
        hostname: { type: 'string' },
        database: { type: 'string' },
        users: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    })
  }
  try {
    parsed = parse()
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message.split('\n')[0]! : String(err))
  }
  const { values } = parsed
  if (values.help) return 'help'
  const value = (name: Exclude<keyof typeof FLAGS, 'redirect-uri'>): string | undefined => (values[name] as string | undefined) ?? (env[FLAGS[name].env] || undefined)
  const clientID = value('client-id') ?? DEFAULTS.clientID
  const database = value('database') ?? resolve(DEFAULTS.database)
  const given = values['redirect-uri'] ?? (env[FLAGS['redirect-uri'].env] ? [env[FLAGS['redirect-uri'].env]!] : [DEFAULTS.redirectURI])
  const uris = given.flatMap((uri) => uri.split(',')).map((uri) => uri.trim()).filter(Boolean)
  if (uris.length === 0) throw new UsageError(`--redirect-uri (or ${FLAGS['redirect-uri'].env}) names no URL: give the site's callback URL`)
  for (const uri of uris) {
    let url: URL
    try {
      url = new URL(uri)
    } catch {
      throw new UsageError(`--redirect-uri ${JSON.stringify(uri)} is not an absolute URL`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--redirect-uri ${JSON.stringify(uri)} must be http: or https:`)
  }
  const port = Number(value('port') ?? DEFAULTS.port)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError('--port must be a port number (0 for a free one)')
  const users = (value('users') ?? '').split(',').map((user) => user.trim()).filter(Boolean)
  const postLogoutRedirectURIs = [...new Set(uris.map((uri) => `${new URL(uri).origin}/`))]
  // Last: a generated secret is written to its file only once every flag is known to be right.
  const secret = clientSecretOf(value, database)
  if (secret.value.length < 32) throw new UsageError(`the client secret (${secret.named}) must be 32 characters or more: it keys HS256 ID tokens`)
  return {
    clientID,
    clientName: value('client-name') ?? (value('client-id') === undefined ? DEFAULTS.clientName : undefined),
    clientSecret: secret.value,
    secretSource: secret.source,
    secretFile: secret.file,
    redirectURIs: uris,
    postLogoutRedirectURIs,
    port,
    hostname: value('hostname') ?? 'localhost',
    database,
    users,
  }
}

/** The file a generated client secret is kept in, beside the database: `local-provider.sqlite` keeps it in `local-provider.client-secret`. */
export function generatedSecretFile(database: string): string {
  return `${database.replace(/\.sqlite3?$/, '')}.client-secret`
}

/**
 * The client secret: given by flag, variable or file, else the one generated on an
 * earlier start and kept beside the database, else a new one (kept there, unless the
 * database is in memory).
 */
function clientSecretOf(value: (name: Exclude<keyof typeof FLAGS, 'redirect-uri'>) => string | undefined, database: string): { value: string; source: SecretSource; named: string; file?: string } {
  const direct = value('client-secret')
  const path = value('client-secret-file')
  if (direct !== undefined && path !== undefined) throw new UsageError('give the client secret once: --client-secret or --client-secret-file, not both')
  if (direct !== undefined) return { value: direct, source: 'given', named: `--client-secret or ${FLAGS['client-secret'].env}` }
  if (path !== undefined) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch {
      throw new UsageError(`--client-secret-file ${JSON.stringify(path)} cannot be read: give a file that holds the secret`)
    }
    return { value: text.replace(/\r?\n$/, ''), source: 'file', named: `--client-secret-file ${path}` }
  }
  const generated = () => randomBytes(32).toString('base64url')
  if (database === ':memory:') return { value: generated(), source: 'generated', named: 'generated' }
  const file = generatedSecretFile(database)
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), source: 'kept', named: file, file }
  mkdirSync(dirname(file), { recursive: true })
  const fresh = generated()
  writeFileSync(file, `${fresh}\n`, { mode: 0o600 })
  return { value: fresh, source: 'generated', named: file, file }
}

/** Start the provider as the command says; the caller stops it. */
export async function startFromCommand(command: ProviderCommand): Promise<LocalProvider> {
  if (command.database !== ':memory:') mkdirSync(dirname(command.database), { recursive: true })
  const provider = await startLocalProvider({
    port: command.port,
    hostname: command.hostname,
    database: command.database,
    clients: [{
      clientID: command.clientID,
      ...(command.clientName === undefined ? {} : { clientName: command.clientName }),
      clientSecret: command.clientSecret,
      redirectURIs: command.redirectURIs,
      postLogoutRedirectURIs: command.postLogoutRedirectURIs,
    }],
  })
  for (const user of command.users) provider.passkeys.ensureAccount(user)
  return provider
}

/** The lines to paste into the site's shell or `.env`, and what to say about the secret. */
export function siteSettings(provider: Pick<LocalProvider, 'opURL'>, command: ProviderCommand): string {
  const secret = command.secretSource === 'generated' || command.secretSource === 'kept'
    ? `export JUSTPASS_CLIENT_SECRET=${command.clientSecret}`
    : `# JUSTPASS_CLIENT_SECRET: the secret you gave the provider (${command.secretSource === 'file' ? 'in its --client-secret-file' : `--client-secret or ${FLAGS['client-secret'].env}`})`
  return [
    `export JUSTPASS_OP_URL=${provider.opURL}`,
    `export JUSTPASS_CLIENT_ID=${command.clientID}`,
    secret,
    `export JUSTPASS_CALLBACK_URL=${command.redirectURIs[0]}`,
  ].join('\n')
}

/** What the command prints once the provider listens. */
export function startedText(provider: Pick<LocalProvider, 'opURL'>, command: ProviderCommand): string {
  const kept = command.secretFile === undefined
    ? ''
    : `\n  The client secret was ${command.secretSource === 'generated' ? 'generated for development and is kept' : 'generated on an earlier start and is kept'} in ${command.secretFile}.\n  It is for development only: at justpass.me the application has a secret of its own.\n`
  const memory = command.secretSource === 'generated' && command.secretFile === undefined ? '\n  The client secret was generated for this run only (the database is in memory).\n' : ''
  return `
  Local justpass-compatible provider at ${provider.opURL}

    site           ${command.clientName ?? command.clientID} (client id ${command.clientID})
    redirect URIs  ${command.redirectURIs.join(', ')}
    after sign-out ${command.postLogoutRedirectURIs.join(', ')}
    data           ${command.database}${command.users.length > 0 ? `\n    accounts       ${command.users.join(', ')}` : ''}

  The site's settings, for its shell or .env file:

${siteSettings(provider, command)}
${kept}${memory}
  Ctrl-C stops it.
`
}

async function main(): Promise<void> {
  let command: ProviderCommand | 'help'
  try {
    command = parseCommand(process.argv.slice(2), process.env)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`${err.message}\n\n${helpText()}`)
    process.exit(2)
  }
  if (command === 'help') return void process.stdout.write(helpText())
  let provider: LocalProvider
  try {
    provider = await startFromCommand(command)
  } catch (err) {
    if (!(err instanceof PortInUseError)) throw err
    process.stderr.write(`Port ${err.port} is already in use (is another provider, or npm start, running?). Start with --port <another port> or ${FLAGS.port.env}.\n`)
    process.exit(1)
  }
  process.stdout.write(startedText(provider, command))
  const stop = async () => {
    await provider.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main().catch((err: unknown) => {
    process.stderr.write(`The provider could not start: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  })
}
