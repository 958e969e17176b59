/**
 * Week arithmetic of the scheduling screens (src/views/dms/week.ts): Monday-based weeks on `YYYY-MM-DD` dates,
 * across month, year and daylight-saving boundaries, and the week's label.
 */
import { afterEach, describe, expect, it } from 'vitest'

import { i18n, setLocale } from '@/i18n'
import {
  addDays,
  daysBetween,
  isIsoDate,
  isMonday,
  isoWeek,
  isoWeekday,
  localDate,
  mondayOf,
  shiftWeek,
  todayIso,
  weekDays,
  weekdayKey,
  weekEnd,
  weekLabel,
  weekRelation,
} from '@/views/dms/week'

afterEach(() => setLocale('zh-CN'))

describe('dates', () => {
  it('accepts only real YYYY-MM-DD dates', () => {
    for (const ok of ['2026-11-23', '2024-02-29', '2000-01-01']) expect(isIsoDate(ok), ok).toBe(true)
    for (const bad of ['2026-02-29', '2026-13-01', '2026-11-31', '2026-1-5', '20261123', '', null, 42,
      '2026-11-23T00:00']) {
      expect(isIsoDate(bad), String(bad)).toBe(false)
    }
  })

  it('adds days across months, years and leap days', () => {
    expect(addDays('2026-11-30', 1)).toBe('2026-12-01')
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29')
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29')
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31')
    expect(daysBetween('2026-11-23', '2026-11-29')).toBe(6)
    expect(daysBetween('2026-11-29', '2026-11-23')).toBe(-6)
    expect(daysBetween('2026-01-01', '2027-01-01')).toBe(365)
  })

  it('counts whole days across a daylight-saving change (dates have no time zone)', () => {
    // 2026-03-08 is the US change; the arithmetic must not depend on the machine's zone
    expect(addDays('2026-03-07', 1)).toBe('2026-03-08')
    expect(addDays('2026-03-08', 1)).toBe('2026-03-09')
    expect(daysBetween('2026-03-01', '2026-03-31')).toBe(30)
    expect(daysBetween('2026-10-20', '2026-11-05')).toBe(16)
  })

  it('throws on a non-date rather than computing nonsense', () => {
    expect(() => addDays('2026-02-30', 1)).toThrow(RangeError)
    expect(() => mondayOf('soon')).toThrow(RangeError)
  })

  it('reads the browser\'s local date for today', () => {
    expect(todayIso(new Date(2026, 10, 23, 23, 59, 59))).toBe('2026-11-23')
    expect(todayIso(new Date(2026, 0, 1, 0, 0, 0))).toBe('2026-01-01')
  })

  it('turns a date into the local midnight a date picker shows', () => {
    const date = localDate('2026-11-23')
    expect([date.getFullYear(), date.getMonth(), date.getDate(), date.getHours()]).toEqual([2026, 10, 23, 0])
    expect(todayIso(date)).toBe('2026-11-23')
  })
})

describe('weeks start on Monday', () => {
  it('numbers weekdays 1 = Monday … 7 = Sunday', () => {
    expect(isoWeekday('2026-11-23')).toBe(1)
    expect(isoWeekday('2026-11-28')).toBe(6)
    expect(isoWeekday('2026-11-29')).toBe(7)
    expect(weekdayKey(1)).toBe('mon')
    expect(weekdayKey(7)).toBe('sun')
    expect(isMonday('2026-11-23')).toBe(true)
    expect(isMonday('2026-11-22')).toBe(false)
    expect(isMonday('not a date')).toBe(false)
  })

  it('finds the Monday of any day, Sunday belonging to the week before it', () => {
    expect(mondayOf('2026-11-23')).toBe('2026-11-23')
    expect(mondayOf('2026-11-26')).toBe('2026-11-23')
    expect(mondayOf('2026-11-29')).toBe('2026-11-23') // Sunday: the end of the week, not the start of the next
    expect(mondayOf('2026-11-30')).toBe('2026-11-30')
    expect(mondayOf('2027-01-01')).toBe('2026-12-28') // across the year
    expect(mondayOf('2026-03-01')).toBe('2026-02-23') // across the month
  })

  it('moves whole weeks and lists the seven days', () => {
    expect(shiftWeek('2026-11-23', -1)).toBe('2026-11-16')
    expect(shiftWeek('2026-11-23', 1)).toBe('2026-11-30')
    expect(shiftWeek('2026-11-26', 1)).toBe('2026-11-30') // from any day of the week: the next Monday
    expect(shiftWeek('2026-12-28', 1)).toBe('2027-01-04')
    expect(weekDays('2026-11-25')).toEqual(['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27',
      '2026-11-28', '2026-11-29'])
    expect(weekEnd('2026-11-23')).toBe('2026-11-29')
    expect(weekDays('2026-12-30').at(-1)).toBe('2027-01-03')
  })

  it('numbers weeks as ISO 8601 does (week 1 holds the first Thursday)', () => {
    expect(isoWeek('2026-11-23')).toEqual({ year: 2026, week: 48 })
    expect(isoWeek('2026-01-01')).toEqual({ year: 2026, week: 1 }) // a Thursday
    expect(isoWeek('2027-01-01')).toEqual({ year: 2026, week: 53 }) // a Friday: the last week of 2026
    expect(isoWeek('2024-12-30')).toEqual({ year: 2025, week: 1 }) // a Monday: the first week of 2025
  })

  it('says whether a week is this, last or next week', () => {
    expect(weekRelation('2026-11-23', '2026-11-29')).toBe('this')
    expect(weekRelation('2026-11-16', '2026-11-25')).toBe('last')
    expect(weekRelation('2026-11-30', '2026-11-25')).toBe('next')
    expect(weekRelation('2026-12-07', '2026-11-25')).toBeNull()
  })
})

describe('the week label', () => {
  it('names the Monday, the Sunday and the ISO week in both languages', () => {
    const t = i18n.global.t as (key: string, params?: Record<string, unknown>) => string
    expect(weekLabel('2026-11-25', t)).toBe('2026-11-23 至 2026-11-29（2026 年第 48 周）')
    setLocale('en')
    expect(weekLabel('2026-11-25', t)).toBe('2026-11-23 – 2026-11-29 (week 48 of 2026)')
    expect(weekLabel('2027-01-01', t)).toBe('2026-12-28 – 2027-01-03 (week 53 of 2026)')
  })
})
