/**
 * The scheduling forms as data (src/views/dms/forms.ts): the checks made before sending, the POST and PATCH
 * bodies (the doctor's default registration type = the field left out; PATCH only what changed), server errors
 * mapped onto the form's fields, and the registrations listed by a refused cancel.
 */
import { afterEach, describe, expect, it } from 'vitest'

import type { Schedule, Template } from '@/api/dms'
import { ApiError } from '@/api/errors'
import { setLocale } from '@/i18n'
import {
  bookingsOf,
  duplicateOf,
  emptyScheduleForm,
  emptyTemplateForm,
  formErrors,
  parseQuota,
  scheduleCreateBody,
  scheduleFormOf,
  scheduleFormProblems,
  scheduleUpdateBody,
  templateCreateBody,
  templateFormOf,
  templateFormProblems,
  templateUpdateBody,
} from '@/views/dms/forms'

import { envelope } from './helpers'

afterEach(() => setLocale('zh-CN'))

const TODAY = '2026-11-25'

const SESSION: Schedule = {
  id: 42, doctor_id: 3, doctor_name: '张建国', department_id: 1, department_name: '内科',
  schedule_date: '2026-11-26', session: 'afternoon', registration_type_id: 2, registration_type_name: '专家号',
  fee: '30.00', quota: 20, booked: 5, visited: 0, remaining: 15, status: 'open', note: '加号 5 个',
  created_at: '2026-11-20T01:00:00Z', updated_at: '2026-11-20T01:00:00Z',
}

const TEMPLATE: Template = {
  id: 7, doctor_id: 3, doctor_name: '张建国', department_id: 1, department_name: '内科', weekday: 4,
  session: 'afternoon', registration_type_id: 2, registration_type_name: '专家号', quota: 20,
  created_at: '2026-11-01T01:00:00Z', updated_at: '2026-11-01T01:00:00Z',
}

function error(status: number, code: string, detail: Record<string, unknown> | null = null): ApiError {
  const body = envelope(code, 'English message', detail)
  return new ApiError(status, body.code, body.message, body.detail)
}

const good = () => emptyScheduleForm({ doctor_id: 3, schedule_date: '2026-11-26', session: 'morning', quota: '20' })

describe('the quota', () => {
  it('is a whole number from 1 to 500', () => {
    expect(parseQuota('20')).toBe(20)
    expect(parseQuota(' 1 ')).toBe(1)
    expect(parseQuota('500')).toBe(500)
    expect(parseQuota('007')).toBe(7)
    for (const bad of ['0', '501', '-1', '2.5', '1e2', '', ' ', 'abc', '20个', '99999']) {
      expect(parseQuota(bad), bad).toBeNull()
    }
  })
})

describe('the schedule form checks', () => {
  it('pass a complete form for today or later', () => {
    expect(scheduleFormProblems(good(), TODAY)).toEqual({})
    expect(scheduleFormProblems({ ...good(), schedule_date: TODAY }, TODAY)).toEqual({})
  })

  it('name every missing or wrong field of a new session', () => {
    expect(scheduleFormProblems(emptyScheduleForm(), TODAY)).toEqual({ doctor_id: 'choose',
      schedule_date: 'choose', session: 'choose', quota: 'required' })
    expect(scheduleFormProblems({ ...good(), schedule_date: '2026-11-24' }, TODAY))
      .toEqual({ schedule_date: 'date_past' })
    expect(scheduleFormProblems({ ...good(), schedule_date: '2026-02-30' }, TODAY))
      .toEqual({ schedule_date: 'date_invalid' })
    expect(scheduleFormProblems({ ...good(), quota: '501' }, TODAY)).toEqual({ quota: 'quota_range' })
    expect(scheduleFormProblems({ ...good(), note: 'x'.repeat(256) }, TODAY)).toEqual({ note: 'note_max' })
    expect(scheduleFormProblems({ ...good(), note: ` ${'x'.repeat(255)} ` }, TODAY)).toEqual({})
  })

  it('in an edit, check only the editable fields, and keep the quota at or above what is booked', () => {
    const form = scheduleFormOf(SESSION)
    expect(scheduleFormProblems(form, TODAY, SESSION)).toEqual({})
    expect(scheduleFormProblems({ ...form, quota: '4' }, TODAY, SESSION)).toEqual({ quota: 'quota_below_booked' })
    expect(scheduleFormProblems({ ...form, quota: '5' }, TODAY, SESSION)).toEqual({})
    // a past session can still be edited (its date is not checked)
    const past = { ...SESSION, schedule_date: '2026-11-01' }
    expect(scheduleFormProblems(scheduleFormOf(past), TODAY, past)).toEqual({})
  })
})

describe('the schedule bodies', () => {
  it('POST: numbers for the quota, no registration type for the doctor\'s default, no blank note', () => {
    expect(scheduleCreateBody({ ...good(), quota: ' 20 ', note: '  ' })).toEqual({ doctor_id: 3,
      schedule_date: '2026-11-26', session: 'morning', quota: 20 })
    expect(scheduleCreateBody({ ...good(), registration_type_id: 2, note: ' 替诊 ' })).toEqual({ doctor_id: 3,
      schedule_date: '2026-11-26', session: 'morning', quota: 20, registration_type_id: 2, note: '替诊' })
  })

  it('PATCH: only what changed; a cleared note is null', () => {
    const form = scheduleFormOf(SESSION)
    expect(form).toEqual({ doctor_id: 3, schedule_date: '2026-11-26', session: 'afternoon', quota: '20',
      registration_type_id: 2, note: '加号 5 个' })
    expect(scheduleUpdateBody(SESSION, form)).toEqual({})
    expect(scheduleUpdateBody(SESSION, { ...form, quota: ' 25', note: ' 加号 5 个 ' })).toEqual({ quota: 25 })
    expect(scheduleUpdateBody(SESSION, { ...form, registration_type_id: 1 })).toEqual({ registration_type_id: 1 })
    expect(scheduleUpdateBody(SESSION, { ...form, note: '' })).toEqual({ note: null })
    expect(scheduleUpdateBody({ ...SESSION, note: null }, { ...form, note: '  ' })).toEqual({})
    expect(scheduleUpdateBody({ ...SESSION, note: null }, { ...form, note: '新' })).toEqual({ note: '新' })
  })
})

describe('the template form', () => {
  it('checks and builds the POST body', () => {
    expect(templateFormProblems(emptyTemplateForm())).toEqual({ doctor_id: 'choose', weekday: 'choose',
      session: 'choose', quota: 'required' })
    const form = emptyTemplateForm({ doctor_id: 3, weekday: 7, session: 'night', quota: '0' })
    expect(templateFormProblems(form)).toEqual({ quota: 'quota_range' })
    expect(templateCreateBody({ ...form, quota: '12' })).toEqual({ doctor_id: 3, weekday: 7, session: 'night',
      quota: 12 })
    expect(templateCreateBody({ ...form, quota: '12', registration_type_id: 2 }))
      .toEqual({ doctor_id: 3, weekday: 7, session: 'night', quota: 12, registration_type_id: 2 })
  })

  it('PATCHes only the quota and registration type that changed', () => {
    const form = templateFormOf(TEMPLATE)
    expect(templateFormProblems(form, TEMPLATE)).toEqual({})
    expect(templateUpdateBody(TEMPLATE, form)).toEqual({})
    expect(templateUpdateBody(TEMPLATE, { ...form, quota: '25', registration_type_id: 1 }))
      .toEqual({ quota: 25, registration_type_id: 1 })
  })
})

describe('server errors on the form', () => {
  const FIELDS = ['doctor_id', 'schedule_date', 'session', 'quota', 'registration_type_id', 'note']
  const invalid = (field: string) => `bad ${field}`

  it('puts a 422 validation.failed on each field of this form it names', () => {
    const failed = error(422, 'validation.failed', { errors: [
      { loc: ['body', 'quota'], msg: 'too big' },
      { loc: ['body', 'note'], msg: 'too long' },
      { loc: ['body', 'unknown_field'], msg: 'extra' },
    ] })
    expect(formErrors(failed, FIELDS, invalid)).toEqual({ fields: { quota: 'bad quota', note: 'bad note' },
      general: null })
  })

  it('a 422 naming none of the form\'s fields is a general message', () => {
    const failed = error(422, 'validation.failed', { errors: [{ loc: ['body', 'week_start'], msg: 'x' }] })
    const mapped = formErrors(failed, FIELDS, invalid)
    expect(mapped.fields).toEqual({})
    expect(mapped.general).toContain('以下内容填写有误')
  })

  it('puts codes with detail.field on that field, with their own message', () => {
    expect(formErrors(error(422, 'schedule.date_in_past', { field: 'schedule_date' }), FIELDS, invalid))
      .toEqual({ fields: { schedule_date: '排班日期不能早于今天。' }, general: null })
    expect(formErrors(error(422, 'schedule.doctor_inactive', { field: 'doctor_id', id: 3 }), FIELDS, invalid))
      .toEqual({ fields: { doctor_id: '所选医生已停用，不能排班。' }, general: null })
  })

  it('puts codes known to concern a field on it even without detail.field', () => {
    const below = formErrors(error(409, 'schedule.quota_below_booked', { booked: 7 }), FIELDS, invalid)
    expect(below).toEqual({ fields: { quota: '号源数不能少于已挂号数（7）。' }, general: null })
    setLocale('en')
    const required = formErrors(error(422, 'schedule.registration_type_required'), FIELDS, invalid)
    expect(required.fields.registration_type_id).toBe('This doctor has no default registration type; choose one.')
  })

  it('falls back to the general message for other codes and for fields not on this form', () => {
    expect(formErrors(error(409, 'schedule.duplicate', { schedule_id: 9 }), FIELDS, invalid))
      .toEqual({ fields: {}, general: '该医生在这一天的这个时段已有排班。' })
    // the edit form has no doctor field
    const edit = formErrors(error(422, 'schedule.doctor_inactive', { field: 'doctor_id' }), ['quota', 'note'], invalid)
    expect(edit).toEqual({ fields: {}, general: '所选医生已停用，不能排班。' })
    expect(formErrors(new Error('boom'), FIELDS, invalid).general).toBe('发生意外错误，请刷新页面后重试。')
  })
})

describe('a refused cancel', () => {
  it('lists the registrations holding slots', () => {
    const refused = error(409, 'schedule.has_bookings', { registrations: ['R20261126-00001', 'R20261126-00007'],
      booked: 2 })
    expect(bookingsOf(refused)).toEqual({ registrations: ['R20261126-00001', 'R20261126-00007'], booked: 2 })
  })

  it('copes with a detail without the list', () => {
    expect(bookingsOf(error(409, 'schedule.has_bookings', { booked: 3 }))).toEqual({ registrations: [], booked: 3 })
    expect(bookingsOf(error(409, 'schedule.has_bookings', { registrations: ['R1', 5, null] })))
      .toEqual({ registrations: ['R1'], booked: 1 })
  })

  it('is not confused with other errors', () => {
    expect(bookingsOf(error(409, 'schedule.invalid_state', { status: 'cancelled' }))).toBeNull()
    expect(bookingsOf(new Error('x'))).toBeNull()
    expect(duplicateOf(error(409, 'schedule.duplicate', { schedule_id: 9 }))).toBe(9)
    expect(duplicateOf(error(409, 'template.duplicate', { template_id: 9 }))).toBeNull()
  })
})
