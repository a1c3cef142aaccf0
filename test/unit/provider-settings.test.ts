/**
 * justpassProvider on its own: what it accepts, its defaults, the secret kept out of
 * sight, and the setting it names when one is missing or malformed; and isLoopback.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { JustpassConfigError } from '../../src/errors.ts'
import { isJustpassProvider, isLoopback, justpassProvider } from '../../src/provider-settings.ts'

const SECRET = 'a-client-secret-0123456789abcdef0123'
const BASE = { opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'shop', clientSecret: SECRET }

describe('justpassProvider', () => {
  test('the defaults, frozen, and the client secret kept out of enumeration and JSON', () => {
    const provider = justpassProvider(BASE)
    assert.deepEqual(
      { alg: provider.idTokenAlg, auth: provider.tokenEndpointAuthMethod, timeout: provider.timeout, clockTolerance: provider.clockTolerance, discovery: provider.discovery, requireAcr: provider.requireAcr },
      { alg: 'HS256', auth: 'client_secret_post', timeout: 10_000, clockTolerance: 30, discovery: false, requireAcr: false },
    )
    assert.equal(provider.clientSecret, SECRET)
    assert.equal(Object.keys(provider).includes('clientSecret'), false)
    assert.doesNotMatch(JSON.stringify(provider), new RegExp(SECRET))
    assert.ok(Object.isFrozen(provider))
    assert.equal(isJustpassProvider(provider), true)
    assert.equal(isJustpassProvider({ ...provider }), false, 'a copy is not one justpassProvider made')
  })

  test('names the setting that is missing or malformed', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...BASE, opURL: undefined }, 'opURL'],
      [{ ...BASE, opURL: 'http://acme.example/openid/' }, 'opURL'],
      [{ ...BASE, organization: 'acme' }, 'organization'],
      [{ clientID: 'shop', clientSecret: SECRET, organization: 'acme.evil/x' }, 'organization'],
      [{ ...BASE, clientID: '' }, 'clientID'],
      [{ ...BASE, clientSecret: undefined }, 'clientSecret'],
      [{ ...BASE, idTokenSignedResponseAlg: 'none' }, 'idTokenSignedResponseAlg'],
      [{ ...BASE, tokenEndpointAuthMethod: 'private_key_jwt' }, 'tokenEndpointAuthMethod'],
      [{ ...BASE, endSessionURL: true }, 'endSessionURL'],
      [{ ...BASE, fetch: 'undici' }, 'fetch'],
      [{ ...BASE, timeout: 0 }, 'timeout'],
      [{ ...BASE, issuer: '' }, 'issuer'],
    ]
    for (const [settings, option] of cases) {
      assert.throws(() => justpassProvider(settings as never), (err: unknown) => err instanceof JustpassConfigError && err.option === option, `${option}: ${JSON.stringify(settings)}`)
    }
  })

  test('plain http only for this machine, unless allowInsecureHTTP', () => {
    assert.equal(justpassProvider({ ...BASE, opURL: 'http://127.0.0.1:4001/openid/' }).insecureHTTP, true)
    assert.equal(justpassProvider({ ...BASE, opURL: 'http://provider.internal/openid/', allowInsecureHTTP: true }).allowInsecureHTTP, true)
  })
})

describe('isLoopback', () => {
  test('localhost, [::1] and 127.x.y.z only', () => {
    for (const host of ['localhost', '[::1]', '127.0.0.1', '127.1.2.3']) assert.equal(isLoopback(host), true, host)
    for (const host of ['localhost.example', '128.0.0.1', '127.0.0.1.nip.io', '0.0.0.0', '::1', 'example.com']) assert.equal(isLoopback(host), false, host)
  })
})
