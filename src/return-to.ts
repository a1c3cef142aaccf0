/**
 * The `returnTo` of a LOGIN: where `?next=` asks to go afterwards, kept only when it is
 * a path on this site.
 *
 * @packageDocumentation
 */

const PROBE_ORIGIN = 'http://return-to.invalid'
/** The longest `next` kept, in characters, as given and once normalised (percent-encoding can grow it sixfold). */
const MAX_LENGTH = 2048

/**
 * `next` as a same-origin path (`/orders?id=1`), or `undefined` when it is absent, too
 * long, or could lead anywhere else: absolute URLs, `//host`, `/\host`, `javascript:`,
 * control characters.
 */
export function safeReturnTo(next: string | null | undefined): string | undefined {
  if (typeof next !== 'string' || next.length === 0 || next.length > MAX_LENGTH) return undefined
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return undefined
  if (/[\x00-\x1f\x7f\\]/.test(next)) return undefined
  let url: URL
  try {
    url = new URL(next, PROBE_ORIGIN)
  } catch {
    return undefined
  }
  if (url.origin !== PROBE_ORIGIN) return undefined
  // Check what is returned, not only what came in: dot segments can normalise to `//host`.
  const path = `${url.pathname}${url.search}${url.hash}`
  // And its length once encoded: it is sealed into the flow cookie, which must stay small.
  if (path.length > MAX_LENGTH || path.startsWith('//') || path.startsWith('/\\')) return undefined
  return path
}
