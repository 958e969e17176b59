/**
 * Idempotency keys for the POSTs that move money (payments and refunds, ARCHITECTURE §4).
 *
 * One key per user action: the first click on "收费" for a document with a method makes a key; if that request's
 * outcome is unknown — no response, a timeout, a 5xx, or `idempotency.in_progress` — the key is kept, and clicking
 * again (a retry of the same action) sends the SAME key, so the server replays the first result instead of taking
 * the money twice. Once the outcome is known (success, or a refusal such as `payment.already_paid`) the key is
 * dropped and the next click is a new action with a new key.
 *
 * The action's identity is its target and body (e.g. `payment:item_order:7:cash`): choosing another method is a
 * different action (with the same key and another body the server would answer 409 `idempotency.key_reused`).
 *
 *     const keys = new ActionKeys()
 *     const key = keys.keyFor(`payment:${target}:${id}:${method}`)
 *     try { await oms.createPayment(body, key); keys.settle(action) }
 *     catch (error) { keys.failed(action, error) }
 */
import { isApiError } from '@/api/errors'
import { newIdempotencyKey } from '@/api/http'

/** Failures after which the server may or may not have done the work: retry with the same key. */
export function outcomeUnknown(error: unknown): boolean {
  if (!isApiError(error)) return true
  if (error.status === 0) return true // no response: network error or timeout
  if (error.code === 'idempotency.in_progress') return true
  return error.status >= 500
}

export class ActionKeys {
  private readonly keys = new Map<string, string>()

  constructor(private readonly make: () => string = newIdempotencyKey) {}

  /** The key for this action: the pending one if its last attempt's outcome is unknown, else a new one. */
  keyFor(action: string): string {
    let key = this.keys.get(action)
    if (!key) {
      key = this.make()
      this.keys.set(action, key)
    }
    return key
  }

  /** The action succeeded: the next click is a new action. */
  settle(action: string): void {
    this.keys.delete(action)
  }

  /** The action failed: keep the key only when the outcome is unknown (the retry must not pay twice). */
  failed(action: string, error: unknown): void {
    if (!outcomeUnknown(error)) this.keys.delete(action)
  }

  /** The key waiting for a retry of this action, if any (for display/tests). */
  pending(action: string): string | null {
    return this.keys.get(action) ?? null
  }

  /** Runs `work` with the action's key and settles or keeps the key by the outcome. */
  async run<T>(action: string, work: (key: string) => Promise<T>): Promise<T> {
    const key = this.keyFor(action)
    try {
      const result = await work(key)
      this.settle(action)
      return result
    } catch (error) {
      this.failed(action, error)
      throw error
    }
  }
}

/** The identity of a payment action. */
export function paymentAction(target: string, targetId: number, method: string): string {
  return `payment:${target}:${targetId}:${method}`
}

/** The identity of a refund action: its body (item orders: the chosen lines, in any order; the reason). */
export function refundAction(target: string, targetId: number, lineIds: readonly number[] = [], reason = ''): string {
  return `refund:${target}:${targetId}:${[...lineIds].sort((a, b) => a - b).join(',')}:${reason.trim()}`
}
