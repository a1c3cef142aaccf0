/**
 * The local provider's pages: the passkey step (create or use a passkey, or cancel), the
 * page where a user manages their passkeys, the page that signs them out, and the notice
 * pages for everything that cannot go on (a stale or unknown sign-in, a request the site
 * got wrong, a page that does not exist), all in one look, in plain words, each with a
 * way back to the site when the provider knows it.
 */

/** Escape text for HTML content and attribute values. */
export function escapeHTML(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

const STYLE = `
  :root { color-scheme: light; --ink: #1d2330; --muted: #5b6475; --accent: #4b3fd1; --danger: #b42318; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; display: grid; justify-items: center; align-items: start; padding-top: 12vh; background: linear-gradient(160deg, #eef0ff, #f8f9fc);
         font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); }
  main { width: min(420px, calc(100vw - 32px)); background: #fff; border-radius: 16px; padding: 32px;
         box-shadow: 0 12px 40px rgba(29, 35, 48, .12); }
  .brand { font-weight: 700; letter-spacing: .02em; color: var(--accent); margin-bottom: 24px; }
  h1 { font-size: 22px; margin: 0 0 8px; }
  p { color: var(--muted); margin: 0 0 24px; }
  button { width: 100%; padding: 12px 16px; border-radius: 10px; font: inherit; font-weight: 600; cursor: pointer; border: 0; }
  .primary { background: var(--accent); color: #fff; margin-bottom: 12px; }
  .secondary { background: #eef0f5; color: var(--ink); }
  /* The card hangs from the top and messages appear below the buttons: a message makes the
     card longer without moving what the user is about to press, and no room is kept empty. */
  #status { min-height: 1.5em; margin: 16px 0 0; font-size: 14px; color: var(--muted); }
  #status .inline { width: auto; padding: 6px 12px; margin-top: 8px; font-size: 14px; }
  #status.error { color: var(--danger); }
  .back { display: inline-block; margin-top: 8px; color: var(--accent); font-weight: 600; text-decoration: none; }
  .back:hover { text-decoration: underline; }
  .detail { font-size: 13px; }
  button:disabled { opacity: .6; cursor: default; }
  code { background: #f1f2f6; padding: 2px 6px; border-radius: 6px; }
  .passkeys { list-style: none; padding: 0; margin: 0 0 16px; }
  .passkeys li { display: flex; align-items: center; gap: 12px; padding: 12px 0; border-top: 1px solid #eef0f5; }
  .passkeys li:last-child { border-bottom: 1px solid #eef0f5; }
  .passkeys .about { flex: 1; font-size: 14px; color: var(--muted); }
  .passkeys .about strong { display: block; font-size: 16px; color: var(--ink); }
  .passkeys .when { white-space: nowrap; }
  .passkeys form { margin: 0; }
  .passkeys button, .danger { width: auto; padding: 6px 12px; font-size: 14px; }
  .danger { background: var(--danger); color: #fff; }
  .notice { color: var(--ink); background: #eef0ff; padding: 8px 12px; border-radius: 8px; }
  .manage-status { min-height: 3em; margin: 12px 0 0; font-size: 14px; color: var(--muted); }
  .manage-status.error { color: var(--danger); }
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

/** The site a page links back to. */
export interface SiteLink {
  /** The site's address (the origin of its registered callback URL, with a `/`). */
  href: string
  /** How to name it: the site's client name, else its client id. */
  name: string
}

/** What the passkey page offers. */
export interface PasskeyPage {
  uid: string
  mode: 'register' | 'login'
  /** The username from `login_hint`, when the site sent one. */
  username?: string
  /** The site's client id, for the links that carry it. */
  clientID: string
  /** The site's name, as the page shows it (its client name, else its client id). */
  siteName: string
  /** The site, for the link back when the step cannot go on. */
  site?: SiteLink
}

/** The link back to the site, or to the previous page when the site is not known. */
function backLink(site: SiteLink | undefined): string {
  return site
    ? `<a class="back" id="back" href="${escapeHTML(site.href)}">Back to ${escapeHTML(site.name)}</a>`
    : `<a class="back" id="back" href="javascript:history.back()">Go back</a>`
}

/** The passkey step: a button that runs WebAuthn, and Cancel. */
export function passkeyPage(page: PasskeyPage): string {
  const who = page.username ? ` for <strong>${escapeHTML(page.username)}</strong>` : ''
  const heading = page.mode === 'register' ? 'Create a passkey' : 'Sign in with your passkey'
  const lead =
    page.mode === 'register'
      ? `${escapeHTML(page.siteName)} asks to add a passkey${who}. Your device will ask you to confirm.`
      : `${escapeHTML(page.siteName)} asks you to confirm it is you${who}.`
  const query = `?client=${encodeURIComponent(page.clientID)}`
  const base = `/openid/interaction/${encodeURIComponent(page.uid)}`
  return layout(
    heading,
    `<h1>${heading}</h1>
<p>${lead}</p>
<button id="passkey" class="primary" type="button">${page.mode === 'register' ? 'Create passkey' : 'Use passkey'}</button>
<form id="cancel-form" method="post" action="${base}/cancel${query}"><button id="cancel" class="secondary" type="submit">Cancel</button></form>
<div id="status" role="status" aria-live="polite"><span id="status-text"></span><br><span id="status-back" hidden>${backLink(page.site)}</span><button id="use-existing" class="secondary inline" type="button" hidden>Sign in with that passkey</button></div>
<a class="back" id="manage" href="/openid/passkeys${query}">Manage your passkeys</a>
<script src="/openid/assets/simplewebauthn-browser.js"></script>
<script>
  const base = ${JSON.stringify(base)}
  const mode = ${JSON.stringify(page.mode)}
  const status = document.getElementById('status')
  const statusText = document.getElementById('status-text')
  const statusBack = document.getElementById('status-back')
  const passkeyButton = document.getElementById('passkey')
  const cancelButton = document.getElementById('cancel')
  const useExisting = document.getElementById('use-existing')
  const show = (text, isError) => { statusText.textContent = text; status.className = isError ? 'error' : ''; statusBack.hidden = true; useExisting.hidden = true }
  // The sign-in cannot go on (stale page, finished or expired sign-in): say so, offer the way back.
  const over = (text) => { show(text, true); statusBack.hidden = false; passkeyButton.disabled = true; cancelButton.disabled = true }
  class StepError extends Error { constructor(message, over) { super(message); this.over = over } }
  async function post(path, body) {
    let response
    try {
      response = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body ?? {}) })
    } catch {
      throw new StepError('The provider cannot be reached. Check that it is running, then try again.', false)
    }
    let answer
    try { answer = await response.json() } catch { answer = undefined }
    if (!answer || typeof answer !== 'object') throw new StepError('The provider gave an answer this page does not understand. Go back to the site and start again.', true)
    if (!response.ok) throw new StepError(typeof answer.error === 'string' ? answer.error : 'The passkey step failed. Please try again.', answer.over === true)
    return answer
  }
  // Back/forward cache: a page shown again after the sign-in went on must not look usable.
  window.addEventListener('pageshow', (event) => { if (event.persisted) { passkeyButton.disabled = false; cancelButton.disabled = false; show('') } })
  document.getElementById('cancel-form').addEventListener('submit', (event) => {
    if (cancelButton.disabled) return event.preventDefault()
    // One cancel is enough: a second click would send the finished sign-in again.
    setTimeout(() => { cancelButton.disabled = true; passkeyButton.disabled = true }, 0)
    show('Cancelling…')
  })
  const again = mode === 'register' ? 'Create passkey' : 'Use passkey'
  // What the browser's WebAuthn error means, in plain words (browsers do not tell a
  // cancel from "no passkey on this device", on purpose: both are NotAllowedError).
  function explain(err, ceremony, elapsed, timeout) {
    const name = err && err.name
    const code = err && err.code
    if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' || name === 'InvalidStateError') {
      return { text: 'This device already has a passkey for this account here. You can sign in with it instead; no new passkey is needed.', existing: true }
    }
    if (name === 'NotAllowedError' || name === 'AbortError' || code === 'ERROR_CEREMONY_ABORTED') {
      if (elapsed >= timeout * 0.95) return { text: 'The passkey step timed out: your device got no answer in time. Press ' + again + ' to try again.' }
      if (ceremony === 'login') {
        return { text: 'No passkey was used. If you cancelled, press Use passkey to try again. If your passkey is on another device (or phone), use that one. If you lost it, press Cancel and use the "Lost your passkey?" link of the site to get back in.', neutral: true }
      }
      return { text: 'Creating the passkey was cancelled. Press Create passkey to try again, or Cancel to go back to the site.', neutral: true }
    }
    if (name === 'SecurityError' || code === 'ERROR_INVALID_DOMAIN' || code === 'ERROR_INVALID_RP_ID') {
      return { text: 'This browser refuses passkeys at this address. Open the site at its localhost address (not an IP address), or over HTTPS.' }
    }
    if (name === 'NotSupportedError' || !window.PublicKeyCredential) return { text: 'This browser or device cannot use passkeys. Try another browser, or your phone.' }
    return { text: 'Your device could not complete the passkey step. Please try again.' }
  }
  async function run(ceremony) {
    passkeyButton.disabled = true
    useExisting.hidden = true
    show('Waiting for your passkey…')
    let optionsJSON
    let started = 0
    try {
      optionsJSON = await post('/options', ceremony === 'login' && mode === 'register' ? { mode: 'login' } : {})
      started = Date.now()
      const credential = ceremony === 'register'
        ? await SimpleWebAuthnBrowser.startRegistration({ optionsJSON })
        : await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON })
      show('Checking your passkey…')
      const { redirectTo } = await post('/verify', credential)
      show('Done. Taking you back…')
      location.assign(redirectTo)
      return
    } catch (err) {
      if (err instanceof StepError) {
        if (err.over) return over(err.message)
        show(err.message, true)
      } else {
        const outcome = explain(err, ceremony, Date.now() - started, (optionsJSON && optionsJSON.timeout) || 60000)
        // The user's own cancel is no error: said in plain colours.
        show(outcome.text, !outcome.neutral)
        if (outcome.existing) useExisting.hidden = false
      }
    }
    passkeyButton.disabled = false
  }
  passkeyButton.addEventListener('click', () => run(mode))
  useExisting.addEventListener('click', () => run('login'))
</script>`,
  )
}

/** A notice: why the sign-in cannot go on here, and the way back. */
export interface NoticePage {
  /** The page title and heading, in plain words. */
  heading: string
  /** What happened and what to do, in plain words (text, escaped here). */
  message: string
  /** A detail for the site's developer (text, escaped here), when there is one. */
  detail?: string
  /** The site to go back to, when the provider knows it. */
  site?: SiteLink
}

/** Every page that is not the passkey step: stale sign-ins, refused requests, unknown pages. */
export function noticePage(page: NoticePage): string {
  return layout(
    page.heading,
    `<h1>${escapeHTML(page.heading)}</h1>
<p>${escapeHTML(page.message)}</p>
${page.detail ? `<p class="detail">For the site's developer: <code>${escapeHTML(page.detail)}</code></p>\n` : ''}${backLink(page.site)}`,
  )
}


/** What the page that ends the provider session shows and sends. */
export interface LogoutPage {
  /** Where the form goes: oidc-provider's end-session confirmation. */
  action: string
  /** The end-session request's token, sent back as the form's `xsrf` field. */
  xsrf: string
  /**
   * The nonce of the page's one script, which submits the form at once; undefined to ask
   * first (the request did not show which site it came from), with no script at all.
   */
  nonce: string | undefined
  /** The site to go back to, when the provider knows it. */
  site?: SiteLink
}

/**
 * Ending the provider session: a form (its `xsrf`, and `logout=yes`, which ends the whole
 * session) with a visible Sign out button. With a nonce, a script of that nonce submits it
 * as soon as the page loads; the button is for browsers that run no script.
 */
export function logoutPage(page: LogoutPage): string {
  const heading = page.nonce ? 'Signing you out' : 'Sign out at the provider?'
  const lead = page.nonce
    ? 'You are being signed out at the provider. If nothing happens, press Sign out.'
    : 'Press Sign out to end your sign-in here: sites will then ask for your passkey again.'
  return layout(
    heading,
    `<h1>${heading}</h1>
<p>${lead}</p>
<form id="logout-form" method="post" action="${escapeHTML(page.action)}"><input type="hidden" name="xsrf" value="${escapeHTML(page.xsrf)}"><input type="hidden" name="logout" value="yes"><button id="sign-out" class="primary" type="submit">Sign out</button></form>
${[page.site ? backLink(page.site) : '', page.nonce ? `<script nonce="${escapeHTML(page.nonce)}">document.getElementById('logout-form').submit()</script>` : ''].filter(Boolean).join('\n')}`,
  )
}

/** A passkey management page's own address, with the site's client id when there is one. */
export function manageURL(path: string, clientID: string | undefined, done?: 'added' | 'removed' | 'signedout'): string {
  const query = new URLSearchParams()
  if (clientID) query.set('client', clientID)
  if (done) query.set('done', done)
  return `/openid/passkeys${path}${query.size > 0 ? `?${query}` : ''}`
}

/** The browser code the management pages share: a POST of JSON, and errors in plain words. */
function manageScript(status: string): string {
  return `<script src="/openid/assets/simplewebauthn-browser.js"></script>
<script>
  const status = document.getElementById(${JSON.stringify(status)})
  const show = (text, isError) => { status.textContent = text; status.className = 'manage-status' + (isError ? ' error' : '') }
  async function post(url, body, csrf) {
    let response
    try {
      response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json', ...(csrf ? { 'x-csrf-token': csrf } : {}) }, body: JSON.stringify(body ?? {}) })
    } catch {
      throw new Error('The provider cannot be reached. Check that it is running, then try again.')
    }
    let answer
    try { answer = await response.json() } catch { answer = undefined }
    if (!answer || typeof answer !== 'object') throw new Error('The provider gave an answer this page does not understand. Reload the page and try again.')
    if (!response.ok) throw new Error(typeof answer.error === 'string' ? answer.error : 'That did not work. Please try again.')
    return answer
  }
  // What the browser's WebAuthn error means, in plain words.
  function explain(err, creating) {
    const name = err && err.name
    const code = err && err.code
    if (err instanceof Error && err.constructor === Error) return err.message
    if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' || name === 'InvalidStateError') return 'This device already has one of your passkeys here. Add a passkey from another device (or phone).'
    if (name === 'NotAllowedError' || name === 'AbortError') return creating ? 'No passkey was created. Press the button to try again.' : 'No passkey was used. Press the button to try again, on the device where you created your passkey.'
    if (name === 'SecurityError') return 'This browser refuses passkeys at this address. Open the provider at its localhost address (not an IP address), or over HTTPS.'
    return 'Your device could not complete the passkey step. Please try again.'
  }
</script>`
}

/** The management page before the user has signed in: a fresh passkey sign-in first. */
export interface ManageSignInPage {
  /** The site's client id, carried along for the link back. */
  clientID?: string
  /** The site to go back to, when the provider knows it. */
  site?: SiteLink
  /** Why the page asks again ("You are signed out here."), when it does. */
  notice?: string
}

/** Sign in with a passkey to manage your passkeys. */
export function manageSignInPage(page: ManageSignInPage): string {
  return layout(
    'Manage your passkeys',
    `<h1>Manage your passkeys</h1>
${page.notice ? `<p class="notice" id="notice">${escapeHTML(page.notice)}</p>\n` : ''}<p>To see, add or remove your passkeys, first sign in here with one of them. Your device will ask you to confirm.</p>
<button id="signin" class="primary" type="button">Sign in with a passkey</button>
<div id="manage-status" class="manage-status" role="status" aria-live="polite"></div>
${backLink(page.site)}
${manageScript('manage-status')}
<script>
  const button = document.getElementById('signin')
  button.addEventListener('click', async () => {
    button.disabled = true
    show('Waiting for your passkey…')
    try {
      const optionsJSON = await post(${JSON.stringify(manageURL('/signin/options', page.clientID))})
      const credential = await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON })
      show('Checking your passkey…')
      await post(${JSON.stringify(manageURL('/signin/verify', page.clientID))}, credential)
      location.assign(${JSON.stringify(manageURL('', page.clientID))})
      return
    } catch (err) {
      show(explain(err, false), true)
    }
    button.disabled = false
  })
</script>`,
  )
}

/** One passkey as the management page lists it. */
export interface ListedPasskey {
  /** The credential id, base64url. */
  id: string
  /** Its name ("Passkey 1"). */
  name: string
  /** When it was created, in ms since the epoch. */
  createdAt: number
  /** Where it was made ("Chrome on Linux"), when known. */
  device: string | undefined
  /** When it last signed in, in ms since the epoch; undefined when it never has. */
  lastUsedAt: number | undefined
}

/** The management page of a signed-in user. */
export interface ManagePage {
  /** Who signed in. */
  username: string
  /** Their passkeys, oldest first. */
  passkeys: ListedPasskey[]
  /** The token every form and call of the page sends back. */
  csrf: string
  /** What just happened ("The passkey was added."), when something did. */
  notice?: string
  /** The site's client id, carried along for the link back. */
  clientID?: string
  /** The site to go back to, when the provider knows it. */
  site?: SiteLink
}

/** A moment, in words a person reads: "2 December 2026, 10:58 UTC". */
function when(ms: number): string {
  return new Date(ms).toLocaleString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC', timeZoneName: 'short' })
}

/** The user's passkeys (name, created, last used), a button to add one, and one to remove each. */
export function managePage(page: ManagePage): string {
  const rows = page.passkeys
    .map(
      (passkey) => `<li data-passkey="${escapeHTML(passkey.id)}"><span class="about"><strong>${escapeHTML(passkey.name)}</strong>Made with ${escapeHTML(passkey.device ?? 'an unknown device')}, <span class="when">${escapeHTML(when(passkey.createdAt))}</span><br>${passkey.lastUsedAt === undefined ? 'Never used to sign in' : `Last used <span class="when">${escapeHTML(when(passkey.lastUsedAt))}</span>`}</span>
<form method="post" action="${escapeHTML(manageURL('/remove', page.clientID))}"><input type="hidden" name="csrf" value="${escapeHTML(page.csrf)}"><input type="hidden" name="id" value="${escapeHTML(passkey.id)}"><button class="secondary remove" type="submit">Remove</button></form></li>`,
    )
    .join('\n')
  const list = page.passkeys.length > 0 ? `<ul class="passkeys" id="passkeys">\n${rows}\n</ul>` : `<p id="no-passkeys">You have no passkey here. Sites that ask for your passkey cannot sign you in with one until you add one.</p>`
  return layout(
    'Your passkeys',
    `<h1>Your passkeys</h1>
<p>Signed in as <strong>${escapeHTML(page.username)}</strong>. A passkey you remove can no longer sign you in.</p>
${page.notice ? `<p class="notice" id="notice">${escapeHTML(page.notice)}</p>\n` : ''}${list}
<button id="add" class="primary" type="button">Add a passkey</button>
<form id="signout-form" method="post" action="${escapeHTML(manageURL('/signout', page.clientID))}"><input type="hidden" name="csrf" value="${escapeHTML(page.csrf)}"><button id="signout" class="secondary" type="submit">Sign out</button></form>
<div id="manage-status" class="manage-status" role="status" aria-live="polite"></div>
${backLink(page.site)}
${manageScript('manage-status')}
<script>
  const csrf = ${JSON.stringify(page.csrf)}
  const button = document.getElementById('add')
  button.addEventListener('click', async () => {
    button.disabled = true
    show('Waiting for your device…')
    try {
      const optionsJSON = await post(${JSON.stringify(manageURL('/add/options', page.clientID))}, {}, csrf)
      const credential = await SimpleWebAuthnBrowser.startRegistration({ optionsJSON })
      show('Checking the new passkey…')
      await post(${JSON.stringify(manageURL('/add/verify', page.clientID))}, credential, csrf)
      location.assign(${JSON.stringify(manageURL('', page.clientID, 'added'))})
      return
    } catch (err) {
      show(explain(err, true), true)
    }
    button.disabled = false
  })
</script>`,
  )
}

/** Asking before the last passkey goes. */
export interface ConfirmRemovePage {
  /** The user's last passkey. */
  passkey: ListedPasskey
  /** The page's token, sent back with the confirmation. */
  csrf: string
  /** The site's client id, carried along to the list. */
  clientID?: string
}

/** "This is your last passkey": remove it anyway, or keep it. */
export function confirmRemovePage(page: ConfirmRemovePage): string {
  return layout(
    'Remove your last passkey?',
    `<h1>Remove your last passkey?</h1>
<p><strong>${escapeHTML(page.passkey.name)}</strong> is your only passkey here. Without it, no site can sign you in with a passkey until you add a new one; a site that asks for your passkey after your password will stop at that step.</p>
<form method="post" action="${escapeHTML(manageURL('/remove', page.clientID))}"><input type="hidden" name="csrf" value="${escapeHTML(page.csrf)}"><input type="hidden" name="id" value="${escapeHTML(page.passkey.id)}"><input type="hidden" name="confirm" value="yes"><button id="confirm-remove" class="primary danger" type="submit">Remove it</button></form>
<a class="back" id="keep" href="${escapeHTML(manageURL('', page.clientID))}">Keep it</a>`,
  )
}
