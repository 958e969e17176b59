/**
 * The printed receipt (收费票据) of a ledger entry, as a plain model the receipt dialog renders: hospital, receipt
 * number, patient, the document paid or refunded, its lines, amount, method, cashier and time. A refund's receipt
 * shows the refunded amount as a positive figure under a "refund" title (the ledger entry itself is negative).
 */
import type { PaymentKind, PaymentMethod, PaymentOut, PaymentTarget } from '@/api/oms'

import { absMoney, trySumMoney, toFen } from './money'

export interface ReceiptLine {
  name: string
  /** Positive, as printed. */
  amount: string
}

export interface ReceiptModel {
  hospital: string
  kind: PaymentKind
  paymentNo: string
  patientName: string
  registrationNo: string
  target: PaymentTarget
  targetNo: string
  lines: ReceiptLine[]
  /** Positive, as printed. */
  amount: string
  /** The ledger's signed amount ("-30.00" for a refund), for `data-amount`. */
  signedAmount: string
  method: PaymentMethod
  cashier: string
  createdAt: string
  reason: string | null
  /** The lines add up to the amount (a receipt whose lines do not is still shown, and flagged). */
  consistent: boolean
}

/** Builds the receipt of `payment`. `hospital` is the name printed at the top. */
export function buildReceipt(payment: PaymentOut, hospital: string): ReceiptModel {
  const lines = (payment.lines ?? []).map((line) => ({ name: line.name, amount: safeAbs(line.amount) }))
  const amount = safeAbs(payment.amount)
  const sum = trySumMoney(lines.map((l) => l.amount))
  let consistent = false
  try {
    consistent = lines.length === 0 || (sum !== null && toFen(sum) === toFen(amount))
  } catch {
    consistent = false
  }
  return {
    hospital,
    kind: payment.kind,
    paymentNo: payment.payment_no,
    patientName: payment.patient_name,
    registrationNo: payment.registration_no,
    target: payment.target,
    targetNo: payment.target_no,
    lines,
    amount,
    signedAmount: payment.amount,
    method: payment.method,
    cashier: payment.cashier_name ?? (payment.cashier_id === null ? '' : String(payment.cashier_id)),
    createdAt: payment.created_at,
    reason: payment.reason,
    consistent,
  }
}

function safeAbs(value: string): string {
  try {
    return absMoney(value)
  } catch {
    return value
  }
}
