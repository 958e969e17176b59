/**
 * The data-center form rules (src/views/dbs/validation.ts) against the server's (services/dbs/schemas.py):
 * codes, names and texts, money (≥ 0, two decimals, 10 integer digits), counts, phones, enums and references,
 * and the Element Plus rules built from them (translated messages, including after a language switch).
 */
import { afterEach, describe, expect, it } from 'vitest'

import { i18n, setLocale } from '@/i18n'
import { ENTITY_CONFIGS, type AnyField } from '@/views/dbs/entities'
import {
  codeProblem,
  countProblem,
  moneyProblem,
  phoneProblem,
  problemOf,
  rulesOf,
  textProblem,
} from '@/views/dbs/validation'

afterEach(() => setLocale('zh-CN'))

const key = (p: { key: string } | null) => p?.key.replace('dbs.validation.', '') ?? null

function field(namespace: keyof typeof ENTITY_CONFIGS, name: string): AnyField {
  const found = (ENTITY_CONFIGS[namespace].fields as AnyField[]).find((f) => f.name === name)
  if (!found) throw new Error(`${namespace}.${name}`)
  return found
}

describe('codes: ^[A-Za-z0-9_-]{1,32}$ after trimming', () => {
  it('accepts what the server accepts', () => {
    for (const code of ['NK', 'nk01', 'A_B-9', ' NK01 ', 'x'.repeat(32)]) expect(codeProblem(code), code).toBeNull()
  })

  it('refuses what the server refuses, saying why', () => {
    expect(key(codeProblem(''))).toBe('required')
    expect(key(codeProblem('   '))).toBe('required')
    expect(key(codeProblem('x'.repeat(33)))).toBe('too_long')
    expect(codeProblem('x'.repeat(33))?.params).toEqual({ max: 32 })
    for (const code of ['内科', 'N K', 'NK.01', 'NK/1', 'a+b']) expect(key(codeProblem(code)), code).toBe('code_format')
  })
})

describe('money: ≥ 0, at most two decimals, at most 10 integer digits', () => {
  it('accepts plain amounts', () => {
    for (const amount of ['0', '0.00', '12', '12.5', '12.50', ' 12.50 ', '0012.5', '9999999999.99']) {
      expect(moneyProblem(amount), amount).toBeNull()
    }
  })

  it('refuses negative amounts, three decimals, too many digits and anything that is not a number', () => {
    expect(key(moneyProblem(''))).toBe('required')
    expect(key(moneyProblem('-1'))).toBe('money_negative')
    expect(key(moneyProblem('-0.5'))).toBe('money_negative')
    expect(key(moneyProblem('12.345'))).toBe('money_decimals')
    expect(key(moneyProblem('0.001'))).toBe('money_decimals')
    expect(key(moneyProblem('12345678901'))).toBe('money_too_large')
    expect(key(moneyProblem('00012345678901.5'))).toBe('money_too_large')
    for (const text of ['abc', '12,50', '¥12', '1e3', '12.', '.5', '1 000', '12.5.1', 'NaN']) {
      expect(key(moneyProblem(text)), text).toBe('money_format')
    }
  })

  it('applies to every money field of every catalogue', () => {
    for (const [namespace, name] of [['registration-types', 'fee'], ['medical-items', 'price'],
      ['drugs', 'retail_price'], ['devices', 'retail_price']] as const) {
      expect(key(problemOf(field(namespace, name), '1.234')), name).toBe('money_decimals')
      expect(key(problemOf(field(namespace, name), '-2')), name).toBe('money_negative')
      expect(problemOf(field(namespace, name), '2.5'), name).toBeNull()
    }
  })
})

describe('counts, texts, phones, enums, references', () => {
  it('takes low-stock thresholds as whole numbers 0 … 1 000 000 000', () => {
    expect(countProblem('0')).toBeNull()
    expect(countProblem('1000000000')).toBeNull()
    expect(key(countProblem('1000000001'))).toBe('count_range')
    expect(key(countProblem('-1'))).toBe('count_format')
    expect(key(countProblem('1.5'))).toBe('count_format')
    expect(key(countProblem(''))).toBe('required')
  })

  it('counts text lengths in characters as Python does, after trimming', () => {
    expect(textProblem('内'.repeat(64), true, 64)).toBeNull()
    expect(key(textProblem('内'.repeat(65), true, 64))).toBe('too_long')
    expect(textProblem('😀'.repeat(32), true, 32)).toBeNull() // 64 UTF-16 units, 32 code points
    expect(textProblem(`  ${'a'.repeat(64)}  `, true, 64)).toBeNull()
    expect(key(textProblem('  ', true, 64))).toBe('required')
    expect(textProblem('  ', false, 64)).toBeNull()
    expect(key(problemOf(field('drugs', 'dosage_form'), 'x'.repeat(33)))).toBe('too_long')
    expect(key(problemOf(field('suppliers', 'address'), 'x'.repeat(256)))).toBe('too_long')
    expect(problemOf(field('suppliers', 'address'), 'x'.repeat(255))).toBeNull()
    expect(problemOf(field('drugs', 'generic_name'), '')).toBeNull()
    expect(key(problemOf(field('drugs', 'specification'), ''))).toBe('required')
  })

  it('checks phones like the server: optional, [+0-9][0-9 +-]{3,18}[0-9]', () => {
    for (const phone of ['', '  ', '12345', '+86 138-0000-0000', '021-63211234', ' 13800000000 ']) {
      expect(phoneProblem(phone), phone).toBeNull()
    }
    for (const phone of ['1234', '123 ', 'abc12345', '138-0000-', '-13800000000', '1'.repeat(21), '138 0000 00x0']) {
      expect(key(phoneProblem(phone)), phone).toBe('phone_format')
    }
  })

  it('requires enum values and required references, but not nullable ones', () => {
    expect(key(problemOf(field('departments', 'kind'), ''))).toBe('select_required')
    expect(key(problemOf(field('departments', 'kind'), 'hospital'))).toBe('select_required')
    expect(problemOf(field('departments', 'kind'), 'medical_technical')).toBeNull()
    expect(key(problemOf(field('doctors', 'department_id'), null))).toBe('select_required')
    expect(problemOf(field('doctors', 'department_id'), 3)).toBeNull()
    expect(problemOf(field('doctors', 'registration_type_id'), null)).toBeNull()
    expect(problemOf(field('drugs', 'prescription_only'), false)).toBeNull()
  })
})

describe('Element Plus rules', () => {
  async function run(rule: ReturnType<typeof rulesOf>[number], value: unknown): Promise<string | null> {
    return new Promise((done) => {
      rule.validator!(rule, value, (error?: string | Error) => done(error ? String((error as Error).message ?? error)
        : null), {}, {})
    })
  }

  it('fail with a translated message that names the field, in the current language', async () => {
    const [rule] = rulesOf(field('drugs', 'retail_price'), i18n.global.t)
    expect(await run(rule!, '1.999')).toBe('金额最多保留两位小数')
    expect(await run(rule!, '')).toBe('请输入零售价')
    expect(await run(rule!, '19.90')).toBeNull()
    setLocale('en')
    const [english] = rulesOf(field('drugs', 'retail_price'), i18n.global.t)
    expect(await run(english!, '')).toBe('Retail price is required')
    expect(await run(english!, '-1')).toBe('The amount cannot be negative')
  })

  it('mark required fields as required and validate selects on change', () => {
    expect(rulesOf(field('doctors', 'department_id'), i18n.global.t)[0]).toMatchObject({ required: true,
      trigger: 'change' })
    expect(rulesOf(field('doctors', 'registration_type_id'), i18n.global.t)[0]).toMatchObject({ required: false })
    expect(rulesOf(field('handlers', 'phone'), i18n.global.t)[0]).toMatchObject({ required: false, trigger: 'blur' })
    expect(rulesOf(field('handlers', 'code'), i18n.global.t)[0]).toMatchObject({ required: true })
  })
})
