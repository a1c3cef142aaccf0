/**
 * The checks every settings object runs on what a site passes: each names the setting
 * at fault in a {@link JustpassConfigError}, at construction, so that a misconfigured
 * site fails at start-up rather than on its first login.
 *
 * @packageDocumentation
 */
import { JustpassConfigError } from './errors.js'

/** Settings as passed, before validation. */
export type RawSettings = Record<string, unknown>

/** The settings object itself: a plain object, not `null`. */
export function settingsObject(value: unknown, name: string): RawSettings {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JustpassConfigError(name, 'must be an object')
  return value as RawSettings
}

/** A string that must be there and not be blank. */
export function requiredString(settings: RawSettings, name: string): string {
  const value = settings[name]
  if (typeof value !== 'string' || value.trim() === '') {
    throw new JustpassConfigError(name, 'is required and must be a non-empty string')
  }
  return value
}

/**
 * A non-empty string (matching `pattern` when given), or `fallback` when absent.
 *
 * @param label - how errors name the setting, when not by `name` alone (`flowStore.key`)
 */
export function optionalString(settings: RawSettings, name: string, fallback: string, pattern?: RegExp, label = name): string {
  const value = settings[name]
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value === '' || (pattern && !pattern.test(value))) {
    throw new JustpassConfigError(label, pattern ? `must be a string matching ${pattern}` : 'must be a non-empty string')
  }
  return value
}

/**
 * An integer from `min` to `max`, or `fallback` when absent.
 *
 * @param label - how errors name the setting, when not by `name` alone (`flowStore.maxAge`)
 */
export function optionalInteger(settings: RawSettings, name: string, fallback: number, min: number, max: number, label = name): number {
  const value = settings[name]
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new JustpassConfigError(label, `must be an integer from ${min} to ${max}`)
  }
  return value
}

/** `true` or `false`, `false` when absent. */
export function optionalBoolean(settings: RawSettings, name: string): boolean {
  const value = settings[name]
  if (value === undefined) return false
  if (typeof value !== 'boolean') throw new JustpassConfigError(name, 'must be true or false')
  return value
}

/** An absolute http: or https: URL without credentials, query or fragment. */
export function plainHttpURL(name: string, value: unknown): URL {
  if (typeof value !== 'string' || value.trim() === '') throw new JustpassConfigError(name, 'is required and must be a non-empty string')
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new JustpassConfigError(name, 'must be an absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new JustpassConfigError(name, 'must be an http: or https: URL')
  if (url.username || url.password) throw new JustpassConfigError(name, 'must not carry credentials')
  if (url.search || url.hash) throw new JustpassConfigError(name, 'must not have a query or a fragment')
  return url
}

/** Refuse every key of `settings` that is not in `known`, naming where a moved one now belongs. */
export function refuseUnknown(settings: RawSettings, known: ReadonlySet<string>, moved: Readonly<Record<string, string>>, owner: string, prefix = ''): void {
  for (const key of Object.keys(settings)) {
    if (known.has(key)) continue
    const to = Object.hasOwn(moved, key) ? moved[key] : undefined
    // callbackUrl, clientId: the same name in another case is most often what was meant.
    const meant = [...known].find((name) => name.toLowerCase() === key.toLowerCase())
    const hint = to ?? (meant === undefined ? undefined : `did you mean ${meant}?`)
    throw new JustpassConfigError(prefix + key, hint === undefined ? `is not a setting of ${owner}` : `is not a setting of ${owner}: ${hint}`)
  }
}
