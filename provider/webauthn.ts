/**
 * The local provider's WebAuthn ceremonies, with @simplewebauthn/server: create a
 * passkey for a user (REG), or check one (LOGIN: that user's passkeys only when the
 * site sent a `login_hint`, any passkey of this site otherwise).
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransport,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server'
import type { Account, PasskeyStore, PendingChallenge } from './passkeys.ts'

type PendingCeremony = PendingChallenge

/** A ceremony's answer to the page: options to run, an account, or why not. */
export type Refused = { error: string }

/** A passkey checked or created: whose it is, and its credential id. */
export type Verified = { account: Account; credentialID: string }

const CEREMONY_MS = 5 * 60_000

/**
 * Runs passkey ceremonies, one pending challenge per interaction, kept in the SQLite
 * database with the passkeys: a restart, or another instance, can finish the ceremony.
 */
export class WebAuthnCeremonies {
  readonly #store: PasskeyStore
  readonly #rpID: string
  readonly #origin: string

  /**
   * @param store - accounts and passkeys
   * @param relyingParty - the RP id (a host name, never an IP) and the pages' origin
   */
  constructor(store: PasskeyStore, relyingParty: { rpID: string; origin: string }) {
    this.#store = store
    this.#rpID = relyingParty.rpID
    this.#origin = relyingParty.origin
  }

  #remember(uid: string, mode: PendingCeremony['mode'], challenge: string, username: string | undefined): void {
    this.#store.rememberChallenge(uid, { mode, challenge, username, expires: Date.now() + CEREMONY_MS })
  }

  /** Options to create a passkey for `username` (the site's `login_hint`). */
  async startRegistration(uid: string, username: string | undefined): Promise<{ options: PublicKeyCredentialCreationOptionsJSON } | Refused> {
    if (!username) return { error: 'The site did not say which account the passkey is for, so none can be created. Go back to the site and start again; if it keeps happening, tell the site.' }
    const account = this.#store.ensureAccount(username)
    const options = await generateRegistrationOptions({
      rpName: 'justpass.me (local)',
      rpID: this.#rpID,
      userName: username,
      userID: new TextEncoder().encode(account.handle),
      attestationType: 'none',
      excludeCredentials: this.#store.passkeysOf(username).map((passkey) => ({ id: passkey.id, transports: passkey.transports as AuthenticatorTransport[] })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    })
    this.#remember(uid, 'register', options.challenge, username)
    return { options }
  }

  /** Options to check a passkey: one of `username`'s, or any discoverable one of this site. */
  async startAuthentication(uid: string, username: string | undefined): Promise<{ options: PublicKeyCredentialRequestOptionsJSON } | Refused> {
    const allowed = username ? this.#store.passkeysOf(username) : []
    if (username && allowed.length === 0) return { error: `${username} has no passkey here yet. Sign in with your password at the site, then turn on passkey login there to create one.` }
    const options = await generateAuthenticationOptions({
      rpID: this.#rpID,
      allowCredentials: allowed.map((passkey) => ({ id: passkey.id, transports: passkey.transports as AuthenticatorTransport[] })),
      userVerification: 'preferred',
    })
    this.#remember(uid, 'login', options.challenge, username)
    return { options }
  }

  /** Verify the browser's answer to the interaction's pending ceremony; returns whose passkey it is, and which. */
  async finish(uid: string, response: unknown, userAgent?: string): Promise<Verified | Refused> {
    const pending = this.#store.takeChallenge(uid)
    if (!pending || pending.expires < Date.now()) return { error: 'This passkey step took too long and expired. Press the button again to start over.' }
    if (typeof response !== 'object' || response === null || typeof (response as { id?: unknown }).id !== 'string') {
      return { error: 'Your browser sent no passkey. Please try again.' }
    }
    try {
      return pending.mode === 'register'
        ? await this.#finishRegistration(pending, response as RegistrationResponseJSON, userAgent)
        : await this.#finishAuthentication(pending, response as AuthenticationResponseJSON)
    } catch {
      return { error: 'The passkey could not be checked. Please try again.' }
    }
  }

  async #finishRegistration(pending: PendingCeremony, response: RegistrationResponseJSON, userAgent: string | undefined): Promise<Verified | Refused> {
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: pending.challenge,
      expectedOrigin: this.#origin,
      expectedRPID: this.#rpID,
      requireUserVerification: false,
    })
    if (!verification.verified || !pending.username) return { error: 'The passkey could not be checked. Please try again.' }
    const { credential } = verification.registrationInfo
    const account = this.#store.ensureAccount(pending.username)
    this.#store.addPasskey(account, { id: credential.id, publicKey: credential.publicKey, counter: credential.counter, transports: credential.transports ?? [], device: deviceOf(userAgent) })
    return { account, credentialID: credential.id }
  }

  async #finishAuthentication(pending: PendingCeremony, response: AuthenticationResponseJSON): Promise<Verified | Refused> {
    const passkey = this.#store.passkey(response.id)
    if (!passkey) return { error: 'This passkey is not known here (it may have been created for another site or removed). Use another passkey, or sign in with your password at the site.' }
    if (pending.username && passkey.username !== pending.username) return { error: 'This passkey belongs to another account.' }
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: pending.challenge,
      expectedOrigin: this.#origin,
      expectedRPID: this.#rpID,
      credential: { id: passkey.id, publicKey: passkey.publicKey as Uint8Array<ArrayBuffer>, counter: passkey.counter, transports: passkey.transports as AuthenticatorTransport[] },
      requireUserVerification: false,
    })
    if (!verification.verified) return { error: 'The passkey could not be checked. Please try again.' }
    this.#store.updateCounter(passkey.id, verification.authenticationInfo.newCounter)
    return { account: { handle: passkey.handle, username: passkey.username }, credentialID: passkey.id }
  }
}

/** Browsers and systems a User-Agent names, most specific first. */
const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [[/Edg\//, 'Edge'], [/OPR\//, 'Opera'], [/Firefox\//, 'Firefox'], [/Chrom(e|ium)\//, 'Chrome'], [/Safari\//, 'Safari']]
const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [[/Android/, 'Android'], [/iPhone|iPad/, 'iOS'], [/Mac OS X|Macintosh/, 'macOS'], [/Windows/, 'Windows'], [/CrOS/, 'ChromeOS'], [/Linux/, 'Linux']]

/** Where a passkey was made, as a person recognises it: "Chrome on Linux", from the User-Agent of its creation; `undefined` when it says nothing known. */
export function deviceOf(userAgent: string | undefined): string | undefined {
  if (!userAgent) return undefined
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1]
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1]
  if (browser && system) return `${browser} on ${system}`
  return browser ?? system
}
