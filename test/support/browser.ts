/**
 * A cookie-keeping HTTP client that walks redirects one hop at a time, as a browser
 * would, so that tests can stop at (and inspect) any hop. Cookies are kept per host
 * name, ignoring ports, as browsers do.
 */

export interface Hop {
  url: string
  status: number
  location?: string
  body: string
  headers: Headers
}

export class Browser {
  /** Cookies by host name, then by cookie name. */
  readonly cookies = new Map<string, Map<string, string>>()
  /** Extra headers sent with every request. */
  headers: Record<string, string> = {}
  readonly #timeout: number

  /** @param options - `timeout`: milliseconds a request may take (default 15 s) */
  constructor(options: { timeout?: number } = {}) {
    this.#timeout = options.timeout ?? 15_000
  }

  #cookieHeader(url: URL): string {
    const jar = this.cookies.get(url.hostname)
    return jar ? [...jar].map(([name, value]) => `${name}=${value}`).join('; ') : ''
  }

  #store(url: URL, response: Response): void {
    let jar = this.cookies.get(url.hostname)
    if (!jar) this.cookies.set(url.hostname, (jar = new Map()))
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at).trim()
      const value = pair.slice(at + 1).trim()
      const expired = attributes.some((attribute) => {
        const [key = '', val = ''] = attribute.trim().split('=')
        return (key.toLowerCase() === 'max-age' && Number(val) <= 0) || (key.toLowerCase() === 'expires' && Date.parse(val) < Date.now())
      })
      if (expired) jar.delete(name)
      else jar.set(name, value)
    }
  }

  /** One GET request, no redirect followed. */
  get(url: string, init: { headers?: Record<string, string>; signal?: AbortSignal } = {}): Promise<Hop> {
    return this.#request('GET', url, init)
  }

  /** One POST of an HTML form (urlencoded), no redirect followed. */
  post(url: string, form: Record<string, string>, init: { headers?: Record<string, string> } = {}): Promise<Hop> {
    return this.#request('POST', url, { headers: { 'content-type': 'application/x-www-form-urlencoded', ...init.headers }, body: new URLSearchParams(form).toString() })
  }

  async #request(method: string, url: string, init: { headers?: Record<string, string>; signal?: AbortSignal; body?: string }): Promise<Hop> {
    const target = new URL(url)
    const cookie = this.#cookieHeader(target)
    const response = await fetch(target, {
      method,
      redirect: 'manual',
      headers: { ...this.headers, ...init.headers, ...(cookie ? { cookie } : {}) },
      body: init.body,
      signal: init.signal ?? AbortSignal.timeout(this.#timeout),
    })
    this.#store(target, response)
    const body = await response.text()
    const location = response.headers.get('location')
    const hop: Hop = { url, status: response.status, body, headers: response.headers }
    if (location) hop.location = new URL(location, target).href
    return hop
  }

  /**
   * Follow redirects from `url` until a response that is not a redirect, or until the
   * next URL satisfies `stopBefore` (that URL is returned, not requested).
   */
  async follow(url: string, stopBefore?: (next: URL) => boolean): Promise<{ hops: Hop[]; stoppedAt?: string }> {
    const hops: Hop[] = []
    let next = url
    for (let i = 0; i < 20; i++) {
      if (stopBefore?.(new URL(next))) return { hops, stoppedAt: next }
      const hop = await this.get(next)
      hops.push(hop)
      if (!hop.location || hop.status < 300 || hop.status >= 400) return { hops }
      next = hop.location
    }
    throw new Error(`too many redirects from ${url}`)
  }

  /** GET a JSON document. */
  async json<T = Record<string, unknown>>(url: string): Promise<T> {
    const hop = await this.get(url)
    return JSON.parse(hop.body) as T
  }
}
