/** The patient form (src/views/oms/patient-form.ts): the server's rules before sending, ID-card filling, payloads. */
import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/errors'
import type { PatientDetail } from '@/api/oms'
import {
  changedPatientFields,
  duplicateOf,
  emptyPatientForm,
  fromIdCard,
  patientFormFrom,
  patientFormProblems,
  serverPatientFields,
  toPatientPayload,
  type PatientForm,
} from '@/views/oms/patient-form'

const TODAY = '2026-11-25'
const GOOD: PatientForm = { name: '张三', gender: 'male', birth_date: '1990-03-07', id_card: '110101199003071233',
  phone: '13800000000', address: '', allergies: '' }

describe('checks', () => {
  it('passes a good form, and one with only the required fields', () => {
    expect(patientFormProblems(GOOD, TODAY)).toEqual({})
    expect(patientFormProblems({ ...emptyPatientForm(), name: '李四', gender: 'female', birth_date: '2000-02-29' }, TODAY))
      .toEqual({})
  })

  it('names what is missing or wrong', () => {
    expect(patientFormProblems(emptyPatientForm(), TODAY)).toEqual({ name: 'required', gender: 'required',
      birth_date: 'required' })
    expect(patientFormProblems({ ...GOOD, name: '张'.repeat(65) }, TODAY).name).toBe('too_long')
    expect(patientFormProblems({ ...GOOD, id_card: '', birth_date: '2026-11-26' }, TODAY).birth_date).toBe('date_future')
    expect(patientFormProblems({ ...GOOD, id_card: '', birth_date: '1899-12-31' }, TODAY).birth_date).toBe('date_too_early')
    expect(patientFormProblems({ ...GOOD, id_card: '', birth_date: '2026-02-30' }, TODAY).birth_date).toBe('date_format')
    expect(patientFormProblems({ ...GOOD, phone: '12345' }, TODAY).phone).toBe('phone_format')
    expect(patientFormProblems({ ...GOOD, phone: '010-12345678' }, TODAY).phone).toBeUndefined()
  })

  it('checks the ID card and its birth date against the form', () => {
    expect(patientFormProblems({ ...GOOD, id_card: '11010119900307123' }, TODAY).id_card).toBe('id_card_length')
    expect(patientFormProblems({ ...GOOD, id_card: '11010119900307123Z' }, TODAY).id_card).toBe('id_card_format')
    expect(patientFormProblems({ ...GOOD, id_card: '110101199003071234' }, TODAY).id_card).toBe('id_card_checksum')
    expect(patientFormProblems({ ...GOOD, birth_date: '1990-03-08' }, TODAY)).toEqual({ birth_date: 'id_card_mismatch' })
    expect(patientFormProblems({ ...GOOD, id_card: '11010519491231002x', birth_date: '1949-12-31' }, TODAY)).toEqual({})
  })

  it('fills an empty birth date and gender from a valid ID card, never overwriting a choice', () => {
    const form = { ...emptyPatientForm(), id_card: '440304200002290022' }
    expect(fromIdCard(form, TODAY)).toEqual({ birth_date: '2000-02-29', gender: 'female' })
    expect(fromIdCard({ ...form, gender: 'unknown', birth_date: '2000-01-01' }, TODAY)).toEqual({})
    expect(fromIdCard({ ...form, id_card: '440304200002290023' }, TODAY)).toEqual({})
  })
})

describe('payloads', () => {
  it('trims, upper-cases the ID card and sends blanks as null', () => {
    expect(toPatientPayload({ ...GOOD, name: ' 张三 ', id_card: '11010519491231002x', birth_date: '1949-12-31',
      phone: ' ', allergies: ' 青霉素 ' })).toEqual({ name: '张三', gender: 'male', birth_date: '1949-12-31',
      id_card: '11010519491231002X', phone: null, address: null, allergies: '青霉素' })
    expect(toPatientPayload(GOOD, true).allow_duplicate).toBe(true)
    expect('allow_duplicate' in toPatientPayload(GOOD)).toBe(false)
  })

  it('patches only what changed', () => {
    const detail: PatientDetail = { id: 1, patient_no: 'P00000001', name: '张三', gender: 'male', birth_date: '1990-03-07',
      age: 36, id_card_masked: '110101********1233', phone_masked: '138****0000', created_at: '', updated_at: '',
      id_card: '110101199003071233', phone: '13800000000', address: null, allergies: null }
    expect(changedPatientFields(detail, patientFormFrom(detail))).toEqual({})
    expect(changedPatientFields(detail, { ...patientFormFrom(detail), phone: '13900000000', address: ' 北京 ' }))
      .toEqual({ phone: '13900000000', address: '北京' })
    expect(changedPatientFields(detail, { ...patientFormFrom(detail), phone: '' })).toEqual({ phone: null })
  })
})

describe('server answers', () => {
  it('recognises the two duplicate answers', () => {
    expect(duplicateOf(new ApiError(409, 'patient.id_card_taken', 'x', { patient_id: 42 })))
      .toEqual({ kind: 'taken', patientId: 42 })
    const candidate = { id: 7, patient_no: 'P00000007', name: '张三' }
    expect(duplicateOf(new ApiError(409, 'patient.possible_duplicate', 'x', { candidates: [candidate, null] })))
      .toEqual({ kind: 'possible', candidates: [candidate] })
    expect(duplicateOf(new ApiError(409, 'registration.duplicate', 'x'))).toBeNull()
  })

  it('maps a refusal onto the form\'s fields', () => {
    expect(serverPatientFields(new ApiError(422, 'patient.id_card_mismatch', 'x', { field: 'birth_date' })))
      .toEqual(['birth_date'])
    expect(serverPatientFields(new ApiError(422, 'validation.failed', 'x', { errors: [
      { loc: ['body', 'phone'] }, { loc: ['body', 'unknown_field'] }] }))).toEqual(['phone'])
  })
})
