/**
 * The outpatient messages: every key the OMS screens use exists in both languages, every enum value the API sends
 * has a name, and every error code of the outpatient contract has its own message in both languages (never the
 * generic fallback), grouped by its first segment.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { ApiError, errorMessage } from '@/api/errors'
import * as oms from '@/api/oms'
import { i18n, LOCALES, setLocale } from '@/i18n'
import { omsErrors } from '@/i18n/locales/oms.zh-CN'
import { omsErrors as omsErrorsEn } from '@/i18n/locales/oms.en'

const SRC = resolve(__dirname, '../../src')

/** The error codes of the outpatient contract (passed-through scheduling codes excluded: scheduling owns them). */
const CONTRACT_CODES = [
  'patient.not_found', 'patient.id_card_invalid', 'patient.id_card_mismatch', 'patient.id_card_taken',
  'patient.possible_duplicate',
  'registration.not_found', 'registration.duplicate', 'registration.invalid_state', 'registration.visited',
  'registration.not_active',
  'prescription.not_found', 'prescription.not_editable', 'prescription.dispensed', 'prescription.not_paid',
  'item_order.not_found', 'item_order.not_editable', 'item_order.not_paid',
  'item.examined', 'item.not_paid',
  'payment.not_found', 'payment.already_paid', 'payment.invalid_state',
  'refund.exceeds_paid',
  'pricing.drug_not_found', 'pricing.drug_inactive', 'pricing.item_not_found', 'pricing.item_inactive',
  'pricing.duplicate_line',
  'exam.not_found', 'exam.not_paid',
  'attachment.not_found', 'attachment.unsupported_type', 'attachment.too_large', 'attachment.empty',
]
/** Codes the service sends beyond the contract, in the outpatient's groups. */
const EXTRA_CODES = [
  'item_order.line_not_found',
  'pricing.amount_too_large',
  'attachment.incomplete',
  'attachment.store_unavailable',
]

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : /\.(vue|ts)$/.test(name) ? [path] : []
  })
}

function leaves(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k))
}

function usedKeys(): { full: Set<string>; prefixes: Set<string> } {
  const full = new Set<string>()
  const prefixes = new Set<string>()
  for (const file of [...files(join(SRC, 'views/oms')), ...files(join(SRC, 'components/oms'))]) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/\bt\(\s*'((?:oms|app|errors)\.[a-z0-9_.]+[a-z0-9_])'/g)) full.add(m[1]!)
    for (const m of text.matchAll(/'(oms\.[a-z0-9_]+\.[a-z0-9_.]+[a-z0-9_])'/g)) full.add(m[1]!)
    for (const m of text.matchAll(/\bt\(\s*`((?:oms|errors)\.[a-z_.]+)\.\$\{/g)) prefixes.add(m[1]!)
  }
  return { full, prefixes }
}

afterEach(() => setLocale('zh-CN'))

describe('outpatient messages', () => {
  it('exist in both languages for every key the screens use', () => {
    const { full, prefixes } = usedKeys()
    expect(full.size).toBeGreaterThan(150)
    expect(prefixes).toContain('oms.cashier.line_reason')
    const missing: string[] = []
    for (const locale of LOCALES) {
      for (const key of full) if (!i18n.global.te(key, locale)) missing.push(`${locale}: ${key}`)
      setLocale(locale)
      for (const prefix of prefixes) {
        const value = i18n.global.tm(prefix) as unknown
        if (typeof value !== 'object' || value === null) missing.push(`${locale}: ${prefix}.*`)
      }
    }
    expect(missing).toEqual([])
  })

  it('name every enum value the API sends', () => {
    const groups: [string, readonly string[]][] = [
      ['gender', oms.GENDERS], ['session', oms.SESSIONS], ['payment_method', oms.PAYMENT_METHODS],
      ['payment_kind', oms.PAYMENT_KINDS], ['payment_target', oms.PAYMENT_TARGETS],
      ['registration_status', oms.REGISTRATION_STATUSES], ['prescription_status', oms.PRESCRIPTION_STATUSES],
      ['item_order_status', oms.ITEM_ORDER_STATUSES], ['item_line_status', oms.ITEM_LINE_STATUSES],
      ['exam_status', oms.EXAM_STATUSES],
    ]
    const missing: string[] = []
    for (const locale of LOCALES) {
      for (const [group, values] of groups) {
        for (const value of values) {
          if (!i18n.global.te(`oms.enums.${group}.${value}`, locale)) missing.push(`${locale}: ${group}.${value}`)
        }
      }
    }
    expect(missing).toEqual([])
  })

  it('translate every error code of the outpatient contract, in its own group', () => {
    const missing: string[] = []
    for (const locale of LOCALES) {
      for (const code of [...CONTRACT_CODES, ...EXTRA_CODES]) if (!i18n.global.te(`errors.${code}`, locale)) missing.push(`${locale}: ${code}`)
    }
    expect(missing).toEqual([])
    // only the outpatient's own groups, the same in both files
    expect(Object.keys(omsErrors).sort()).toEqual(['attachment', 'exam', 'item', 'item_order', 'patient', 'payment',
      'prescription', 'pricing', 'refund', 'registration'])
    expect(leaves(omsErrorsEn).sort()).toEqual(leaves(omsErrors).sort())
    expect(leaves(omsErrors).sort()).toEqual([...CONTRACT_CODES, ...EXTRA_CODES].sort())
  })

  it('show those messages, not a generic one, in both languages', () => {
    for (const locale of LOCALES) {
      setLocale(locale)
      const generic = new Set([i18n.global.t('errors.status.conflict'), i18n.global.t('errors.status.invalid'),
        i18n.global.t('errors.status.not_found'), i18n.global.t('errors.unexpected')])
      for (const code of [...CONTRACT_CODES, ...EXTRA_CODES]) {
        const message = errorMessage(new ApiError(409, code, 'English server message', { status: 'paid' }))
        expect(generic.has(message), `${locale} ${code}`).toBe(false)
        expect(message).not.toContain('English server message')
        expect(message).not.toContain('{')
      }
    }
  })
})
