/**
 * Wires the auth store to the router (called once from main.ts; tests call it too). The store itself feeds the
 * HTTP layer its tokens; this adds the navigation:
 *
 * - an unrecoverable 401 clears the session and opens sign-in with `?redirect=<current full path>&reason=expired`;
 * - idle sign-out opens sign-in with `reason=idle` (and the redirect, so the user comes back);
 * - a 403 `auth.password_change_required` opens the password page;
 * - every route change counts as user activity for the idle timer.
 */
import type { LocationQueryRaw, Router } from 'vue-router'

import { useAuthStore, type EndReason } from '@/stores/auth'

/** Where sign-in sends the user back to; only paths inside the app count (no `//host`, no sign-in loop). */
export function safeRedirect(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) {
    return '/'
  }
  if (value === '/login' || value.startsWith('/login?') || value.startsWith('/login#')) return '/'
  return value
}

export function connectSession(router: Router): () => void {
  const auth = useAuthStore()

  function currentPath(): string {
    const route = router.currentRoute.value
    if (route.name === 'login') return safeRedirect(route.query.redirect)
    if (route.name === 'password') return safeRedirect(route.query.redirect)
    return route.fullPath
  }

  function toSignIn(reason: EndReason): void {
    const redirect = currentPath()
    const query: LocationQueryRaw = {}
    // After an explicit sign-out the next user starts at home; otherwise bring this user back where they were.
    if (reason !== 'signout' && redirect !== '/') query.redirect = redirect
    query.reason = reason
    void router.replace({ name: 'login', query })
  }

  auth.onPasswordChangeRequired(() => {
    const route = router.currentRoute.value
    if (route.name !== 'password') void router.replace({ name: 'password', query: { redirect: currentPath() } })
  })
  auth.onSessionEnd(toSignIn)
  const removeHook = router.afterEach(() => auth.touch())

  return () => {
    removeHook()
    auth.onSessionEnd(null)
    auth.onPasswordChangeRequired(null)
  }
}
