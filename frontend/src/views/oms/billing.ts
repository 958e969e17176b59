/**
 * The cashier's view of a registration's bill (BillingOut), as pure functions: which documents each cashier
 * screen handles (项目缴费: the registration fee and item orders; 药品缴费: prescriptions), what can be paid or
 * refunded and why not, per-screen sums (exact, in fen), the lines of an item order that can be refunded, the
 * actions a registration row offers, and what a cashier's search text looks like.
 */
import type {
  BillingDocument,
  BillingOut,
  ItemOrderLine,
  PaymentOut,
  PaymentTarget,
  RegistrationStatus,
} from '@/api/oms'

import { fromFen, sumMoney, toFen } from './money'

/** Which cashier screen: item payments (registration fees and item orders) or drug payments (prescriptions). */
export type CashierKind = 'item' | 'drug'

export const KIND_TARGETS: Record<CashierKind, readonly PaymentTarget[]> = {
  item: ['registration', 'item_order'],
  drug: ['prescription'],
}

/** A document waiting to be paid: a registration pending payment, an unpaid prescription or item order. */
export function isPayable(doc: Pick<BillingDocument, 'target' | 'status'>): boolean {
  return doc.target === 'registration' ? doc.status === 'pending_payment' : doc.status === 'unpaid'
}

/** Something of it can still be refunded (the server says how much). */
export function isRefundable(doc: Pick<BillingDocument, 'refundable_amount'>): boolean {
  try {
    return toFen(doc.refundable_amount) > 0n
  } catch {
    return false
  }
}

/**
 * Why a paid document cannot be refunded (the error code the server would answer, for its translated message),
 * or null when it can, or when there is nothing paid to refund.
 */
export function refundBlockedBy(doc: Pick<BillingDocument, 'target' | 'status' | 'refundable_amount'>): string | null {
  if (isRefundable(doc)) return null
  if (doc.target === 'registration' && doc.status === 'visited') return 'registration.visited'
  if (doc.target === 'prescription' && doc.status === 'dispensed') return 'prescription.dispensed'
  if (doc.target === 'item_order' && doc.status === 'paid') return 'item.examined'
  return null
}

/** The documents a screen handles, in the server's order. */
export function documentsFor(billing: Pick<BillingOut, 'documents'>, kind: CashierKind): BillingDocument[] {
  const targets = KIND_TARGETS[kind]
  return billing.documents.filter((doc) => targets.includes(doc.target))
}

export interface BillingSummary {
  total: string
  paid: string
  unpaid: string
  refundable: string
}

/** Sums over some documents (exact): what they cost, what is paid (net), what waits, what could be refunded. */
export function summarize(documents: readonly BillingDocument[]): BillingSummary {
  const live = documents.filter((d) => !['cancelled'].includes(d.status))
  return {
    total: sumMoney(live.map((d) => d.total_amount)),
    paid: sumMoney(documents.map((d) => d.paid_amount)),
    unpaid: sumMoney(documents.filter(isPayable).map((d) => d.total_amount)),
    refundable: sumMoney(documents.map((d) => d.refundable_amount)),
  }
}

/** The ledger's totals: payments, refunds (as a positive figure) and net. */
export function ledgerTotals(payments: readonly Pick<PaymentOut, 'amount'>[]): {
  paid: string
  refunded: string
  net: string
} {
  let paid = 0n
  let refunded = 0n
  for (const payment of payments) {
    const fen = toFen(payment.amount)
    if (fen >= 0n) paid += fen
    else refunded -= fen
  }
  return { paid: fromFen(paid), refunded: fromFen(refunded), net: fromFen(paid - refunded) }
}

// --- item-order refunds ----------------------------------------------------------------------------------------

export type LineRefundReason = 'examined' | 'not_paid' | 'refunded' | 'cancelled'

/** Whether a line can be refunded, and if not, why (translated as `oms.cashier.line_reason.<reason>`). */
export function lineRefundState(line: Pick<ItemOrderLine, 'status'>): { refundable: boolean; reason: LineRefundReason | null } {
  switch (line.status) {
    case 'paid':
      return { refundable: true, reason: null }
    case 'examined':
      return { refundable: false, reason: 'examined' }
    case 'unpaid':
      return { refundable: false, reason: 'not_paid' }
    case 'refunded':
      return { refundable: false, reason: 'refunded' }
    default:
      return { refundable: false, reason: 'cancelled' }
  }
}

/** The lines refunded when none are chosen: every paid line without a result (the server's default). */
export function defaultRefundLines(lines: readonly Pick<ItemOrderLine, 'id' | 'status'>[]): number[] {
  return lines.filter((line) => lineRefundState(line).refundable).map((line) => line.id)
}

/** What refunding the chosen lines gives back (only refundable ones count). */
export function refundAmountOf(lines: readonly Pick<ItemOrderLine, 'id' | 'status' | 'amount'>[],
  chosen: readonly number[]): string {
  const ids = new Set(chosen)
  return sumMoney(lines.filter((l) => ids.has(l.id) && lineRefundState(l).refundable).map((l) => l.amount))
}

// --- registration rows -------------------------------------------------------------------------------------------

export interface RegistrationActions {
  pay: boolean
  cancel: boolean
  visit: boolean
  refund: boolean
}

/** What a registration in this state offers (the server still decides). */
export function registrationActions(status: RegistrationStatus): RegistrationActions {
  return {
    pay: status === 'pending_payment',
    cancel: status === 'pending_payment',
    visit: status === 'registered',
    refund: status === 'registered',
  }
}

// --- the cashier's search ----------------------------------------------------------------------------------------

/** What the cashier typed: a prescription number (RX…), an item-order number (XM…), or anything else (a
 * registration number, patient name or number) for the registration search. */
export function searchTarget(text: string): 'prescription' | 'item_order' | 'registration' {
  const value = text.trim().toUpperCase()
  if (/^RX\d/.test(value)) return 'prescription'
  if (/^XM\d/.test(value)) return 'item_order'
  return 'registration'
}
