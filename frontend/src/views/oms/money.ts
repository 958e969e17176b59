/**
 * Exact money arithmetic for what the outpatient screens compute in the browser (live line amounts and totals of a
 * document being priced, sums of billing figures). Amounts are the API's decimal strings ("12.50"); they are
 * converted to whole fen as `bigint`, computed on, and turned back into strings. No value ever goes through a JS
 * float. The server's amounts stay authoritative: these are for display before saving.
 *
 *     lineAmount('0.10', 3)            // '0.30'
 *     sumMoney(['33.33', '33.33', '33.33'])   // '99.99'
 */

const MONEY = /^([+-])?(\d+)(?:\.(\d{1,2}))?$/

/** A decimal string with more than two places, a float, an exponent… — never guessed at, always refused. */
export class MoneyFormatError extends Error {
  constructor(value: unknown) {
    super(`Not a money amount: ${String(value)}`)
    this.name = 'MoneyFormatError'
  }
}

/** True for "12", "12.5", "12.50", "-3.00"; false for "2.345", "1e3", " ", 12.5 (a number). */
export function isMoney(value: unknown): value is string {
  return typeof value === 'string' && MONEY.test(value.trim())
}

/** "12.50" → 1250n; "-0.05" → -5n. Throws `MoneyFormatError` for anything that is not a ≤ 2-decimal string. */
export function toFen(value: string): bigint {
  if (typeof value !== 'string') throw new MoneyFormatError(value)
  const match = MONEY.exec(value.trim())
  if (!match) throw new MoneyFormatError(value)
  const [, sign, whole, fraction = ''] = match
  const fen = BigInt(whole!) * 100n + BigInt(fraction.padEnd(2, '0') || '0')
  return sign === '-' ? -fen : fen
}

/** 1250n → "12.50"; -5n → "-0.05"; 0n → "0.00". */
export function fromFen(fen: bigint): string {
  const negative = fen < 0n
  const magnitude = negative ? -fen : fen
  const whole = magnitude / 100n
  const fraction = (magnitude % 100n).toString().padStart(2, '0')
  return `${negative ? '-' : ''}${whole.toString()}.${fraction}`
}

/** A quantity as the line editor holds it: a whole number (number or digit string); anything else is refused. */
export function toQuantity(value: number | string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new MoneyFormatError(value)
    return BigInt(value)
  }
  const text = value.trim()
  if (!/^\d+$/.test(text)) throw new MoneyFormatError(value)
  return BigInt(text)
}

/**
 * quantity × unit price, in fen. Prices have at most two decimals and quantities are whole, so the product is
 * exact: there is nothing to round (the server rounds ROUND_HALF_UP at the fen and gets the same result).
 */
export function lineAmount(unitPrice: string, quantity: number | string): string {
  return fromFen(toFen(unitPrice) * toQuantity(quantity))
}

/** The exact sum of amounts ("0.00" for none). */
export function sumMoney(values: readonly string[]): string {
  return fromFen(values.reduce((sum, value) => sum + toFen(value), 0n))
}

/** a − b. */
export function subtractMoney(a: string, b: string): string {
  return fromFen(toFen(a) - toFen(b))
}

/** −1, 0 or 1, comparing the amounts' values ("1.5" equals "1.50"). */
export function compareMoney(a: string, b: string): -1 | 0 | 1 {
  const x = toFen(a)
  const y = toFen(b)
  return x < y ? -1 : x > y ? 1 : 0
}

export function isZeroMoney(value: string): boolean {
  return toFen(value) === 0n
}

/** The amount without its sign ("-12.00" → "12.00"): refunds are negative ledger entries. */
export function absMoney(value: string): string {
  const fen = toFen(value)
  return fromFen(fen < 0n ? -fen : fen)
}

/** Like `sumMoney`, but a value that is not money (a bad server value) makes the result null rather than throwing. */
export function trySumMoney(values: readonly string[]): string | null {
  try {
    return sumMoney(values)
  } catch {
    return null
  }
}
