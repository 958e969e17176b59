/** Exact money arithmetic in fen for the live line amounts and totals (src/views/oms/money.ts): never a float. */
import { describe, expect, it } from 'vitest'

import {
  absMoney,
  compareMoney,
  fromFen,
  isMoney,
  isZeroMoney,
  lineAmount,
  MoneyFormatError,
  subtractMoney,
  sumMoney,
  toFen,
  trySumMoney,
} from '@/views/oms/money'

describe('fen conversion', () => {
  it('reads decimal strings with at most two places', () => {
    expect(toFen('12.50')).toBe(1250n)
    expect(toFen('12.5')).toBe(1250n)
    expect(toFen('12')).toBe(1200n)
    expect(toFen('0.05')).toBe(5n)
    expect(toFen('-3.00')).toBe(-300n)
    expect(toFen(' 7.10 ')).toBe(710n)
    expect(toFen('99999999999.99')).toBe(9999999999999n)
  })

  it('refuses anything else: three decimals, exponents, floats, empty', () => {
    for (const bad of ['2.345', '1e3', '', ' ', 'abc', '1.', '.5', '1,000.00', 'NaN', 'Infinity']) {
      expect(() => toFen(bad), bad).toThrow(MoneyFormatError)
      expect(isMoney(bad), bad).toBe(false)
    }
    expect(() => toFen(12.5 as unknown as string)).toThrow(MoneyFormatError)
    expect(isMoney(12.5)).toBe(false)
  })

  it('writes fen back with two places and a sign', () => {
    expect(fromFen(1250n)).toBe('12.50')
    expect(fromFen(5n)).toBe('0.05')
    expect(fromFen(0n)).toBe('0.00')
    expect(fromFen(-5n)).toBe('-0.05')
    expect(fromFen(-1234567n)).toBe('-12345.67')
  })
})

describe('line amounts and totals', () => {
  it('multiplies without float error', () => {
    expect(lineAmount('0.10', 3)).toBe('0.30') // 0.1 * 3 = 0.30000000000000004 in floats
    expect(lineAmount('33.33', 3)).toBe('99.99')
    expect(lineAmount('1.15', '100')).toBe('115.00') // 1.15 * 100 = 114.99999999999999 in floats
    expect(lineAmount('0.07', 9999)).toBe('699.93')
    expect(lineAmount('99999999.99', 9999)).toBe('999899999900.01') // beyond 2^53 fen would be lost in floats
  })

  it('refuses a fractional or malformed quantity and a price with three decimals', () => {
    expect(() => lineAmount('1.00', 1.5)).toThrow(MoneyFormatError)
    expect(() => lineAmount('1.00', '2.0')).toThrow(MoneyFormatError)
    expect(() => lineAmount('1.00', '-1')).toThrow(MoneyFormatError)
    expect(() => lineAmount('2.345', 1)).toThrow(MoneyFormatError)
  })

  it('adds exactly', () => {
    expect(sumMoney(['0.10', '0.20'])).toBe('0.30') // 0.1 + 0.2 = 0.30000000000000004 in floats
    expect(sumMoney(['33.33', '33.33', '33.33'])).toBe('99.99')
    expect(sumMoney([])).toBe('0.00')
    expect(sumMoney(['30.00', '-30.00', '12.5'])).toBe('12.50')
    expect(trySumMoney(['1.00', 'x'])).toBeNull()
  })

  it('subtracts, compares and drops signs', () => {
    expect(subtractMoney('100.00', '99.99')).toBe('0.01')
    expect(subtractMoney('0.00', '0.01')).toBe('-0.01')
    expect(compareMoney('1.5', '1.50')).toBe(0)
    expect(compareMoney('1.49', '1.5')).toBe(-1)
    expect(compareMoney('-1', '0')).toBe(-1)
    expect(compareMoney('10', '9.99')).toBe(1)
    expect(isZeroMoney('0.00')).toBe(true)
    expect(isZeroMoney('-0.00')).toBe(true)
    expect(absMoney('-12.00')).toBe('12.00')
    expect(absMoney('3.1')).toBe('3.10')
  })
})
