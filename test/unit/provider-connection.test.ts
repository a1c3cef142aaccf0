/**
 * The provider connection built from the provider settings without discovery: the
 * endpoints openid-client is given, the ID token key by algorithm, logout's endpoint,
 * and a source that hands the same connection to every flow, built with no network call.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { justpassProvider } from '../../src/provider-settings.ts'
import { ProviderConnectionSource, providerConfiguration, staticProviderConnection } from '../../src/provider-connection.ts'

const SETTINGS = { opURL: 'https://acme.accounts.justpass.me/openid/', clientID: 'shop', clientSecret: 'a-client-secret-0123456789abcdef0123' }
/** A transport that must not be used: building a connection makes no request. */
const noNetwork = async (): Promise<Response> => assert.fail('no request expected')

describe('the provider connection', () => {
  test("openid-client's configuration names the derived endpoints and the client", () => {
    const config = providerConfiguration(justpassProvider(SETTINGS))
    const metadata = config.serverMetadata()
    assert.deepEqual(
      [metadata.issuer, metadata.token_endpoint, metadata.userinfo_endpoint, metadata.jwks_uri, config.clientMetadata().client_id, config.timeout],
      ['https://acme.accounts.justpass.me/openid', 'https://acme.accounts.justpass.me/openid/token/', 'https://acme.accounts.justpass.me/openid/userinfo/', 'https://acme.accounts.justpass.me/openid/jwks', 'shop', 10],
    )
  })

  test('an HMAC algorithm verifies with the client secret; an asymmetric one with the key set', () => {
    const hmac = staticProviderConnection(justpassProvider(SETTINGS), noNetwork)
    assert.deepEqual([hmac.idTokenKey.type, hmac.idTokenKey.alg, hmac.issuer], ['secret', 'HS256', 'https://acme.accounts.justpass.me/openid'])
    const rsa = staticProviderConnection(justpassProvider({ ...SETTINGS, idTokenSignedResponseAlg: 'RS256' }), noNetwork)
    assert.deepEqual([rsa.idTokenKey.type, rsa.idTokenKey.alg], ['jwks', 'RS256'])
  })

  test("logout goes to the derived end-session endpoint, the one given, or nowhere with endSessionURL: false", () => {
    const endSession = (extra: object) => staticProviderConnection(justpassProvider({ ...SETTINGS, ...extra }), noNetwork).endSessionEndpoint
    assert.equal(endSession({}), 'https://acme.accounts.justpass.me/openid/end-session/')
    assert.equal(endSession({ endSessionURL: 'https://acme.example/logout' }), 'https://acme.example/logout')
    assert.equal(endSession({ endSessionURL: false }), undefined)
  })

  test('the source hands every flow the same connection, built without a request', async () => {
    const source = new ProviderConnectionSource(justpassProvider({ ...SETTINGS, fetch: noNetwork }))
    const [first, second] = await Promise.all([source.get(), source.get()])
    assert.equal(first, second)
    assert.equal(first.issuer, 'https://acme.accounts.justpass.me/openid')
  })
})
