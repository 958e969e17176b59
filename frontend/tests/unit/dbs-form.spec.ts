/**
 * The data-center form as data (src/views/dbs/form.ts): the POST body, the PATCH diff (only what changed,
 * compared after normalising), server errors mapped onto the fields they name, and the 409 in-use references.
 */
import { afterEach, describe, expect, it } from 'vitest'

import type { AnyRow } from '@/api/dbs'
import { ApiError } from '@/api/errors'
import { setLocale } from '@/i18n'
import { configOf, type AnyConfig } from '@/views/dbs/entities'
import {
  changedFields,
  emptyForm,
  formFromRow,
  inUseReferences,
  normalizeMoney,
  serverErrors,
  toPayload,
} from '@/views/dbs/form'

import { envelope } from './helpers'

afterEach(() => setLocale('zh-CN'))

const drugs = configOf('drugs')!
const doctors = configOf('doctors')!
const suppliers = configOf('suppliers')!

const BASE = { active: true, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' }

const drug: AnyRow = {
  ...BASE, id: 1, code: 'XY001', name: '阿莫西林胶囊', generic_name: '阿莫西林', specification: '0.25g×24粒',
  dosage_form: '胶囊剂', unit_id: 1, unit_name: '盒', origin_id: 2, origin_name: '石药集团', category: 'western',
  retail_price: '12.50', low_stock_threshold: 50, prescription_only: true,
}

const doctor: AnyRow = {
  ...BASE, id: 3, code: 'D001', name: '张建国', gender: 'male', department_id: 1, department_name: '内科',
  title: 'chief', registration_type_id: 2, registration_type_name: '专家号', practice: 'outpatient',
}

const supplier: AnyRow = {
  ...BASE, id: 4, code: 'S01', name: '国药控股', contact: null, phone: '021-63211234', address: null, licence_no: 'X1',
}

function error(status: number, code: string, detail: Record<string, unknown> | null = null): ApiError {
  const body = envelope(code, 'English message', detail)
  return new ApiError(status, body.code, body.message, body.detail)
}

const invalid = (config: AnyConfig) => (field: AnyConfig['fields'][number]) => `bad ${field.name} in ${config.entity}`

describe('the form values and the POST body', () => {
  it('starts empty: blank texts, no references, switches off', () => {
    expect(emptyForm(doctors)).toEqual({ code: '', name: '', gender: '', department_id: null, title: '',
      registration_type_id: null, practice: '' })
    expect(emptyForm(drugs).prescription_only).toBe(false)
  })

  it('normalises like the server: trimmed, blank optional text → null, money with two decimals, counts as numbers',
    () => {
      const form = { ...formFromRow(drugs, drug), code: ' XY099 ', generic_name: '   ', retail_price: '012.5',
        low_stock_threshold: ' 30 ' }
      expect(toPayload(drugs, form)).toEqual({
        code: 'XY099', name: '阿莫西林胶囊', generic_name: null, specification: '0.25g×24粒', dosage_form: '胶囊剂',
        category: 'western', unit_id: 1, origin_id: 2, retail_price: '12.50', low_stock_threshold: 30,
        prescription_only: true,
      })
      expect(toPayload(suppliers, { ...formFromRow(suppliers, supplier), phone: '' }).phone).toBeNull()
    })

  it('formats money without floats', () => {
    expect(normalizeMoney('0')).toBe('0.00')
    expect(normalizeMoney('12.5')).toBe('12.50')
    expect(normalizeMoney('0000.1')).toBe('0.10')
    expect(normalizeMoney('9999999999.99')).toBe('9999999999.99')
    expect(normalizeMoney('0.29')).toBe('0.29') // 0.29 * 100 is 28.999… as a float
  })
})

describe('the PATCH body: only what changed', () => {
  it('is empty when nothing changed, even when the money is spelled differently or texts gained spaces', () => {
    const form = formFromRow(drugs, drug)
    expect(changedFields(drugs, drug, form)).toEqual({})
    expect(changedFields(drugs, drug, { ...form, retail_price: '12.5', name: ' 阿莫西林胶囊 ' })).toEqual({})
  })

  it('holds exactly the changed fields, normalised', () => {
    const form = { ...formFromRow(drugs, drug), retail_price: '13', prescription_only: false, unit_id: 5 }
    expect(changedFields(drugs, drug, form)).toEqual({ retail_price: '13.00', prescription_only: false, unit_id: 5 })
  })

  it('clears a nullable field with null and sets one that was null', () => {
    expect(changedFields(doctors, doctor, { ...formFromRow(doctors, doctor), registration_type_id: null }))
      .toEqual({ registration_type_id: null })
    expect(changedFields(suppliers, supplier, { ...formFromRow(suppliers, supplier), contact: ' 王经理 ', phone: '' }))
      .toEqual({ contact: '王经理', phone: null })
  })

  it('sends a changed code even when only its case changed (codes are unique regardless of case)', () => {
    expect(changedFields(doctors, doctor, { ...formFromRow(doctors, doctor), code: 'd001' })).toEqual({ code: 'd001' })
  })
})

describe('server errors on the form', () => {
  it('puts a taken code under the code field', () => {
    const mapped = serverErrors(doctors, error(409, 'datacenter.code_taken', { field: 'code' }), invalid(doctors))
    expect(mapped).toEqual({ fields: { code: '该编码已被使用，请换一个编码。' }, general: null })
  })

  it('puts an inactive or missing reference under its select, named', () => {
    const inactive = serverErrors(doctors, error(422, 'datacenter.reference_inactive',
      { field: 'department_id', id: 9 }), invalid(doctors))
    expect(inactive.fields).toEqual({ department_id: '所选的科室已停用，请选择其他项。' })
    expect(inactive.general).toBeNull()
    setLocale('en')
    const missing = serverErrors(doctors, error(422, 'datacenter.reference_not_found',
      { field: 'registration_type_id', id: 9 }), invalid(doctors))
    expect(Object.keys(missing.fields)).toEqual(['registration_type_id'])
    expect(missing.fields.registration_type_id).not.toMatch(/datacenter|\{/)
  })

  it('puts the fields a 422 names under those fields, and ignores names that are not in the form', () => {
    const failed = error(422, 'validation.failed', { errors: [
      { loc: ['body', 'retail_price'], msg: 'x', type: 'decimal_max_places' },
      { loc: ['body', 'secret'], msg: 'x', type: 'extra_forbidden' },
    ] })
    expect(serverErrors(drugs, failed, invalid(drugs))).toEqual({
      fields: { retail_price: 'bad retail_price in drug' }, general: null,
    })
  })

  it('shows anything else as one translated message, never the server text', () => {
    const other = serverErrors(drugs, error(503, 'database.unavailable'), invalid(drugs))
    expect(other.fields).toEqual({})
    expect(other.general).toBe('数据库暂时不可用，请稍后重试。')
    const unknownField = serverErrors(drugs, error(422, 'datacenter.reference_inactive', { field: 'ward_id' }),
      invalid(drugs))
    expect(unknownField.fields).toEqual({})
    expect(unknownField.general).toContain('已停用')
    expect(serverErrors(drugs, new Error('boom'), invalid(drugs)).general).not.toContain('boom')
  })
})

describe('409 datacenter.in_use', () => {
  it('lists the referencing catalogues and their counts, in the server order', () => {
    const refused = error(409, 'datacenter.in_use', { references: { doctors: 3, 'medical-items': 2 } })
    expect(inUseReferences(refused)).toEqual([
      { namespace: 'doctors', entity: 'doctor', count: 3 },
      { namespace: 'medical-items', entity: 'medical_item', count: 2 },
    ])
  })

  it('copes with a race (no counts), an unknown namespace, and other errors', () => {
    expect(inUseReferences(error(409, 'datacenter.in_use', { references: {} }))).toEqual([])
    expect(inUseReferences(error(409, 'datacenter.in_use'))).toEqual([])
    expect(inUseReferences(error(409, 'datacenter.in_use', { references: { wards: 1, drugs: 0 } })))
      .toEqual([{ namespace: 'wards', entity: null, count: 1 }])
    expect(inUseReferences(error(409, 'datacenter.code_taken', { field: 'code' }))).toBeNull()
    expect(inUseReferences(new Error('x'))).toBeNull()
  })
})
