/** ID-card (GB 11643) check character and birth date, phone rules and masking (src/views/oms/idcard.ts, dates.ts). */
import { describe, expect, it } from 'vitest'

import { hospitalToday } from '@/views/oms/dates'
import {
  birthDateOf,
  checkCharacter,
  genderOf,
  idCardProblem,
  isCalendarDate,
  isValidIdCard,
  isValidPhone,
  maskIdCard,
  maskPhone,
  normalizeIdCard,
} from '@/views/oms/idcard'

const TODAY = '2026-11-25'

describe('ID-card check character', () => {
  it('computes the GB 11643 check character', () => {
    expect(checkCharacter('11010119900307123')).toBe('3')
    expect(checkCharacter('44030420000229002')).toBe('2')
    expect(checkCharacter('11010519491231002')).toBe('X')
    expect(checkCharacter('1101011990030712')).toBeNull()
    expect(checkCharacter('1101011990030712A')).toBeNull()
  })

  it('accepts valid numbers, lower-case x included', () => {
    expect(idCardProblem('110101199003071233', TODAY)).toBeNull()
    expect(idCardProblem('11010519491231002X', TODAY)).toBeNull()
    expect(idCardProblem('11010519491231002x', TODAY)).toBeNull()
    expect(idCardProblem(' 440304200002290022 ', TODAY)).toBeNull() // 2000-02-29 exists
    expect(normalizeIdCard(' 11010519491231002x ')).toBe('11010519491231002X')
    expect(isValidIdCard('110101199003071233', TODAY)).toBe(true)
  })

  it('names what is wrong', () => {
    expect(idCardProblem('11010119900307123', TODAY)).toBe('length')
    expect(idCardProblem('1101011990030712334', TODAY)).toBe('length')
    expect(idCardProblem('1101011990030712X3', TODAY)).toBe('format')
    expect(idCardProblem('11010119900307123Y', TODAY)).toBe('format')
    expect(idCardProblem('110101199003071234', TODAY)).toBe('checksum') // last digit off by one
    expect(idCardProblem('110101199003071243', TODAY)).toBe('checksum') // two digits swapped
    // a correct check character over an impossible or future date
    const feb30 = '1101011990023012' + '3'
    expect(idCardProblem(feb30 + checkCharacter(feb30)!, TODAY)).toBe('birth_date')
    const future = '31011520270101123'
    expect(idCardProblem(future + checkCharacter(future)!, TODAY)).toBe('birth_date')
    const old = '11010118991231123'
    expect(idCardProblem(old + checkCharacter(old)!, TODAY)).toBe('birth_date')
  })

  it('reads the birth date and gender', () => {
    expect(birthDateOf('110101199003071233')).toBe('1990-03-07')
    expect(birthDateOf('11010519491231002x')).toBe('1949-12-31')
    expect(birthDateOf('1101011990030712')).toBeNull()
    expect(birthDateOf('110101199013071233')).toBeNull() // month 13
    expect(genderOf('110101199003071233')).toBe('male') // 17th digit 3: odd
    expect(genderOf('440304200002290022')).toBe('female') // 17th digit 2: even
  })

  it('knows real calendar dates', () => {
    expect(isCalendarDate('2000-02-29')).toBe(true)
    expect(isCalendarDate('1900-02-29')).toBe(false)
    expect(isCalendarDate('2026-04-31')).toBe(false)
    expect(isCalendarDate('2026-4-1')).toBe(false)
  })
})

describe('phones', () => {
  it('accepts mainland mobiles and landlines', () => {
    for (const ok of ['13800000000', '19912345678', '010-12345678', '01012345678', '0755-1234567', ' 13800000000 ']) {
      expect(isValidPhone(ok), ok).toBe(true)
    }
    for (const bad of ['12800000000', '1380000000', '138000000001', '10-12345678', '010-123456', '+8613800000000', '']) {
      expect(isValidPhone(bad), bad).toBe(false)
    }
  })
})

describe('masking', () => {
  it('masks ID cards as 110101********1234', () => {
    expect(maskIdCard('110101199003071233')).toBe('110101********1233')
    expect(maskIdCard('11010519491231002X')).toBe('110105********002X')
    expect(maskIdCard(null)).toBe('')
    expect(maskIdCard('12345')).toBe('*****')
  })

  it('masks phones as 138****0000', () => {
    expect(maskPhone('13800000000')).toBe('138****0000')
    expect(maskPhone('010-12345678')).toBe('010-****5678')
    expect(maskPhone('0755-1234567')).toBe('0755-***4567')
    expect(maskPhone(undefined)).toBe('')
    expect(maskPhone('12')).toBe('**')
  })
})

describe('the hospital day', () => {
  it('is the date in Asia/Shanghai, whatever the browser zone', () => {
    expect(hospitalToday(new Date('2026-11-24T16:30:00Z'))).toBe('2026-11-25') // 00:30 in Shanghai
    expect(hospitalToday(new Date('2026-11-24T15:59:59Z'))).toBe('2026-11-24')
    expect(hospitalToday(new Date('2026-12-31T16:00:00Z'))).toBe('2027-01-01')
  })
})
