/**
 * Display formats. The API sends times in UTC (ISO 8601) and money as strings with two decimals ("12.50",
 * ARCHITECTURE §4); the UI shows times in the browser's local time and money as ¥12.50 without ever going
 * through a float.
 */
import { currentLocale } from '@/i18n'

/** `2026-11-25T08:30:00Z` → `2026/11/25 16:30:00` (zh-CN, local time) or `11/25/2026, 4:30:00 PM` (en). */
export function formatDateTime(value: string | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return ''
  const date = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(date.getTime())) return String(value)
  return new Intl.DateTimeFormat(currentLocale(), {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    hour12: currentLocale() === 'en',
  }).format(date)
}

/** A calendar date (`2026-11-25`) is shown as is: it has no time zone. */
export function formatDate(value: string | null | undefined): string {
  return value ?? ''
}

const MONEY = /^(-)?(\d+)(?:\.(\d{1,2}))?$/

/**
 * `"12.5"` → `¥12.50`, `"1234.00"` → `¥1,234.00`, `"-3"` → `-¥3.00`. Strings (as the API sends) are formatted
 * digit by digit; a value that is not a plain decimal with at most two places is shown unchanged.
 */
export function formatMoney(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return ''
  const text = typeof value === 'number' ? String(value) : value.trim()
  const match = MONEY.exec(text)
  if (!match) return String(value)
  const [, sign, whole, fraction = ''] = match
  const grouped = whole!.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const isZero = /^0*$/.test(whole!) && /^0*$/.test(fraction)
  return `${sign && !isZero ? '-' : ''}¥${grouped}.${fraction.padEnd(2, '0')}`
}
