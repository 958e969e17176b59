/**
 * The form rules of the data-center catalogues, the same as the server's (services/dbs/schemas.py), as pure
 * functions: `problemOf(field, value)` says what is wrong with one form value, as an i18n key under
 * `dbs.validation.*` with its parameters, or null when the server would accept it. The screen checks the whole
 * form with `formProblems` before it sends anything, and gives Element Plus the same checks as form rules
 * (`rulesOf`) for feedback as the user leaves a field.
 *
 * Lengths are counted in code points, as Python counts them; values are trimmed first, as the server does.
 * The client is never more lenient than the server; it is stricter only where the server accepts odd
 * spellings a person would not type on purpose (money as "1.500", "1e2" or "-0").
 */
import type { FormItemRule } from 'element-plus'

import {
  CODE_MAX,
  CODE_PATTERN,
  COUNT_MAX,
  ENUMS,
  MONEY_DECIMALS,
  MONEY_INTEGER_DIGITS,
  PHONE_PATTERN,
  labelKey,
  type AnyField,
} from './entities'

export interface Problem {
  key: string
  params?: Record<string, unknown>
}

/** A form's values: strings for typed inputs, ids for references (null = none), booleans for switches. */
export type FormValue = string | number | boolean | null

function length(text: string): number {
  return [...text].length
}

function problem(key: string, params?: Record<string, unknown>): Problem {
  return params ? { key: `dbs.validation.${key}`, params } : { key: `dbs.validation.${key}` }
}

const MONEY_SHAPE = /^(\d+)(?:\.(\d+))?$/
const NEGATIVE_MONEY = /^-\s*\d+(?:\.\d+)?$/

/** Money as typed: ≥ 0, digits with at most two decimals and at most 10 integer digits. */
export function moneyProblem(value: string): Problem | null {
  const text = value.trim()
  if (text === '') return problem('required')
  if (NEGATIVE_MONEY.test(text)) return problem('money_negative')
  const match = MONEY_SHAPE.exec(text)
  if (!match) return problem('money_format')
  if ((match[2] ?? '').length > MONEY_DECIMALS) return problem('money_decimals')
  if (match[1]!.replace(/^0+(?=\d)/, '').length > MONEY_INTEGER_DIGITS) return problem('money_too_large')
  return null
}

/** A whole number 0 … 1 000 000 000. */
export function countProblem(value: string): Problem | null {
  const text = value.trim()
  if (text === '') return problem('required')
  if (!/^\d+$/.test(text)) return problem('count_format')
  if (Number(text) > COUNT_MAX) return problem('count_range', { max: COUNT_MAX })
  return null
}

export function codeProblem(value: string): Problem | null {
  const text = value.trim()
  if (text === '') return problem('required')
  if (length(text) > CODE_MAX) return problem('too_long', { max: CODE_MAX })
  if (!CODE_PATTERN.test(text)) return problem('code_format')
  return null
}

/** Optional: blank is fine (sent as null). */
export function phoneProblem(value: string): Problem | null {
  const text = value.trim()
  if (text === '') return null
  if (!PHONE_PATTERN.test(text)) return problem('phone_format')
  return null
}

export function textProblem(value: string, required: boolean, max: number): Problem | null {
  const text = value.trim()
  if (text === '') return required ? problem('required') : null
  if (length(text) > max) return problem('too_long', { max })
  return null
}

/** What is wrong with one field's value, or null. */
export function problemOf(field: AnyField, value: FormValue): Problem | null {
  const text = typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value)
  switch (field.kind) {
    case 'code':
      return codeProblem(text)
    case 'text':
      return textProblem(text, field.required, field.max)
    case 'phone':
      return phoneProblem(text)
    case 'money':
      return moneyProblem(text)
    case 'count':
      return countProblem(text)
    case 'enum':
      if (text === '') return problem('select_required')
      return (ENUMS[field.enum] as readonly string[]).includes(text) ? null : problem('select_required')
    case 'reference':
      if (value === null || value === undefined || value === '') {
        return field.required ? problem('select_required') : null
      }
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? null : problem('select_required')
    case 'bool':
      return null
  }
}

/** Every field's problem, by field name (empty when the form can be sent). */
export function formProblems(fields: readonly AnyField[], form: Record<string, FormValue>): Record<string, Problem> {
  const out: Record<string, Problem> = {}
  for (const field of fields) {
    const found = problemOf(field, form[field.name] ?? null)
    if (found) out[field.name] = found
  }
  return out
}

type Translate = (key: string, params?: Record<string, unknown>) => string

/** A problem as the message shown under its field. */
export function problemMessage(field: AnyField, found: Problem, t: Translate): string {
  return t(found.key, { label: t(labelKey(field)), ...found.params })
}

/** The Element Plus rules of one field: one validator applying `problemOf`, with a translated message. */
export function rulesOf(field: AnyField, t: Translate): FormItemRule[] {
  const select = field.kind === 'enum' || field.kind === 'reference' || field.kind === 'bool'
  return [{
    required: field.kind === 'code' || field.kind === 'money' || field.kind === 'count' || field.kind === 'enum' ||
      ((field.kind === 'text' || field.kind === 'reference') && field.required),
    trigger: select ? 'change' : 'blur',
    validator: (_rule, value: FormValue, callback) => {
      const found = problemOf(field, value)
      if (found) callback(new Error(problemMessage(field, found, t)))
      else callback()
    },
  }]
}
