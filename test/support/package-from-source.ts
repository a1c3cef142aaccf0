/**
 * Makes `import 'passport-justpass'` (and its `/fastify` and `/koa` entries) load src/ in this test process, so that the
 * example sites (which import the package by its name, as a site does) run on the source
 * and count towards its coverage. Import this module first, then the examples with a
 * dynamic `import()`: static imports are resolved before any module runs.
 */
import { register } from 'node:module'
import { pathToFileURL } from 'node:url'

const source = (path: string) => pathToFileURL(new URL(`../../src/${path}`, import.meta.url).pathname).href
const entries = {
  'passport-justpass': source('index.ts'),
  'passport-justpass/fastify': source('hosts/fastify.ts'),
  'passport-justpass/koa': source('hosts/koa.ts'),
}
const hook = `const entries = ${JSON.stringify(entries)}
export async function resolve(specifier, context, next) {
  return next(Object.hasOwn(entries, specifier) ? entries[specifier] : specifier, context)
}`
register(`data:text/javascript,${encodeURIComponent(hook)}`)
