/**
 * MemoryUserStore: users kept in process memory, for tests and quick starts (lost on
 * restart, not shared between processes).
 */
import { MemoryUserStore } from 'passport-justpass'

/** alice and bob without a passkey yet, and carol with one. */
export function demoUsers(): MemoryUserStore {
  const users = new MemoryUserStore(['alice', 'bob']) // nobody passkey-enabled yet
  users.add('carol', true) // add (or reset) a user, here with a passkey
  return users
}

/** No users at first: whoever logs in with a passkey is created (`createUser`). */
export function openUsers(): MemoryUserStore {
  return new MemoryUserStore([], { createOnLogin: true })
}
