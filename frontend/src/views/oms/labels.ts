/**
 * Names of the API's enum values (`oms.enums.<group>.<value>`): gender, session, statuses, payment methods, kinds
 * and targets. A missing value (el-table renders its column templates once without a row) names nothing, and an
 * unknown one is shown as sent rather than as a key.
 */
import { i18n } from '@/i18n'

export type EnumGroup =
  | 'gender'
  | 'session'
  | 'payment_method'
  | 'payment_kind'
  | 'payment_target'
  | 'registration_status'
  | 'prescription_status'
  | 'item_order_status'
  | 'item_line_status'
  | 'exam_status'
  | 'drug_category'

export function enumLabel(group: EnumGroup, value: unknown): string {
  if (value === null || value === undefined || value === '') return ''
  const key = `oms.enums.${group}.${String(value)}`
  return i18n.global.te(key) ? i18n.global.t(key) : String(value)
}
