/**
 * A flow must start on the host of `callbackURL`: its flow cookie (or session) is set for
 * the host the start was sent to, and the browser brings it back only to that host. A
 * start on another name for the site (`127.0.0.1` for `localhost`, `example.com` for
 * `www.example.com`) is sent to the same path on `callbackURL`'s origin first, so that no
 * passkey is made at the provider for a flow that cannot finish.
 *
 * @packageDocumentation
 */
import type { JustpassRequest } from './host-objects.js'

/** The query parameter a start redirected to the canonical host carries, so that it is redirected once only. */
export const CANONICAL_MARK = 'justpass_host'

/**
 * The host name the request was sent to, lower-cased, as the host framework sees it
 * (`req.hostname` on Express, Fastify and Koa, which honour a trusted proxy's
 * `X-Forwarded-Host`), else from the `Host` header; `undefined` when neither says.
 */
export function requestHostname(req: JustpassRequest): string | undefined {
  const named = (req as { hostname?: unknown }).hostname
  if (typeof named === 'string' && named !== '') return named.toLowerCase()
  const header = req.headers?.host
  if (typeof header !== 'string' || header === '') return undefined
  try {
    return new URL(`http://${header}`).hostname
  } catch {
    return undefined
  }
}

/** What a start on the wrong host does: go to `url` on the right one, or be refused. */
export type HostCorrection = { redirect: string } | { refuse: string }

/**
 * `undefined` when the request was sent to `callbackURL`'s host (or says no host);
 * otherwise the redirect to the same path and query on `callbackURL`'s origin, marked,
 * for a GET or HEAD that was not redirected already, and a refusal for anything else
 * (a URL-only start, a POST, a host that still differs after the redirect: a proxy that
 * does not pass the public host name on).
 *
 * @param callbackURL - the strategy's callback URL
 * @param path - the request's path; `query`: its raw query string
 * @param urlOnly - whether the start answers JSON instead of redirecting
 */
export function correctHost(req: JustpassRequest, callbackURL: URL, path: string, query: string, urlOnly: boolean): HostCorrection | undefined {
  const hostname = requestHostname(req)
  if (hostname === undefined || hostname === callbackURL.hostname) return undefined
  const params = new URLSearchParams(query)
  if (urlOnly || (req.method !== 'GET' && req.method !== 'HEAD') || params.has(CANONICAL_MARK)) return { refuse: hostname }
  return { redirect: `${callbackURL.origin}${path}?${query === '' ? '' : `${query}&`}${CANONICAL_MARK}=1` }
}
