/**
 * The local provider's pages: the passkey step (create or use a passkey, or cancel) and
 * the error page for requests that cannot be sent back to the site.
 */

/** Escape text for HTML content and attribute values. */
export function escapeHTML(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

const STYLE = `
  :root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --accent: #4b3fd1; --danger: #b42318; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: linear-gradient(160deg, #eef0ff, #f8f9fc);
         font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
  main { width: min(420px, calc(100vw - 32px)); background: #fff; border-radius: 16px; padding: 32px;
         box-shadow: 0 12px 40px rgba(29, 35, 48, .12); }
  .brand { font-weight: 700; letter-spacing: .02em; color: var(--accent); margin-bottom: 24px; }
  h1 { font-size: 22px; margin: 0 0 8px; }
  p { color: var(--muted); margin: 0 0 24px; }
  button { width: 100%; padding: 12px 16px; border-radius: 10px; font: inherit; font-weight: 600; cursor: pointer; border: 0; }
  .primary { background: var(--accent); color: #fff; margin-bottom: 12px; }
  .secondary { background: #eef0f5; color: var(--ink); }
  #status { min-height: 24px; margin: 16px 0 0; font-size: 14px; color: var(--muted); }
  #status.error { color: var(--danger); }
  code { background: #f1f2f6; padding: 2px 6px; border-radius: 6px; }
`

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHTML(title)} · justpass.me (local)</title>
<style>${STYLE}</style>
</head>
<body><main><div class="brand">justpass.me <small>local</small></div>${body}</main></body>
</html>`
}

/** What the passkey page offers. */
export interface PasskeyPage {
  uid: string
  mode: 'register' | 'login'
  /** The identifier from `login_hint`, when the site sent one. */
  username?: string
  /** The site's client id, to name it. */
  clientID: string
}

/** The passkey step: a button that runs WebAuthn, and Cancel. */
export function passkeyPage(page: PasskeyPage): string {
  const who = page.username ? ` for <strong>${escapeHTML(page.username)}</strong>` : ''
  const heading = page.mode === 'register' ? 'Create a passkey' : 'Sign in with your passkey'
  const lead =
    page.mode === 'register'
      ? `<code>${escapeHTML(page.clientID)}</code> asks to add a passkey${who}. Your device will ask you to confirm.`
      : `<code>${escapeHTML(page.clientID)}</code> asks you to confirm it is you${who}.`
  const base = `/openid/interaction/${encodeURIComponent(page.uid)}`
  return layout(
    heading,
    `<h1>${heading}</h1>
<p>${lead}</p>
<button id="passkey" class="primary" type="button">${page.mode === 'register' ? 'Create passkey' : 'Use passkey'}</button>
<form method="post" action="${base}/cancel"><button id="cancel" class="secondary" type="submit">Cancel</button></form>
<div id="status" role="status"></div>
<script src="/openid/assets/simplewebauthn-browser.js"></script>
<script>
  const base = ${JSON.stringify(base)}
  const mode = ${JSON.stringify(page.mode)}
  const status = document.getElementById('status')
  const show = (text, isError) => { status.textContent = text; status.className = isError ? 'error' : '' }
  async function post(path, body) {
    const response = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) })
    const answer = await response.json()
    if (!response.ok) throw new Error(answer.error || 'The passkey step failed.')
    return answer
  }
  document.getElementById('passkey').addEventListener('click', async () => {
    show('Waiting for your passkey…')
    try {
      const optionsJSON = await post('/options')
      const credential = mode === 'register'
        ? await SimpleWebAuthnBrowser.startRegistration({ optionsJSON })
        : await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON })
      const { redirectTo } = await post('/verify', credential)
      show('Done. Taking you back…')
      location.assign(redirectTo)
    } catch (err) {
      show(err && err.message ? err.message : 'The passkey step failed.', true)
    }
  })
</script>`,
  )
}

/** A request the provider cannot send back to the site (unknown client, unregistered redirect URI). */
export function errorPage(error: string, description: string | undefined): string {
  return layout(
    'Request refused',
    `<h1>This sign-in request was refused</h1>
<p><code>${escapeHTML(error)}</code>${description ? `: ${escapeHTML(description)}` : ''}</p>
<p>Check the site's client id and its callback URL (registered redirect URI).</p>`,
  )
}
