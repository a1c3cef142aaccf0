/**
 * Where the strategy's default verify callback finds and updates the site's users.
 *
 * @packageDocumentation
 */

/**
 * The site's users, as passport-justpass needs them. Implement it over your own user
 * table; the username is whatever unique field the site logs users in with (the
 * `usernameField` option).
 *
 * @typeParam User - the site's user object, as it ends up in `req.user`
 */
export interface JustpassUserStore<User = unknown> {
  /**
   * The user whose username is `username`, or `undefined`/`null` when there is none.
   * Called on LOGIN with the `preferred_username` the provider vouched for.
   */
  findByUsername(username: string): Promise<User | null | undefined>
  /**
   * Record that the user has (or no longer has) a passkey at justpass.me. Called with
   * `true` after a successful REG, with the provider's `sub` for the passkey's account in
   * `details`: keep it, and return it from {@link JustpassUserStore.justpassSubOf}, so
   * that LOGIN is bound to that account and not only to a username. A site turns passkey
   * login off with `setJustpassEnabled(username, false)`. Returns the updated user when
   * it can; the strategy falls back to the logged-in user otherwise.
   */
  setJustpassEnabled(username: string, enabled: boolean, details?: JustpassEnableDetails): Promise<User | null | undefined | void>
  /**
   * Optional: whether the user may log in (Django's `is_active`), synchronously or not.
   * When it answers anything but `true`, LOGIN, REG and confirmations are refused with
   * reason `account_disabled`; nothing is logged in and nothing changes.
   */
  isActive?(user: User): boolean | Promise<boolean>
  /**
   * Optional: whether passkey login is on for the user (the flag {@link
   * JustpassUserStore.setJustpassEnabled} records), synchronously or not. When the store
   * has it, LOGIN (either factor) and confirmations are refused with reason
   * `passkey_login_off` unless it answers `true`: a user who turned passkey login off
   * (after losing a phone, say) cannot be logged in by a passkey still registered at
   * justpass.me. REG does not ask: it is how passkey login is turned on.
   */
  justpassEnabledOf?(user: User): boolean | Promise<boolean>
  /**
   * Optional: the provider `sub` recorded at the user's REG, or `undefined`/`null` when
   * none was. When it returns a string, LOGIN (either factor) requires the verified `sub`
   * to equal it, else `identity_mismatch`: a renamed, reused or case-folded username
   * cannot log one account in with another account's passkey.
   */
  justpassSubOf?(user: User): string | null | undefined | Promise<string | null | undefined>
  /**
   * Optional: create a user on their first passkey LOGIN, when `findByUsername` found
   * none, with passkey login on (the store's checks still apply to the new user).
   * Without it, such a LOGIN fails with reason `unknown_user`.
   */
  createUser?(username: string): Promise<User>
}

/** What a successful REG tells {@link JustpassUserStore.setJustpassEnabled}. */
export interface JustpassEnableDetails {
  /** The provider's subject identifier for the passkey's account (the ID token's `sub`). */
  sub: string
}

/** The user record kept by {@link MemoryUserStore}. */
export interface MemoryUser {
  /** The username the site logs the user in with. */
  username: string
  /** Whether the user has registered a passkey at justpass.me. */
  justpassEnabled: boolean
  /** The provider `sub` recorded at the user's last REG, while passkey login is on. */
  justpassSub?: string
  /** `false` for a disabled account, which cannot log in. Default `true`. */
  active?: boolean
}

/**
 * A {@link JustpassUserStore} that keeps users in process memory: for tests and quick
 * starts only, since it forgets everything on restart and is not shared between
 * instances.
 */
export class MemoryUserStore implements JustpassUserStore<MemoryUser> {
  readonly #users = new Map<string, MemoryUser>()

  /**
   * Creates a user on their first LOGIN. Present only when the store was built with
   * `createOnLogin: true`, so that the strategy refuses unknown users otherwise.
   */
  readonly createUser?: (username: string) => Promise<MemoryUser>

  /**
   * @param usernames - users to start with, none of them passkey-enabled
   * @param options - `createOnLogin: true` creates unknown users on their first LOGIN
   */
  constructor(usernames: Iterable<string> = [], options: { createOnLogin?: boolean } = {}) {
    for (const username of usernames) this.add(username)
    // A user made by a passkey LOGIN has passkey login on: that passkey is theirs.
    if (options.createOnLogin === true) this.createUser = async (username) => this.add(username, true)
  }

  /** Add (or reset) a user; returns a copy of the stored record. */
  add(username: string, justpassEnabled = false): MemoryUser {
    this.#users.set(username, { username, justpassEnabled })
    return { username, justpassEnabled }
  }

  /**
   * Rename a user, keeping the record (and its recorded `sub`).
   *
   * @returns the renamed copy, or `undefined` when `from` does not exist or `to` is taken
   */
  rename(from: string, to: string): MemoryUser | undefined {
    const user = this.#users.get(from)
    if (!user || this.#users.has(to)) return undefined
    this.#users.delete(from)
    user.username = to
    this.#users.set(to, user)
    return { ...user }
  }

  /** Disable or enable an account; returns the updated copy, or `undefined`. */
  setActive(username: string, active: boolean): MemoryUser | undefined {
    const user = this.#users.get(username)
    if (!user) return undefined
    user.active = active
    return { ...user }
  }

  /** Whether the account may log in: every account unless disabled with {@link MemoryUserStore.setActive}. */
  isActive(user: MemoryUser): boolean {
    return this.#users.get(user.username)?.active !== false
  }

  /** Whether passkey login is on for the user: set by a REG, cleared by `setJustpassEnabled(username, false)`. */
  justpassEnabledOf(user: MemoryUser): boolean {
    return this.#users.get(user.username)?.justpassEnabled === true
  }

  /** The `sub` recorded at the user's REG, or `undefined`. */
  justpassSubOf(user: MemoryUser): string | undefined {
    return this.#users.get(user.username)?.justpassSub
  }

  /** A copy of the user's record, or `undefined`. Copies keep the store's own records safe. */
  async findByUsername(username: string): Promise<MemoryUser | undefined> {
    const user = this.#users.get(username)
    return user && { ...user }
  }

  /**
   * Set the flag, recording the REG's `sub` (turning passkey login off forgets it);
   * returns the updated copy, or `undefined` when the user does not exist.
   */
  async setJustpassEnabled(username: string, enabled: boolean, details?: JustpassEnableDetails): Promise<MemoryUser | undefined> {
    const user = this.#users.get(username)
    if (!user) return undefined
    user.justpassEnabled = enabled
    if (enabled && details !== undefined) user.justpassSub = details.sub
    if (!enabled) delete user.justpassSub
    return { ...user }
  }

  /** A snapshot of every user, for assertions in tests. */
  list(): MemoryUser[] {
    return [...this.#users.values()].map((user) => ({ ...user }))
  }
}
