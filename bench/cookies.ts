/**
 * The bench client's cookies: what one visitor keeps between requests, as a browser
 * would for one site on 127.0.0.1 (every cookie the sites set has `Path=/`). Enough for
 * the session cookie and JustpassStrategy's flow cookies: `Set-Cookie` adds or replaces
 * a cookie by name, `Max-Age=0` (or less) removes it.
 *
 * @packageDocumentation
 */

/** A visitor's cookies, name to value, in the order they were first set (the order a browser sends them in). */
export type CookieJar = Record<string, string>

/** The `name=value` pair of a `Set-Cookie` value, and whether its attributes expire it. */
export function parseSetCookie(setCookie: string): { name: string; value: string; expired: boolean } | undefined {
  const [pair = '', ...attributes] = setCookie.split(';')
  const at = pair.indexOf('=')
  if (at <= 0) return undefined
  const expired = attributes.some((attribute) => {
    const [key = '', value = ''] = attribute.trim().split('=', 2)
    return key.toLowerCase() === 'max-age' && Number(value) <= 0
  })
  return { name: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim(), expired }
}

/** Apply a response's `Set-Cookie` values to `jar`. */
export function storeCookies(jar: CookieJar, setCookies: string | string[] | undefined): void {
  if (setCookies === undefined) return
  for (const setCookie of Array.isArray(setCookies) ? setCookies : [setCookies]) {
    const cookie = parseSetCookie(setCookie)
    if (cookie === undefined) continue
    if (cookie.expired) delete jar[cookie.name]
    else jar[cookie.name] = cookie.value
  }
}

/** The `Cookie` request header for `jar`, or `undefined` when it is empty. */
export function cookieHeader(jar: CookieJar): string | undefined {
  const pairs = Object.entries(jar).map(([name, value]) => `${name}=${value}`)
  return pairs.length === 0 ? undefined : pairs.join('; ')
}
