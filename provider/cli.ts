/**
 * `npm run provider -- --client-id … --client-secret … --redirect-uri …`: the local
 * justpass-compatible provider on its own, for any site in development and in its tests.
 * Each flag can also be given as an environment variable; `--help` lists them. It prints
 * the `opURL` to configure, never the client secret.
 */
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startLocalProvider, type LocalProvider } from './index.ts'

/** The command's flags, with their environment variables and what they mean. */
export const FLAGS = {
  'client-id': { env: 'JUSTPASS_PROVIDER_CLIENT_ID', help: 'the site\'s client id (required)' },
  'client-secret': { env: 'JUSTPASS_PROVIDER_CLIENT_SECRET', help: 'the site\'s client secret, also the key of its HS256 ID tokens (required, 32 characters or more)' },
  'redirect-uri': {
    env: 'JUSTPASS_PROVIDER_REDIRECT_URI',
    help: 'the site\'s callback URL; repeat the flag (or separate with commas) for several (required); its origin with a / is registered as where sign-out returns',
  },
  port: { env: 'JUSTPASS_PROVIDER_PORT', help: 'the port on 127.0.0.1 (default 3001; 0 for a free one)' },
  hostname: { env: 'JUSTPASS_PROVIDER_HOSTNAME', help: 'the host name in the provider\'s URLs (default localhost: passkeys refuse IP addresses)' },
  database: { env: 'JUSTPASS_PROVIDER_DATABASE', help: 'the SQLite file of accounts, passkeys and sign-ins (default .data/provider.sqlite; :memory: for none)' },
  users: { env: 'JUSTPASS_PROVIDER_USERS', help: 'accounts to create at start, comma-separated (a site\'s usernames, e.g. alice,bob)' },
} as const

/** The `--help` text. */
export function helpText(): string {
  const rows = Object.entries(FLAGS).map(([name, flag]) => `  --${name.padEnd(14)} ${flag.env.padEnd(29)} ${flag.help}`)
  return `Usage: npm run provider -- --client-id ID --client-secret SECRET --redirect-uri URL [--port PORT] [--users alice,bob]

The local justpass-compatible provider (OpenID Connect under /openid/, passkeys), for a
site in development and in its tests. It prints the opURL to configure in the site.

  flag             environment variable          meaning
${rows.join('\n')}
  --help                                         this text
`
}

/** The provider's settings from flags and environment variables (flags win). */
export interface ProviderCommand {
  clientID: string
  clientSecret: string
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
        'client-secret': { type: 'string' },
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
  const required = (name: 'client-id' | 'client-secret'): string => {
    const found = value(name)
    if (!found) throw new UsageError(`--${name} (or ${FLAGS[name].env}) is required`)
    return found
  }
  const clientID = required('client-id')
  const clientSecret = required('client-secret')
  if (clientSecret.length < 32) throw new UsageError('--client-secret must be 32 characters or more (it keys HS256 ID tokens)')
  const uris = (values['redirect-uri'] ?? (env[FLAGS['redirect-uri'].env] ? [env[FLAGS['redirect-uri'].env]!] : []))
    .flatMap((uri) => uri.split(','))
    .map((uri) => uri.trim())
    .filter(Boolean)
  if (uris.length === 0) throw new UsageError(`--redirect-uri (or ${FLAGS['redirect-uri'].env}) is required: the site's callback URL`)
  for (const uri of uris) {
    let url: URL
    try {
      url = new URL(uri)
    } catch {
      throw new UsageError(`--redirect-uri ${JSON.stringify(uri)} is not an absolute URL`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--redirect-uri ${JSON.stringify(uri)} must be http: or https:`)
  }
  const port = Number(value('port') ?? 3001)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError('--port must be a port number (0 for a free one)')
  const users = (value('users') ?? '').split(',').map((user) => user.trim()).filter(Boolean)
  const postLogoutRedirectURIs = [...new Set(uris.map((uri) => `${new URL(uri).origin}/`))]
  return { clientID, clientSecret, redirectURIs: uris, postLogoutRedirectURIs, port, hostname: value('hostname') ?? 'localhost', database: value('database') ?? resolve('.data', 'provider.sqlite'), users }
}

/** Start the provider as the command says; the caller stops it. */
export async function startFromCommand(command: ProviderCommand): Promise<LocalProvider> {
  if (command.database !== ':memory:') mkdirSync(dirname(command.database), { recursive: true })
  const provider = await startLocalProvider({
    port: command.port,
    hostname: command.hostname,
    database: command.database,
    clients: [{ clientID: command.clientID, clientSecret: command.clientSecret, redirectURIs: command.redirectURIs, postLogoutRedirectURIs: command.postLogoutRedirectURIs }],
  })
  for (const user of command.users) provider.passkeys.ensureAccount(user)
  return provider
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
  const provider = await startFromCommand(command)
  process.stdout.write(`
  local justpass-compatible provider

    opURL          ${provider.opURL}
    client id      ${command.clientID}
    redirect URIs  ${command.redirectURIs.join(', ')}
    after sign-out ${command.postLogoutRedirectURIs.join(', ')}
    data           ${command.database}${command.users.length > 0 ? `\n    accounts       ${command.users.join(', ')}` : ''}

  Configure the site with this opURL, the client id and the secret you chose.
  Ctrl-C stops it.
`)
  const stop = async () => {
    await provider.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main().catch((err: unknown) => {
    process.stderr.write(`could not start: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  })
}
