/**
 * The users page: the username rule and the generated password (src/views/system/users.ts), and the page against a
 * mocked API: rows labelled per username, search/filters as query parameters, disable with confirmation and the
 * server's refusal translated, the password reset shown once, and the create form's client and server checks.
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import MockAdapter from 'axios-mock-adapter'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'

import type { UserDetail } from '@/api/gateway'
import { http } from '@/api/http'
import { i18n, setLocale } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { passwordProblems } from '@/utils/password'
import { generatePassword, isLocked, isValidUsername, normalizeUsername, userFormProblems } from '@/views/system/users'

import { envelope, resetStorage, tokenOut } from './helpers'

const confirmAction = vi.fn(async (..._args: unknown[]) => true)
vi.mock('@/utils/dialogs', () => ({ confirmAction: (...args: unknown[]) => confirmAction(...args) }))

describe('username rule', () => {
  it('accepts what the server accepts (after trimming and lower-casing)', () => {
    for (const ok of ['abc', 'zhang.wei', 'dc_reader', 'a-1', 'x'.repeat(32), '  Alice ']) {
      expect(isValidUsername(ok), ok).toBe(true)
    }
    expect(normalizeUsername('  Zhang.Wei ')).toBe('zhang.wei')
  })

  it('refuses the rest', () => {
    for (const bad of ['ab', '1abc', '_abc', 'x'.repeat(33), 'zhang wei', '张伟', 'a@b', '']) {
      expect(isValidUsername(bad), bad).toBe(false)
    }
  })
})

describe('create form checks', () => {
  const good = { username: 'zhang.wei', display_name: '张伟', password: 'Str0ng#Pass', role: 'admin' } as const

  it('passes a good form', () => {
    expect(userFormProblems({ ...good })).toEqual({ username: '', display_name: '', password: '', role: '' })
  })

  it('names each field\'s problem', () => {
    expect(userFormProblems({ ...good, username: ' ' }).username).toBe('system.users.form.username_required')
    expect(userFormProblems({ ...good, username: '1abc' }).username).toBe('system.users.form.username_rule')
    expect(userFormProblems({ ...good, display_name: '  ' }).display_name)
      .toBe('system.users.form.display_name_required')
    expect(userFormProblems({ ...good, display_name: '张'.repeat(65) }).display_name)
      .toBe('system.users.form.display_name_max')
    expect(userFormProblems({ ...good, display_name: '张'.repeat(64) }).display_name).toBe('')
    expect(userFormProblems({ ...good, password: '' }).password).toBe('system.users.form.password_required')
    expect(userFormProblems({ ...good, password: 'alllowercase' }).password).toBe('system.users.form.password_policy')
    // the same policy as the password page: the password must not contain the (normalised) username
    expect(userFormProblems({ ...good, username: 'Zhang.Wei', password: 'xZHANG.WEI#1' }).password)
      .toBe('system.users.form.password_policy')
  })
})

describe('generated password', () => {
  it('always meets the policy and never contains the username', () => {
    for (let i = 0; i < 200; i++) {
      const password = generatePassword('abc')
      expect(password).toHaveLength(14)
      expect(passwordProblems(password, 'abc')).toEqual([])
    }
  })

  it('differs every time', () => {
    expect(new Set(Array.from({ length: 50 }, () => generatePassword())).size).toBe(50)
  })
})

describe('locked', () => {
  it('is locked only while locked_until is in the future', () => {
    const now = Date.parse('2026-05-01T00:00:00Z')
    expect(isLocked({ locked_until: null }, now)).toBe(false)
    expect(isLocked({ locked_until: '2026-05-01T00:15:00Z' }, now)).toBe(true)
    expect(isLocked({ locked_until: '2026-04-30T23:59:00Z' }, now)).toBe(false)
  })
})

// -- the page ----------------------------------------------------------------------------------------------------

const BASE = { must_change_password: false, locked_until: null, created_at: '2026-01-01T00:00:00Z',
  last_login_at: null, grants: [] }
/** The signed-in super admin is id 7 (tests/unit/helpers.ts). */
const ME: UserDetail = { ...BASE, id: 7, username: 'dc_editor', display_name: '我', role: 'super_admin', active: true }
const ALICE: UserDetail = { ...BASE, id: 8, username: 'alice', display_name: '张三', role: 'admin', active: true,
  last_login_at: '2026-05-01T01:00:00Z' }
const BOB: UserDetail = { ...BASE, id: 9, username: 'bob', display_name: '李四', role: 'admin', active: false,
  must_change_password: true }

let mock: MockAdapter
let wrapper: VueWrapper | null = null

beforeEach(() => {
  resetStorage()
  setActivePinia(createPinia())
  confirmAction.mockClear()
  confirmAction.mockImplementation(async () => true)
  mock = new MockAdapter(http)
  mock.onGet('/api/admin/users').reply(200, { items: [ME, ALICE, BOB], total: 3, page: 1, size: 20 })
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
  mock.restore()
  useAuthStore().stopIdleWatch()
  setLocale('zh-CN')
  vi.useRealTimers()
})

async function open(): Promise<void> {
  useAuthStore().applyTokens(tokenOut('1', { role: 'super_admin', grants: [] }))
  const UsersView = (await import('@/views/system/UsersView.vue')).default
  const router = createRouter({ history: createMemoryHistory(), routes: [
    { path: '/system/users', name: 'system-users', component: UsersView },
    { path: '/system/grants', name: 'system-grants', component: { render: () => null } },
  ] })
  await router.push('/system/users')
  await router.isReady()
  wrapper = mount(RouterView, { global: { plugins: [i18n, router], stubs: { transition: false } },
    attachTo: document.body })
  await flushPromises()
}

function byTest(name: string): HTMLElement | null {
  return document.body.querySelector<HTMLElement>(`[data-test="${name}"]`)
}

/** Element Plus shows a form item's message after a short debounce. */
async function messagesShown(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 150))
  await flushPromises()
}

async function type(name: string, value: string): Promise<void> {
  const input = byTest(name) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}

// The first import of a view (and Element Plus) is slow on a cold cache.
beforeAll(async () => {
  await import('@/views/system/UsersView.vue')
}, 60_000)

describe('users page', () => {
  it('lists the users with one labelled row each and the right actions', async () => {
    await open()
    const rows = [...document.querySelectorAll<HTMLElement>('[data-test="users-table"] tr.el-table__row')]
    expect(rows.map((r) => r.dataset.test)).toEqual(['user-row-dc_editor', 'user-row-alice', 'user-row-bob'])
    expect(byTest('user-disable-alice')).not.toBeNull()
    expect(byTest('user-enable-bob')).not.toBeNull()
    expect(byTest('user-disable-bob')).toBeNull()
    expect(byTest('user-grants-alice')!.getAttribute('href')).toBe('/system/grants?user=8')
    // the signed-in user cannot disable or reset themselves
    expect(byTest('user-disable-dc_editor')!.hasAttribute('disabled')).toBe(true)
    expect(byTest('user-reset-dc_editor')!.hasAttribute('disabled')).toBe(true)
    expect(byTest('user-row-bob')!.textContent).toContain('已停用')
  })

  it('searches after typing and filters by role and status', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    await open()
    await type('users-search', ' ali ')
    await vi.advanceTimersByTimeAsync(400)
    await flushPromises()
    expect(mock.history.get!.at(-1)!.params).toMatchObject({ q: 'ali', page: 1, size: 20 })
  })

  it('disables after confirmation and reloads', async () => {
    await open()
    mock.onPatch('/api/admin/users/8').reply(200, { ...ALICE, active: false })
    byTest('user-disable-alice')!.click()
    await flushPromises()
    expect(confirmAction).toHaveBeenCalledTimes(1)
    expect(String(confirmAction.mock.calls[0]![0])).toContain('张三（alice）')
    expect(JSON.parse(mock.history.patch![0]!.data as string)).toEqual({ active: false })
    expect(mock.history.get!.length).toBe(2)
  })

  it('does nothing when the confirmation is cancelled', async () => {
    await open()
    confirmAction.mockImplementation(async () => false)
    byTest('user-enable-bob')!.click()
    await flushPromises()
    expect(mock.history.patch!.length).toBe(0)
  })

  it('shows the server\'s refusal translated', async () => {
    await open()
    mock.onPatch('/api/admin/users/8').reply(409, envelope('user.last_super_admin'))
    byTest('user-disable-alice')!.click()
    await flushPromises()
    expect(document.body.textContent).toContain('这是最后一个启用的超级管理员，不能停用。')
    expect(document.body.textContent).not.toContain('server message in English')
  })

  it('shows a reset password once, with a copy button and the must-change note', async () => {
    await open()
    mock.onPost('/api/admin/users/8/reset-password').reply(200, { password: 'Xy7#kP2m-Qw9' })
    byTest('user-reset-alice')!.click()
    await flushPromises()
    expect(byTest('reset-password-value')!.textContent).toBe('Xy7#kP2m-Qw9')
    expect(byTest('reset-password-copy')).not.toBeNull()
    expect(byTest('reset-password-note')!.textContent).toContain('下次登录时必须修改密码')
    byTest('reset-password-close')!.click()
    await flushPromises()
    expect(document.body.textContent).not.toContain('Xy7#kP2m-Qw9')
  })

  it('checks the create form before sending, then shows a taken username on its field', async () => {
    await open()
    byTest('users-create')!.click()
    await flushPromises()
    await type('user-form-username', '1bad')
    await type('user-form-display-name', '王五')
    await type('user-form-password', 'short')
    byTest('user-form-submit')!.click()
    await flushPromises()
    expect(mock.history.post!.length).toBe(0)
    await messagesShown()
    const errorOf = (name: string) =>
      byTest(name)!.closest('.el-form-item')!.querySelector('.el-form-item__error')?.textContent?.trim() ?? ''
    expect(errorOf('user-form-username')).toBe('用户名格式不正确')
    expect(errorOf('user-form-display-name')).toBe('')
    expect(errorOf('user-form-password')).toContain('初始密码不符合下列要求')
    expect(byTest('user-form-rule-length')!.dataset.ok).toBe('false')

    await type('user-form-username', 'Alice')
    await type('user-form-password', 'Str0ng#Pass')
    mock.onPost('/api/admin/users').reply(409, envelope('user.username_taken', 'taken', { field: 'username' }))
    byTest('user-form-submit')!.click()
    await flushPromises()
    expect(JSON.parse(mock.history.post![0]!.data as string)).toEqual({ username: 'alice', display_name: '王五',
      password: 'Str0ng#Pass', role: 'admin' })
    // shown on its field only, not twice
    expect(byTest('user-form-error')).toBeNull()
    await messagesShown()
    const usernameItem = byTest('user-form-username')!.closest('.el-form-item')!
    expect(usernameItem.textContent).toContain('该用户名已被使用。')
  })

  it('creates a user and offers to assign their permissions', async () => {
    await open()
    byTest('users-create')!.click()
    await flushPromises()
    await type('user-form-username', 'carol')
    await type('user-form-display-name', '赵六')
    byTest('user-form-generate')!.click()
    await flushPromises()
    const password = (byTest('user-form-password') as HTMLInputElement).value
    expect(passwordProblems(password, 'carol')).toEqual([])
    mock.onPost('/api/admin/users').reply(201, { ...BASE, id: 10, username: 'carol', display_name: '赵六',
      role: 'admin', active: true, must_change_password: true })
    byTest('user-form-submit')!.click()
    await flushPromises()
    expect(byTest('users-created')!.textContent).toContain('carol')
    expect(byTest('users-created-grants')!.getAttribute('href')).toBe('/system/grants?user=10')
  })
})
