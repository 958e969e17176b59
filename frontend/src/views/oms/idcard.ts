/**
 * Personal identifiers as the outpatient screens check and show them — the same rules as the server:
 *
 * - 居民身份证号 (GB 11643-1999): 17 digits and a check character. The check character is
 *   `"10X98765432"[Σ(digit_i × weight_i) mod 11]` with weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; digits 7–14 are
 *   the birth date (YYYYMMDD), the 17th is odd for men and even for women. A lower-case x is accepted and shown
 *   upper-case.
 * - Phone: a mainland mobile `1[3-9]` + 9 digits, or a landline `0` + 2–3 digit area code, optional `-`, 7–8 digits.
 * - Masking (PIPL: full numbers only where the task needs them): `110101********1234`, `138****0000`.
 */

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const
const CHECK_CHARS = '10X98765432'

/** The earliest birth date the server accepts. */
export const MIN_BIRTH_DATE = '1900-01-01'

export const MOBILE_PATTERN = /^1[3-9]\d{9}$/
export const LANDLINE_PATTERN = /^0\d{2,3}-?\d{7,8}$/

/** Trimmed and upper-cased (a typed lower-case x becomes X). */
export function normalizeIdCard(value: string): string {
  return value.trim().toUpperCase()
}

/** The check character for the first 17 digits, or null when they are not 17 digits. */
export function checkCharacter(first17: string): string | null {
  if (!/^\d{17}$/.test(first17)) return null
  let sum = 0
  for (let i = 0; i < 17; i += 1) sum += Number(first17[i]) * WEIGHTS[i]!
  return CHECK_CHARS[sum % 11]!
}

/** A real calendar date `YYYY-MM-DD` (no 2026-02-30)? */
export function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  if (!match) return false
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])]
  if (month < 1 || month > 12 || day < 1) return false
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!
  return day <= days
}

/** The birth date written in the number (`YYYY-MM-DD`), or null if the number's shape or date is not valid. */
export function birthDateOf(idCard: string): string | null {
  const value = normalizeIdCard(idCard)
  if (!/^\d{17}[\dX]$/.test(value)) return null
  const date = `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`
  return isCalendarDate(date) ? date : null
}

/** male / female from the 17th digit (odd = male), or null for a malformed number. */
export function genderOf(idCard: string): 'male' | 'female' | null {
  const value = normalizeIdCard(idCard)
  if (!/^\d{17}[\dX]$/.test(value)) return null
  return Number(value[16]) % 2 === 1 ? 'male' : 'female'
}

export type IdCardProblem = 'length' | 'format' | 'checksum' | 'birth_date'

/**
 * What is wrong with an ID-card number (blank is not checked here: the field is optional), or null.
 * `today` (`YYYY-MM-DD`, the hospital's day) bounds the birth date it contains.
 */
export function idCardProblem(value: string, today: string): IdCardProblem | null {
  const text = normalizeIdCard(value)
  if ([...text].length !== 18) return 'length'
  if (!/^\d{17}[\dX]$/.test(text)) return 'format'
  if (checkCharacter(text.slice(0, 17)) !== text[17]) return 'checksum'
  const birth = birthDateOf(text)
  if (!birth || birth < MIN_BIRTH_DATE || birth > today) return 'birth_date'
  return null
}

export function isValidIdCard(value: string, today: string): boolean {
  return idCardProblem(value, today) === null
}

/** Mobile or landline, after trimming. */
export function isValidPhone(value: string): boolean {
  const text = value.trim()
  return MOBILE_PATTERN.test(text) || LANDLINE_PATTERN.test(text)
}

/** `110101199003071234` → `110101********1234` (first 6, last 4); short or empty values are masked whole. */
export function maskIdCard(value: string | null | undefined): string {
  if (!value) return ''
  const text = value.trim()
  if (text.length < 11) return '*'.repeat(text.length)
  return `${text.slice(0, 6)}${'*'.repeat(text.length - 10)}${text.slice(-4)}`
}

/** `13800000000` → `138****0000`; `010-12345678` → `010-****5678`; shorter values keep only their last 2. */
export function maskPhone(value: string | null | undefined): string {
  if (!value) return ''
  const text = value.trim()
  if (MOBILE_PATTERN.test(text)) return `${text.slice(0, 3)}****${text.slice(-4)}`
  const landline = /^(0\d{2,3}-?)(\d+)$/.exec(text)
  if (landline && landline[2]!.length > 4) {
    return `${landline[1]}${'*'.repeat(landline[2]!.length - 4)}${landline[2]!.slice(-4)}`
  }
  return text.length <= 2 ? '*'.repeat(text.length) : `${'*'.repeat(text.length - 2)}${text.slice(-2)}`
}
