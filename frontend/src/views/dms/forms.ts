/**
 * The scheduling forms as pure functions: the values a form holds, the checks made before sending (the server's
 * rules: quota 1..500 and not below what is booked, a date not before today, the required choices), the POST and
 * PATCH bodies, and a failed save mapped back onto the form's fields.
 *
 * Registration type: `null` in a create form means "the doctor's default" and the field is left out of the
 * body (the server then uses the doctor's default, or answers 422 `schedule.registration_type_required`).
 */
import {
  isSession,
  type Schedule,
  type ScheduleCreate,
  type ScheduleUpdate,
  type Session,
  type Template,
  type TemplateCreate,
  type TemplateUpdate,
  type Weekday,
} from '@/api/dms'
import { errorMessage, invalidFields, isApiError } from '@/api/errors'

import { isIsoDate } from './week'

export const QUOTA_MIN = 1
export const QUOTA_MAX = 500
export const NOTE_MAX = 255

// --- values ---------------------------------------------------------------------------------------------------

export interface ScheduleForm {
  doctor_id: number | null
  schedule_date: string
  session: Session | ''
  /** As typed. */
  quota: string
  /** null = the doctor's default (create) / unchanged (edit). */
  registration_type_id: number | null
  note: string
}

export type ScheduleField = keyof ScheduleForm

export interface TemplateForm {
  doctor_id: number | null
  weekday: Weekday | null
  session: Session | ''
  quota: string
  /** null = the doctor's default (create) / unchanged (edit). */
  registration_type_id: number | null
}

export type TemplateField = keyof TemplateForm

export function emptyScheduleForm(prefill: Partial<ScheduleForm> = {}): ScheduleForm {
  return { doctor_id: null, schedule_date: '', session: '', quota: '', registration_type_id: null, note: '',
    ...prefill }
}

export function scheduleFormOf(schedule: Schedule): ScheduleForm {
  return {
    doctor_id: schedule.doctor_id,
    schedule_date: schedule.schedule_date,
    session: schedule.session,
    quota: String(schedule.quota),
    registration_type_id: schedule.registration_type_id,
    note: schedule.note ?? '',
  }
}

export function emptyTemplateForm(prefill: Partial<TemplateForm> = {}): TemplateForm {
  return { doctor_id: null, weekday: null, session: '', quota: '', registration_type_id: null, ...prefill }
}

export function templateFormOf(template: Template): TemplateForm {
  return {
    doctor_id: template.doctor_id,
    weekday: template.weekday,
    session: template.session,
    quota: String(template.quota),
    registration_type_id: template.registration_type_id,
  }
}

/** "20" / " 20 " → 20; anything that is not a whole number in 1..500 → null. */
export function parseQuota(text: string): number | null {
  const value = text.trim()
  if (!/^\d{1,4}$/.test(value)) return null
  const quota = Number(value)
  return quota >= QUOTA_MIN && quota <= QUOTA_MAX ? quota : null
}

function noteOf(text: string): string | null {
  const value = text.trim()
  return value === '' ? null : value
}

// --- checks ---------------------------------------------------------------------------------------------------

/**
 * What is wrong with a field; translated as `dms.form.problems.<problem>`. `choose`: a choice (select, date) is
 * missing; `required`: a typed value is.
 */
export type Problem = 'choose' | 'required' | 'quota_range' | 'quota_below_booked' | 'date_invalid' | 'date_past' |
  'note_max'

export type Problems<F extends string> = Partial<Record<F, Problem>>

/**
 * The create form (`schedule` null) or the edit form of `schedule` (only quota, registration type and note are
 * editable there; the quota may not go below what is booked).
 */
export function scheduleFormProblems(form: ScheduleForm, today: string, schedule: Schedule | null = null):
  Problems<ScheduleField> {
  const problems: Problems<ScheduleField> = {}
  if (!schedule) {
    if (form.doctor_id === null) problems.doctor_id = 'choose'
    if (form.schedule_date === '') problems.schedule_date = 'choose'
    else if (!isIsoDate(form.schedule_date)) problems.schedule_date = 'date_invalid'
    else if (form.schedule_date < today) problems.schedule_date = 'date_past'
    if (!isSession(form.session)) problems.session = 'choose'
  }
  const quota = parseQuota(form.quota)
  if (form.quota.trim() === '') problems.quota = 'required'
  else if (quota === null) problems.quota = 'quota_range'
  else if (schedule && quota < schedule.booked) problems.quota = 'quota_below_booked'
  if (form.note.trim().length > NOTE_MAX) problems.note = 'note_max'
  return problems
}

export function templateFormProblems(form: TemplateForm, template: Template | null = null): Problems<TemplateField> {
  const problems: Problems<TemplateField> = {}
  if (!template) {
    if (form.doctor_id === null) problems.doctor_id = 'choose'
    if (form.weekday === null) problems.weekday = 'choose'
    if (!isSession(form.session)) problems.session = 'choose'
  }
  if (form.quota.trim() === '') problems.quota = 'required'
  else if (parseQuota(form.quota) === null) problems.quota = 'quota_range'
  return problems
}

// --- bodies ---------------------------------------------------------------------------------------------------

/** The POST body of a checked create form. */
export function scheduleCreateBody(form: ScheduleForm): ScheduleCreate {
  const body: ScheduleCreate = {
    doctor_id: form.doctor_id!,
    schedule_date: form.schedule_date,
    session: form.session as Session,
    quota: parseQuota(form.quota)!,
  }
  if (form.registration_type_id !== null) body.registration_type_id = form.registration_type_id
  const note = noteOf(form.note)
  if (note !== null) body.note = note
  return body
}

/** The PATCH body: only what differs from `schedule` (`{}` when nothing changed); a cleared note is null. */
export function scheduleUpdateBody(schedule: Schedule, form: ScheduleForm): ScheduleUpdate {
  const body: ScheduleUpdate = {}
  const quota = parseQuota(form.quota)
  if (quota !== null && quota !== schedule.quota) body.quota = quota
  if (form.registration_type_id !== null && form.registration_type_id !== schedule.registration_type_id) {
    body.registration_type_id = form.registration_type_id
  }
  const note = noteOf(form.note)
  if (note !== (schedule.note ?? null)) body.note = note
  return body
}

export function templateCreateBody(form: TemplateForm): TemplateCreate {
  const body: TemplateCreate = {
    doctor_id: form.doctor_id!,
    weekday: form.weekday!,
    session: form.session as Session,
    quota: parseQuota(form.quota)!,
  }
  if (form.registration_type_id !== null) body.registration_type_id = form.registration_type_id
  return body
}

export function templateUpdateBody(template: Template, form: TemplateForm): TemplateUpdate {
  const body: TemplateUpdate = {}
  const quota = parseQuota(form.quota)
  if (quota !== null && quota !== template.quota) body.quota = quota
  if (form.registration_type_id !== null && form.registration_type_id !== template.registration_type_id) {
    body.registration_type_id = form.registration_type_id
  }
  return body
}

// --- server errors --------------------------------------------------------------------------------------------

/**
 * Codes that concern one field without naming it in `detail.field`. (Those that do name it —
 * `schedule.doctor_not_found`, `schedule.doctor_inactive`, `schedule.date_in_past` — are found by the field.)
 */
const CODE_FIELDS: Record<string, string> = {
  'schedule.quota_below_booked': 'quota',
  'schedule.registration_type_required': 'registration_type_id',
  'schedule.registration_type_not_found': 'registration_type_id',
  'schedule.registration_type_inactive': 'registration_type_id',
  'template.registration_type_required': 'registration_type_id',
  'template.registration_type_not_found': 'registration_type_id',
  'template.registration_type_inactive': 'registration_type_id',
  // on PATCH: the registration type cannot change once something is booked
  'schedule.has_bookings': 'registration_type_id',
  'schedule.date_in_past': 'schedule_date',
  'schedule.doctor_not_found': 'doctor_id',
  'schedule.doctor_inactive': 'doctor_id',
  'schedule.doctor_not_outpatient': 'doctor_id',
  'template.doctor_not_found': 'doctor_id',
  'template.doctor_inactive': 'doctor_id',
}

export interface FormErrors {
  /** Field name → translated message, for the fields of this form the server named. */
  fields: Record<string, string>
  /** A message for the whole form: the error itself when it names no field of this form, else null. */
  general: string | null
}

/**
 * A failed save mapped onto the form: a 422 `validation.failed` onto every field of `fields` it names (with
 * `invalid(field)`, e.g. "号源数不符合要求"); a code with `detail.field`, or one known to concern a field, onto
 * that field with its own translated message; anything else (and a 422 naming none of these fields) as the
 * general message.
 */
export function formErrors(error: unknown, fields: readonly string[], invalid: (field: string) => string):
  FormErrors {
  const names = new Set(fields)
  const out: Record<string, string> = {}
  if (isApiError(error) && error.code === 'validation.failed') {
    for (const name of invalidFields(error)) if (names.has(name)) out[name] = invalid(name)
  } else if (isApiError(error)) {
    const named = typeof error.detail?.field === 'string' ? error.detail.field : CODE_FIELDS[error.code]
    if (named && names.has(named)) out[named] = errorMessage(error)
  }
  return { fields: out, general: Object.keys(out).length ? null : errorMessage(error) }
}

/** The registrations holding slots of a session the server refused to cancel (409 `schedule.has_bookings`). */
export function bookingsOf(error: unknown): { registrations: string[]; booked: number } | null {
  if (!isApiError(error) || error.code !== 'schedule.has_bookings') return null
  const list = Array.isArray(error.detail?.registrations) ? error.detail.registrations : []
  const registrations = list.filter((r): r is string => typeof r === 'string')
  const booked = typeof error.detail?.booked === 'number' ? error.detail.booked : registrations.length
  return { registrations, booked }
}

/** The existing session a create collided with (409 `schedule.duplicate` detail `{schedule_id}`). */
export function duplicateOf(error: unknown): number | null {
  if (!isApiError(error) || error.code !== 'schedule.duplicate') return null
  const id = error.detail?.schedule_id
  return typeof id === 'number' ? id : null
}
