/**
 * The example shop's pages, rendered on the server: login, home, account, recovery, error.
 */
import type { ShopUser } from './db.ts'

/** Escape text for HTML content and attribute values. */
export function escapeHTML(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

const STYLE = `
  :root { --ink: #16202c; --muted: #5d6b7a; --brand: #0f766e; --brand-dark: #115e59; --ok: #166534; --ok-bg: #dcfce7; --bad: #991b1b; --bad-bg: #fee2e2; }
  * { box-sizing: border-box; }
  body { margin: 0; min-height: 100vh; background: #f4f1ea; color: var(--ink); font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  header { padding: 20px 32px; display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 18px; letter-spacing: .01em; }
  header .logo { width: 28px; height: 28px; border-radius: 8px; background: var(--brand); display: grid; place-items: center; color: #fff; font-size: 15px; }
  main { display: grid; place-items: center; padding: 24px 16px 64px; }
  .card { width: min(440px, 100%); background: #fff; border-radius: 18px; padding: 32px; box-shadow: 0 1px 2px rgba(22,32,44,.06), 0 12px 32px rgba(22,32,44,.08); }
  h1 { margin: 0 0 6px; font-size: 24px; }
  .lead { margin: 0 0 24px; color: var(--muted); }
  label { display: block; font-weight: 600; font-size: 14px; margin: 14px 0 6px; }
  input { width: 100%; padding: 11px 12px; border: 1px solid #d4d9df; border-radius: 10px; font: inherit; }
  input:focus { outline: 2px solid var(--brand); border-color: transparent; }
  .button, button { display: block; width: 100%; text-align: center; padding: 12px 16px; border-radius: 10px; border: 0; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
  .primary { background: var(--brand); color: #fff; margin-top: 20px; }
  .primary:hover { background: var(--brand-dark); }
  .secondary { background: #eef1f4; color: var(--ink); margin-top: 12px; }
  .divider { display: flex; align-items: center; gap: 12px; color: var(--muted); font-size: 13px; margin: 22px 0 0; }
  .divider::before, .divider::after { content: ""; flex: 1; height: 1px; background: #e3e7eb; }
  .notice { padding: 12px 14px; border-radius: 10px; margin: 0 0 20px; font-size: 15px; }
  .notice.ok { background: var(--ok-bg); color: var(--ok); }
  .notice.bad { background: var(--bad-bg); color: var(--bad); }
  .notice.info { background: #eef1f4; color: var(--ink); }
  .small-link { display: block; margin-top: 14px; text-align: center; color: var(--muted); font-size: 14px; }
  .status { display: flex; justify-content: space-between; align-items: center; padding: 14px 16px; border: 1px solid #e3e7eb; border-radius: 12px; margin: 0 0 8px; }
  .pill { font-size: 13px; font-weight: 600; padding: 3px 10px; border-radius: 999px; }
  .pill.on { background: var(--ok-bg); color: var(--ok); }
  .pill.off { background: #eef1f4; color: var(--muted); }
  .hint { margin: 6px 0 0; color: var(--muted); font-size: 13px; }
  footer { text-align: center; color: var(--muted); font-size: 13px; padding-bottom: 32px; }
`

/** The page around every card: head, inline style, header and footer. `body` is HTML, already escaped. */
export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHTML(title)} · Corner Shop</title>
<style>${STYLE}</style>
</head>
<body>
<header><span class="logo">C</span> Corner Shop</header>
<main>${body}</main>
<footer>An example site for passport-justpass</footer>
</body>
</html>`
}

/** How a notice looks: a success, a failure, or information (a user's own cancel). */
export type NoticeKind = 'ok' | 'bad' | 'info'

/** A colored notice box; failures are announced at once to screen readers. */
function notice(kind: NoticeKind, text: string, testid: string): string {
  return `<div class="notice ${kind}" data-testid="${testid}" role="${kind === 'bad' ? 'alert' : 'status'}">${escapeHTML(text)}</div>`
}

/**
 * The login page: username and password, or a passkey alone, and the way back in for a
 * user who lost their passkey; `error` in a red notice (grey for `kind: 'info'`).
 */
export function loginPage(error?: string, kind: 'bad' | 'info' = 'bad'): string {
  return layout(
    'Log in',
    `<section class="card">
  <h1>Welcome back</h1>
  <p class="lead">Log in to your Corner Shop account.</p>
  ${error ? notice(kind, error, 'error') : ''}
  <form method="post" action="/login">
    <label for="username">Username</label>
    <input id="username" name="username" autocomplete="username" required>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button class="primary" type="submit">Log in</button>
  </form>
  <div class="divider">or</div>
  <a id="passkey-login" class="button secondary" href="/justpass/login">Log in with a passkey</a>
  <a id="lost-passkey" class="small-link" href="/recover">Lost your passkey?</a>
</section>`,
  )
}

/**
 * "Lost your passkey?": the username, for a one-time recovery link. After a request,
 * `sent` says the same whatever the username, so that the page tells nobody which
 * accounts exist.
 */
export function recoverRequestPage(username: string, sent: boolean): string {
  return layout(
    'Lost your passkey?',
    `<section class="card">
  <h1>Lost your passkey?</h1>
  ${sent
    ? notice('ok', 'If that account exists, a recovery link is on its way to its e-mail address. In this demo, the link is printed in the shop\'s console. It works once, within 15 minutes.', 'notice')
    : '<p class="lead">We send you a one-time link. With it and your password you get back in, and can create a new passkey or turn passkey login off.</p>'}
  <form method="post" action="/recover">
    <label for="recover-username">Username</label>
    <input id="recover-username" name="username" autocomplete="username" value="${escapeHTML(username)}" required>
    <button class="primary" type="submit">Send me a recovery link</button>
  </form>
  <a class="small-link" href="/login">Back to log in</a>
</section>`,
  )
}

/** A recovery link's page: the account's password, which the link alone does not replace. */
export function recoverPasswordPage(username: string, action: string, error?: string): string {
  return layout(
    'Get back in',
    `<section class="card">
  <h1>Get back in</h1>
  <p class="lead">Your recovery link is for <strong>${escapeHTML(username)}</strong>. Enter your password to sign in.</p>
  ${error ? notice('bad', error, 'error') : ''}
  <form method="post" action="${escapeHTML(action)}">
    <label for="recover-password">Password</label>
    <input id="recover-password" name="password" type="password" autocomplete="current-password" required>
    <button class="primary" type="submit">Sign in</button>
  </form>
</section>`,
  )
}

/** Signed in by a recovery link: a new passkey, or passkey login off. */
export function recoveredPage(user: ShopUser): string {
  return layout(
    'You are back in',
    `<section class="card">
  ${notice('ok', 'You are signed in. Create a new passkey on this device, or turn passkey login off. If your lost passkey may be in someone else\'s hands, remove it at justpass.me too (Manage your passkeys).', 'notice')}
  <h1 data-testid="current-user">Signed in as <strong>${escapeHTML(user.username)}</strong></h1>
  <p class="lead">What would you like to do?</p>
  <a id="recover-new-passkey" class="button primary" href="/justpass/reg">Create a new passkey</a>
  <form id="recover-turn-off" method="post" action="/recover/off"><button class="secondary" type="submit">Turn passkey login off</button></form>
  <a class="small-link" href="/">Not now: to the shop</a>
</section>`,
  )
}

/** A recovery link that cannot be used: why, and the way to a new one. */
export function recoverFailedPage(text: string): string {
  return layout(
    'Recovery link',
    `<section class="card">
  <h1>This link cannot be used</h1>
  ${notice('bad', text, 'error')}
  <a id="recover-again" class="button primary" href="/recover">Ask for a new link</a>
  <a class="small-link" href="/login">Back to log in</a>
</section>`,
  )
}

/**
 * The home page of a logged-in user: who, the passkey status, the notice of the last
 * passkey flow (or of turning passkey login off), and the way to their account page.
 * With passkey login on, two ways to turn it off: a passkey confirmation (asked for
 * unless the user confirmed it is them in the last few minutes), or the password again.
 */
export function homePage(user: ShopUser, message?: { ok: boolean; text: string; info?: boolean }): string {
  const status = user.justpassEnabled
    ? `<div class="status" data-testid="passkey-status"><span>Passkey login is on</span><span class="pill on">On</span></div>
  <form id="turn-off-passkey" method="post" action="/passkey/off">
    <button class="secondary" type="submit">Turn off passkey login</button>
    <p class="hint">Asks for your passkey first, unless you confirmed it is you in the last few minutes.</p>
  </form>
  <form id="turn-off-with-password" method="post" action="/passkey/off">
    <label for="confirm-password">Or turn it off with your password</label>
    <input id="confirm-password" name="password" type="password" autocomplete="current-password" required>
    <button class="secondary" type="submit">Turn off with your password</button>
  </form>`
    : `<div class="status" data-testid="passkey-status"><span>Passkey login is off</span><span class="pill off">Off</span></div>
  <a id="enable-passkey" class="button primary" href="/justpass/reg">Enable passkey login</a>`
  return layout(
    'Home',
    `<section class="card">
  ${message ? notice(message.info ? 'info' : message.ok ? 'ok' : 'bad', message.text, 'notice') : ''}
  <h1 data-testid="current-user">Signed in as <strong>${escapeHTML(user.username)}</strong></h1>
  <p class="lead">Your account, your orders, your settings.</p>
  ${status}
  <a id="account-link" class="button secondary" href="/account">Your account</a>
  <form id="logout" method="post" action="/logout"><button class="secondary" type="submit">Log out</button></form>
</section>`,
  )
}

/**
 * The account page, a sensitive one: shown to a user with passkey login on only after
 * they confirmed it is them with their passkey (the shop's confirmation guard).
 */
export function accountPage(user: ShopUser, message?: { ok: boolean; text: string }): string {
  const passkey = user.justpassEnabled
    ? '<span>Passkey login</span><span class="pill on">On</span>'
    : '<span>Passkey login</span><span class="pill off">Off</span>'
  return layout(
    'Your account',
    `<section class="card">
  ${message ? notice(message.ok ? 'ok' : 'bad', message.text, 'notice') : ''}
  <h1 data-testid="account-heading">Your account</h1>
  <p class="lead">What the Corner Shop keeps about you.</p>
  <div class="status"><span>Username</span><strong data-testid="account-username">${escapeHTML(user.username)}</strong></div>
  <div class="status" data-testid="account-passkey">${passkey}</div>
  <div class="status"><span>Orders</span><span>None yet</span></div>
  <a id="home-link" class="button secondary" href="/">Back to the shop</a>
</section>`,
  )
}

/** An error page: what happened, in words for the user; never a stack trace. */
export function errorPage(title: string, text: string): string {
  return layout(
    title,
    `<section class="card">
  <h1>${escapeHTML(title)}</h1>
  <p class="lead">${escapeHTML(text)}</p>
  <a class="button secondary" href="/">Back to the shop</a>
</section>`,
  )
}
