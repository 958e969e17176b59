/** The pricing line editor (src/views/oms/pricing.ts): live amounts and totals, the server's rules, payloads. */
import { describe, expect, it } from 'vitest'

import { ApiError } from '@/api/errors'
import type { DrugOption, MedicalItemOption } from '@/api/oms'
import {
  addLine,
  documentProblem,
  draftFromDrug,
  draftFromItem,
  draftFromPrescriptionLine,
  draftLineAmount,
  draftTotal,
  lineProblems,
  linesChanged,
  serverLineErrors,
  toItemOrderLines,
  toPrescriptionLines,
  type DraftLine,
} from '@/views/oms/pricing'

const AMOX: DrugOption = { id: 7, code: 'AMX', name: '阿莫西林胶囊', generic_name: '阿莫西林', specification: '0.25g×24粒',
  unit_name: '盒', retail_price: '0.10', category: 'western', prescription_only: true }
const VC: DrugOption = { ...AMOX, id: 8, code: 'VC', name: '维生素C片', retail_price: '33.33', prescription_only: false }
const CT: MedicalItemOption = { id: 3, code: 'CT01', name: '头部CT', category_name: '检查', unit_name: '次', price: '260.00',
  department_id: 9, department_name: '放射科', result_required: true }

function line(patch: Partial<DraftLine> = {}): DraftLine {
  return { ...draftFromDrug(AMOX), ...patch }
}

describe('live amounts', () => {
  it('computes line amounts and the total exactly', () => {
    const lines = [line({ quantity: '3' }), { ...draftFromDrug(VC), quantity: '3' }]
    expect(draftLineAmount(lines[0]!)).toBe('0.30')
    expect(draftLineAmount(lines[1]!)).toBe('99.99')
    expect(draftTotal(lines)).toBe('100.29')
  })

  it('shows no amount for a quantity that is not a whole number in range, and leaves it out of the total', () => {
    for (const bad of ['', '0', '1.5', '-1', '10000', 'abc', '2e1']) {
      expect(draftLineAmount(line({ quantity: bad })), bad).toBeNull()
    }
    expect(draftTotal([line({ quantity: 'x' }), line({ quantity: '2' })])).toBe('0.20')
    expect(draftTotal([])).toBe('0.00')
  })
})

describe('line rules', () => {
  it('checks quantity, usage and days like the server', () => {
    expect(lineProblems(line({ quantity: '1', usage: '每日三次，每次一粒', days: '7' }), 'prescription')).toEqual({})
    expect(lineProblems(line({ quantity: '' }), 'prescription')).toEqual({ quantity: 'required' })
    expect(lineProblems(line({ quantity: '1.5' }), 'prescription')).toEqual({ quantity: 'integer' })
    expect(lineProblems(line({ quantity: '0' }), 'prescription')).toEqual({ quantity: 'range' })
    expect(lineProblems(line({ quantity: '9999' }), 'prescription')).toEqual({})
    expect(lineProblems(line({ quantity: '10000' }), 'prescription')).toEqual({ quantity: 'range' })
    expect(lineProblems(line({ days: '91' }), 'prescription')).toEqual({ days: 'range' })
    expect(lineProblems(line({ days: '0' }), 'prescription')).toEqual({ days: 'range' })
    expect(lineProblems(line({ days: 'x' }), 'prescription')).toEqual({ days: 'integer' })
    expect(lineProblems(line({ usage: '次'.repeat(64) }), 'prescription')).toEqual({})
    expect(lineProblems(line({ usage: '次'.repeat(65) }), 'prescription')).toEqual({ usage: 'too_long' })
    // items have no usage or days
    expect(lineProblems({ ...draftFromItem(CT), usage: '次'.repeat(65), days: 'x' }, 'item_order')).toEqual({})
  })

  it('checks the document: 1..50 lines, no duplicates, valid lines', () => {
    expect(documentProblem([], 'prescription')).toBe('no_lines')
    expect(documentProblem([line(), line()], 'prescription')).toBe('duplicate')
    expect(documentProblem([line({ quantity: '0' })], 'prescription')).toBe('lines_invalid')
    const many = Array.from({ length: 51 }, (_, i) => line({ refId: i + 1 }))
    expect(documentProblem(many, 'prescription')).toBe('too_many')
    expect(documentProblem(many.slice(0, 50), 'prescription')).toBeNull()
    expect(documentProblem([line()], 'prescription', '注'.repeat(500))).toBeNull()
    expect(documentProblem([line()], 'prescription', '注'.repeat(501))).toBe('note_too_long')
  })

  it('adds a drug already on the document by raising its quantity instead of a second line', () => {
    const first = addLine([], draftFromDrug(AMOX))
    expect(first).toMatchObject({ index: 0, merged: false })
    const second = addLine(first.lines, draftFromDrug(VC))
    expect(second.lines).toHaveLength(2)
    const again = addLine(second.lines, draftFromDrug(AMOX))
    expect(again).toMatchObject({ index: 0, merged: true })
    expect(again.lines).toHaveLength(2)
    expect(again.lines[0]!.quantity).toBe('2')
  })
})

describe('payloads and server answers', () => {
  it('builds the line bodies (no prices: the server prices them)', () => {
    expect(toPrescriptionLines([line({ quantity: ' 2 ', usage: ' 口服 ', days: '' })]))
      .toEqual([{ drug_id: 7, quantity: 2, usage: '口服', days: null }])
    expect(toPrescriptionLines([line({ quantity: '1', usage: '', days: '7' })]))
      .toEqual([{ drug_id: 7, quantity: 1, usage: null, days: 7 }])
    expect(toItemOrderLines([{ ...draftFromItem(CT), quantity: '2' }])).toEqual([{ medical_item_id: 3, quantity: 2 }])
  })

  it('finds the lines a refusal names', () => {
    const pricing = new ApiError(422, 'pricing.drug_inactive', 'x', { field: 'lines[2].drug_id' })
    expect([...serverLineErrors(pricing).entries()]).toEqual([[2, new Set(['item'])]])
    const validation = new ApiError(422, 'validation.failed', 'x', { errors: [
      { loc: ['body', 'lines', 0, 'quantity'] }, { loc: ['body', 'lines', 1, 'days'] }, { loc: ['body', 'note'] },
    ] })
    const found = serverLineErrors(validation)
    expect(found.get(0)).toEqual(new Set(['quantity']))
    expect(found.get(1)).toEqual(new Set(['days']))
    expect(found.size).toBe(2)
    expect(serverLineErrors(new Error('x')).size).toBe(0)
  })

  it('knows when the editor differs from the saved document', () => {
    const saved = draftFromPrescriptionLine({ id: 1, drug_id: 7, drug_code: 'AMX', drug_name: '阿莫西林胶囊',
      specification: '0.25g×24粒', unit_name: '盒', unit_price: '0.10', quantity: 2, usage: '口服', days: 3,
      amount: '0.20' })
    expect(saved).toMatchObject({ refId: 7, quantity: '2', usage: '口服', days: '3' })
    expect(linesChanged([{ ...saved }], [saved])).toBe(false)
    expect(linesChanged([{ ...saved, quantity: '3' }], [saved])).toBe(true)
    expect(linesChanged([], [saved])).toBe(true)
  })
})
