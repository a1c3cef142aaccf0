/**
 * The canonical host on its own: which host name a request names, and what a start on
 * another host name than the callback URL's does (sent there once, or refused).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { correctHost, requestHostname } from '../../src/canonical-host.ts'

const CALLBACK = new URL('https://shop.example/justpass/callback')

describe('requestHostname', () => {
  test("the host framework's hostname first, else the Host header, lower-cased", () => {
    assert.equal(requestHostname({ hostname: 'Shop.Example', headers: { host: 'other.example' } }), 'shop.example')
    assert.equal(requestHostname({ headers: { host: 'WWW.Shop.Example:8443' } }), 'www.shop.example')
    assert.equal(requestHostname({ headers: { host: '[::1]:4000' } }), '[::1]')
    for (const headers of [{}, { host: '' }, { host: 'bad host/%' }]) assert.equal(requestHostname({ headers }), undefined, JSON.stringify(headers))
  })
})

describe('correctHost', () => {
  const on = (host: string, method = 'GET') => ({ method, headers: { host } })

  test('nothing to correct on the callback URL\'s host, or when the request names none', () => {
    assert.equal(correctHost(on('shop.example'), CALLBACK, '/justpass/login', 'next=/cart', false), undefined)
    assert.equal(correctHost({ method: 'GET', headers: {} }, CALLBACK, '/justpass/login', '', false), undefined)
  })

  test('a GET or HEAD elsewhere goes to the same path and query on the right origin, marked', () => {
    assert.deepEqual(correctHost(on('www.shop.example'), CALLBACK, '/justpass/login', 'next=/cart', false), { redirect: 'https://shop.example/justpass/login?next=/cart&justpass_host=1' })
    assert.deepEqual(correctHost(on('127.0.0.1', 'HEAD'), CALLBACK, '/justpass/reg', '', false), { redirect: 'https://shop.example/justpass/reg?justpass_host=1' })
  })

  test('refused: a URL-only start, a POST, and a start already sent once', () => {
    assert.deepEqual(correctHost(on('www.shop.example'), CALLBACK, '/justpass/login-url', '', true), { refuse: 'www.shop.example' })
    assert.deepEqual(correctHost(on('www.shop.example', 'POST'), CALLBACK, '/justpass/login', '', false), { refuse: 'www.shop.example' })
    assert.deepEqual(correctHost(on('www.shop.example'), CALLBACK, '/justpass/login', 'justpass_host=1', false), { refuse: 'www.shop.example' })
  })
})
