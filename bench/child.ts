/**
 * The entry of a bench server process: runs the provider or one site on 127.0.0.1,
 * reports its origin, then answers the parent's commands (reset the session store, read
 * the heap, read its CPU time, measure a session, count the sessions) until told to
 * close or orphaned.
 *
 * @packageDocumentation
 */
import type { SessionData } from 'express-session'
import { CLIENT_ID, CLIENT_SECRET } from './config.ts'
import type { ChildRole, Command, HeapReading, ReadyMessage, Reply, SessionBytes } from './ipc.ts'
import { startBenchProvider } from './provider.ts'
import type { BenchSite, SiteName } from './sites/site.ts'
import { startJustpassSite } from './sites/justpass.ts'
import { startOpenidClientSite } from './sites/openid-client.ts'
import { startFloorSite } from './sites/floor.ts'

const SITES: Record<SiteName, (opURL: string, redisURL?: string) => Promise<BenchSite>> = {
  A: startJustpassSite,
  B: startOpenidClientSite,
  C: startFloorSite,
}

function send(message: ReadyMessage | Reply): void {
  process.send?.(message)
}

/** Run `gc()` a few times, when exposed, so that a heap reading holds only live objects. */
function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc) for (let i = 0; i < 3; i++) gc()
}

function storeCall<T>(call: (done: (err: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => call((err, value) => (err ? reject(err) : resolve(value))))
}

async function sessionBytes(site: BenchSite, sid: string): Promise<SessionBytes> {
  const stored = await storeCall<SessionData | null>((done) => site.store.get(sid, done))
  if (!stored) throw new Error('no such session')
  const session = stored as unknown as Record<string, unknown>
  const pending = site.pending(session)
  if (!pending) throw new Error('the session holds no pending flow')
  const { [pending.key]: flowsValue, ...rest } = session
  const sessionSize = Buffer.byteLength(JSON.stringify(session))
  const pendingBytes = sessionSize - Buffer.byteLength(JSON.stringify(rest))
  // One stored flow: site A keeps a map of flows by state, B and C a single flow object.
  const values = flowsValue as Record<string, unknown>
  const first = pending.key === 'justpass' ? (Object.values(values)[0] as Record<string, unknown>) : values
  const fields: Record<string, number> = {}
  for (const [name, value] of Object.entries(first)) fields[name] = Buffer.byteLength(JSON.stringify(value))
  if (pending.key === 'justpass') fields['(state key)'] = Buffer.byteLength(JSON.stringify(Object.keys(values)[0]))
  return { flows: pending.flows, sessionBytes: sessionSize, pendingBytes, perFlow: pendingBytes / pending.flows, fields }
}

async function heap(site: BenchSite): Promise<HeapReading> {
  const sessions = (await storeCall<number>((done) => site.store.length(done))) ?? 0
  collect()
  const withSessions = process.memoryUsage().heapUsed
  await storeCall<void>((done) => site.store.clear(done))
  collect()
  return { sessions, withSessions, withoutSessions: process.memoryUsage().heapUsed }
}

async function main(): Promise<void> {
  const role = JSON.parse(process.argv[2] ?? '{}') as ChildRole
  const gc = typeof (globalThis as { gc?: unknown }).gc === 'function'
  let site: BenchSite | undefined
  let close: () => Promise<void>
  if (role.role === 'provider') {
    const provider = await startBenchProvider(CLIENT_ID, CLIENT_SECRET)
    close = provider.close
    send({ type: 'ready', origin: new URL(provider.opURL).origin, opURL: provider.opURL, gc })
  } else {
    site = await SITES[role.site](role.opURL, role.redisURL)
    close = site.close
    const routes = site.callbackPath === undefined ? { initiationPath: site.initiationPath } : { initiationPath: site.initiationPath, callbackPath: site.callbackPath }
    send({ type: 'ready', origin: site.origin, routes, gc })
  }

  const handle = async (command: Command): Promise<unknown> => {
    switch (command.type) {
      case 'reset':
        if (site) await storeCall<void>((done) => site.store.clear(done))
        collect()
        return undefined
      case 'heap':
        if (!site) throw new Error('not a site')
        return heap(site)
      case 'session':
        if (!site) throw new Error('not a site')
        return sessionBytes(site, command.sid)
      case 'sessions':
        if (!site) throw new Error('not a site')
        return (await storeCall<number>((done) => site.store.length(done))) ?? 0
      case 'cpu':
        return process.cpuUsage()
      case 'close':
        await close()
        setImmediate(() => process.exit(0))
        return undefined
    }
  }
  process.on('message', (command: Command) => {
    handle(command).then(
      (value) => send({ id: command.id, ok: true, value }),
      (err: unknown) => send({ id: command.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    )
  })
  // The parent is gone: stop, so no server outlives the run.
  process.on('disconnect', () => void close().finally(() => process.exit(0)))
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
