/** The cashier's billing view (src/views/oms/billing.ts) and the receipt model (receipt.ts). */
import { describe, expect, it } from 'vitest'

import type { BillingDocument, ItemOrderLine, PaymentOut } from '@/api/oms'
import {
  defaultRefundLines,
  documentsFor,
  isPayable,
  ledgerTotals,
  lineRefundState,
  refundAmountOf,
  refundBlockedBy,
  registrationActions,
  searchTarget,
  summarize,
} from '@/views/oms/billing'
import { buildReceipt } from '@/views/oms/receipt'

function doc(patch: Partial<BillingDocument>): BillingDocument {
  return { target: 'item_order', target_id: 1, target_no: 'XM20261125-00001', status: 'unpaid', total_amount: '0.00',
    paid_amount: '0.00', refundable_amount: '0.00', ...patch }
}

const DOCS: BillingDocument[] = [
  doc({ target: 'registration', target_no: 'R20261125-00042', status: 'registered', total_amount: '30.00',
    paid_amount: '30.00', refundable_amount: '30.00' }),
  doc({ target: 'item_order', target_no: 'XM20261125-00003', status: 'unpaid', total_amount: '260.10' }),
  doc({ target: 'item_order', target_no: 'XM20261125-00004', status: 'paid', total_amount: '0.30', paid_amount: '0.30',
    refundable_amount: '0.10' }),
  doc({ target: 'prescription', target_no: 'RX20261125-00007', status: 'unpaid', total_amount: '99.99' }),
  doc({ target: 'prescription', target_no: 'RX20261125-00008', status: 'dispensed', total_amount: '0.20',
    paid_amount: '0.20' }),
  doc({ target: 'prescription', target_no: 'RX20261125-00009', status: 'cancelled', total_amount: '5.00' }),
]

describe('billing by cashier screen', () => {
  it('splits the documents: item payments take the registration fee and item orders, drug payments prescriptions', () => {
    expect(documentsFor({ documents: DOCS }, 'item').map((d) => d.target_no))
      .toEqual(['R20261125-00042', 'XM20261125-00003', 'XM20261125-00004'])
    expect(documentsFor({ documents: DOCS }, 'drug').map((d) => d.target_no))
      .toEqual(['RX20261125-00007', 'RX20261125-00008', 'RX20261125-00009'])
  })

  it('sums exactly per screen', () => {
    expect(summarize(documentsFor({ documents: DOCS }, 'item')))
      .toEqual({ total: '290.40', paid: '30.30', unpaid: '260.10', refundable: '30.10' })
    expect(summarize(documentsFor({ documents: DOCS }, 'drug')))
      .toEqual({ total: '100.19', paid: '0.20', unpaid: '99.99', refundable: '0.00' })
  })

  it('knows what can be paid', () => {
    expect(isPayable(doc({ target: 'registration', status: 'pending_payment' }))).toBe(true)
    expect(isPayable(doc({ target: 'registration', status: 'registered' }))).toBe(false)
    expect(isPayable(doc({ status: 'unpaid' }))).toBe(true)
    expect(isPayable(doc({ status: 'paid' }))).toBe(false)
    expect(isPayable(doc({ target: 'prescription', status: 'cancelled' }))).toBe(false)
  })

  it('explains why a paid document cannot be refunded', () => {
    expect(refundBlockedBy(DOCS[0]!)).toBeNull()
    expect(refundBlockedBy(doc({ target: 'registration', status: 'visited', paid_amount: '30.00' })))
      .toBe('registration.visited')
    expect(refundBlockedBy(DOCS[4]!)).toBe('prescription.dispensed')
    expect(refundBlockedBy(doc({ status: 'paid', paid_amount: '5.00', refundable_amount: '0.00' }))).toBe('item.examined')
    expect(refundBlockedBy(DOCS[1]!)).toBeNull()
  })

  it('totals a ledger: payments, refunds as a positive figure, net', () => {
    expect(ledgerTotals([{ amount: '30.00' }, { amount: '0.10' }, { amount: '0.20' }, { amount: '-30.00' }]))
      .toEqual({ paid: '30.30', refunded: '30.00', net: '0.30' })
    expect(ledgerTotals([])).toEqual({ paid: '0.00', refunded: '0.00', net: '0.00' })
  })
})

describe('item-order refunds', () => {
  const lines = [
    { id: 1, status: 'paid', amount: '0.10' },
    { id: 2, status: 'examined', amount: '260.00' },
    { id: 3, status: 'paid', amount: '0.20' },
    { id: 4, status: 'refunded', amount: '1.00' },
  ] as Pick<ItemOrderLine, 'id' | 'status' | 'amount'>[]

  it('offers the paid lines without a result, and says why the others are not refundable', () => {
    expect(lines.map(lineRefundState)).toEqual([
      { refundable: true, reason: null }, { refundable: false, reason: 'examined' },
      { refundable: true, reason: null }, { refundable: false, reason: 'refunded' },
    ])
    expect(lineRefundState({ status: 'unpaid' })).toEqual({ refundable: false, reason: 'not_paid' })
    expect(defaultRefundLines(lines)).toEqual([1, 3])
  })

  it('previews the refund of the chosen lines (only refundable ones count)', () => {
    expect(refundAmountOf(lines, [1, 3])).toBe('0.30')
    expect(refundAmountOf(lines, [1, 2])).toBe('0.10')
    expect(refundAmountOf(lines, [])).toBe('0.00')
  })
})

describe('registration rows and the cashier search', () => {
  it('offers the actions of each state', () => {
    expect(registrationActions('pending_payment')).toEqual({ pay: true, cancel: true, visit: false, refund: false })
    expect(registrationActions('registered')).toEqual({ pay: false, cancel: false, visit: true, refund: true })
    for (const done of ['visited', 'cancelled', 'refunded'] as const) {
      expect(Object.values(registrationActions(done)).some(Boolean), done).toBe(false)
    }
  })

  it('recognises document numbers', () => {
    expect(searchTarget('RX20261125-00007')).toBe('prescription')
    expect(searchTarget(' rx2026')).toBe('prescription')
    expect(searchTarget('XM20261125-00003')).toBe('item_order')
    expect(searchTarget('R20261125-00042')).toBe('registration')
    expect(searchTarget('张三')).toBe('registration')
    expect(searchTarget('P00000042')).toBe('registration')
  })
})

describe('receipts', () => {
  const payment: PaymentOut = {
    id: 12, payment_no: 'SF20261125-00012', kind: 'payment', target: 'item_order', target_id: 3,
    target_no: 'XM20261125-00003', registration_id: 42, registration_no: 'R20261125-00042', patient_id: 5,
    patient_name: '张三', amount: '260.10', method: 'wechat', cashier_id: 9, cashier_name: '收费员甲',
    refund_of_id: null, reason: null, created_at: '2026-11-25T02:00:00Z',
    lines: [{ line_id: 1, name: '头部CT', amount: '260.00' }, { line_id: 2, name: '采血', amount: '0.10' }],
  }

  it('prints what was paid: receipt number, patient, lines, amount, method, cashier, time', () => {
    const receipt = buildReceipt(payment, '示例人民医院')
    expect(receipt).toMatchObject({ hospital: '示例人民医院', kind: 'payment', paymentNo: 'SF20261125-00012',
      patientName: '张三', registrationNo: 'R20261125-00042', target: 'item_order', targetNo: 'XM20261125-00003',
      amount: '260.10', signedAmount: '260.10', method: 'wechat', cashier: '收费员甲',
      createdAt: '2026-11-25T02:00:00Z', consistent: true })
    expect(receipt.lines).toEqual([{ name: '头部CT', amount: '260.00' }, { name: '采血', amount: '0.10' }])
  })

  it('prints a refund as a positive figure and keeps the signed amount', () => {
    const refund = buildReceipt({ ...payment, kind: 'refund', amount: '-0.10', refund_of_id: 12, reason: '未检查',
      lines: [{ line_id: 2, name: '采血', amount: '-0.10' }] }, 'H')
    expect(refund).toMatchObject({ kind: 'refund', amount: '0.10', signedAmount: '-0.10', reason: '未检查',
      consistent: true })
    expect(refund.lines).toEqual([{ name: '采血', amount: '0.10' }])
  })

  it('flags lines that do not add up, and falls back to the cashier id', () => {
    const odd = buildReceipt({ ...payment, amount: '1.00', cashier_name: null }, 'H')
    expect(odd.consistent).toBe(false)
    expect(odd.cashier).toBe('9')
  })
})
