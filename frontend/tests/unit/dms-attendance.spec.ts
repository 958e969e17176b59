/**
 * Clinic attendance as data (src/views/dms/attendance.ts): the range rules (as the server's), the default and
 * shortcut ranges, the rates computed without float surprises, and the table rows with the totals row last.
 * Also: every error code of the scheduling contract has a message in both languages.
 */
import { afterEach, describe, expect, it } from 'vitest'

import { ApiError, errorMessage } from '@/api/errors'
import { i18n, setLocale } from '@/i18n'
import {
  attendanceRows,
  fillRate,
  formatRate,
  MAX_RANGE_DAYS,
  monthRange,
  percent,
  rangeProblem,
  sumCounts,
  thisWeekRange,
  visitRate,
} from '@/views/dms/attendance'

afterEach(() => setLocale('zh-CN'))

describe('the date range', () => {
  it('accepts one day up to 366 days, counted inclusively', () => {
    expect(MAX_RANGE_DAYS).toBe(366)
    expect(rangeProblem('2026-11-23', '2026-11-23')).toBeNull()
    expect(rangeProblem('2026-01-01', '2027-01-01')).toBeNull() // 366 days
    expect(rangeProblem('2026-01-01', '2027-01-02')).toBe('range_too_long') // 367 days
    expect(rangeProblem('2024-01-01', '2024-12-31')).toBeNull() // a leap year: 366 days
  })

  it('refuses an end before the start and a missing or invalid end', () => {
    expect(rangeProblem('2026-11-24', '2026-11-23')).toBe('range_invalid')
    expect(rangeProblem(null, '2026-11-23')).toBe('range_required')
    expect(rangeProblem('2026-11-23', undefined)).toBe('range_required')
    expect(rangeProblem('2026-11-23', '2026-02-30')).toBe('range_required')
  })

  it('defaults to this week, Monday to Sunday', () => {
    expect(thisWeekRange('2026-11-25')).toEqual(['2026-11-23', '2026-11-29'])
    expect(thisWeekRange('2026-11-29')).toEqual(['2026-11-23', '2026-11-29'])
  })

  it('knows the length of each month', () => {
    expect(monthRange('2026-11-25')).toEqual(['2026-11-01', '2026-11-30'])
    expect(monthRange('2026-02-10')).toEqual(['2026-02-01', '2026-02-28'])
    expect(monthRange('2024-02-10')).toEqual(['2024-02-01', '2024-02-29'])
    expect(monthRange('2026-12-31')).toEqual(['2026-12-01', '2026-12-31'])
  })
})

describe('rates', () => {
  it('are percentages with one decimal, rounded half up on integers', () => {
    expect(percent(1, 3)).toBe(33.3)
    expect(percent(2, 3)).toBe(66.7)
    expect(percent(1, 8)).toBe(12.5)
    expect(percent(1, 16)).toBe(6.3) // 6.25 → 6.3 (half up), where 0.0625 * 1000 as floats could go either way
    expect(percent(7, 7)).toBe(100)
    expect(percent(0, 5)).toBe(0)
    expect(percent(3, 0)).toBeNull()
  })

  it('visit rate = visited / booked, booking rate = booked / quota', () => {
    expect(visitRate({ visited: 17, booked: 20 })).toBe(85)
    expect(visitRate({ visited: 0, booked: 0 })).toBeNull() // nobody booked: no rate, not 0 %
    expect(fillRate({ booked: 20, quota: 30 })).toBe(66.7)
    expect(formatRate(85, '—')).toBe('85.0%')
    expect(formatRate(66.7, '—')).toBe('66.7%')
    expect(formatRate(null, '—')).toBe('—')
  })
})

describe('the table rows', () => {
  const items = [
    { doctor_id: 3, doctor_name: '张建国', department_id: 1, department_name: '内科', sessions: 4, quota: 80,
      booked: 60, visited: 51 },
    { doctor_id: 4, doctor_name: '王磊', department_id: 2, department_name: '外科', sessions: 1, quota: 10,
      booked: 0, visited: 0 },
  ]

  it('one per doctor in the server\'s order, then the totals', () => {
    const rows = attendanceRows({ items, totals: { sessions: 5, quota: 90, booked: 60, visited: 51 } }, '合计')
    expect(rows.map((r) => r.key)).toEqual(['attendance-row-3', 'attendance-row-4', 'attendance-totals'])
    expect(rows[0]).toMatchObject({ doctorName: '张建国', departmentName: '内科', sessions: 4, visitRate: 85,
      fillRate: 75, totals: false })
    expect(rows[1]).toMatchObject({ visitRate: null, fillRate: 0 })
    expect(rows[2]).toMatchObject({ totals: true, doctorId: null, doctorName: '合计', sessions: 5, quota: 90,
      booked: 60, visited: 51, visitRate: 85, fillRate: 66.7 })
  })

  it('sums the totals when the answer lacks them, and has no totals row without doctors', () => {
    expect(sumCounts(items)).toEqual({ sessions: 5, quota: 90, booked: 60, visited: 51 })
    const rows = attendanceRows({ items, totals: null }, 'Total')
    expect(rows.at(-1)).toMatchObject({ key: 'attendance-totals', sessions: 5, quota: 90, booked: 60, visited: 51 })
    expect(attendanceRows({ items: [], totals: { sessions: 0, quota: 0, booked: 0, visited: 0 } }, '合计'))
      .toEqual([])
  })
})

describe('error messages of the scheduling contract', () => {
  // Every DMS code of the API contract, plus those the service sends beyond it.
  const CODES = [
    'schedule.registration_type_required', 'schedule.doctor_not_found', 'schedule.doctor_inactive',
    'schedule.date_in_past', 'schedule.duplicate', 'schedule.not_found', 'schedule.quota_below_booked',
    'schedule.has_bookings', 'schedule.cancelled', 'schedule.invalid_state', 'schedule.week_start_not_monday',
    'schedule.copy_same_week', 'schedule.full', 'schedule.not_open', 'schedule.past', 'booking.conflict',
    'booking.not_found', 'template.duplicate', 'template.not_found', 'attendance.range_too_long',
    'attendance.range_invalid',
    'schedule.doctor_not_outpatient', 'schedule.registration_type_not_found', 'schedule.registration_type_inactive',
    'booking.visited',
  ]

  it('exist in both languages', () => {
    const missing = (['zh-CN', 'en'] as const).flatMap((locale) =>
      CODES.filter((code) => !i18n.global.te(`errors.${code}`, locale)).map((code) => `${locale}: ${code}`))
    expect(missing).toEqual([])
  })

  it('use the detail the server sends', () => {
    expect(errorMessage(new ApiError(409, 'schedule.quota_below_booked', 'x', { booked: 7 })))
      .toBe('号源数不能少于已挂号数（7）。')
    expect(errorMessage(new ApiError(409, 'schedule.full', 'x', { schedule_id: 1, quota: 30 })))
      .toContain('共 30 个')
    setLocale('en')
    expect(errorMessage(new ApiError(422, 'attendance.range_too_long', 'x', { field: 'date_to', max_days: 366 })))
      .toBe('The date range cannot be longer than 366 days.')
  })
})
