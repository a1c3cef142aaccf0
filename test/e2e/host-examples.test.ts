/**
 * `npm run example:fastify` and `npm run example:koa` in Chromium with a virtual
 * authenticator: the /try page's password step, REG, logout (here and at the provider),
 * then LOGIN with the passkey alone. The examples run in this process on free ports
 * (runHost, what the commands call); the commands themselves, and a busy port, are
 * tested in test/examples-run.test.ts.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Browser, Page } from 'playwright-core'
import { launchWithPasskeys } from '../support/chromium.ts'
import { runHost } from '../../example/run-host.ts'
import { startLoopbackServer } from '../support/server.ts'


/** A port free now. */
async function freePort(): Promise<number> {
  const probe = await startLoopbackServer()
  await probe.close()
  return Number(new URL(probe.origin).port)
}

for (const host of ['fastify', 'koa'] as const) {
  describe(`npm run example:${host} in a browser`, () => {
    let running: Awaited<ReturnType<typeof runHost>>
    let browser: Browser
    let page: Page

    before(async () => {
      running = await runHost(host, await freePort(), await freePort())
      ;({ browser, page } = await launchWithPasskeys())
    })
    after(async () => {
      await browser?.close()
      await running?.close()
    })

    /** The site's home: who is logged in, as its JSON says. */
    async function home(): Promise<{ user: string | null; justpassEnabled: boolean; notice: unknown }> {
      await page.goto(`${running.origin}/`)
      return JSON.parse((await page.textContent('body')) ?? 'null')
    }

    test('password step, REG with a passkey, logout, then LOGIN with the passkey alone', async () => {
      await page.goto(`${running.origin}/try`)
      await page.click('#login')
      await page.waitForURL(`${running.origin}/`)
      assert.deepEqual(await home(), { user: 'demo', justpassEnabled: false, notice: null })
      await page.goto(`${running.origin}/try`)
      await page.click('#reg')
      await page.waitForURL((url) => url.href.startsWith(`${running.provider.opURL}interaction/`))
      assert.match((await page.textContent('main')) ?? '', new RegExp(`The ${host === 'fastify' ? 'Fastify' : 'Koa'} example asks to add a passkey for demo\\.`))
      await page.click('#passkey')
      await page.waitForURL(`${running.origin}/`)
      assert.equal((await home()).justpassEnabled, true)

      await page.goto(`${running.origin}/try`)
      await page.click('#logout')
      await page.waitForURL((url) => !url.href.startsWith(`${running.origin}/logout`))
      assert.equal((await home()).user, null, 'logged out')

      await page.goto(`${running.origin}/try`)
      await page.click('#passkey-login')
      await page.waitForURL((url) => url.href.startsWith(`${running.provider.opURL}interaction/`))
      await page.click('#passkey')
      await page.waitForURL(`${running.origin}/`)
      assert.equal((await home()).user, 'demo')
    })
  })
}
