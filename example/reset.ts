/**
 * `npm run reset`: start the demo over. It deletes the local provider's and the example
 * shop's SQLite files (and their journal files) from the data folder (`.data/`, or
 * `DATA_DIR`), and nothing else, then says what it removed. Stop `npm start` first.
 */
import { existsSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

/** The files `npm start` keeps its state in: the provider's and the shop's databases, with SQLite's side files. */
export const DEMO_FILES: readonly string[] = ['provider.sqlite', 'shop.sqlite'].flatMap((name) => [name, `${name}-wal`, `${name}-shm`, `${name}-journal`])

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
  try {
    const removed = resetDemo(dataDir)
    if (removed.length === 0) {
      console.log(`Nothing to remove: no demo data in ${dataDir}.`)
    } else {
      console.log(`Removed the demo's data (users, passkeys, provider state):\n${removed.map((path) => `  ${path}`).join('\n')}\nThe next npm start begins afresh: the demo user, with no passkey.`)
    }
  } catch (err) {
    console.error(`could not reset: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  }
}
