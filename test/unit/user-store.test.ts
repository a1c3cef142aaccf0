/**
 * MemoryUserStore on its own: the records it keeps, the copies it hands out, the flag and
 * `sub` a REG records, disabled accounts, renames, and users made on their first LOGIN.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryUserStore } from '../../src/user-store.ts'

describe('MemoryUserStore', () => {
  test('starts with the users it is given, none passkey-enabled, and finds them by exact username', async () => {
    const store = new MemoryUserStore(['alice', 'bob'])
    assert.deepEqual(store.list(), [{ username: 'alice', justpassEnabled: false }, { username: 'bob', justpassEnabled: false }])
    assert.deepEqual(await store.findByUsername('bob'), { username: 'bob', justpassEnabled: false })
    assert.equal(await store.findByUsername('Bob'), undefined)
    assert.equal(await store.findByUsername('carol'), undefined)
  })

  test('hands out copies: changing one changes nothing in the store', async () => {
    const store = new MemoryUserStore(['alice'])
    const copy = (await store.findByUsername('alice'))!
    copy.justpassEnabled = true
    store.list()[0]!.username = 'mallory'
    assert.deepEqual(await store.findByUsername('alice'), { username: 'alice', justpassEnabled: false })
    assert.equal(store.justpassEnabledOf(copy), false, 'the store reads its own record, not the copy it is shown')
  })

  test('a REG records the flag and the sub; turning passkey login off clears both', async () => {
    const store = new MemoryUserStore(['alice'])
    assert.deepEqual(await store.setJustpassEnabled('alice', true, { sub: 'sub-1' }), { username: 'alice', justpassEnabled: true, justpassSub: 'sub-1' })
    const alice = (await store.findByUsername('alice'))!
    assert.equal(store.justpassEnabledOf(alice), true)
    assert.equal(store.justpassSubOf(alice), 'sub-1')
    assert.deepEqual(await store.setJustpassEnabled('alice', false), { username: 'alice', justpassEnabled: false })
    assert.equal(store.justpassEnabledOf(alice), false)
    assert.equal(store.justpassSubOf(alice), undefined)
    assert.equal(await store.setJustpassEnabled('nobody', true), undefined)
  })

  test('a disabled account is not active until enabled again; an unknown one cannot be disabled', () => {
    const store = new MemoryUserStore(['alice'])
    const alice = store.add('alice')
    assert.equal(store.isActive(alice), true)
    assert.deepEqual(store.setActive('alice', false), { username: 'alice', justpassEnabled: false, active: false })
    assert.equal(store.isActive(alice), false)
    store.setActive('alice', true)
    assert.equal(store.isActive(alice), true)
    assert.equal(store.setActive('nobody', false), undefined)
  })

  test('a rename keeps the record and its sub, and refuses a taken or unknown name', async () => {
    const store = new MemoryUserStore(['alice', 'bob'])
    await store.setJustpassEnabled('alice', true, { sub: 'sub-a' })
    assert.equal(store.rename('alice', 'bob'), undefined)
    assert.equal(store.rename('carol', 'dave'), undefined)
    assert.deepEqual(store.rename('alice', 'alicia'), { username: 'alicia', justpassEnabled: true, justpassSub: 'sub-a' })
    assert.equal(await store.findByUsername('alice'), undefined)
    assert.equal(store.justpassSubOf((await store.findByUsername('alicia'))!), 'sub-a')
  })

  test('createUser exists only with createOnLogin, and makes a passkey-enabled user', async () => {
    assert.equal(new MemoryUserStore().createUser, undefined)
    const store = new MemoryUserStore([], { createOnLogin: true })
    assert.deepEqual(await store.createUser!('zed'), { username: 'zed', justpassEnabled: true })
    assert.deepEqual(await store.findByUsername('zed'), { username: 'zed', justpassEnabled: true })
  })
})
