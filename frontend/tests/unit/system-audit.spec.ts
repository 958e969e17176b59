/**
 * The audit page: the filter form → query parameters (status class or code, the time range as ISO 8601 WITH the
 * local UTC offset, inclusive end second), status colours, `detail` → translated key/value pairs (never JSON), and
 * the page against a mocked API (what it sends, rows, the detail popover, a refused status filter).
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import MockAdapter from 'axios-mock-adapter'
import { createPinia, setActivePinia } from 'pinia'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, createRouter, RouterView } from 'vue-router'

import type { AuditEntry } from '@/api/gateway'
import { http } from '@/api/http'
import { i18n, setLocale } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import {
  auditQuery,
  describeDetail,
  emptyFilters,
  InvalidFilter,
  parseStatus,
  statusTagType,
  toOffsetIso,
  type Translator,
} from '@/views/system/audit'

import { envelope, resetStorage, tokenOut } from './helpers'

const ORIGINAL_TZ = process.env.TZ

function inZone<T>(zone: string, run: () => T): T {
  const before = process.env.TZ
  process.env.TZ = zone
  try {
    return run()
  } finally {
    process.env.TZ = before
  }
}

beforeAll(() => {
  process.env.TZ = 'Asia/Shanghai'
})
afterAll(() => {
  process.env.TZ = ORIGINAL_TZ
})

describe('status filter', () => {
  it('reads a class, an exact code, or nothing', () => {
    expect(parseStatus('')).toEqual({})
    expect(parseStatus('  ')).toEqual({})
    expect(parseStatus('2xx')).toEqual({ status_class: 2 })
    expect(parseStatus('4XX')).toEqual({ status_class: 4 })
    expect(parseStatus('5')).toEqual({ status_class: 5 })
    expect(parseStatus('404')).toEqual({ status: 404 })
    expect(parseStatus(' 201 ')).toEqual({ status: 201 })
  })

  it('refuses what is neither', () => {
    for (const bad of ['abc', '6xx', '600', '99', '4044', '4x', '0']) expect(parseStatus(bad), bad).toBeNull()
  })

  it('colours 2xx green, 4xx orange, 5xx red', () => {
    expect(statusTagType(200)).toBe('success')
    expect(statusTagType(204)).toBe('success')
    expect(statusTagType(302)).toBe('info')
    expect(statusTagType(401)).toBe('warning')
    expect(statusTagType(409)).toBe('warning')
    expect(statusTagType(500)).toBe('danger')
    expect(statusTagType(503)).toBe('danger')
  })
})

describe('time-zone-aware times', () => {
  it('writes local time with the UTC offset', () => {
    const moment = new Date('2026-05-01T00:00:00Z')
    expect(inZone('Asia/Shanghai', () => toOffsetIso(moment))).toBe('2026-05-01T08:00:00+08:00')
    expect(inZone('America/New_York', () => toOffsetIso(moment))).toBe('2026-04-30T20:00:00-04:00')
    expect(inZone('UTC', () => toOffsetIso(moment))).toBe('2026-05-01T00:00:00+00:00')
    expect(inZone('Asia/Kolkata', () => toOffsetIso(moment))).toBe('2026-05-01T05:30:00+05:30')
    expect(inZone('America/St_Johns', () => toOffsetIso(new Date('2026-01-15T12:00:00Z'))))
      .toBe('2026-01-15T08:30:00-03:30')
  })

  it('keeps milliseconds when there are some, and always names the same moment', () => {
    const moment = new Date('2026-05-01T00:00:00.250Z')
    const text = toOffsetIso(moment)
    expect(text).toBe('2026-05-01T08:00:00.250+08:00')
    expect(new Date(text).getTime()).toBe(moment.getTime())
  })
})

describe('audit query', () => {
  it('sends only the filters that are set', () => {
    expect(auditQuery(emptyFilters(), 1, 20)).toEqual({ page: 1, size: 20 })
  })

  it('maps every filter to its parameter', () => {
    const start = new Date(2026, 4, 1, 0, 0, 0) // local time (Asia/Shanghai)
    const end = new Date(2026, 4, 1, 23, 59, 59)
    const query = auditQuery({ user: ' dc_reader ', archive: 'datacenter', status: '4xx',
      action: 'admin.grants_changed', range: [start, end] }, 3, 50)
    expect(query).toEqual({
      page: 3,
      size: 50,
      user: 'dc_reader',
      archive: 'datacenter',
      status_class: 4,
      action: 'admin.grants_changed',
      since: '2026-05-01T00:00:00+08:00',
      // the picked end second is included: the server's `until` is exclusive
      until: '2026-05-02T00:00:00+08:00',
    })
  })

  it('sends an exact status as `status`, and the system archive', () => {
    const query = auditQuery({ ...emptyFilters(), status: '403', archive: 'system', user: '7' }, 1, 10)
    expect(query).toMatchObject({ status: 403, archive: 'system', user: '7' })
    expect(query).not.toHaveProperty('status_class')
  })

  it('drops an archive it does not know and refuses a bad status', () => {
    expect(auditQuery({ ...emptyFilters(), archive: 'nonsense' }, 1, 10)).not.toHaveProperty('archive')
    expect(() => auditQuery({ ...emptyFilters(), status: 'bad' }, 1, 10)).toThrow(InvalidFilter)
  })
})

describe('detail', () => {
  const tr = (): Translator => ({ t: (key, params) => (params ? i18n.global.t(key, params) : i18n.global.t(key)),
    te: (key) => i18n.global.te(key) })

  afterEach(() => setLocale('zh-CN'))

  it('shows a grant change as translated archive/level lists', () => {
    const entries = describeDetail({ before: { datacenter: 'read' },
      after: { scheduling: 'write', datacenter: 'write' } }, tr())
    expect(entries).toEqual([
      { key: 'before', label: '修改前', value: '数据中心：只读' },
      { key: 'after', label: '修改后', value: '数据中心：读写、排班管理：读写' },
    ])
  })

  it('translates roles, times, empty maps and unknown keys, and never shows JSON', () => {
    const entries = describeDetail({ role: 'admin', after: {}, locked_until: '2026-05-01T00:15:00+00:00',
      failed_logins: 5, surprise: { nested: [1, 2], flag: true } }, tr())
    const byKey = Object.fromEntries(entries.map((e) => [e.key, e]))
    expect(byKey.role!.value).toBe('管理员')
    expect(byKey.after!.value).toBe('—')
    expect(byKey.locked_until!.label).toBe('锁定至')
    expect(byKey.locked_until!.value).toBe('2026/05/01 08:15:00')
    expect(byKey.failed_logins!.value).toBe('5')
    expect(byKey.surprise!.label).toBe('surprise')
    for (const entry of entries) expect(entry.value).not.toMatch(/[{}[\]"]/)
  })

  it('follows the language', () => {
    setLocale('en')
    expect(describeDetail({ after: { pharmacy: 'read' } }, tr())).toEqual([
      { key: 'after', label: 'After', value: 'Pharmacy: Read only' },
    ])
  })

  it('has nothing to show for no detail', () => {
    expect(describeDetail(null, tr())).toEqual([])
  })
})

// -- the page ----------------------------------------------------------------------------------------------------

const ROW = (id: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  id, occurred_at: '2026-05-01T02:00:00Z', user_id: 1, username: 'admin', client_ip: '10.0.0.8', method: 'PUT',
  path: '/api/admin/users/5/grants', archive: 'system', status: 200, duration_ms: 12, request_id: `req-${id}`,
  action: 'admin.grants_changed', detail: { before: {}, after: { datacenter: 'read' } }, ...extra,
})

let mock: MockAdapter
let wrapper: VueWrapper | null = null

beforeEach(() => {
  resetStorage()
  setActivePinia(createPinia())
  mock = new MockAdapter(http)
  mock.onGet('/api/admin/audit').reply(200, { items: [ROW(9), ROW(8, { action: 'request', status: 404,
    archive: 'datacenter', detail: null, method: 'GET', path: '/api/datacenter/nothing' })], total: 2, page: 1,
  size: 20 })
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
  mock.restore()
  useAuthStore().stopIdleWatch()
  setLocale('zh-CN')
})

async function open(): Promise<void> {
  useAuthStore().applyTokens(tokenOut('1', { role: 'super_admin', grants: [] }))
  const AuditView = (await import('@/views/system/AuditView.vue')).default
  const router = createRouter({ history: createMemoryHistory(),
    routes: [{ path: '/system/audit', name: 'system-audit', component: AuditView }] })
  await router.push('/system/audit')
  await router.isReady()
  wrapper = mount(RouterView, { global: { plugins: [i18n, router], stubs: { transition: false } },
    attachTo: document.body })
  await flushPromises()
}

function byTest(name: string): HTMLElement | null {
  return document.body.querySelector<HTMLElement>(`[data-test="${name}"]`)
}

function lastParams(): Record<string, unknown> {
  return mock.history.get!.at(-1)!.params as Record<string, unknown>
}

// The first import of a view (and Element Plus) is slow on a cold cache.
beforeAll(async () => {
  await import('@/views/system/AuditView.vue')
}, 60_000)

describe('audit page', () => {
  it('loads the newest page and labels every row', async () => {
    await open()
    expect(lastParams()).toEqual({ page: 1, size: 20 })
    const rows = [...document.querySelectorAll<HTMLElement>('[data-test="audit-table"] tr[data-test="audit-row"]')]
    expect(rows.map((r) => r.dataset.id)).toEqual(['9', '8'])
    expect(rows[0]!.textContent).toContain('修改权限')
    expect(rows[1]!.textContent).toContain('数据中心')
    expect(rows[1]!.querySelector('[data-test="audit-status"]')!.className).toContain('el-tag--warning')
    expect(rows[0]!.querySelector('[data-test="audit-status"]')!.className).toContain('el-tag--success')
    // a row without detail has no detail button
    expect(rows[1]!.querySelector('[data-test="audit-detail"]')).toBeNull()
  })

  it('shows the detail as key/value pairs in a popover', async () => {
    await open()
    const button = document.querySelector<HTMLElement>('tr[data-test="audit-row"] [data-test="audit-detail"]')!
    button.click()
    await flushPromises()
    const content = byTest('audit-detail-content')!
    expect(byTest('audit-detail-value-after')!.textContent).toBe('数据中心：只读')
    expect(content.textContent).not.toContain('{')
  })

  it('sends the typed filters when searching, from page 1', async () => {
    await open()
    const input = byTest('audit-filter-user') as HTMLInputElement
    input.value = 'dc_reader'
    input.dispatchEvent(new Event('input'))
    await flushPromises()
    byTest('audit-search')!.click()
    await flushPromises()
    expect(lastParams()).toEqual({ page: 1, size: 20, user: 'dc_reader' })
  })

  it('shows a failed load translated with a retry', async () => {
    mock.reset()
    mock.onGet('/api/admin/audit').replyOnce(500, envelope('internal.error'))
    await open()
    expect(byTest('audit-error')!.textContent).toContain('服务器内部错误')
    mock.onGet('/api/admin/audit').reply(200, { items: [], total: 0, page: 1, size: 20 })
    byTest('audit-error-retry')!.click()
    await flushPromises()
    expect(byTest('audit-error')).toBeNull()
    expect(byTest('audit-empty')).not.toBeNull()
  })
})
