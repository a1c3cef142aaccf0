/**
 * `npm run reset`: start the demo over. It deletes the local provider's and the example
 * shop's SQLite files (and their journal files) from the data folder (`.data/`, or
 * `DATA_DIR`), and nothing else, then says what it removed. While `npm start` runs on
 * that folder it refuses, and says so: the files would be deleted under a running shop.
 */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/** The files `npm start` keeps its state in: the provider's and the shop's databases, with SQLite's side files. */
export const DEMO_FILES: readonly string[] = ['provider.sqlite', 'shop.sqlite'].flatMap((name) => [name, `${name}-wal`, `${name}-shm`, `${name}-journal`])

/** The marker file a running `npm start` keeps in its data folder, one per process. */
function markerOf(dataDir: string, pid: number): string {
  return join(dataDir, `running.${pid}`)
}

/** Mark `dataDir` as in use by this process; returns how to remove the mark when it stops. */
export function markRunning(dataDir: string): () => void {
  const marker = markerOf(dataDir, process.pid)
  writeFileSync(marker, `${process.pid}\n`)
  return () => rmSync(marker, { force: true })
}

/** The ids of the live `npm start` processes using `dataDir` (marks of processes that died are removed). */
export function runningIn(dataDir: string): number[] {
  if (!existsSync(dataDir)) return []
  const live: number[] = []
  for (const name of readdirSync(dataDir)) {
    const pid = /^running\.(\d+)$/.exec(name)?.[1]
    if (pid === undefined) continue
    try {
      process.kill(Number(pid), 0)
      live.push(Number(pid))
    } catch {
      rmSync(join(dataDir, name), { force: true })
    }
  }
  return live
}

/**
 * Delete the demo's files from `dataDir`; returns the paths it removed (none when the
 * demo never ran there). Other files in the folder, and the folder itself, stay.
 */
export function resetDemo(dataDir: string): string[] {
  const removed: string[] = []
  for (const name of DEMO_FILES) {
    const path = join(dataDir, name)
    if (!existsSync(path)) continue
    rmSync(path)
    removed.push(path)
  }
  return removed
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dataDir = resolve(process.env.DATA_DIR ?? join(process.cwd(), '.data'))
  const running = runningIn(dataDir)
  if (running.length > 0) {
    console.error(`The shop is running (process ${running.join(', ')}): stop npm start (Ctrl+C), then run npm run reset again. Nothing was deleted.`)
    process.exit(1)
  }
  try {
    const removed = resetDemo(dataDir)
    if (removed.length === 0) {
      console.log(`Nothing to remove: no demo data in ${dataDir}.`)
    } else {
      console.log(`Removed the demo's data (users, passkeys, provider state):\n${removed.map((path) => `  ${path}`).join('\n')}\nThe next npm start begins afresh: the demo user, with no passkey.`)
    }
  } catch (err) {
    console.error(`The demo could not be reset: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
}
