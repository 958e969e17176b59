/** Rules of the users page that do not depend on the screen: the username rule and the generated password. */
import type { UserDetail } from '@/api/gateway'
import { passwordProblems } from '@/utils/password'

/** The server's rule (gateway/schemas.py `Username`), applied after trimming and lower-casing as the server does. */
export const USERNAME_PATTERN = /^[a-z][a-z0-9_.-]{2,31}$/

export function normalizeUsername(value: string): string {
  return value.trim().toLowerCase()
}

export function isValidUsername(value: string): boolean {
  return USERNAME_PATTERN.test(normalizeUsername(value))
}

/** True while the account is locked after failed sign-ins (`locked_until` in the future). */
export function isLocked(user: Pick<UserDetail, 'locked_until'>, now: number = Date.now()): boolean {
  if (!user.locked_until) return false
  const until = new Date(user.locked_until).getTime()
  return Number.isFinite(until) && until > now
}

// No look-alikes (0/O, 1/l/I) — the password is read out or typed from a note.
const CLASSES = ['abcdefghijkmnpqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZ', '23456789', '#%+-=?_*!'] as const

function randomIndex(limit: number): number {
  // Rejection sampling: no modulo bias.
  const max = Math.floor(0x1_0000_0000 / limit) * limit
  const buffer = new Uint32Array(1)
  for (;;) {
    globalThis.crypto.getRandomValues(buffer)
    if (buffer[0]! < max) return buffer[0]! % limit
  }
}

function pick(chars: string): string {
  return chars[randomIndex(chars.length)]!
}

/**
 * A random initial password that meets the policy (src/utils/password.ts): all four classes, `length` characters
 * (at least 12), never containing the username.
 */
export function generatePassword(username = '', length = 14): string {
  const size = Math.max(12, length)
  const all = CLASSES.join('')
  for (;;) {
    const chars = CLASSES.map(pick)
    while (chars.length < size) chars.push(pick(all))
    for (let i = chars.length - 1; i > 0; i--) {
      const j = randomIndex(i + 1)
      ;[chars[i], chars[j]] = [chars[j]!, chars[i]!]
    }
    const password = chars.join('')
    if (passwordProblems(password, normalizeUsername(username)).length === 0) return password
  }
}

// -- the create form -------------------------------------------------------------------------------------------

export interface UserForm {
  username: string
  display_name: string
  password: string
  role: 'admin' | 'super_admin'
}

export type UserFormField = keyof UserForm

/**
 * The create form's problems, field → i18n key of the message ('' = fine). The same rules as the server:
 * username pattern, display name 1–64 characters after trimming, the password policy (src/utils/password.ts).
 */
export function userFormProblems(form: UserForm): Record<UserFormField, string> {
  const username = normalizeUsername(form.username)
  const name = form.display_name.trim()
  return {
    username: !username ? 'system.users.form.username_required'
      : !USERNAME_PATTERN.test(username) ? 'system.users.form.username_rule' : '',
    display_name: !name ? 'system.users.form.display_name_required'
      : [...name].length > 64 ? 'system.users.form.display_name_max' : '',
    password: !form.password ? 'system.users.form.password_required'
      : passwordProblems(form.password, username).length ? 'system.users.form.password_policy' : '',
    role: form.role === 'admin' || form.role === 'super_admin' ? '' : 'system.users.form.role_required',
  }
}
