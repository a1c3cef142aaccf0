/**
 * The client secret as the WebCrypto key that verifies HS* ID tokens, imported once:
 * handed a KeyObject or raw bytes, jose would import it again for every ID token.
 *
 * @packageDocumentation
 */
import { webcrypto } from 'node:crypto'

/** The HMAC algorithms whose key is the client secret. */
export type HmacAlgorithm = 'HS256' | 'HS384' | 'HS512'

/** Import the client secret (its UTF-8 bytes) as a non-extractable HMAC key for `alg`, to verify with. */
export function importSecretKey(secret: string, alg: HmacAlgorithm): Promise<webcrypto.CryptoKey> {
  return webcrypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: `SHA-${alg.slice(2)}` }, false, ['verify'])
}
