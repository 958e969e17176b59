/**
 * The week grid as data (src/views/dms/grid.ts) and the doctors/departments/registration types collected from
 * the scheduling API (src/views/dms/known.ts): rows per doctor in department-then-name order, 21 cells per row
 * (7 days × 3 sessions) in order, each with its session, state and free slots; extra doctors get empty rows.
 */
import { describe, expect, it } from 'vitest'

import { SESSIONS, type Schedule, type Template } from '@/api/dms'
import { buildGrid, cellState, cellTestId, gridColumns, gridTotals, remainingOf } from '@/views/dms/grid'
import { Known } from '@/views/dms/known'
import { weekDays } from '@/views/dms/week'

// --- rows as services/dms/schemas.py answers them ---
const DOCTORS = {
  zhang: { doctor_id: 3, doctor_name: '张建国', department_id: 1, department_name: '内科' },
  li: { doctor_id: 5, doctor_name: '李秀英', department_id: 1, department_name: '内科' },
  wang: { doctor_id: 4, doctor_name: '王磊', department_id: 2, department_name: '外科' },
} as const

let nextId = 100

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  const id = overrides.id ?? nextId++
  return {
    id,
    ...DOCTORS.zhang,
    schedule_date: '2026-11-23',
    session: 'morning',
    registration_type_id: 2,
    registration_type_name: '专家号',
    fee: '30.00',
    quota: 20,
    booked: 3,
    visited: 1,
    remaining: 17,
    status: 'open',
    note: null,
    created_at: '2026-11-20T01:00:00Z',
    updated_at: '2026-11-20T01:00:00Z',
    ...overrides,
  }
}

function template(overrides: Partial<Template> = {}): Template {
  const id = overrides.id ?? nextId++
  return {
    id,
    ...DOCTORS.zhang,
    weekday: 1,
    session: 'morning',
    registration_type_id: 1,
    registration_type_name: '普通号',
    quota: 30,
    created_at: '2026-11-01T01:00:00Z',
    updated_at: '2026-11-01T01:00:00Z',
    ...overrides,
  }
}

const DAYS = weekDays('2026-11-23')
const TODAY = '2026-11-25' // a Wednesday

describe('free slots and cell states', () => {
  it('counts free slots as quota − booked while open, never negative, 0 when not open', () => {
    expect(remainingOf({ quota: 20, booked: 3, status: 'open' })).toBe(17)
    expect(remainingOf({ quota: 20, booked: 20, status: 'open' })).toBe(0)
    expect(remainingOf({ quota: 5, booked: 7, status: 'open' })).toBe(0) // quota lowered elsewhere: not −2
    expect(remainingOf({ quota: 20, booked: 3, status: 'closed' })).toBe(0)
    expect(remainingOf({ quota: 20, booked: 0, status: 'cancelled' })).toBe(0)
  })

  it('tells open, full, closed, cancelled and empty cells apart', () => {
    expect(cellState(null)).toBe('empty')
    expect(cellState({ quota: 20, booked: 3, status: 'open' })).toBe('open')
    expect(cellState({ quota: 20, booked: 20, status: 'open' })).toBe('full')
    expect(cellState({ quota: 20, booked: 3, status: 'closed' })).toBe('closed')
    expect(cellState({ quota: 20, booked: 0, status: 'cancelled' })).toBe('cancelled')
  })
})

describe('columns', () => {
  it('are the 7 days × morning, afternoon, night in order, with the day starts and past days marked', () => {
    const columns = gridColumns(DAYS, TODAY)
    expect(columns).toHaveLength(21)
    expect(columns.slice(0, 4).map((c) => `${c.date} ${c.session}`)).toEqual([
      '2026-11-23 morning', '2026-11-23 afternoon', '2026-11-23 night', '2026-11-24 morning'])
    expect(columns.filter((c) => c.firstOfDay).map((c) => c.weekday)).toEqual(['mon', 'tue', 'wed', 'thu', 'fri',
      'sat', 'sun'])
    expect(columns.filter((c) => c.past).map((c) => `${c.date} ${c.session}`)).toEqual([
      '2026-11-23 morning', '2026-11-23 afternoon', '2026-11-23 night',
      '2026-11-24 morning', '2026-11-24 afternoon', '2026-11-24 night'])
    expect(columns.find((c) => c.date === TODAY)!.past).toBe(false) // today is not past
  })
})

describe('the grid of a week', () => {
  const items = [
    schedule({ id: 1, ...DOCTORS.wang, schedule_date: '2026-11-24', session: 'afternoon', quota: 10, booked: 10 }),
    schedule({ id: 2, ...DOCTORS.zhang, schedule_date: '2026-11-23', session: 'morning', quota: 20, booked: 3 }),
    schedule({ id: 3, ...DOCTORS.li, schedule_date: '2026-11-29', session: 'night', quota: 8, booked: 2,
      status: 'closed' }),
    schedule({ id: 4, ...DOCTORS.zhang, schedule_date: '2026-11-26', session: 'night', quota: 15, booked: 0 }),
    // outside the week: ignored
    schedule({ id: 5, ...DOCTORS.zhang, schedule_date: '2026-11-30', session: 'morning' }),
  ]

  it('has one row per doctor, ordered by department, then name', () => {
    const grid = buildGrid(DAYS, items, TODAY)
    // 内科 (nèi) before 外科 (wài); within 内科 李 (lǐ) before 张 (zhāng)
    expect(grid.rows.map((r) => r.doctor.name)).toEqual(['李秀英', '张建国', '王磊'])
    expect(grid.rows.map((r) => r.doctor.departmentName)).toEqual(['内科', '内科', '外科'])
  })

  it('puts each session in its day × session cell and leaves the others empty', () => {
    const grid = buildGrid(DAYS, items, TODAY)
    const zhang = grid.rows.find((r) => r.doctor.id === DOCTORS.zhang.doctor_id)!
    expect(zhang.cells).toHaveLength(21)
    const filled = zhang.cells.filter((c) => c.schedule).map((c) => [c.date, c.session, c.schedule!.id])
    expect(filled).toEqual([['2026-11-23', 'morning', 2], ['2026-11-26', 'night', 4]])
    expect(zhang.cells[0]!.testId).toBe('week-cell-3-2026-11-23-morning')
    expect(zhang.cells[0]).toMatchObject({ state: 'open', remaining: 17, past: true })
    expect(zhang.cells.at(-1)).toMatchObject({ date: '2026-11-29', session: 'night', schedule: null,
      state: 'empty', remaining: 0, past: false })
    // the cells follow the columns exactly
    expect(zhang.cells.map((c) => `${c.date}/${c.session}`))
      .toEqual(grid.columns.map((c) => `${c.date}/${c.session}`))
  })

  it('marks full and closed sessions and sums each row', () => {
    const grid = buildGrid(DAYS, items, TODAY)
    const wang = grid.rows.find((r) => r.doctor.id === DOCTORS.wang.doctor_id)!
    expect(wang.cells.find((c) => c.schedule)).toMatchObject({ state: 'full', remaining: 0 })
    const li = grid.rows.find((r) => r.doctor.id === DOCTORS.li.doctor_id)!
    expect(li.cells.find((c) => c.schedule)).toMatchObject({ state: 'closed', remaining: 0 })
    const zhang = grid.rows.find((r) => r.doctor.id === DOCTORS.zhang.doctor_id)!
    expect(zhang).toMatchObject({ sessions: 2, quota: 35, booked: 3 })
    expect(gridTotals(grid)).toEqual({ sessions: 4, quota: 53, booked: 15, remaining: 17 + 15 })
  })

  it('adds empty rows for extra doctors and keeps the order', () => {
    const extra = [{ id: 9, name: '陈晨', departmentId: 2, departmentName: '外科' },
      { id: DOCTORS.zhang.doctor_id, name: '旧名字', departmentId: 1, departmentName: '内科' }]
    const grid = buildGrid(DAYS, items, TODAY, extra)
    expect(grid.rows.map((r) => r.doctor.name)).toEqual(['李秀英', '张建国', '陈晨', '王磊'])
    const chen = grid.rows.find((r) => r.doctor.id === 9)!
    expect(chen.cells.every((c) => c.schedule === null && c.state === 'empty')).toBe(true)
    expect(chen.sessions).toBe(0)
  })

  it('prefers a live session over a cancelled one in the same cell', () => {
    const cancelled = schedule({ id: 7, schedule_date: '2026-11-27', session: 'afternoon', status: 'cancelled',
      booked: 0 })
    const live = schedule({ id: 8, schedule_date: '2026-11-27', session: 'afternoon', status: 'open' })
    for (const order of [[cancelled, live], [live, cancelled]]) {
      const cell = buildGrid(DAYS, order, TODAY).rows[0]!.cells.find((c) => c.schedule)!
      expect(cell.schedule!.id).toBe(8)
    }
  })

  it('is empty for an empty week', () => {
    const grid = buildGrid(DAYS, [], TODAY)
    expect(grid.rows).toEqual([])
    expect(grid.columns).toHaveLength(21)
    expect(gridTotals(grid)).toEqual({ sessions: 0, quota: 0, booked: 0, remaining: 0 })
  })

  it('names cells by doctor, date and session', () => {
    for (const session of SESSIONS) {
      expect(cellTestId(12, '2026-11-23', session)).toBe(`week-cell-12-2026-11-23-${session}`)
    }
  })
})

describe('what the scheduling API tells about doctors, departments and registration types', () => {
  it('collects them from templates and sessions, without duplicates, sorted', () => {
    const known = new Known()
      .addTemplates([template({ ...DOCTORS.wang }), template({ ...DOCTORS.zhang, weekday: 3 })])
      .addSchedules([schedule({ ...DOCTORS.li, registration_type_id: 2, registration_type_name: '专家号',
        fee: '30.00' })])
    expect(known.departments()).toEqual([{ id: 1, name: '内科' }, { id: 2, name: '外科' }])
    expect(known.doctors().map((d) => d.name)).toEqual(['李秀英', '张建国', '王磊'])
    expect(known.doctors(2).map((d) => d.name)).toEqual(['王磊'])
    expect(known.doctor(3)).toEqual({ id: 3, name: '张建国', departmentId: 1, departmentName: '内科' })
    expect(known.doctor(99)).toBeNull()
    expect(known.registrationTypes()).toEqual([
      { id: 1, name: '普通号', fee: null }, // templates carry no fee
      { id: 2, name: '专家号', fee: '30.00' },
    ])
  })

  it('keeps a known fee and takes the newest names', () => {
    const known = new Known()
      .addSchedules([schedule({ registration_type_id: 2, registration_type_name: '专家号', fee: '30.00' })])
      .addTemplates([template({ registration_type_id: 2, registration_type_name: '专家门诊', doctor_name: '张建国（主任）' })])
    expect(known.registrationTypes()).toEqual([{ id: 2, name: '专家门诊', fee: '30.00' }])
    expect(known.doctor(3)!.name).toBe('张建国（主任）')
  })
})
