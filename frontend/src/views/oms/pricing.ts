/**
 * The line editor of 处方划价 (prescriptions: drug, quantity, usage, days) and 项目划价 (item orders: medical item,
 * quantity), as pure functions. Lines are edited as typed text; their amounts and the total are computed live
 * with exact fen arithmetic (./money.ts) for display only — the server prices the lines from the data center when
 * the document is saved, and its amounts replace these.
 *
 * The rules are the server's: quantity a whole number 1…9999, days 1…90 (optional), usage at most 64 characters
 * (optional), 1…50 lines, the same drug/item at most once per document.
 */
import { isApiError } from '@/api/errors'
import type {
  DrugOption,
  ItemOrderLine,
  ItemOrderLineIn,
  MedicalItemOption,
  Money,
  PrescriptionLine,
  PrescriptionLineIn,
} from '@/api/oms'

import { lineAmount, trySumMoney } from './money'

export type PricingKind = 'prescription' | 'item_order'

export const QUANTITY_MAX = 9999
export const DAYS_MAX = 90
export const USAGE_MAX = 64
export const NOTE_MAX = 500
export const LINES_MAX = 50

/** One line being edited. `refId` is the drug's or medical item's id; the rest is shown beside it. */
export interface DraftLine {
  refId: number
  code: string
  name: string
  unitName: string
  unitPrice: Money
  /** Drugs: the specification ("0.25g×24粒"). */
  specification: string | null
  /** Items: category, executing department, whether a result is required. */
  categoryName: string | null
  departmentName: string | null
  resultRequired: boolean
  quantity: string
  usage: string
  days: string
}

function blank(): Omit<DraftLine, 'refId' | 'code' | 'name' | 'unitName' | 'unitPrice'> {
  return { specification: null, categoryName: null, departmentName: null, resultRequired: false, quantity: '1',
    usage: '', days: '' }
}

export function draftFromDrug(drug: DrugOption): DraftLine {
  return { ...blank(), refId: drug.id, code: drug.code, name: drug.name, unitName: drug.unit_name,
    unitPrice: drug.retail_price, specification: drug.specification }
}

export function draftFromItem(item: MedicalItemOption): DraftLine {
  return { ...blank(), refId: item.id, code: item.code, name: item.name, unitName: item.unit_name,
    unitPrice: item.price, categoryName: item.category_name, departmentName: item.department_name,
    resultRequired: item.result_required }
}

/** A saved prescription's line, back into the editor (priced as saved). */
export function draftFromPrescriptionLine(line: PrescriptionLine): DraftLine {
  return { ...blank(), refId: line.drug_id, code: line.drug_code, name: line.drug_name, unitName: line.unit_name,
    unitPrice: line.unit_price, specification: line.specification, quantity: String(line.quantity),
    usage: line.usage ?? '', days: line.days === null || line.days === undefined ? '' : String(line.days) }
}

export function draftFromItemOrderLine(line: ItemOrderLine): DraftLine {
  return { ...blank(), refId: line.medical_item_id, code: line.item_code, name: line.item_name,
    unitName: line.unit_name, unitPrice: line.unit_price, categoryName: line.category_name,
    departmentName: line.department_name, resultRequired: line.result_required, quantity: String(line.quantity) }
}

/**
 * Adds a drug/item. One already on the document is not added twice (the server refuses duplicates): its quantity
 * goes up by one instead. Returns the new lines and the index of the line concerned.
 */
export function addLine(lines: readonly DraftLine[], draft: DraftLine): { lines: DraftLine[]; index: number; merged: boolean } {
  const index = lines.findIndex((line) => line.refId === draft.refId)
  if (index < 0) return { lines: [...lines, draft], index: lines.length, merged: false }
  const current = lines[index]!
  const quantity = /^\d+$/.test(current.quantity.trim()) ? Number(current.quantity.trim()) : 0
  const next = [...lines]
  next[index] = { ...current, quantity: String(Math.min(QUANTITY_MAX, quantity + 1)) }
  return { lines: next, index, merged: true }
}

export type LineField = 'quantity' | 'usage' | 'days' | 'item'
export type LineProblem = 'required' | 'integer' | 'range' | 'too_long'

function wholeNumber(text: string, max: number): LineProblem | null {
  if (!/^\d+$/.test(text)) return 'integer'
  const value = Number(text)
  return value < 1 || value > max ? 'range' : null
}

/** What is wrong with one line, per field (empty when nothing). */
export function lineProblems(line: DraftLine, kind: PricingKind): Partial<Record<LineField, LineProblem>> {
  const out: Partial<Record<LineField, LineProblem>> = {}
  const quantity = line.quantity.trim()
  const q = quantity === '' ? 'required' : wholeNumber(quantity, QUANTITY_MAX)
  if (q) out.quantity = q
  if (kind === 'prescription') {
    if ([...line.usage.trim()].length > USAGE_MAX) out.usage = 'too_long'
    const days = line.days.trim()
    if (days !== '') {
      const d = wholeNumber(days, DAYS_MAX)
      if (d) out.days = d
    }
  }
  return out
}

export type DocumentProblem = 'no_lines' | 'too_many' | 'duplicate' | 'lines_invalid' | 'note_too_long'

/** What keeps the document from being saved, or null. */
export function documentProblem(lines: readonly DraftLine[], kind: PricingKind, note = ''): DocumentProblem | null {
  if (lines.length === 0) return 'no_lines'
  if (lines.length > LINES_MAX) return 'too_many'
  if (new Set(lines.map((l) => l.refId)).size !== lines.length) return 'duplicate'
  if (lines.some((line) => Object.keys(lineProblems(line, kind)).length > 0)) return 'lines_invalid'
  if ([...note.trim()].length > NOTE_MAX) return 'note_too_long'
  return null
}

/** The line's amount while its quantity is a valid whole number, else null (shown as a dash). */
export function draftLineAmount(line: Pick<DraftLine, 'unitPrice' | 'quantity'>): string | null {
  const quantity = line.quantity.trim()
  if (!/^\d+$/.test(quantity) || Number(quantity) < 1 || Number(quantity) > QUANTITY_MAX) return null
  try {
    return lineAmount(line.unitPrice, quantity)
  } catch {
    return null
  }
}

/** The total of the lines that have an amount (exact). */
export function draftTotal(lines: readonly Pick<DraftLine, 'unitPrice' | 'quantity'>[]): string {
  return trySumMoney(lines.map(draftLineAmount).filter((a): a is string => a !== null)) ?? '0.00'
}

export function toPrescriptionLines(lines: readonly DraftLine[]): PrescriptionLineIn[] {
  return lines.map((line) => {
    const usage = line.usage.trim()
    const days = line.days.trim()
    return { drug_id: line.refId, quantity: Number(line.quantity.trim()), usage: usage === '' ? null : usage,
      days: days === '' ? null : Number(days) }
  })
}

export function toItemOrderLines(lines: readonly DraftLine[]): ItemOrderLineIn[] {
  return lines.map((line) => ({ medical_item_id: line.refId, quantity: Number(line.quantity.trim()) }))
}

/**
 * The lines a failed save names: `pricing.*` codes name one in `detail.field` (`lines[2].drug_id`), a 422
 * `validation.failed` names fields by `loc` (`["body", "lines", 2, "quantity"]`). Index → fields.
 */
export function serverLineErrors(error: unknown): Map<number, Set<LineField>> {
  const out = new Map<number, Set<LineField>>()
  if (!isApiError(error)) return out
  const add = (index: number, field: string) => {
    const name: LineField = field === 'quantity' || field === 'usage' || field === 'days' ? field : 'item'
    if (!out.has(index)) out.set(index, new Set())
    out.get(index)!.add(name)
  }
  const field = error.detail?.field
  if (typeof field === 'string') {
    const match = /^lines\[(\d+)\]\.?([a-z_]*)$/.exec(field)
    if (match) add(Number(match[1]), match[2] ?? '')
  }
  const errors = error.detail?.errors
  if (Array.isArray(errors)) {
    for (const item of errors as { loc?: unknown }[]) {
      const loc = Array.isArray(item?.loc) ? item.loc.map(String) : []
      const at = loc.indexOf('lines')
      if (at >= 0 && /^\d+$/.test(loc[at + 1] ?? '')) add(Number(loc[at + 1]), loc[at + 2] ?? '')
    }
  }
  return out
}

/** Whether the editor's lines differ from a saved document's (what would be sent against what is there). */
export function linesChanged(lines: readonly DraftLine[], saved: readonly DraftLine[]): boolean {
  if (lines.length !== saved.length) return true
  return lines.some((line, i) => {
    const other = saved[i]!
    return line.refId !== other.refId || line.quantity.trim() !== other.quantity.trim() ||
      line.usage.trim() !== other.usage.trim() || line.days.trim() !== other.days.trim()
  })
}
