/**
 * The scheduling pages against a mocked API (the real axios instance, the real router and store): the week grid's
 * labelled cells, create from an empty cell, the refused cancel listing the registrations, generate/copy with a
 * confirmation, the week navigation; write controls absent for a read-only grant; the templates table and its
 * delete; the attendance table with its totals row.
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import MockAdapter from 'axios-mock-adapter'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter, RouterView, type Router } from 'vue-router'

import type { Grant } from '@/api/gateway'
import type { Schedule, Template } from '@/api/dms'
import { http } from '@/api/http'
import { i18n, setLocale } from '@/i18n'
import { useAuthStore } from '@/stores/auth'

import { envelope, resetStorage, tokenOut } from './helpers'

const confirmAction = vi.fn(async (..._args: unknown[]) => true)
vi.mock('@/utils/dialogs', () => ({ confirmAction: (...args: unknown[]) => confirmAction(...args) }))

const ZHANG = { doctor_id: 3, doctor_name: '张建国', department_id: 1, department_name: '内科' }
const WANG = { doctor_id: 4, doctor_name: '王磊', department_id: 2, department_name: '外科' }
const CHEN = { doctor_id: 9, doctor_name: '陈晨', department_id: 2, department_name: '外科' }

function schedule(overrides: Partial<Schedule>): Schedule {
  return {
    id: 1, ...ZHANG, schedule_date: '2026-11-23', session: 'morning', registration_type_id: 2,
    registration_type_name: '专家号', fee: '30.00', quota: 20, booked: 3, visited: 1, remaining: 17, status: 'open',
    note: null, created_at: '2026-11-20T01:00:00Z', updated_at: '2026-11-20T01:00:00Z', ...overrides,
  }
}

const MON = schedule({ id: 11, schedule_date: '2026-11-23', session: 'morning' })
const THU = schedule({ id: 12, schedule_date: '2026-11-26', session: 'afternoon', quota: 10, booked: 10,
  remaining: 0 })
const SAT = schedule({ id: 13, ...WANG, schedule_date: '2026-11-28', session: 'night', status: 'closed', booked: 2,
  remaining: 0, registration_type_id: 1, registration_type_name: '普通号', fee: '10.00' })
const DAYS = ['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28', '2026-11-29']

const TEMPLATE: Template = { id: 31, ...CHEN, weekday: 5, session: 'morning', registration_type_id: 1,
  registration_type_name: '普通号', quota: 25, created_at: '2026-11-01T01:00:00Z', updated_at: '2026-11-02T01:00:00Z' }

let mock: MockAdapter
let wrapper: VueWrapper | null = null
let router: Router

beforeEach(() => {
  resetStorage()
  setActivePinia(createPinia())
  confirmAction.mockClear()
  confirmAction.mockImplementation(async () => true)
  // Wednesday 2026-11-25, 09:00 local time; only Date is faked (Element Plus keeps its real timers)
  vi.useFakeTimers({ toFake: ['Date'], now: new Date(2026, 10, 25, 9, 0, 0) })
  mock = new MockAdapter(http)
  mock.onGet('/api/scheduling/schedules/week').reply((config) => {
    const start = (config.params as { week_start: string }).week_start
    const items = start === '2026-11-23' ? [MON, THU, SAT] : []
    return [200, { week_start: start, week_end: start, days: start === '2026-11-23' ? DAYS : [], items }]
  })
  mock.onGet('/api/scheduling/templates').reply(200, { items: [TEMPLATE], total: 1, page: 1, size: 100 })
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

const WRITE: Grant[] = [{ archive: 'scheduling', level: 'write' }]
const READ: Grant[] = [{ archive: 'scheduling', level: 'read' }]

async function open(path: string, grants: Grant[] = WRITE): Promise<void> {
  useAuthStore().applyTokens(tokenOut('1', { grants }))
  router = createRouter({ history: createMemoryHistory(), routes: [
    { path: '/scheduling/week', component: () => import('@/views/dms/WeekView.vue') },
    { path: '/scheduling/templates', component: () => import('@/views/dms/TemplatesView.vue') },
    { path: '/scheduling/attendance', component: () => import('@/views/dms/AttendanceView.vue') },
  ] })
  await router.push(path)
  await router.isReady()
  wrapper = mount(RouterView, { global: { plugins: [i18n, router], stubs: { transition: false } },
    attachTo: document.body })
  await settle()
}

async function settle(): Promise<void> {
  await flushPromises()
  await new Promise((resolve) => setTimeout(resolve, 0))
  await flushPromises()
}

function byTest(name: string): HTMLElement | null {
  return document.body.querySelector<HTMLElement>(`[data-test="${name}"]`)
}

async function click(name: string): Promise<void> {
  const element = byTest(name)
  expect(element, name).not.toBeNull()
  element!.click()
  await settle()
}

async function type(name: string, value: string): Promise<void> {
  const input = byTest(name) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}

beforeAll(async () => {
  await import('@/views/dms/WeekView.vue')
  await import('@/views/dms/TemplatesView.vue')
  await import('@/views/dms/AttendanceView.vue')
}, 60_000)

describe('排班表 week grid', () => {
  it('asks for this week and lays the sessions out per doctor, day and session', async () => {
    await open('/scheduling/week')
    expect(mock.history.get!.find((r) => r.url === '/api/scheduling/schedules/week')!.params)
      .toEqual({ week_start: '2026-11-23' })
    expect(byTest('week-label')!.textContent).toBe('2026-11-23 至 2026-11-29（2026 年第 48 周）')
    const rows = [...document.querySelectorAll<HTMLElement>('[data-test^="week-row-"]')].map((r) => r.dataset.test)
    // 内科 张建国; 外科 陈晨 (a template, no session this week) and 王磊
    expect(rows).toEqual(['week-row-3', 'week-row-9', 'week-row-4'])
    const mon = byTest('week-cell-3-2026-11-23-morning')!
    expect({ ...mon.dataset }).toMatchObject({ scheduleId: '11', status: 'open', booked: '3', quota: '20',
      remaining: '17', state: 'open' })
    expect(mon.textContent).toContain('3/20')
    expect(mon.textContent).toContain('开诊')
    expect(mon.textContent).toContain('余 17')
    expect(byTest('week-cell-3-2026-11-26-afternoon')!.dataset.state).toBe('full')
    expect(byTest('week-cell-4-2026-11-28-night')!.dataset).toMatchObject({ status: 'closed', state: 'closed' })
    const empty = byTest('week-cell-9-2026-11-27-morning')!
    expect(empty.dataset.scheduleId).toBeUndefined()
    expect(empty.dataset.state).toBe('empty')
    expect(document.querySelectorAll('[data-test^="week-cell-3-"]')).toHaveLength(21)
  })

  it('moves between weeks and jumps back to this one', async () => {
    await open('/scheduling/week')
    await click('week-prev')
    expect(mock.history.get!.at(-1)!.params).toEqual({ week_start: '2026-11-16' })
    expect(byTest('week-label')!.dataset.weekStart).toBe('2026-11-16')
    expect(router.currentRoute.value.query).toEqual({ week: '2026-11-16' }) // kept in the address
    await click('week-next')
    await click('week-next')
    expect(mock.history.get!.at(-1)!.params).toEqual({ week_start: '2026-11-30' })
    await click('week-this')
    expect(byTest('week-label')!.dataset.weekStart).toBe('2026-11-23')
  })

  it('opens a week from the address, with its filters', async () => {
    await open('/scheduling/week?week=2026-11-19&department_id=2&doctor_id=4')
    expect(mock.history.get!.find((r) => r.url === '/api/scheduling/schedules/week')!.params)
      .toEqual({ week_start: '2026-11-16', department_id: 2, doctor_id: 4 })
  })

  it('creates a session from an empty cell, prefilled with its doctor, date and session', async () => {
    await open('/scheduling/week')
    await click('week-cell-9-2026-11-27-morning')
    expect(byTest('schedule-form')!.dataset.mode).toBe('create')
    // the doctors offered come from the templates and from last week's and this week's sessions
    const weeks = mock.history.get!.filter((r) => r.url === '/api/scheduling/schedules/week').map((r) => r.params)
    expect(weeks).toContainEqual({ week_start: '2026-11-16' })
    expect(mock.history.get!.some((r) => r.url?.startsWith('/api/datacenter'))).toBe(false)
    expect(byTest('schedule-form-doctor')!.textContent + (byTest('schedule-form-doctor')!
      .querySelector('input')?.value ?? '')).toContain('陈晨')

    await click('schedule-form-submit')
    expect(mock.history.post ?? []).toHaveLength(0) // the quota is missing
    await type('schedule-form-quota', '25')
    mock.onPost('/api/scheduling/schedules').reply(201, schedule({ id: 50, ...CHEN, schedule_date: '2026-11-27',
      quota: 25, booked: 0, remaining: 25 }))
    await click('schedule-form-submit')
    expect(JSON.parse(mock.history.post![0]!.data as string)).toEqual({ doctor_id: 9, schedule_date: '2026-11-27',
      session: 'morning', quota: 25 })
  })

  it('searches the data center\'s clinic doctors when the user may read it', async () => {
    mock.onGet('/api/datacenter/doctors').reply(200, { items: [{ id: 21, code: 'D021', name: '赵敏', active: true,
      gender: 'female', department_id: 2, department_name: '外科', title: 'attending', registration_type_id: 1,
      registration_type_name: '普通号', practice: 'outpatient', created_at: '', updated_at: '' }], total: 1, page: 1,
    size: 50 })
    mock.onGet('/api/datacenter/registration-types').reply(200, { items: [], total: 0, page: 1, size: 100 })
    await open('/scheduling/week', [...WRITE, { archive: 'datacenter', level: 'read' }])
    await click('week-create')
    const search = mock.history.get!.find((r) => r.url === '/api/datacenter/doctors')!
    expect(search.params).toEqual({ active: true, practice: 'outpatient', size: 50 })
    expect(byTest('schedule-form-doctor-21')).not.toBeNull()
    // the toolbar's 新建排班 starts on the shown week's first day from today on
    expect(byTest('schedule-form-date')!.querySelector('input')!.value).toBe('2026-11-25')
    // no need to collect doctors from last week's sessions
    const weeks = mock.history.get!.filter((r) => r.url === '/api/scheduling/schedules/week')
    expect(weeks.map((r) => r.params)).toEqual([{ week_start: '2026-11-23' }])
  })

  it('shows a refused create on its field', async () => {
    await open('/scheduling/week')
    await click('week-cell-9-2026-11-27-night')
    await type('schedule-form-quota', '25')
    mock.onPost('/api/scheduling/schedules').reply(422, envelope('schedule.registration_type_required', 'x',
      { field: 'registration_type_id' }))
    await click('schedule-form-submit')
    await new Promise((resolve) => setTimeout(resolve, 150))
    await flushPromises()
    const item = byTest('schedule-form-registration-type')!.closest('.el-form-item')!
    expect(item.textContent).toContain('该医生没有默认挂号类型，请选择挂号类型。')
    expect(byTest('schedule-form-error')).toBeNull()
  })

  it('offers nothing to create in past cells', async () => {
    await open('/scheduling/week')
    await click('week-cell-9-2026-11-24-morning')
    expect(byTest('schedule-form')).toBeNull()
  })

  it('lists the registrations that keep a session from being cancelled', async () => {
    await open('/scheduling/week')
    mock.onGet('/api/scheduling/schedules/11').reply(200, MON)
    await click('week-cell-3-2026-11-23-morning')
    expect(byTest('schedule-detail')!.dataset.scheduleId).toBe('11')
    expect(byTest('schedule-detail-booked')!.textContent).toBe('3')
    expect(byTest('schedule-close')).not.toBeNull()
    expect(byTest('schedule-reopen')).toBeNull()
    mock.onPost('/api/scheduling/schedules/11/cancel').reply(409, envelope('schedule.has_bookings', 'x',
      { registrations: ['R20261123-00001', 'R20261123-00004', 'R20261123-00009'], booked: 3 }))
    await click('schedule-cancel')
    expect(confirmAction).toHaveBeenCalledTimes(1)
    expect(String(confirmAction.mock.calls[0]![0])).toContain('张建国 2026-11-23 周一 上午')
    expect(byTest('schedule-has-bookings')!.textContent).toContain('该排班已有 3 个挂号，不能取消')
    const numbers = [...byTest('schedule-bookings')!.querySelectorAll('li')].map((li) => li.textContent)
    expect(numbers).toEqual(['R20261123-00001', 'R20261123-00004', 'R20261123-00009'])
  })

  it('closes a session after a confirmation and shows it closed', async () => {
    await open('/scheduling/week')
    mock.onGet('/api/scheduling/schedules/11').reply(200, MON)
    await click('week-cell-3-2026-11-23-morning')
    mock.onPost('/api/scheduling/schedules/11/close').reply(200, { ...MON, status: 'closed', remaining: 0 })
    await click('schedule-close')
    expect(mock.history.post!.map((r) => r.url)).toEqual(['/api/scheduling/schedules/11/close'])
    expect(byTest('schedule-detail-status')!.dataset.status).toBe('closed')
    expect(byTest('schedule-reopen')).not.toBeNull()
    expect(byTest('week-cell-3-2026-11-23-morning')!.dataset.status).toBe('closed')
  })

  it('generates the week from the templates and copies last week after a confirmation', async () => {
    await open('/scheduling/week')
    mock.onPost('/api/scheduling/schedules/generate').reply(200, { created: 2, skipped: 1, items: [] })
    await click('week-generate')
    expect(JSON.parse(mock.history.post![0]!.data as string)).toEqual({ week_start: '2026-11-23' })
    expect(document.body.textContent).toContain('已按模板生成 2 个排班，跳过 1 个')

    mock.onPost('/api/scheduling/schedules/copy-week').reply(200, { created: 0, skipped: 4, items: [] })
    confirmAction.mockImplementationOnce(async () => false)
    await click('week-copy')
    expect(mock.history.post).toHaveLength(1) // cancelled: nothing sent
    await click('week-copy')
    expect(JSON.parse(mock.history.post![1]!.data as string)).toEqual({ source_week_start: '2026-11-16',
      target_week_start: '2026-11-23' })
    expect(String(confirmAction.mock.calls.at(-1)![0])).toContain('2026-11-16 ~ 2026-11-22')
  })

  it('sends the department filter with generate', async () => {
    await open('/scheduling/week?department_id=2')
    mock.onPost('/api/scheduling/schedules/generate').reply(200, { created: 1, skipped: 0, items: [] })
    await click('week-generate')
    expect(JSON.parse(mock.history.post![0]!.data as string)).toEqual({ week_start: '2026-11-23', department_id: 2 })
  })

  it('has no write controls for a read-only grant', async () => {
    await open('/scheduling/week', READ)
    for (const name of ['week-generate', 'week-copy', 'week-create']) expect(byTest(name), name).toBeNull()
    await click('week-cell-9-2026-11-27-morning')
    expect(byTest('schedule-form')).toBeNull()
    mock.onGet('/api/scheduling/schedules/11').reply(200, MON)
    await click('week-cell-3-2026-11-23-morning')
    expect(byTest('schedule-detail')).not.toBeNull()
    for (const name of ['schedule-edit', 'schedule-close', 'schedule-cancel']) expect(byTest(name), name).toBeNull()
  })
})

describe('排班模板 templates', () => {
  it('lists the templates with labelled rows and deletes after a confirmation', async () => {
    await open('/scheduling/templates')
    const row = byTest('template-row-31')!
    expect(row.tagName).toBe('TR')
    expect(row.textContent).toContain('陈晨')
    expect(row.textContent).toContain('周五')
    expect(row.textContent).toContain('上午')
    expect(byTest('templates-create')).not.toBeNull()
    mock.onDelete('/api/scheduling/templates/31').reply(204)
    await click('template-delete-31')
    expect(String(confirmAction.mock.calls[0]![0])).toContain('陈晨 周五上午')
    expect(mock.history.delete!.map((r) => r.url)).toEqual(['/api/scheduling/templates/31'])
  })

  it('edits only the quota and registration type', async () => {
    await open('/scheduling/templates')
    await click('template-edit-31')
    expect(byTest('template-form')!.dataset.mode).toBe('edit')
    await type('template-form-quota', '40')
    mock.onPatch('/api/scheduling/templates/31').reply(200, { ...TEMPLATE, quota: 40 })
    await click('template-form-submit')
    expect(JSON.parse(mock.history.patch![0]!.data as string)).toEqual({ quota: 40 })
  })

  it('has no write controls for a read-only grant', async () => {
    await open('/scheduling/templates', READ)
    expect(byTest('template-row-31')).not.toBeNull()
    for (const name of ['templates-create', 'template-edit-31', 'template-delete-31']) {
      expect(byTest(name), name).toBeNull()
    }
  })
})

describe('出诊统计 attendance', () => {
  it('asks for this week and shows a row per doctor and the totals', async () => {
    mock.onGet('/api/scheduling/attendance').reply(200, {
      date_from: '2026-11-23', date_to: '2026-11-29',
      items: [{ ...ZHANG, sessions: 4, quota: 80, booked: 60, visited: 51 },
        { ...WANG, sessions: 1, quota: 10, booked: 0, visited: 0 }],
      totals: { sessions: 5, quota: 90, booked: 60, visited: 51 },
    })
    await open('/scheduling/attendance')
    expect(mock.history.get!.find((r) => r.url === '/api/scheduling/attendance')!.params)
      .toEqual({ date_from: '2026-11-23', date_to: '2026-11-29' })
    const rows = [...document.querySelectorAll<HTMLElement>('[data-test="attendance-table"] tr.el-table__row')]
    expect(rows.map((r) => r.dataset.test)).toEqual(['attendance-row-3', 'attendance-row-4', 'attendance-totals'])
    expect(byTest('attendance-row-3')!.textContent).toContain('85.0%')
    expect(byTest('attendance-row-4')!.dataset.visitRate).toBe('')
    expect({ ...byTest('attendance-totals')!.dataset }).toMatchObject({ sessions: '5', quota: '90', booked: '60',
      visited: '51', visitRate: '85.0' })
    expect(byTest('attendance-totals')!.textContent).toContain('合计')
    expect(byTest('attendance-period')!.textContent).toBe('统计期间：2026-11-23 至 2026-11-29（7 天）')
  })
})
