/**
 * Makes `import 'passport-justpass'` load src/index.ts in this test process, so that the
 * example sites (which import the package by its name, as a site does) run on the source
 * and count towards its coverage. Import this module first, then the examples with a
 * dynamic `import()`: static imports are resolved before any module runs.
 */
import { register } from 'node:module'
import { pathToFileURL } from 'node:url'

const source = pathToFileURL(new URL('../../src/index.ts', import.meta.url).pathname).href
const hook = `export async function resolve(specifier, context, next) {
  return next(specifier === 'passport-justpass' ? ${JSON.stringify(source)} : specifier, context)
}`
register(`data:text/javascript,${encodeURIComponent(hook)}`)
