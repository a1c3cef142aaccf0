/**
 * oidc-provider, imported without its "Unsupported runtime" warning on Node.js 20.19+.
 *
 * Why: oidc-provider 9 warns on every start when the runtime is not an LTS release named
 * from "Jod" (Node.js 22) on; it does not refuse to run, and declares no `engines`. This
 * package supports Node.js 20.19+ (its `engines`), and its whole test suite, the local
 * provider included, runs on Node.js 20. The 8.x line would not warn, but it is a former
 * major release (jose 5, koa 2, `got`) that no longer gets fixes, so the provider stays on
 * 9. Only that one line is held back, only on Node.js 20.19 to 21, and only while
 * oidc-provider loads; on an older Node.js, or for any other warning, it is printed.
 */
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
const supported = (major === 20 && minor >= 19) || major === 21
const warn = console.warn
if (supported) {
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('oidc-provider WARNING: Unsupported runtime')) return
    warn.apply(console, args)
  }
}
let loaded: typeof import('oidc-provider')
try {
  loaded = await import('oidc-provider')
} finally {
  console.warn = warn
}

/** oidc-provider's Provider class. */
export const Provider = loaded.default
/** oidc-provider's error classes. */
export const errors = loaded.errors
/** oidc-provider's interaction policy helpers. */
export const interactionPolicy = loaded.interactionPolicy
