/** The auth store: sign-in, sign-out, persistence, the permission rule and idle sign-out. */
import MockAdapter from 'axios-mock-adapter'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { http } from '@/api/http'
import { connectSession } from '@/session'
import {
  DEFAULT_IDLE_MINUTES,
  IDLE_STORAGE_KEY,
  SESSION_STORAGE_KEY,
  idleMinutes,
  useAuthStore,
  type EndReason,
} from '@/stores/auth'
import { createMemoryHistory, createRouter } from 'vue-router'

import { envelope, resetStorage, tokenOut } from './helpers'

let mock: MockAdapter

beforeEach(() => {
  resetStorage()
  setActivePinia(createPinia())
  mock = new MockAdapter(http)
})

afterEach(() => {
  useAuthStore().stopIdleWatch()
  mock.restore()
  vi.useRealTimers()
})

describe('login', () => {
  it('stores the user, the tokens and the grants, in the store and in sessionStorage', async () => {
    mock.onPost('/api/auth/login').reply(200, tokenOut('1'))
    const auth = useAuthStore()
    expect(auth.signedIn).toBe(false)

    await auth.login('dc_editor', 'Editor#2026')

    expect(JSON.parse(mock.history.post![0]!.data)).toEqual({ username: 'dc_editor', password: 'Editor#2026' })
    expect(auth.signedIn).toBe(true)
    expect(auth.user?.username).toBe('dc_editor')
    expect(auth.displayName).toBe('数据中心管理员')
    expect(auth.accessToken).toBe('access-1')
    expect(auth.refreshToken).toBe('refresh-1')
    expect(auth.mustChangePassword).toBe(false)
    expect(auth.grants).toEqual([{ archive: 'datacenter', level: 'write' }, { archive: 'scheduling', level: 'read' }])
    expect(auth.isSuperAdmin).toBe(false)

    // A reload (a new store over the same sessionStorage) keeps the session in this tab.
    setActivePinia(createPinia())
    const reloaded = useAuthStore()
    expect(reloaded.signedIn).toBe(true)
    expect(reloaded.accessToken).toBe('access-1')
    expect(reloaded.grants).toHaveLength(2)
  })

  it('remembers that the initial password must be changed', async () => {
    mock.onPost('/api/auth/login').reply(200, tokenOut('1', { mustChange: true }))
    const auth = useAuthStore()
    await auth.login('newbie', 'Initial#1')
    expect(auth.mustChangePassword).toBe(true)
    expect(JSON.parse(sessionStorage.getItem(SESSION_STORAGE_KEY)!).mustChangePassword).toBe(true)

    mock.onPost('/api/auth/password').reply(200, tokenOut('2'))
    await auth.changePassword('Initial#1', 'Better#Pass1')
    expect(JSON.parse(mock.history.post![1]!.data)).toEqual({ old_password: 'Initial#1', new_password: 'Better#Pass1' })
    expect(auth.mustChangePassword).toBe(false)
    expect(auth.accessToken).toBe('access-2')
  })

  it('keeps nothing when the sign-in is refused', async () => {
    mock.onPost('/api/auth/login').reply(401, envelope('auth.invalid_credentials'))
    const auth = useAuthStore()
    await expect(auth.login('dc_editor', 'wrong')).rejects.toMatchObject({ code: 'auth.invalid_credentials' })
    expect(auth.signedIn).toBe(false)
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull()
  })
})

describe('logout', () => {
  it('revokes the session on the server and clears it locally', async () => {
    const auth = useAuthStore()
    auth.applyTokens(tokenOut('1'))
    mock.onPost('/api/auth/logout').reply(204)
    await auth.logout()
    expect(mock.history.post).toHaveLength(1)
    expect(mock.history.post![0]!.headers?.Authorization).toBe('Bearer access-1')
    expect(auth.signedIn).toBe(false)
    expect(auth.user).toBeNull()
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull()
  })

  it.each([
    ['a server error', (m: MockAdapter) => m.onPost('/api/auth/logout').reply(500, envelope('internal.error'))],
    ['a network error', (m: MockAdapter) => m.onPost('/api/auth/logout').networkError()],
    ['an expired session', (m: MockAdapter) => {
      m.onPost('/api/auth/logout').reply(401, envelope('auth.token_expired'))
      m.onPost('/api/auth/refresh').reply(401, envelope('auth.refresh_invalid'))
    }],
  ])('clears the session even when the API fails with %s', async (_name, arrange) => {
    const auth = useAuthStore()
    auth.applyTokens(tokenOut('1'))
    arrange(mock)
    await expect(auth.logout()).resolves.toBeUndefined()
    expect(mock.history.post!.some((r) => r.url === '/api/auth/logout')).toBe(true)
    expect(auth.signedIn).toBe(false)
    expect(auth.accessToken).toBeNull()
    expect(auth.refreshToken).toBeNull()
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull()
  })
})

describe('can()', () => {
  it('lets the super admin do everything, including the system pages', () => {
    const auth = useAuthStore()
    auth.applyTokens(tokenOut('1', { role: 'super_admin', grants: [] }))
    expect(auth.isSuperAdmin).toBe(true)
    for (const archive of ['outpatient', 'datacenter', 'pharmacy', 'system'] as const) {
      expect(auth.can(archive, 'read')).toBe(true)
      expect(auth.can(archive, 'write')).toBe(true)
    }
  })

  it('write implies read; read does not imply write; no grant means nothing', () => {
    const auth = useAuthStore()
    auth.applyTokens(tokenOut('1', { grants: [{ archive: 'datacenter', level: 'write' },
      { archive: 'scheduling', level: 'read' }] }))
    expect(auth.can('datacenter', 'read')).toBe(true)
    expect(auth.can('datacenter', 'write')).toBe(true)
    expect(auth.can('datacenter')).toBe(true)
    expect(auth.can('scheduling', 'read')).toBe(true)
    expect(auth.can('scheduling', 'write')).toBe(false)
    expect(auth.can('outpatient', 'read')).toBe(false)
    expect(auth.can('pharmacy', 'write')).toBe(false)
    expect(auth.can('system', 'read')).toBe(false)
  })

  it('refuses everything when signed out', () => {
    const auth = useAuthStore()
    expect(auth.can('datacenter', 'read')).toBe(false)
    expect(auth.can('system')).toBe(false)
  })
})

describe('idle sign-out', () => {
  it('reads the limit from localStorage, then VITE_IDLE_MINUTES, then defaults to 30', () => {
    expect(DEFAULT_IDLE_MINUTES).toBe(30)
    vi.stubEnv('VITE_IDLE_MINUTES', '')
    expect(idleMinutes()).toBe(30)
    vi.stubEnv('VITE_IDLE_MINUTES', '12')
    expect(idleMinutes()).toBe(12)
    localStorage.setItem(IDLE_STORAGE_KEY, '0.5')
    expect(idleMinutes()).toBe(0.5)
    localStorage.setItem(IDLE_STORAGE_KEY, 'nonsense')
    expect(idleMinutes()).toBe(12)
  })

  it('signs out after N minutes without activity; activity and route changes push the deadline back', async () => {
    vi.useFakeTimers()
    localStorage.setItem(IDLE_STORAGE_KEY, '1')
    const router = createRouter({ history: createMemoryHistory(), routes: [
      { path: '/', name: 'home', component: { template: '<div />' } },
      { path: '/login', name: 'login', component: { template: '<div />' } },
      { path: '/datacenter/:entity', component: { template: '<div />' } },
    ] })
    await router.push('/')
    const disconnect = connectSession(router)
    const auth = useAuthStore()
    const ended: EndReason[] = []
    mock.onPost('/api/auth/logout').reply(204)
    auth.applyTokens(tokenOut('1'))
    const handler = vi.fn((reason: EndReason) => ended.push(reason))
    auth.onSessionEnd(handler)

    await vi.advanceTimersByTimeAsync(40_000)
    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'a' })) // activity at 40 s
    await vi.advanceTimersByTimeAsync(50_000) // 90 s in, 50 s idle
    expect(auth.signedIn).toBe(true)
    await router.push('/datacenter/units') // a route change at 90 s
    await vi.advanceTimersByTimeAsync(55_000) // 145 s in, 55 s idle
    expect(auth.signedIn).toBe(true)
    expect(handler).not.toHaveBeenCalled()

    await vi.advanceTimersByTimeAsync(6_000) // 61 s idle
    expect(auth.signedIn).toBe(false)
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull()
    expect(mock.history.post!.map((r) => r.url)).toEqual(['/api/auth/logout'])
    expect(ended).toEqual(['idle'])
    disconnect()
  })

  it('sends the idle user to sign-in with a reason and the way back', async () => {
    vi.useFakeTimers()
    localStorage.setItem(IDLE_STORAGE_KEY, '0.5')
    const page = { template: '<div />' }
    const router = createRouter({ history: createMemoryHistory(), routes: [
      { path: '/', name: 'home', component: page },
      { path: '/login', name: 'login', component: page },
      { path: '/datacenter/:entity', name: 'datacenter-entity', component: page },
    ] })
    const disconnect = connectSession(router)
    await router.push('/datacenter/drugs?page=3')
    mock.onPost('/api/auth/logout').reply(204)
    useAuthStore().applyTokens(tokenOut('1'))

    await vi.advanceTimersByTimeAsync(31_000)

    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query).toEqual({ redirect: '/datacenter/drugs?page=3', reason: 'idle' })
    disconnect()
  })

  it('does not run while signed out', async () => {
    vi.useFakeTimers()
    localStorage.setItem(IDLE_STORAGE_KEY, '0.1')
    const auth = useAuthStore()
    const handler = vi.fn()
    auth.onSessionEnd(handler)
    mock.onPost('/api/auth/logout').reply(204)
    auth.applyTokens(tokenOut('1'))
    await auth.logout()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(handler).not.toHaveBeenCalled()
    expect(mock.history.post).toHaveLength(1)
  })
})
