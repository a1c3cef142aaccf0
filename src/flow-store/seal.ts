/**
 * Sealing of flow cookies: AES-256-GCM under keys derived with HKDF-SHA256, imported
 * once. The first key seals; every key opens, so a secret can be rotated without
 * breaking the flows started under the previous one.
 *
 * @packageDocumentation
 */
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto'

/** Bytes of the GCM authentication tag appended to every sealed value. */
const TAG_BYTES = 16

/** Where the key material comes from: a `cookieSecret`, or the client secret by default. */
export type SealSecretSource = 'cookieSecret' | 'clientSecret'

/**
 * Derive one AES-256 key from `secret` with HKDF-SHA256. The info names the purpose, the
 * source of the secret, the client and the callback URL, so that the same secret used
 * for something else, or by another site of the same provider, yields another key.
 */
export function deriveSealKey(secret: string, source: SealSecretSource, clientID: string, callbackURL: string): KeyObject {
  const info = `passport-justpass flow cookie v1\0${source}\0${clientID}\0${callbackURL}`
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, '', info, 32)))
}

/**
 * Seals and opens values with AES-256-GCM. The IV is given by the caller (it must never
 * repeat under one key); the additional data binds a value to where it is used.
 */
export class Sealer {
  readonly #keys: readonly KeyObject[]

  /** @param keys - the first seals; all open, in order */
  constructor(keys: readonly KeyObject[]) {
    if (keys.length === 0) throw new TypeError('at least one key is needed')
    this.#keys = keys
  }

  /** `plaintext` encrypted and authenticated with `aad`: base64url of ciphertext then tag. */
  seal(plaintext: string, iv: Buffer, aad: string): string {
    const cipher = createCipheriv('aes-256-gcm', this.#keys[0]!, iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(Buffer.from(aad))
    const head = cipher.update(plaintext, 'utf8')
    const tail = cipher.final()
    return Buffer.concat([head, tail, cipher.getAuthTag()]).toString('base64url')
  }

  /**
   * The plaintext of a value sealed under any of the keys with the same `iv` and `aad`.
   *
   * @returns the plaintext, or `undefined` when no key opens it (tampered, truncated,
   *   sealed for another IV or additional data, or under a key no longer configured)
   */
  open(sealed: string, iv: Buffer, aad: string): string | undefined {
    const bytes = Buffer.from(sealed, 'base64url')
    if (bytes.length <= TAG_BYTES || bytes.toString('base64url') !== sealed) return undefined
    const ciphertext = bytes.subarray(0, bytes.length - TAG_BYTES)
    const tag = bytes.subarray(bytes.length - TAG_BYTES)
    const additional = Buffer.from(aad)
    for (const key of this.#keys) {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES })
      decipher.setAAD(additional)
      decipher.setAuthTag(tag)
      try {
        return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8')
      } catch {
        // Not this key (or not a value of ours): try the next one.
      }
    }
    return undefined
  }
}
