/**
 * The message files: both languages have the same keys, and every error code the backend sends today has a
 * message in both. The codes are read from the Python sources, so a new code without a message fails here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { ApiError, errorMessage } from '@/api/errors'
import { i18n, setLocale } from '@/i18n'
import en from '@/i18n/locales/en'
import zhCN from '@/i18n/locales/zh-CN'
import { formatMoney } from '@/utils/format'
import { passwordProblems } from '@/utils/password'

const REPO = resolve(__dirname, '../../..')

function keys(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

function pythonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (name === '__pycache__' || name === 'migrations') return []
    if (statSync(path).isDirectory()) return pythonFiles(path)
    return name.endsWith('.py') ? [path] : []
  })
}

/** `code="auth.invalid_credentials"`, `code = "validation.failed"` and literal codes in error_response(...). */
function backendCodes(): string[] {
  const codes = new Set<string>()
  const sources = ['common', 'gateway', 'services'].flatMap((d) => pythonFiles(join(REPO, d)))
  for (const file of sources) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/\bcode\s*=\s*"([a-z_]+\.[a-z_]+)"/g)) codes.add(m[1]!)
    for (const m of text.matchAll(/error_response\(\s*\d+,\s*"([a-z_]+\.[a-z_]+)"/g)) codes.add(m[1]!)
    // the status → code table of common/errors.py, and conditional codes like `code = "a" if … else "b"`
    const table = /_HTTP_CODES[^=]*=\s*\{([^}]*)\}/.exec(text)?.[1] ?? ''
    for (const m of table.matchAll(/"([a-z_]+\.[a-z_]+)"/g)) codes.add(m[1]!)
    for (const m of text.matchAll(/\bcode\s*=\s*"([a-z_]+\.[a-z_]+)"\s+if\b.*?\belse\s+"([a-z_]+\.[a-z_]+)"/g)) {
      codes.add(m[1]!)
      codes.add(m[2]!)
    }
  }
  return [...codes].sort()
}

afterEach(() => setLocale('zh-CN'))

describe('message files', () => {
  it('have the same keys in Chinese and English', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })

  it('have no empty message', () => {
    for (const [name, messages] of [['zh-CN', zhCN], ['en', en]] as const) {
      for (const key of keys(messages)) {
        const value = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], messages)
        expect(typeof value === 'string' && value.trim().length > 0, `${name} ${key}`).toBe(true)
      }
    }
  })

  it('translate every error code the backend sends', () => {
    const codes = backendCodes()
    // sanity: the scan found the codes it must find
    for (const known of ['auth.invalid_credentials', 'auth.account_locked', 'datacenter.in_use', 'validation.failed',
      'request.malformed_json', 'idempotency.key_reused', 'gateway.no_instance', 'database.unavailable',
      'http.not_found', 'user.username_taken', 'registry.unavailable']) {
      expect(codes).toContain(known)
    }
    const missing: string[] = []
    for (const locale of ['zh-CN', 'en'] as const) {
      for (const code of codes) {
        if (!i18n.global.te(`errors.${code}`, locale)) missing.push(`${locale}: errors.${code}`)
      }
    }
    expect(missing).toEqual([])
  })

  it('gives every data-center entity a name for <entity>.not_found', () => {
    for (const entity of ['department', 'doctor', 'registration_type', 'drug_origin', 'item_category', 'medical_item',
      'drug', 'device', 'warehouse', 'handler', 'unit', 'supplier']) {
      const error = new ApiError(404, `${entity}.not_found`, 'No such row')
      expect(errorMessage(error)).not.toContain('该记录')
      setLocale('en')
      expect(errorMessage(error)).not.toContain('The record')
      setLocale('zh-CN')
    }
  })

  it('remembers the language choice', () => {
    setLocale('en')
    expect(localStorage.getItem('hap.locale')).toBe('en')
    expect(document.documentElement.lang).toBe('en')
    expect(i18n.global.t('app.name')).toBe('Hospital Archive Platform')
    setLocale('zh-CN')
    expect(i18n.global.t('app.name')).toBe('医院档案信息化管理平台')
  })
})

describe('formats and the password policy', () => {
  it('shows money as ¥ with two decimals, without floats', () => {
    expect(formatMoney('12.5')).toBe('¥12.50')
    expect(formatMoney('12.50')).toBe('¥12.50')
    expect(formatMoney('1234567.05')).toBe('¥1,234,567.05')
    expect(formatMoney('-3')).toBe('-¥3.00')
    expect(formatMoney('0.00')).toBe('¥0.00')
    expect(formatMoney('abc')).toBe('abc')
    expect(formatMoney(null)).toBe('')
  })

  it('checks passwords like the server (gateway/security.py)', () => {
    expect(passwordProblems('Editor#2026', 'dc_editor')).toEqual([])
    expect(passwordProblems('Ab#1', 'x')).toEqual(['length'])
    expect(passwordProblems('abcdefgh1', 'x')).toEqual(['classes'])
    expect(passwordProblems('abcdefgH1', 'x')).toEqual([])
    expect(passwordProblems('abcdefg#1', 'x')).toEqual([])
    expect(passwordProblems('Xdc_Editor9', 'dc_editor')).toEqual(['username'])
    expect(passwordProblems('密码密码密码密码A1', 'x')).toEqual(['classes'])
    expect(passwordProblems('a'.repeat(126) + 'A1#', 'x')).toEqual(['max'])
  })
})
