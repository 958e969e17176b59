/**
 * The scheduling service's API (services/dms, `/api/scheduling`, archive `scheduling`): clinic sessions 排班
 * (one doctor, one date, one session of the day), the week view, standing weekly templates 排班模板 with
 * "generate a week" and "copy a week", and clinic attendance 出诊. GET needs `scheduling:read`, the rest
 * `scheduling:write`. Money (`fee`, snapshotted from the registration type) is a `Money` string; dates are
 * `YYYY-MM-DD`; datetimes ISO 8601 in UTC.
 *
 *     import * as dms from '@/api/dms'
 *     const week = await dms.getWeek({ week_start: '2026-11-23', department_id: 3 })
 *     await dms.closeSchedule(42)
 *
 * Errors (all `ApiError`) the screens handle:
 * - 422 `schedule.doctor_not_found` / `schedule.doctor_inactive` (detail `{field: "doctor_id"}`),
 *   `schedule.date_in_past` (`{field: "schedule_date"}`), `schedule.registration_type_required`,
 *   `schedule.week_start_not_monday`, `schedule.copy_same_week`, `attendance.range_too_long`,
 *   `attendance.range_invalid`, `validation.failed` (see `invalidFields`);
 * - 409 `schedule.duplicate` (`{schedule_id}`), `schedule.quota_below_booked` (`{booked}`), `schedule.cancelled`,
 *   `schedule.invalid_state` (`{status}`), `schedule.has_bookings` (on cancel: `{registrations: ["R…"], booked}`),
 *   `template.duplicate`;
 * - 404 `schedule.not_found`, `template.not_found`.
 */
import { http } from './http'
import type { Money, Page, PageQuery } from './types'

export const SCHEDULING_PREFIX = '/api/scheduling'

// --- enums ----------------------------------------------------------------------------------------------------

/** The sessions of a clinic day, in the day's order (上午, 下午, 晚上). */
export const SESSIONS = ['morning', 'afternoon', 'night'] as const
export type Session = (typeof SESSIONS)[number]

export const SCHEDULE_STATUSES = ['open', 'closed', 'cancelled'] as const
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number]

/** ISO weekday numbers as templates use them: 1 = Monday … 7 = Sunday. */
export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const
export type Weekday = (typeof WEEKDAYS)[number]

export function isSession(value: unknown): value is Session {
  return typeof value === 'string' && (SESSIONS as readonly string[]).includes(value)
}

// --- 排班 schedules -------------------------------------------------------------------------------------------

/** ScheduleOut: one clinic session of one doctor. Names and the fee are snapshots taken when it was created. */
export interface Schedule {
  id: number
  doctor_id: number
  doctor_name: string
  department_id: number
  department_name: string
  schedule_date: string
  session: Session
  registration_type_id: number
  registration_type_name: string
  fee: Money
  quota: number
  booked: number
  visited: number
  /** quota − booked, 0 when not open. */
  remaining: number
  status: ScheduleStatus
  note: string | null
  created_at: string
  updated_at: string
}

export interface ScheduleQuery extends PageQuery {
  department_id?: number
  doctor_id?: number
  date_from?: string
  date_to?: string
  session?: Session
  status?: ScheduleStatus
}

/** POST /schedules. Without `registration_type_id` the doctor's default registration type is used. */
export interface ScheduleCreate {
  doctor_id: number
  schedule_date: string
  session: Session
  /** 1..500 */
  quota: number
  registration_type_id?: number
  note?: string | null
}

/** PATCH /schedules/{id}: only what changes. The registration type only while nothing is booked. */
export interface ScheduleUpdate {
  quota?: number
  registration_type_id?: number
  note?: string | null
}

export interface WeekQuery {
  /** A Monday (`schedule.week_start_not_monday` otherwise). */
  week_start: string
  department_id?: number
  doctor_id?: number
}

/** GET /schedules/week: every non-cancelled session of a Monday-to-Sunday week. */
export interface WeekOut {
  week_start: string
  week_end: string
  /** The seven dates, Monday first. */
  days: string[]
  items: Schedule[]
}

export interface OnDutyQuery {
  department_id: number
  date: string
  session?: Session
}

/** POST /schedules/generate and /schedules/copy-week: what was created and how much was skipped. */
export interface GenerateResult {
  created: number
  skipped: number
  items: Schedule[]
}

export interface GenerateRequest {
  week_start: string
  department_id?: number
}

export interface CopyWeekRequest {
  source_week_start: string
  target_week_start: string
  department_id?: number
}

const SCHEDULES = `${SCHEDULING_PREFIX}/schedules`

export async function listSchedules(query: ScheduleQuery = {}): Promise<Page<Schedule>> {
  return (await http.get<Page<Schedule>>(SCHEDULES, { params: query })).data
}

export async function getSchedule(id: number): Promise<Schedule> {
  return (await http.get<Schedule>(`${SCHEDULES}/${id}`)).data
}

export async function createSchedule(body: ScheduleCreate): Promise<Schedule> {
  return (await http.post<Schedule>(SCHEDULES, body)).data
}

export async function updateSchedule(id: number, body: ScheduleUpdate): Promise<Schedule> {
  return (await http.patch<Schedule>(`${SCHEDULES}/${id}`, body)).data
}

/** open → closed: no new bookings. */
export async function closeSchedule(id: number): Promise<Schedule> {
  return (await http.post<Schedule>(`${SCHEDULES}/${id}/close`)).data
}

/** closed → open. */
export async function reopenSchedule(id: number): Promise<Schedule> {
  return (await http.post<Schedule>(`${SCHEDULES}/${id}/reopen`)).data
}

/** Only while nothing is booked: 409 `schedule.has_bookings` names the registrations holding a slot. */
export async function cancelSchedule(id: number): Promise<Schedule> {
  return (await http.post<Schedule>(`${SCHEDULES}/${id}/cancel`)).data
}

export async function getWeek(query: WeekQuery): Promise<WeekOut> {
  return (await http.get<WeekOut>(`${SCHEDULES}/week`, { params: query })).data
}

export async function onDuty(query: OnDutyQuery): Promise<{ items: Schedule[] }> {
  return (await http.get<{ items: Schedule[] }>(`${SCHEDULES}/on-duty`, { params: query })).data
}

/** One session per template row of that week (dates not before today); existing sessions are skipped. */
export async function generateWeek(body: GenerateRequest): Promise<GenerateResult> {
  return (await http.post<GenerateResult>(`${SCHEDULES}/generate`, body)).data
}

/** Copies the source week's non-cancelled sessions to the same weekdays of the target week, skipping conflicts. */
export async function copyWeek(body: CopyWeekRequest): Promise<GenerateResult> {
  return (await http.post<GenerateResult>(`${SCHEDULES}/copy-week`, body)).data
}

// --- 出诊 attendance ------------------------------------------------------------------------------------------

export interface AttendanceQuery {
  date_from: string
  date_to: string
  department_id?: number
  doctor_id?: number
}

export interface AttendanceCounts {
  sessions: number
  quota: number
  booked: number
  visited: number
}

export interface AttendanceItem extends AttendanceCounts {
  doctor_id: number
  doctor_name: string
  department_id: number
  department_name: string
}

export interface AttendanceOut {
  date_from: string
  date_to: string
  items: AttendanceItem[]
  totals: AttendanceCounts
}

export async function getAttendance(query: AttendanceQuery): Promise<AttendanceOut> {
  return (await http.get<AttendanceOut>(`${SCHEDULING_PREFIX}/attendance`, { params: query })).data
}

// --- 排班模板 templates ---------------------------------------------------------------------------------------

export interface Template {
  id: number
  doctor_id: number
  doctor_name: string
  department_id: number
  department_name: string
  weekday: Weekday
  session: Session
  registration_type_id: number
  registration_type_name: string
  quota: number
  created_at: string
  updated_at: string
}

export interface TemplateQuery extends PageQuery {
  department_id?: number
  doctor_id?: number
}

export interface TemplateCreate {
  doctor_id: number
  weekday: Weekday
  session: Session
  quota: number
  registration_type_id?: number
}

export interface TemplateUpdate {
  quota?: number
  registration_type_id?: number
}

const TEMPLATES = `${SCHEDULING_PREFIX}/templates`

export async function listTemplates(query: TemplateQuery = {}): Promise<Page<Template>> {
  return (await http.get<Page<Template>>(TEMPLATES, { params: query })).data
}

export async function createTemplate(body: TemplateCreate): Promise<Template> {
  return (await http.post<Template>(TEMPLATES, body)).data
}

export async function updateTemplate(id: number, body: TemplateUpdate): Promise<Template> {
  return (await http.patch<Template>(`${TEMPLATES}/${id}`, body)).data
}

export async function deleteTemplate(id: number): Promise<void> {
  await http.delete(`${TEMPLATES}/${id}`)
}
