/**
 * The per-process replay guard: the states this process has taken a flow for, kept
 * until the flow would have expired, so that one callback reaches the token endpoint at
 * most once per process, whatever the flow store. Across processes, the provider's
 * one-time authorization code is the backstop.
 *
 * @packageDocumentation
 */

/** Remembers claimed states until their expiry, at most `capacity` of them. */
export class ReplayGuard {
  /** State to expiry (milliseconds), in claim order. */
  readonly #claimed = new Map<string, number>()
  readonly #capacity: number

  /** @param capacity - states remembered at most; beyond it the oldest claims are forgotten */
  constructor(capacity: number) {
    this.#capacity = capacity
  }

  /** How many states are remembered now. */
  get size(): number {
    return this.#claimed.size
  }

  /**
   * Claim `state` for one callback.
   *
   * @param expiresAt - when the flow expires (milliseconds since the epoch): the claim is kept until then
   * @returns `true` the first time, `false` while an earlier claim of the same state is remembered
   */
  claim(state: string, expiresAt: number): boolean {
    const now = Date.now()
    const earlier = this.#claimed.get(state)
    if (earlier !== undefined && earlier >= now) return false
    this.#forgetExpired(now)
    this.#claimed.delete(state)
    this.#claimed.set(state, expiresAt)
    if (this.#claimed.size > this.#capacity) this.#claimed.delete(this.#claimed.keys().next().value as string)
    return true
  }

  /** Whether `state` was claimed and its flow has not expired yet: a callback already used in this process. */
  claimed(state: string): boolean {
    const expiresAt = this.#claimed.get(state)
    return expiresAt !== undefined && expiresAt >= Date.now()
  }

  /** Drop claims from the front while they have expired (claims are mostly in expiry order). */
  #forgetExpired(now: number): void {
    for (const [state, expiresAt] of this.#claimed) {
      if (expiresAt >= now) return
      this.#claimed.delete(state)
    }
  }
}
