/**
 * The create/edit form of a catalogue as pure functions:
 *
 * - `emptyForm(config)` / `formFromRow(config, row)`: the form's values (strings for typed inputs, ids or null
 *   for references, booleans for switches);
 * - `toPayload(config, form)`: the POST body, normalised as the server would (trimmed; blank optional text → null;
 *   money "12.5" → "12.50"; counts as numbers);
 * - `changedFields(config, row, form)`: the PATCH body — only the fields whose normalised value differs from the
 *   row's (`{}` when nothing changed);
 * - `serverErrors(config, error)`: a failed save mapped onto the form: the field named by `detail.field`
 *   (`datacenter.code_taken`, `datacenter.reference_*`) or by a 422's `detail.errors`, otherwise one message;
 * - `inUseReferences(error)`: what still references a row the server refused to delete (409 `datacenter.in_use`).
 */
import { errorMessage, invalidFields, isApiError } from '@/api/errors'
import type { AnyRow } from '@/api/dbs'
import { entityOfNamespace } from '@/api/entities'

import type { AnyConfig, AnyField } from './entities'
import type { FormValue } from './validation'

export type FormModel = Record<string, FormValue>
export type Payload = Record<string, string | number | boolean | null>

/** The values of a new row's form. */
export function emptyForm(config: AnyConfig): FormModel {
  const form: FormModel = {}
  for (const field of config.fields) {
    form[field.name] = field.kind === 'reference' ? null : field.kind === 'bool' ? false : ''
  }
  return form
}

/** The values of an existing row's form. */
export function formFromRow(config: AnyConfig, row: AnyRow): FormModel {
  const form: FormModel = {}
  for (const field of config.fields) {
    const value: unknown = row[field.name]
    switch (field.kind) {
      case 'reference':
        form[field.name] = typeof value === 'number' ? value : null
        break
      case 'bool':
        form[field.name] = value === true
        break
      default:
        form[field.name] = value === null || value === undefined ? '' : String(value)
    }
  }
  return form
}

/** "12.5" → "12.50", "007" → "7.00" (already validated: digits with at most two decimals). No floats. */
export function normalizeMoney(value: string): string {
  const [whole = '0', fraction = ''] = value.trim().split('.')
  return `${whole.replace(/^0+(?=\d)/, '') || '0'}.${fraction.padEnd(2, '0').slice(0, 2)}`
}

function normalized(field: AnyField, value: FormValue): string | number | boolean | null {
  const text = typeof value === 'string' ? value.trim() : value
  switch (field.kind) {
    case 'code':
    case 'enum':
      return String(text ?? '')
    case 'text':
      return field.required ? String(text ?? '') : text === '' || text === null ? null : String(text)
    case 'phone':
      return text === '' || text === null ? null : String(text)
    case 'money':
      return normalizeMoney(String(text ?? ''))
    case 'count':
      return Number(text)
    case 'reference':
      return typeof value === 'number' ? value : null
    case 'bool':
      return value === true
  }
}

/** The POST body: every field, normalised. */
export function toPayload(config: AnyConfig, form: FormModel): Payload {
  const payload: Payload = {}
  for (const field of config.fields) payload[field.name] = normalized(field, form[field.name] ?? null)
  return payload
}

/** The PATCH body: only what changed against `row` (compared after normalising both sides). */
export function changedFields(config: AnyConfig, row: AnyRow, form: FormModel): Payload {
  const before = toPayload(config, formFromRow(config, row))
  const after = toPayload(config, form)
  const changes: Payload = {}
  for (const field of config.fields) {
    if (before[field.name] !== after[field.name]) changes[field.name] = after[field.name]!
  }
  return changes
}

export interface FormErrors {
  /** Field name → translated message, for the fields of this form the server named. */
  fields: Record<string, string>
  /** A message for the whole form: the error itself when no field was named, else null. */
  general: string | null
}

/**
 * Maps a failed create/update onto the form. `datacenter.code_taken` and `datacenter.reference_not_found` /
 * `reference_inactive` name one field in `detail.field`; a 422 `validation.failed` names fields in
 * `detail.errors`. Those that are fields of this form get the translated message; anything else becomes the
 * general message. `invalid(field)` is the message for a field a 422 names (the screen passes a translator).
 */
export function serverErrors(config: AnyConfig, error: unknown, invalid: (field: AnyField) => string): FormErrors {
  const byName = new Map(config.fields.map((f) => [f.name as string, f]))
  const names = new Set(byName.keys())
  const fields: Record<string, string> = {}
  if (isApiError(error) && error.code === 'validation.failed') {
    for (const name of invalidFields(error)) {
      const field = byName.get(name)
      if (field) fields[name] = invalid(field)
    }
  } else if (isApiError(error) && typeof error.detail?.field === 'string' && names.has(error.detail.field)) {
    fields[error.detail.field] = errorMessage(error)
  }
  return { fields, general: Object.keys(fields).length ? null : errorMessage(error) }
}

export interface ReferenceCount {
  /** The referencing catalogue's namespace (`doctors`) and entity (`doctor`; null if unknown to the UI). */
  namespace: string
  entity: string | null
  count: number
}

/** The references of a 409 `datacenter.in_use`, in the server's order; null for any other error. */
export function inUseReferences(error: unknown): ReferenceCount[] | null {
  if (!isApiError(error) || error.code !== 'datacenter.in_use') return null
  const references = error.detail?.references
  if (!references || typeof references !== 'object') return []
  return Object.entries(references as Record<string, unknown>)
    .map(([namespace, count]) => ({ namespace, entity: entityOfNamespace(namespace), count: Number(count) }))
    .filter((r) => Number.isFinite(r.count) && r.count > 0)
}
