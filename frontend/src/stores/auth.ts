/**
 * The signed-in session: user, token pair, the forced password change, the permission rule and idle sign-out.
 *
 * - Kept in sessionStorage (`hap.session`): a reload keeps the session in that tab; closing the tab ends it;
 *   another tab signs in on its own.
 * - `can(archive, level)`: super admin can everything; write implies read (see src/permissions.ts).
 * - Idle sign-out: after N minutes without activity (mouse, keyboard, touch, wheel, scroll, route change) the
 *   session ends and the UI goes to sign-in with a message. N = localStorage['hap.idleMinutes'] if set (tests and
 *   browser tests use it), else VITE_IDLE_MINUTES, else 30.
 * - The store gives the HTTP layer its tokens and takes refreshed pairs from it (installed when the store is
 *   created). Navigation is not done here: `connectSession` (src/session.ts) registers what happens when the
 *   session ends or the server demands the password change.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import * as gateway from '@/api/gateway'
import type { Grant, Level, TokenOut, User } from '@/api/gateway'
import { installSessionHooks, refreshSession } from '@/api/http'
import { can as canDo, type Scope } from '@/permissions'

export const SESSION_STORAGE_KEY = 'hap.session'
export const IDLE_STORAGE_KEY = 'hap.idleMinutes'
export const DEFAULT_IDLE_MINUTES = 30

/** Why a session ended: the user signed out, was idle too long, or the server no longer accepts it. */
export type EndReason = 'signout' | 'idle' | 'expired'

interface StoredSession {
  user: User
  accessToken: string
  refreshToken: string
  mustChangePassword: boolean
}

/** Minutes without activity before signing out; a positive number (fractions allowed, e.g. 0.1 = 6 s). */
export function idleMinutes(): number {
  const candidates = [readLocal(IDLE_STORAGE_KEY), import.meta.env.VITE_IDLE_MINUTES]
  for (const value of candidates) {
    const minutes = value === undefined || value === null || value === '' ? NaN : Number(value)
    if (Number.isFinite(minutes) && minutes > 0) return minutes
  }
  return DEFAULT_IDLE_MINUTES
}

function readLocal(key: string): string | null {
  try {
    return globalThis.localStorage?.getItem(key) ?? null
  } catch {
    return null
  }
}

function loadStored(): StoredSession | null {
  try {
    const raw = globalThis.sessionStorage?.getItem(SESSION_STORAGE_KEY)
    if (!raw) return null
    const value = JSON.parse(raw) as Partial<StoredSession>
    if (!value.user || !value.accessToken || !value.refreshToken) return null
    return { user: value.user, accessToken: value.accessToken, refreshToken: value.refreshToken,
      mustChangePassword: !!value.mustChangePassword }
  } catch {
    return null
  }
}

const ACTIVITY_EVENTS = ['mousemove', 'mousedown', 'keydown', 'touchstart', 'wheel', 'scroll'] as const

type EndHandler = (reason: EndReason) => void
type PasswordHandler = () => void

export const useAuthStore = defineStore('auth', () => {
  const stored = loadStored()
  const user = ref<User | null>(stored?.user ?? null)
  const accessToken = ref<string | null>(stored?.accessToken ?? null)
  const refreshToken = ref<string | null>(stored?.refreshToken ?? null)
  const mustChangePassword = ref<boolean>(stored?.mustChangePassword ?? false)

  const signedIn = computed(() => !!user.value && !!accessToken.value)
  const isSuperAdmin = computed(() => user.value?.role === 'super_admin')
  const grants = computed<Grant[]>(() => user.value?.grants ?? [])
  const displayName = computed(() => user.value?.display_name || user.value?.username || '')

  function can(archive: Scope, level: Level = 'read'): boolean {
    return canDo(user.value, archive, level)
  }

  // -- persistence ---------------------------------------------------------------------------------------------

  function save(): void {
    try {
      if (user.value && accessToken.value && refreshToken.value) {
        const value: StoredSession = { user: user.value, accessToken: accessToken.value,
          refreshToken: refreshToken.value, mustChangePassword: mustChangePassword.value }
        globalThis.sessionStorage?.setItem(SESSION_STORAGE_KEY, JSON.stringify(value))
      } else {
        globalThis.sessionStorage?.removeItem(SESSION_STORAGE_KEY)
      }
    } catch {
      // storage unavailable: the session lasts until the page is reloaded
    }
  }

  /** Takes a token pair from sign-in, refresh or a password change. */
  function applyTokens(tokens: TokenOut): void {
    user.value = tokens.user
    accessToken.value = tokens.access_token
    refreshToken.value = tokens.refresh_token
    mustChangePassword.value = tokens.must_change_password
    save()
    startIdleWatch()
  }

  /** Forgets the session locally (no API call). */
  function clear(): void {
    stopIdleWatch()
    user.value = null
    accessToken.value = null
    refreshToken.value = null
    mustChangePassword.value = false
    save()
  }

  // -- actions -------------------------------------------------------------------------------------------------

  let passwordHandler: PasswordHandler | null = null

  /** The server demands the initial password be changed first (403 auth.password_change_required). */
  function requirePasswordChange(): void {
    mustChangePassword.value = true
    save()
    passwordHandler?.()
  }

  /** Registers what happens when the server demands the password change (navigation); see src/session.ts. */
  function onPasswordChangeRequired(handler: PasswordHandler | null): void {
    passwordHandler = handler
  }

  async function login(username: string, password: string): Promise<TokenOut> {
    const tokens = await gateway.login(username, password)
    applyTokens(tokens)
    return tokens
  }

  /** Revokes the session on the server (best effort) and always clears it here. */
  async function logout(): Promise<void> {
    stopIdleWatch()
    try {
      if (accessToken.value) await gateway.logout()
    } catch {
      // Signing out must never fail for the user: the tokens are forgotten below either way.
    } finally {
      clear()
    }
  }

  async function changePassword(oldPassword: string, newPassword: string): Promise<void> {
    applyTokens(await gateway.changePassword(oldPassword, newPassword))
  }

  /** Exchanges the refresh token now (shares the HTTP layer's single-flight refresh). */
  async function refresh(): Promise<void> {
    await refreshSession()
  }

  /** Reloads the user (name, grants) from the server. */
  async function loadMe(): Promise<void> {
    const me = await gateway.me()
    if (user.value) {
      user.value = me
      save()
    }
  }

  let initialised: Promise<void> | null = null

  /** Once per page: for a session restored from sessionStorage, refresh the user and start the idle watch. */
  function init(): Promise<void> {
    if (!initialised) {
      initialised = (async () => {
        if (!signedIn.value) return
        startIdleWatch()
        try {
          await loadMe()
        } catch {
          // network trouble keeps the stored user; an ended session was already handled by the HTTP layer
        }
      })()
    }
    return initialised
  }

  // -- ending the session --------------------------------------------------------------------------------------

  let endHandler: EndHandler | null = null

  /** Registers what happens after a session ends (navigation to sign-in); see src/session.ts. */
  function onSessionEnd(handler: EndHandler | null): void {
    endHandler = handler
  }

  /** Ends the session: revokes it on the server unless it already expired there, clears it, calls the handler. */
  async function endSession(reason: EndReason): Promise<void> {
    if (reason === 'expired') clear()
    else await logout()
    endHandler?.(reason)
  }

  // -- idle sign-out -------------------------------------------------------------------------------------------

  let lastActivity = Date.now()
  let idleTimer: ReturnType<typeof setTimeout> | null = null
  let listening = false

  /** Records user activity (also called on every route change). Cheap: only a timestamp. */
  function touch(): void {
    lastActivity = Date.now()
  }

  function scheduleIdleCheck(): void {
    if (idleTimer) clearTimeout(idleTimer)
    const limit = idleMinutes() * 60_000
    const remaining = Math.max(0, lastActivity + limit - Date.now())
    idleTimer = setTimeout(() => {
      idleTimer = null
      if (!signedIn.value) return
      if (Date.now() - lastActivity >= idleMinutes() * 60_000) void endSession('idle')
      else scheduleIdleCheck()
    }, remaining)
  }

  function startIdleWatch(): void {
    touch()
    if (!listening && typeof window !== 'undefined') {
      for (const name of ACTIVITY_EVENTS) window.addEventListener(name, touch, { passive: true, capture: true })
      listening = true
    }
    scheduleIdleCheck()
  }

  function stopIdleWatch(): void {
    if (idleTimer) clearTimeout(idleTimer)
    idleTimer = null
    if (listening && typeof window !== 'undefined') {
      for (const name of ACTIVITY_EVENTS) window.removeEventListener(name, touch, { capture: true })
    }
    listening = false
  }

  installSessionHooks({
    accessToken: () => accessToken.value,
    refreshToken: () => refreshToken.value,
    refreshed: applyTokens,
    expired: () => void endSession('expired'),
    passwordChangeRequired: requirePasswordChange,
  })

  return {
    user, accessToken, refreshToken, mustChangePassword,
    signedIn, isSuperAdmin, grants, displayName,
    can, applyTokens, clear, requirePasswordChange, onPasswordChangeRequired, login, logout, changePassword, refresh, loadMe, init,
    onSessionEnd, endSession, touch, startIdleWatch, stopIdleWatch,
  }
})
