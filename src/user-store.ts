/**
 * Where the strategy's default verify callback finds and updates the site's users.
 *
 * @packageDocumentation
 */

/**
 * The site's users, as passport-justpass needs them. Implement it over your own user
 * table; the identifier is whatever unique field the site logs users in with (the
 * `usernameField` option).
 *
 * @typeParam User - the site's user object, as it ends up in `req.user`
 */
export interface JustpassUserStore<User = unknown> {
  /**
   * The user whose identifier is `username`, or `undefined`/`null` when there is none.
   * Called on LOGIN with the `preferred_username` the provider vouched for.
   */
  findByUsername(username: string): Promise<User | null | undefined>
  /**
   * Record that the user has (or no longer has) a passkey at justpass.me. Called with
   * `true` after a successful REG. Returns the updated user when it can; the strategy
   * falls back to the logged-in user otherwise.
   */
  setJustpassEnabled(username: string, enabled: boolean): Promise<User | null | undefined | void>
  /**
   * Optional: create a user on their first passkey LOGIN, when `findByUsername` found
   * none. Without it, such a LOGIN fails with reason `unknown_user`.
   */
  createUser?(username: string): Promise<User>
}

/** The user record kept by {@link MemoryUserStore}. */
export interface MemoryUser {
  /** The identifier the site logs the user in with. */
  username: string
  /** Whether the user has registered a passkey at justpass.me. */
  justpassEnabled: boolean
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
    if (options.createOnLogin === true) this.createUser = async (username) => this.add(username)
  }

  /** Add (or reset) a user; returns a copy of the stored record. */
  add(username: string, justpassEnabled = false): MemoryUser {
    this.#users.set(username, { username, justpassEnabled })
    return { username, justpassEnabled }
  }

  /** A copy of the user's record, or `undefined`. Copies keep the store's own records safe. */
  async findByUsername(username: string): Promise<MemoryUser | undefined> {
    const user = this.#users.get(username)
    return user && { ...user }
  }

  /** Set the flag; returns the updated copy, or `undefined` when the user does not exist. */
  async setJustpassEnabled(username: string, enabled: boolean): Promise<MemoryUser | undefined> {
    const user = this.#users.get(username)
    if (!user) return undefined
    user.justpassEnabled = enabled
    return { ...user }
  }

  /** A snapshot of every user, for assertions in tests. */
  list(): MemoryUser[] {
    return [...this.#users.values()].map((user) => ({ ...user }))
  }
}
