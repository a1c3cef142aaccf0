/**
 * Turning passkey login off: the logged-in user confirms their password, then the site
 * calls `setJustpassEnabled(username, false)`. From then on the password alone logs
 * them in; REG turns passkey login on again.
 */
import express from 'express'
import type { SqliteUserStore, User } from './user-store.js'

/**
 * Add `POST /passkey/off` to the site (after passport's session middleware).
 *
 * @param origin - the site's own origin, such as `https://shop.example.com`
 */
export function addTurnOffRoute(app: express.Express, users: SqliteUserStore, origin: string): void {
  app.post('/passkey/off', express.urlencoded({ extended: false }), async (req, res) => {
    const user = req.user as User | undefined
    if (!user) return res.redirect('/login')
    // Protect it like the site's other forms; at the least, accept posts from its own pages only.
    if (req.get('origin') !== origin) return res.status(403).send('This form must be sent from this site.')
    // The password again: a session left open on a shared computer is not enough.
    const confirmed = await users.checkPassword(user.username, String(req.body?.password ?? ''))
    if (!confirmed) return res.status(401).send('Wrong password: passkey login is still on.')
    await users.setJustpassEnabled(user.username, false)
    res.redirect('/')
  })
}
