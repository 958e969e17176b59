/**
 * The patient form (quick registration 快速建档 and the patients library's create/edit) as pure functions, with
 * the server's rules: name required; gender; birth date a real date, not in the future, not before 1900-01-01; ID
 * card optional, 18 characters with a valid GB 11643 check character and the same birth date as the form's; phone
 * optional, a mobile or a landline; address and allergies optional and bounded.
 *
 * - `patientFormProblems(form, today)`: field → problem (i18n key suffix under `oms.patient_form.problems.*`);
 * - `fromIdCard(form, today)`: what a valid ID card fills in (birth date, gender) when those are still empty;
 * - `toPatientPayload` (POST) / `changedPatientFields` (PATCH: only what changed);
 * - `duplicateOf(error)`: the two duplicate answers (409 `patient.id_card_taken` {patient_id},
 *   `patient.possible_duplicate` {candidates}).
 */
import { invalidFields, isApiError } from '@/api/errors'
import type { Gender, PatientCreate, PatientDetail, PatientOut, PatientUpdate } from '@/api/oms'

import { birthDateOf, genderOf, idCardProblem, isCalendarDate, isValidPhone, MIN_BIRTH_DATE, normalizeIdCard } from './idcard'

export const NAME_MAX = 64
export const ADDRESS_MAX = 255
export const ALLERGIES_MAX = 500

export const PATIENT_FIELDS = ['name', 'gender', 'birth_date', 'id_card', 'phone', 'address', 'allergies'] as const
export type PatientField = (typeof PATIENT_FIELDS)[number]

export interface PatientForm {
  name: string
  gender: Gender | ''
  birth_date: string
  id_card: string
  phone: string
  address: string
  allergies: string
}

export type PatientProblem =
  | 'required'
  | 'too_long'
  | 'date_format'
  | 'date_future'
  | 'date_too_early'
  | 'id_card_length'
  | 'id_card_format'
  | 'id_card_checksum'
  | 'id_card_birth_date'
  | 'id_card_mismatch'
  | 'phone_format'

export function emptyPatientForm(): PatientForm {
  return { name: '', gender: '', birth_date: '', id_card: '', phone: '', address: '', allergies: '' }
}

export function patientFormFrom(detail: PatientDetail): PatientForm {
  return {
    name: detail.name,
    gender: detail.gender,
    birth_date: detail.birth_date,
    id_card: detail.id_card ?? '',
    phone: detail.phone ?? '',
    address: detail.address ?? '',
    allergies: detail.allergies ?? '',
  }
}

function length(text: string): number {
  return [...text].length
}

/** Field → what is wrong; fields that are fine are absent. */
export function patientFormProblems(form: PatientForm, today: string): Partial<Record<PatientField, PatientProblem>> {
  const out: Partial<Record<PatientField, PatientProblem>> = {}
  const name = form.name.trim()
  if (!name) out.name = 'required'
  else if (length(name) > NAME_MAX) out.name = 'too_long'

  if (!form.gender) out.gender = 'required'

  const birth = form.birth_date.trim()
  if (!birth) out.birth_date = 'required'
  else if (!isCalendarDate(birth)) out.birth_date = 'date_format'
  else if (birth > today) out.birth_date = 'date_future'
  else if (birth < MIN_BIRTH_DATE) out.birth_date = 'date_too_early'

  const idCard = normalizeIdCard(form.id_card)
  if (idCard) {
    const problem = idCardProblem(idCard, today)
    if (problem) out.id_card = `id_card_${problem}`
    else if (!out.birth_date && birthDateOf(idCard) !== birth) out.birth_date = 'id_card_mismatch'
  }

  const phone = form.phone.trim()
  if (phone && !isValidPhone(phone)) out.phone = 'phone_format'
  if (length(form.address.trim()) > ADDRESS_MAX) out.address = 'too_long'
  if (length(form.allergies.trim()) > ALLERGIES_MAX) out.allergies = 'too_long'
  return out
}

/** The limits a problem message names (`{max}`). */
export function problemParams(field: PatientField): Record<string, unknown> {
  const max = field === 'name' ? NAME_MAX : field === 'address' ? ADDRESS_MAX : field === 'allergies' ? ALLERGIES_MAX : 0
  return { max, min: MIN_BIRTH_DATE }
}

/** A valid ID card fills the birth date and gender when they are still empty (never overwrites a choice). */
export function fromIdCard(form: PatientForm, today: string): Partial<PatientForm> {
  const idCard = normalizeIdCard(form.id_card)
  if (!idCard || idCardProblem(idCard, today)) return {}
  const fill: Partial<PatientForm> = {}
  if (!form.birth_date.trim()) fill.birth_date = birthDateOf(idCard)!
  if (!form.gender) fill.gender = genderOf(idCard)!
  return fill
}

function optional(value: string): string | null {
  const text = value.trim()
  return text === '' ? null : text
}

/** The POST body (trimmed; the ID card upper-cased; blanks → null). */
export function toPatientPayload(form: PatientForm, allowDuplicate = false): PatientCreate {
  const body: PatientCreate = {
    name: form.name.trim(),
    gender: form.gender as Gender,
    birth_date: form.birth_date.trim(),
    id_card: optional(normalizeIdCard(form.id_card)),
    phone: optional(form.phone),
    address: optional(form.address),
    allergies: optional(form.allergies),
  }
  if (allowDuplicate) body.allow_duplicate = true
  return body
}

/** The PATCH body: only the fields that differ from the saved patient (`{}` when nothing changed). */
export function changedPatientFields(detail: PatientDetail, form: PatientForm, allowDuplicate = false): PatientUpdate {
  const before = toPatientPayload(patientFormFrom(detail))
  const after = toPatientPayload(form)
  const changes: PatientUpdate = {}
  for (const field of PATIENT_FIELDS) {
    if (before[field] !== after[field]) (changes as Record<string, unknown>)[field] = after[field]
  }
  if (allowDuplicate && Object.keys(changes).length) changes.allow_duplicate = true
  return changes
}

export type Duplicate =
  | { kind: 'taken'; patientId: number }
  | { kind: 'possible'; candidates: PatientOut[] }

/** The server found the patient already registered (by ID card) or probably registered (same name and birth). */
export function duplicateOf(error: unknown): Duplicate | null {
  if (!isApiError(error)) return null
  if (error.code === 'patient.id_card_taken') {
    const id = Number(error.detail?.patient_id)
    return Number.isInteger(id) && id > 0 ? { kind: 'taken', patientId: id } : null
  }
  if (error.code === 'patient.possible_duplicate') {
    const candidates = Array.isArray(error.detail?.candidates) ? error.detail.candidates as PatientOut[] : []
    return { kind: 'possible', candidates: candidates.filter((c) => c && typeof c.id === 'number') }
  }
  return null
}

/** The form fields a failed save names (`detail.field`, or the fields of a 422), restricted to this form's. */
export function serverPatientFields(error: unknown): PatientField[] {
  const names = invalidFields(error)
  return names.filter((n): n is PatientField => (PATIENT_FIELDS as readonly string[]).includes(n))
}
