/**
 * The provider transport against a real loopback HTTP server: what it sends, what it
 * hands back, keep-alive reuse, aborts, redirects left alone, the size cap (by header
 * and while streaming), and how its failures reach the strategy's error codes.
 */
import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import * as client from 'openid-client'
import { JustpassProviderError, justpassProvider } from '../../src/index.ts'
import { classifyProviderFailure } from '../../src/provider-failure.ts'
import { discoverProviderConnection } from '../../src/provider-connection.ts'
import {
  MAX_RESPONSE_BYTES,
  TransportConnectionError,
  TransportResponseError,
  capProviderFetch,
  createProviderFetch,
  findTransportError,
  type ProviderFetch,
} from '../../src/transport.ts'

/** What the server saw of one request. */
interface Seen {
  method: string
  url: string
  headers: IncomingMessage['headers']
  body: string
  socket: Socket
}

type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen) => void

/** A loopback server whose handler each test sets; it records every request and connection. */
class TestServer {
  readonly seen: Seen[] = []
  readonly sockets = new Set<Socket>()
  handler: Handler = (_req, res) => void res.end('ok')
  origin = ''
  readonly #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), socket: req.socket }
      this.seen.push(seen)
      this.handler(req, res, seen)
    })
  })

  async start(): Promise<void> {
    this.#server.on('connection', (socket: Socket) => this.sockets.add(socket))
    this.#server.keepAliveTimeout = 30_000
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve))
    this.origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`
  }

  /** Forget what was seen, and drop every connection, so that a test starts from none. */
  reset(handler: Handler): void {
    this.seen.length = 0
    this.#server.closeAllConnections()
    this.sockets.clear()
    this.handler = handler
  }

  close(): Promise<void> {
    this.#server.closeAllConnections()
    return new Promise((resolve) => this.#server.close(() => resolve()))
  }
}

/** A promise rejected after `ms`: bounds how long a call may take to fail. */
function deadline(ms: number, what: string): Promise<never> {
  return new Promise((_resolve, reject) => setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms).unref())
}

/** Assert that `call` rejects with a transport error of `code`, in less than `ms`. */
async function rejectsWith(call: Promise<Response>, code: string, ms = 3_000): Promise<void> {
  await assert.rejects(Promise.race([call, deadline(ms, 'the call')]), (err: unknown) => {
    assert.ok(err instanceof TransportResponseError || err instanceof TransportConnectionError, `not a transport error: ${String(err)}`)
    assert.equal(err.code, code)
    return true
  })
}

/** A body of `bytes` bytes, written in 64 KiB chunks as the client takes them (chunked encoding). */
function streamBody(res: ServerResponse, bytes: number, headers: Record<string, string> = {}): { sent: () => number } {
  const chunk = Buffer.alloc(64 * 1024, 'b')
  let sent = 0
  res.writeHead(200, { 'content-type': 'application/octet-stream', ...headers })
  const pump = () => {
    while (sent < bytes && !res.destroyed) {
      const size = Math.min(chunk.length, bytes - sent)
      sent += size
      if (!res.write(size === chunk.length ? chunk : chunk.subarray(0, size))) return void res.once('drain', pump)
    }
    if (sent >= bytes) res.end()
  }
  pump()
  return { sent: () => sent }
}

describe('the provider transport', { timeout: 20_000 }, () => {
  const server = new TestServer()
  /** A transport of the test's own: no kept-alive socket is carried from one test to the next. */
  let transport: ProviderFetch
  before(() => server.start())
  beforeEach(() => {
    transport = createProviderFetch()
  })
  after(() => server.close())

  test('sends the method, headers and a form body as openid-client gives them, and hands back status, headers and bytes', async () => {
    server.reset((_req, res) => void res.writeHead(201, 'Made', { 'content-type': 'application/json', 'x-one': 'a' }).end('{"made":true}'))
    const body = new URLSearchParams({ grant_type: 'authorization_code', code: 'a b&c' })
    const response = await transport(`${server.origin}/token/?q=1`, {
      method: 'POST',
      headers: { Accept: 'application/json', authorization: 'Basic Zm9vOmJhcg==' },
      body,
      redirect: 'manual',
    })
    assert.ok(response instanceof Response)
    assert.equal(response.status, 201)
    assert.equal(response.statusText, 'Made')
    assert.equal(response.headers.get('x-one'), 'a')
    assert.deepEqual(await response.json(), { made: true })
    const [seen] = server.seen
    assert.equal(seen?.method, 'POST')
    assert.equal(seen?.url, '/token/?q=1')
    assert.equal(seen?.headers.accept, 'application/json')
    assert.equal(seen?.headers.authorization, 'Basic Zm9vOmJhcg==')
    assert.equal(seen?.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8')
    assert.equal(seen?.headers['content-length'], String(body.toString().length))
    assert.equal(seen?.body, body.toString())
  })

  test('takes headers as a Headers object (jose) and a string body; a GET without a body sends none', async () => {
    server.reset((_req, res) => void res.end('[]'))
    await transport(`${server.origin}/jwks`, { method: 'GET', headers: new Headers({ 'X-Asked': 'keys' }), redirect: 'manual', signal: AbortSignal.timeout(5_000) })
    await transport(`${server.origin}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"é":1}' })
    const [get, post] = server.seen
    assert.equal(get?.headers['x-asked'], 'keys')
    assert.equal(get?.headers['content-length'], undefined)
    assert.equal(get?.headers['transfer-encoding'], undefined)
    assert.equal(post?.headers['content-type'], 'application/json')
    assert.equal(post?.headers['content-length'], String(Buffer.byteLength('{"é":1}')))
    assert.equal(post?.body, '{"é":1}')
  })

  test('keeps the connection alive: several calls, one socket', async () => {
    server.reset((req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url })))
    for (let i = 0; i < 5; i++) {
      const response = await transport(`${server.origin}/call/${i}`, { method: i % 2 ? 'POST' : 'GET', body: i % 2 ? new URLSearchParams({ i: String(i) }) : undefined })
      assert.deepEqual(await response.json(), { path: `/call/${i}` })
    }
    assert.equal(server.seen.length, 5)
    assert.equal(server.sockets.size, 1, 'every call went over the first connection')
    assert.ok(server.seen.every((seen) => seen.socket === server.seen[0]?.socket))
  })

  test('each transport has its own agent: another one opens its own connection', async () => {
    server.reset((_req, res) => void res.end('ok'))
    await (await transport(`${server.origin}/a`)).text()
    await (await createProviderFetch()(`${server.origin}/b`)).text()
    await (await transport(`${server.origin}/c`)).text()
    assert.equal(server.sockets.size, 2)
  })

  /** The server answers `answer <n>` to its n-th request, but drops the second one's socket unanswered. */
  function dropTheSecondRequest(): void {
    let count = 0
    server.reset((req, res) => {
      count++
      // The second request arrives on the kept-alive socket: the server drops it unanswered.
      if (count === 2) return void req.socket.destroy()
      res.end(`answer ${count}`)
    })
  }

  test('a GET whose kept-alive socket the server dropped is sent again once, on a fresh connection', async () => {
    dropTheSecondRequest()
    assert.equal(await (await transport(`${server.origin}/first`)).text(), 'answer 1')
    assert.equal(await (await transport(`${server.origin}/second`)).text(), 'answer 3')
    assert.equal(server.seen.length, 3)
    assert.equal(server.sockets.size, 2)
  })

  test('a POST (a code exchange) is never sent twice: the server read it and reset the kept-alive socket, a connection error', async () => {
    dropTheSecondRequest()
    assert.equal(await (await transport(`${server.origin}/first`)).text(), 'answer 1')
    await rejectsWith(transport(`${server.origin}/token/`, { method: 'POST', body: 'code=the-code' }), 'ECONNRESET')
    assert.deepEqual(server.seen.filter((seen) => seen.body === 'code=the-code').length, 1, 'the code reached the server once')
  })

  test('a fresh connection dropped without an answer is not retried: a connection error', async () => {
    server.reset((req) => void req.socket.destroy())
    await rejectsWith(transport(`${server.origin}/dropped`), 'ECONNRESET')
    assert.equal(server.seen.length, 1)
  })

  test('a refused connection is a TransportConnectionError with its code', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    await rejectsWith(transport(`http://127.0.0.1:${port}/`), 'ECONNREFUSED')
  })

  test('does not follow redirects: a 3xx is handed back as it came', async () => {
    server.reset((req, res) => {
      if (req.url === '/moved') return void res.writeHead(302, { location: `${server.origin}/elsewhere` }).end()
      res.end('followed')
    })
    const response = await transport(`${server.origin}/moved`, { method: 'GET', redirect: 'manual' })
    assert.equal(response.status, 302)
    assert.equal(response.headers.get('location'), `${server.origin}/elsewhere`)
    assert.deepEqual(server.seen.map((seen) => seen.url), ['/moved'])
  })

  test('a status without a body (204, 304) gives a Response without one', async () => {
    server.reset((req, res) => void res.writeHead(req.url === '/none' ? 204 : 304).end())
    for (const [path, status] of [['/none', 204], ['/same', 304]] as const) {
      const response = await transport(`${server.origin}${path}`)
      assert.equal(response.status, status)
      assert.equal(response.body, null)
    }
  })

  describe('abort', () => {
    test('a timeout while waiting for the answer rejects with the signal\'s reason (a TimeoutError), and closes the request', async () => {
      const closed: Promise<unknown>[] = []
      server.reset((_req, res) => void closed.push(once(res, 'close')))
      const signal = AbortSignal.timeout(150)
      const started = performance.now()
      await assert.rejects(Promise.race([transport(`${server.origin}/slow`, { signal }), deadline(3_000, 'the call')]), (err: unknown) => {
        assert.equal(err, signal.reason)
        assert.equal((err as Error).name, 'TimeoutError')
        return true
      })
      // A lower bound with room: a timer may fire early by as long as the event loop was last busy (its clock is read once per turn).
      const elapsed = performance.now() - started
      assert.ok(elapsed >= 100 && elapsed < 2_000, `rejected after ${Math.round(elapsed)} ms`)
      await Promise.race([Promise.all(closed), deadline(2_000, 'closing the request')])
    })

    test('an abort while the body is coming rejects with the reason', async () => {
      server.reset((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"access_token": "')
      })
      const controller = new AbortController()
      const call = transport(`${server.origin}/half`, { signal: controller.signal })
      await new Promise((resolve) => setTimeout(resolve, 100))
      const reason = new DOMException('stop', 'AbortError')
      controller.abort(reason)
      await assert.rejects(Promise.race([call, deadline(3_000, 'the call')]), (err: unknown) => err === reason)
    })

    test('an abort on a kept-alive socket is final: the call is not sent again', async () => {
      server.reset((req, res) => {
        if (req.url === '/warm') res.end('warm')
      })
      assert.equal(await (await transport(`${server.origin}/warm`)).text(), 'warm')
      const signal = AbortSignal.timeout(100)
      await assert.rejects(Promise.race([transport(`${server.origin}/hang`, { method: 'POST', body: 'once', signal }), deadline(3_000, 'the call')]), (err: unknown) => err === signal.reason)
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.deepEqual(server.seen.map((seen) => seen.url), ['/warm', '/hang'])
    })

    test('an already aborted signal rejects at once, without a request', async () => {
      server.reset((_req, res) => void res.end('ok'))
      const reason = new DOMException('too late', 'TimeoutError')
      await assert.rejects(transport(`${server.origin}/never`, { signal: AbortSignal.abort(reason) }), (err: unknown) => err === reason)
      await new Promise((resolve) => setTimeout(resolve, 50))
      assert.equal(server.seen.length, 0)
      assert.equal(server.sockets.size, 0)
    })

    test('through openid-client, a timeout is classified provider_timeout', async () => {
      server.reset(() => undefined)
      const config = configurationFor(server.origin, transport)
      config.timeout = 0.2
      const err = await client.fetchUserInfo(config, 'an-access-token', 'sub-alice').then(
        () => assert.fail('answered'),
        (err: unknown) => err,
      )
      const classified = classifyProviderFailure(err, 'userinfo')
      assert.ok(classified instanceof JustpassProviderError)
      assert.equal(classified.code, 'provider_timeout')
    })
  })

  describe(`the size cap (${MAX_RESPONSE_BYTES} bytes)`, () => {
    test('a Content-Length above the cap is refused before the body comes, and the request closed', async () => {
      let closed: Promise<unknown> | undefined
      server.reset((_req, res) => {
        // The length is announced, but only a few bytes follow: only the header can refuse it.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_RESPONSE_BYTES + 1) })
        res.write('{"sub":"')
        closed = once(res, 'close')
      })
      await rejectsWith(transport(`${server.origin}/announced`), 'ERR_RESPONSE_TOO_LARGE', 2_000)
      await Promise.race([closed, deadline(2_000, 'closing the request')])
    })

    test('a chunked body growing past the cap is cut there, and the server stops sending', async () => {
      let stream: { sent: () => number } | undefined
      let closed: Promise<unknown> | undefined
      server.reset((_req, res) => {
        stream = streamBody(res, 64 * MAX_RESPONSE_BYTES)
        closed = once(res, 'close')
      })
      await rejectsWith(transport(`${server.origin}/endless`), 'ERR_RESPONSE_TOO_LARGE', 10_000)
      await Promise.race([closed, deadline(2_000, 'closing the request')])
      assert.ok(stream!.sent() < 16 * MAX_RESPONSE_BYTES, `the server sent ${stream!.sent()} bytes`)
    })

    test("a site's own fetch is held to the same cap: one byte past it is refused, with or without a Content-Length; exactly the cap is read whole", async () => {
      const siteFetch = capProviderFetch((url, init) => fetch(url, init))
      server.reset((req, res) => {
        // Literal sizes: the cap is 1 MiB as documented, not whatever the constant says.
        const bytes = req.url!.startsWith('/over') ? 1024 * 1024 + 1 : 1024 * 1024
        void streamBody(res, bytes, req.url!.endsWith('announced') ? { 'content-length': String(bytes) } : {})
      })
      for (const announced of ['announced', 'chunked']) {
        await rejectsWith(siteFetch(`${server.origin}/over/${announced}`), 'ERR_RESPONSE_TOO_LARGE', 5_000)
        assert.equal((await (await siteFetch(`${server.origin}/full/${announced}`)).arrayBuffer()).byteLength, 1024 * 1024, announced)
      }
    })

    test('exactly the cap is read whole, with or without a Content-Length', async () => {
      for (const announced of [true, false]) {
        server.reset((_req, res) => void streamBody(res, MAX_RESPONSE_BYTES, announced ? { 'content-length': String(MAX_RESPONSE_BYTES) } : {}))
        const response = await createProviderFetch()(`${server.origin}/full`)
        assert.equal((await response.arrayBuffer()).byteLength, MAX_RESPONSE_BYTES)
      }
    })

    test('one byte past the cap is refused, with or without a Content-Length', async () => {
      for (const announced of [true, false]) {
        const bytes = MAX_RESPONSE_BYTES + 1
        server.reset((_req, res) => void streamBody(res, bytes, announced ? { 'content-length': String(bytes) } : {}))
        await rejectsWith(createProviderFetch()(`${server.origin}/over`), 'ERR_RESPONSE_TOO_LARGE')
      }
    })

    test('through openid-client, an answer past the cap is classified provider_bad_response', async () => {
      server.reset((_req, res) => void streamBody(res, 4 * MAX_RESPONSE_BYTES, { 'content-type': 'application/json' }))
      const err = await client.fetchUserInfo(configurationFor(server.origin, transport), 'an-access-token', 'sub-alice').then(
        () => assert.fail('answered'),
        (err: unknown) => err,
      )
      assert.equal(findTransportError(err)?.code, 'ERR_RESPONSE_TOO_LARGE')
      const classified = classifyProviderFailure(err, 'userinfo')
      assert.ok(classified instanceof JustpassProviderError)
      assert.equal(classified.code, 'provider_bad_response')
      assert.equal(classified.message, 'the userinfo endpoint answered more than 1 MiB')
    })
  })

  describe('answers that are not HTTP', () => {
    test('bytes that do not parse as HTTP are a malformed answer, classified provider_bad_response', async () => {
      const raw = createNetServer((socket) => socket.resume().end('this is not HTTP\r\n\r\n'))
      await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve))
      const origin = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`
      try {
        await rejectsWith(transport(`${origin}/`), 'ERR_RESPONSE_MALFORMED')
        const err = await client.fetchUserInfo(configurationFor(origin, transport), 'an-access-token', 'sub-alice').then(
          () => assert.fail('answered'),
          (err: unknown) => err,
        )
        const classified = classifyProviderFailure(err, 'userinfo')
        assert.ok(classified instanceof JustpassProviderError)
        assert.equal(classified.code, 'provider_bad_response')
        assert.equal(classified.message, 'the userinfo endpoint did not answer HTTP')
      } finally {
        await new Promise((resolve) => raw.close(resolve))
      }
    })

    test('a status a Response cannot carry is a malformed answer', async () => {
      server.reset((_req, res) => void res.writeHead(999).end('odd'))
      await rejectsWith(transport(`${server.origin}/odd`), 'ERR_RESPONSE_MALFORMED')
    })

    test('a body cut short by the server is a connection error', async () => {
      server.reset((_req, res) => {
        res.writeHead(200, { 'content-length': '100' })
        res.write('only a part', () => res.destroy())
      })
      await rejectsWith(transport(`${server.origin}/cut`), 'ECONNRESET')
    })

    test('through openid-client, a refused connection is classified provider_unreachable', async () => {
      const closed = createServer()
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
      const origin = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`
      await new Promise((resolve) => closed.close(resolve))
      const err = await client.fetchUserInfo(configurationFor(origin, transport), 'an-access-token', 'sub-alice').then(
        () => assert.fail('answered'),
        (err: unknown) => err,
      )
      const classified = classifyProviderFailure(err, 'userinfo')
      assert.ok(classified instanceof JustpassProviderError)
      assert.equal(classified.code, 'provider_unreachable')
      assert.ok(classified.cause instanceof TransportConnectionError)
    })
  })

  describe('discovery', () => {
    const optionsFor = (origin: string) =>
      justpassProvider({ opURL: `${origin}/openid/`, clientID: 'a-client', clientSecret: 'a-client-secret-0123456789abcdef', discovery: true })
    const metadata = (origin: string) => ({
      issuer: `${origin}/openid`,
      authorization_endpoint: `${origin}/openid/authorize/`,
      token_endpoint: `${origin}/openid/token/`,
      userinfo_endpoint: `${origin}/openid/userinfo/`,
      jwks_uri: `${origin}/openid/jwks`,
    })

    test('goes through the transport, which the configuration then keeps for every call', async () => {
      server.reset((req, res) => {
        if (req.url === '/openid/.well-known/openid-configuration') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(metadata(server.origin)))
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: 'sub-alice', preferred_username: 'alice' }))
      })
      const context = await discoverProviderConnection(optionsFor(server.origin), transport)
      assert.equal(context.config[client.customFetch], transport)
      assert.equal((await client.fetchUserInfo(context.config, 'an-access-token', 'sub-alice')).preferred_username, 'alice')
      assert.deepEqual(server.seen.map((seen) => seen.url), ['/openid/.well-known/openid-configuration', '/openid/userinfo/'])
      assert.equal(server.sockets.size, 1, 'both calls on one kept-alive connection')
    })

    test("an issuer that ends in '/' is discovered when the issuer setting names it; one the metadata does not announce is refused", async () => {
      server.reset((req, res) => {
        if (req.url === '/idp/.well-known/openid-configuration') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...metadata(server.origin), issuer: `${server.origin}/idp/` }))
        res.writeHead(404).end()
      })
      const settings = { opURL: `${server.origin}/idp/`, clientID: 'a-client', clientSecret: 'a-client-secret-0123456789abcdef', discovery: true }
      const context = await discoverProviderConnection(justpassProvider({ ...settings, issuer: `${server.origin}/idp/` }), transport)
      assert.equal(context.issuer, `${server.origin}/idp/`)
      await assert.rejects(discoverProviderConnection(justpassProvider(settings), transport), (err: unknown) => err instanceof JustpassProviderError && err.code === 'provider_metadata', 'without the setting, the issuer is opURL without its slash, which the metadata does not announce')
    })

    test('a discovery document past the cap is provider_bad_response', async () => {
      server.reset((_req, res) => void streamBody(res, 2 * MAX_RESPONSE_BYTES, { 'content-type': 'application/json' }))
      await assert.rejects(discoverProviderConnection(optionsFor(server.origin), transport), (err: unknown) => {
        assert.ok(err instanceof JustpassProviderError)
        assert.equal(err.code, 'provider_bad_response')
        assert.equal(err.message, 'the discovery endpoint answered more than 1 MiB')
        return true
      })
    })
  })

  test('refuses what it cannot send: another protocol, a stream body', async () => {
    await assert.rejects(transport('ftp://127.0.0.1/file'), TypeError)
    await assert.rejects(transport(`${server.origin}/`, { method: 'POST', body: new ReadableStream() }), TypeError)
  })
})

/** An openid-client configuration for a provider at `origin`, calling it through `fetch`. */
function configurationFor(origin: string, fetch: ProviderFetch): client.Configuration {
  const config = new client.Configuration(
    { issuer: `${origin}/openid`, token_endpoint: `${origin}/openid/token/`, userinfo_endpoint: `${origin}/openid/userinfo/` },
    'a-client',
    'a-client-secret',
  )
  client.allowInsecureRequests(config)
  config[client.customFetch] = fetch
  return config
}
