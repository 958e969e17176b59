/**
 * Clinic attendance 出诊统计 as data: the date range's rules (as the server's: to ≥ from, at most 366 days),
 * the default range (this week), the rates shown per doctor and for the totals, and the table's rows with the
 * totals row last.
 */
import type { AttendanceCounts, AttendanceItem, AttendanceOut } from '@/api/dms'

import { daysBetween, isIsoDate, mondayOf, weekEnd } from './week'

/** The longest range the API accepts, in days counted inclusively (2026-01-01 … 2027-01-01 is 366 days). */
export const MAX_RANGE_DAYS = 366

export type RangeProblem = 'range_required' | 'range_invalid' | 'range_too_long'

/** What is wrong with a range, or null. Both ends count: from = to is one day. */
export function rangeProblem(from: string | null | undefined, to: string | null | undefined): RangeProblem | null {
  if (!isIsoDate(from) || !isIsoDate(to)) return 'range_required'
  const span = daysBetween(from, to)
  if (span < 0) return 'range_invalid'
  if (span + 1 > MAX_RANGE_DAYS) return 'range_too_long'
  return null
}

/** Monday to Sunday of the week holding `today`. */
export function thisWeekRange(today: string): [string, string] {
  return [mondayOf(today), weekEnd(today)]
}

/** First to last day of the month holding `date`. */
export function monthRange(date: string): [string, string] {
  const [year, month] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))]
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate()
  return [`${date.slice(0, 7)}-01`, `${date.slice(0, 7)}-${String(last).padStart(2, '0')}`]
}

/**
 * `part / whole` as a percentage with one decimal, computed on integers (no float rounding surprises:
 * 1/3 → 33.3, 2/3 → 66.7, 1/8 → 12.5); null when `whole` is 0 (no rate to show).
 */
export function percent(part: number, whole: number): number | null {
  if (!whole) return null
  const tenths = Math.floor((part * 2000 + whole) / (2 * whole)) // round half up of part*1000/whole
  return tenths / 10
}

/** 就诊率: visited / booked. */
export function visitRate(counts: Pick<AttendanceCounts, 'visited' | 'booked'>): number | null {
  return percent(counts.visited, counts.booked)
}

/** 号源使用率: booked / quota. */
export function fillRate(counts: Pick<AttendanceCounts, 'booked' | 'quota'>): number | null {
  return percent(counts.booked, counts.quota)
}

/** `85.7%`; `—` (the given placeholder) when there is no rate. */
export function formatRate(rate: number | null, none: string): string {
  return rate === null ? none : `${rate.toFixed(1)}%`
}

export function sumCounts(items: readonly AttendanceCounts[]): AttendanceCounts {
  const totals: AttendanceCounts = { sessions: 0, quota: 0, booked: 0, visited: 0 }
  for (const item of items) {
    totals.sessions += item.sessions
    totals.quota += item.quota
    totals.booked += item.booked
    totals.visited += item.visited
  }
  return totals
}

export interface AttendanceRow extends AttendanceCounts {
  /** `attendance-row-<doctorId>`, or `attendance-totals`. */
  key: string
  totals: boolean
  doctorId: number | null
  doctorName: string
  departmentName: string
  visitRate: number | null
  fillRate: number | null
}

function rowOf(item: AttendanceItem): AttendanceRow {
  return {
    key: `attendance-row-${item.doctor_id}`,
    totals: false,
    doctorId: item.doctor_id,
    doctorName: item.doctor_name,
    departmentName: item.department_name,
    sessions: item.sessions,
    quota: item.quota,
    booked: item.booked,
    visited: item.visited,
    visitRate: visitRate(item),
    fillRate: fillRate(item),
  }
}

/**
 * One row per doctor in the server's order, then the totals row (the server's `totals`; summed here when a
 * response lacks them). No totals row when there is no doctor.
 */
export function attendanceRows(out: Pick<AttendanceOut, 'items'> & { totals?: AttendanceCounts | null },
  totalsLabel: string): AttendanceRow[] {
  if (out.items.length === 0) return []
  const totals = out.totals ?? sumCounts(out.items)
  return [...out.items.map(rowOf), {
    key: 'attendance-totals',
    totals: true,
    doctorId: null,
    doctorName: totalsLabel,
    departmentName: '',
    sessions: totals.sessions,
    quota: totals.quota,
    booked: totals.booked,
    visited: totals.visited,
    visitRate: visitRate(totals),
    fillRate: fillRate(totals),
  }]
}
