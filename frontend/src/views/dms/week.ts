/**
 * Calendar arithmetic on `YYYY-MM-DD` dates, the way the scheduling API counts weeks: Monday to Sunday, weekday
 * 1 = Monday … 7 = Sunday. Dates are calendar days without a time zone, so the arithmetic is done on UTC
 * midnights (never on local times, where a daylight-saving change would make a day 23 or 25 hours long).
 * "Today" is the browser's local date: the hospital's staff work in the hospital's time zone.
 */
import type { Weekday } from '@/api/dms'

const DAY_MS = 86_400_000
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/** The weekday keys of the locale files (`dms.weekdays.<key>`), index 0 = Monday. */
export const WEEKDAY_KEYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const
export type WeekdayKey = (typeof WEEKDAY_KEYS)[number]

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0')
}

/** Milliseconds of the UTC midnight of a valid `YYYY-MM-DD`, or null (bad format, 2026-02-30, …). */
function toUtc(date: string): number | null {
  const match = ISO_DATE.exec(date)
  if (!match) return null
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  const ms = Date.UTC(year, month - 1, day)
  const back = new Date(ms)
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return null
  return ms
}

function fromUtc(ms: number): string {
  const date = new Date(ms)
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`
}

function required(date: string): number {
  const ms = toUtc(date)
  if (ms === null) throw new RangeError(`not a date: ${JSON.stringify(date)}`)
  return ms
}

export function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && toUtc(value) !== null
}

/** The browser's local calendar date. */
export function todayIso(now: Date = new Date()): string {
  return `${pad(now.getFullYear(), 4)}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}

/** A date as a local-midnight `Date` (what date pickers show). */
export function localDate(date: string): Date {
  const ms = required(date)
  const utc = new Date(ms)
  return new Date(utc.getUTCFullYear(), utc.getUTCMonth(), utc.getUTCDate())
}

export function addDays(date: string, days: number): string {
  return fromUtc(required(date) + days * DAY_MS)
}

/** `to − from` in whole days (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((required(to) - required(from)) / DAY_MS)
}

/** 1 = Monday … 7 = Sunday. */
export function isoWeekday(date: string): Weekday {
  const day = new Date(required(date)).getUTCDay() // 0 = Sunday
  return (day === 0 ? 7 : day) as Weekday
}

export function weekdayKey(weekday: Weekday): WeekdayKey {
  return WEEKDAY_KEYS[weekday - 1]!
}

export function isMonday(date: string): boolean {
  return isIsoDate(date) && isoWeekday(date) === 1
}

/** The Monday of the week that holds `date`. */
export function mondayOf(date: string): string {
  return addDays(date, 1 - isoWeekday(date))
}

/** The Monday `weeks` weeks after (negative: before) the week of `weekStart`. */
export function shiftWeek(weekStart: string, weeks: number): string {
  return addDays(mondayOf(weekStart), weeks * 7)
}

/** The seven dates of the week, Monday first. */
export function weekDays(weekStart: string): string[] {
  const monday = mondayOf(weekStart)
  return Array.from({ length: 7 }, (_, i) => addDays(monday, i))
}

export function weekEnd(weekStart: string): string {
  return addDays(mondayOf(weekStart), 6)
}

/** The ISO 8601 week number (week 1 holds the year's first Thursday) and the year it belongs to. */
export function isoWeek(date: string): { year: number; week: number } {
  const thursday = addDays(mondayOf(date), 3)
  const year = Number(thursday.slice(0, 4))
  const week = Math.floor(daysBetween(`${pad(year, 4)}-01-01`, thursday) / 7) + 1
  return { year, week }
}

/** Where a week lies relative to today's week: this, last or next week, else null. */
export function weekRelation(weekStart: string, today: string): 'this' | 'last' | 'next' | null {
  const weeks = daysBetween(mondayOf(today), mondayOf(weekStart)) / 7
  if (weeks === 0) return 'this'
  if (weeks === -1) return 'last'
  if (weeks === 1) return 'next'
  return null
}

type Translate = (key: string, params?: Record<string, unknown>) => string

/** `2026-11-23 至 2026-11-29（2026 年第 48 周）` / `2026-11-23 – 2026-11-29 (week 48 of 2026)`. */
export function weekLabel(weekStart: string, t: Translate): string {
  const monday = mondayOf(weekStart)
  const { year, week } = isoWeek(monday)
  return t('dms.week.label', { start: monday, end: weekEnd(monday), year, week })
}

/** `11-23` under the weekday in the grid's header. */
export function shortDate(date: string): string {
  return date.slice(5)
}
