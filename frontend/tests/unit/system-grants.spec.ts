/**
 * The grants editor: the matrix model (grants → matrix → the PUT body, the diff) and the page against a mocked API
 * (`?user=` preselects, radios edit, the unsaved marker, the PUT with the whole set minus `none`, the note that the
 * user's sessions were ended, the super-admin explanation).
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import MockAdapter from 'axios-mock-adapter'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router'

import type { Grant, UserDetail } from '@/api/gateway'
import { http } from '@/api/http'
import { i18n, setLocale } from '@/i18n'
import { ARCHIVES } from '@/permissions'
import { useAuthStore } from '@/stores/auth'
import { changedArchives, emptyMatrix, grantsOf, matrixOf } from '@/views/system/grants'

import { envelope, resetStorage, tokenOut } from './helpers'

const confirmAction = vi.fn(async () => true)
vi.mock('@/utils/dialogs', () => ({ confirmAction: (...args: unknown[]) => confirmAction(...(args as [])) }))

describe('grants matrix model', () => {
  it('puts every archive in the matrix, none unless granted', () => {
    const matrix = matrixOf([{ archive: 'datacenter', level: 'read' }, { archive: 'pharmacy', level: 'write' }])
    expect(Object.keys(matrix)).toEqual([...ARCHIVES])
    expect(matrix).toMatchObject({ datacenter: 'read', pharmacy: 'write', outpatient: 'none', storage: 'none' })
  })

  it('lets write win when an archive appears twice, and ignores unknown archives', () => {
    const grants = [{ archive: 'datacenter', level: 'write' }, { archive: 'datacenter', level: 'read' },
      { archive: 'system', level: 'write' }] as unknown as Grant[]
    const matrix = matrixOf(grants)
    expect(matrix.datacenter).toBe('write')
    expect(Object.keys(matrix)).not.toContain('system')
  })

  it('serialises to the whole set in menu order, leaving out archives at none', () => {
    const matrix = { ...emptyMatrix(), pharmacy: 'read', outpatient: 'write', datacenter: 'read' } as const
    expect(grantsOf(matrix)).toEqual([
      { archive: 'outpatient', level: 'write' },
      { archive: 'datacenter', level: 'read' },
      { archive: 'pharmacy', level: 'read' },
    ])
    expect(grantsOf(emptyMatrix())).toEqual([])
  })

  it('round-trips grants', () => {
    const grants: Grant[] = [{ archive: 'inpatient', level: 'read' }, { archive: 'scheduling', level: 'write' }]
    expect(grantsOf(matrixOf(grants))).toEqual(grants)
  })

  it('lists the changed archives', () => {
    const saved = matrixOf([{ archive: 'datacenter', level: 'read' }])
    expect(changedArchives(saved, { ...saved })).toEqual([])
    expect(changedArchives(saved, { ...saved, datacenter: 'write', outpatient: 'read' }))
      .toEqual(['outpatient', 'datacenter'])
    expect(changedArchives(saved, { ...saved, datacenter: 'none' })).toEqual(['datacenter'])
  })
})

// -- the page ----------------------------------------------------------------------------------------------------

const BASE = { must_change_password: false, locked_until: null, created_at: '2026-01-01T00:00:00Z',
  last_login_at: null }
const ADMIN: UserDetail = { ...BASE, id: 5, username: 'dc_reader', display_name: '李四', role: 'admin', active: true,
  grants: [{ archive: 'datacenter', level: 'read' }, { archive: 'scheduling', level: 'write' }] }
const ROOT: UserDetail = { ...BASE, id: 1, username: 'admin', display_name: '超级管理员', role: 'super_admin',
  active: true, grants: [] }

let mock: MockAdapter
let router: Router
let wrapper: VueWrapper | null = null

beforeEach(() => {
  resetStorage()
  setActivePinia(createPinia())
  confirmAction.mockClear()
  confirmAction.mockImplementation(async () => true)
  mock = new MockAdapter(http)
  mock.onGet('/api/admin/users').reply(200, { items: [ADMIN], total: 1, page: 1, size: 50 })
  mock.onGet('/api/admin/users/5').reply(200, ADMIN)
  mock.onGet('/api/admin/users/1').reply(200, ROOT)
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
  mock.restore()
  useAuthStore().stopIdleWatch()
  setLocale('zh-CN')
})

async function open(path: string): Promise<VueWrapper> {
  useAuthStore().applyTokens(tokenOut('1', { role: 'super_admin', grants: [] }))
  const GrantsView = (await import('@/views/system/GrantsView.vue')).default
  router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/system/grants', name: 'system-grants', component: GrantsView },
      { path: '/system/users', name: 'system-users', component: { render: () => null } },
    ],
  })
  await router.push(path)
  await router.isReady()
  wrapper = mount(RouterView, { global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

function byTest(name: string): HTMLElement | null {
  return document.body.querySelector<HTMLElement>(`[data-test="${name}"]`)
}

function radio(archive: string, level: string): HTMLInputElement {
  return byTest(`grant-${archive}-${level}`)!.querySelector('input')!
}

async function choose(archive: string, level: string): Promise<void> {
  radio(archive, level).click()
  await flushPromises()
}

// The first import of a view (and Element Plus) is slow on a cold cache.
beforeAll(async () => {
  await import('@/views/system/GrantsView.vue')
}, 60_000)

describe('grants page', () => {
  it('asks for an admin when none is selected', async () => {
    await open('/system/grants')
    expect(byTest('grants-empty')).not.toBeNull()
    expect(byTest('grants-matrix')).toBeNull()
  })

  it('shows the preselected user\'s current grants in the matrix, seven rows in menu order', async () => {
    await open('/system/grants?user=5')
    const rows = [...document.querySelectorAll('[data-test^="grants-row-"]')].map((r) => r.getAttribute('data-test'))
    expect(rows).toEqual(ARCHIVES.map((a) => `grants-row-${a}`))
    expect(radio('datacenter', 'read').checked).toBe(true)
    expect(radio('scheduling', 'write').checked).toBe(true)
    expect(radio('outpatient', 'none').checked).toBe(true)
    expect(byTest('grants-clean')).not.toBeNull()
    expect(byTest('grants-save')!.hasAttribute('disabled') ||
      byTest('grants-save')!.classList.contains('is-disabled')).toBe(true)
  })

  it('marks unsaved changes, saves the whole set without the none archives, and says sessions were ended',
    async () => {
      await open('/system/grants?user=5')
      await choose('datacenter', 'write')
      await choose('scheduling', 'none')
      await choose('pharmacy', 'read')
      expect(byTest('grants-dirty')!.dataset.count).toBe('3')
      expect(byTest('grants-row-datacenter')!.dataset.changed).toBe('true')
      expect(byTest('grants-was-datacenter')!.textContent).toContain('只读')

      const saved: Grant[] = [{ archive: 'datacenter', level: 'write' }, { archive: 'pharmacy', level: 'read' }]
      mock.onPut('/api/admin/users/5/grants').reply(200, saved)
      byTest('grants-save')!.click()
      await flushPromises()

      const put = mock.history.put!
      expect(put).toHaveLength(1)
      expect(JSON.parse(put[0]!.data as string)).toEqual(saved)
      expect(byTest('grants-saved')!.textContent).toContain('会话已被结束')
      expect(byTest('grants-dirty')).toBeNull()
      expect(radio('datacenter', 'write').checked).toBe(true)
    })

  it('undoes changes', async () => {
    await open('/system/grants?user=5')
    await choose('outpatient', 'read')
    expect(byTest('grants-dirty')).not.toBeNull()
    byTest('grants-discard')!.click()
    await flushPromises()
    expect(byTest('grants-dirty')).toBeNull()
    expect(radio('outpatient', 'none').checked).toBe(true)
  })

  it('shows a refused save translated and keeps the edits', async () => {
    await open('/system/grants?user=5')
    await choose('outpatient', 'read')
    mock.onPut('/api/admin/users/5/grants').reply(422, envelope('user.grants_not_applicable'))
    byTest('grants-save')!.click()
    await flushPromises()
    const error = byTest('grants-save-error')!
    expect(error.dataset.code).toBe('user.grants_not_applicable')
    expect(error.textContent).toContain('超级管理员拥有全部档案的权限')
    expect(error.textContent).not.toContain('server message')
    expect(byTest('grants-dirty')).not.toBeNull()
  })

  it('explains that grants do not apply to a super admin', async () => {
    await open('/system/grants?user=1')
    expect(byTest('grants-super-admin')).not.toBeNull()
    expect(byTest('grants-matrix')).toBeNull()
    expect(byTest('grants-save')).toBeNull()
  })

  it('asks before switching user with unsaved changes, and stays when cancelled', async () => {
    await open('/system/grants?user=5')
    await choose('outpatient', 'write')
    confirmAction.mockImplementation(async () => false)
    await router.push('/system/grants?user=1')
    await flushPromises()
    expect(confirmAction).toHaveBeenCalledTimes(1)
    expect(router.currentRoute.value.query.user).toBe('5')
    expect(radio('outpatient', 'write').checked).toBe(true)
  })

  it('shows a failed load with a retry', async () => {
    mock.onGet('/api/admin/users/9').replyOnce(503, envelope('database.unavailable'))
    await open('/system/grants?user=9')
    expect(byTest('grants-error')!.textContent).toContain('数据库暂时不可用')
    mock.onGet('/api/admin/users/9').reply(200, { ...ADMIN, id: 9 })
    byTest('grants-error-retry')!.click()
    await flushPromises()
    expect(byTest('grants-error')).toBeNull()
    expect(byTest('grants-matrix')).not.toBeNull()
  })
})
