/** The session fields passport-justpass keeps through a LOGIN (the session's own) and those it owns and never lets a site keep. */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { CONFIRMED_AT_KEY, ID_TOKEN_KEY, OWNED_SESSION_FIELDS, SESSION_OWN_FIELDS } from '../../src/session-keys.ts'

describe('the session fields', () => {
  test("passport's and each session middleware's own fields are the session's, and owned", () => {
    for (const name of ['passport', 'cookie', 'regenerate', 'save', 'sessionId', 'isNew', 'get', 'set']) {
      assert.ok(SESSION_OWN_FIELDS.has(name) && OWNED_SESSION_FIELDS.has(name), name)
    }
  })

  test("passport-justpass's fields are owned but not the session's own; a site's are neither", () => {
    for (const name of [CONFIRMED_AT_KEY, ID_TOKEN_KEY, 'justpass', 'justpass_notice', 'base_username']) {
      assert.ok(OWNED_SESSION_FIELDS.has(name) && !SESSION_OWN_FIELDS.has(name), name)
    }
    assert.deepEqual([CONFIRMED_AT_KEY, ID_TOKEN_KEY], ['justpassConfirmedAt', 'justpassIdToken'])
    for (const name of ['cart', 'locale']) assert.ok(!OWNED_SESSION_FIELDS.has(name), name)
  })
})
