/**
 * Idempotency keys for payments and refunds (src/views/oms/action-keys.ts): one per user action, the same key when
 * that action is retried after an unknown outcome, a new one after a known outcome — and through the real HTTP
 * layer, the header the server receives.
 */
import MockAdapter from 'axios-mock-adapter'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { ApiError } from '@/api/errors'
import { http } from '@/api/http'
import * as oms from '@/api/oms'
import { ActionKeys, outcomeUnknown, paymentAction, refundAction } from '@/views/oms/action-keys'

import { envelope } from './helpers'

function counter() {
  let n = 0
  return () => `key-${++n}`
}

describe('action keys', () => {
  it('keeps the key after an unknown outcome and reuses it on retry', () => {
    const keys = new ActionKeys(counter())
    const action = paymentAction('registration', 42, 'cash')
    expect(keys.keyFor(action)).toBe('key-1')
    keys.failed(action, new ApiError(0, 'network.timeout', 'timeout'))
    expect(keys.keyFor(action)).toBe('key-1')
    keys.failed(action, new ApiError(503, 'service.unavailable', 'down'))
    expect(keys.keyFor(action)).toBe('key-1')
    keys.failed(action, new ApiError(409, 'idempotency.in_progress', 'busy'))
    expect(keys.pending(action)).toBe('key-1')
    keys.settle(action)
    expect(keys.keyFor(action)).toBe('key-2') // a new click after success is a new payment attempt
  })

  it('drops the key after a refusal, and separates actions by body', () => {
    const keys = new ActionKeys(counter())
    const cash = paymentAction('item_order', 3, 'cash')
    const card = paymentAction('item_order', 3, 'card')
    expect(keys.keyFor(cash)).toBe('key-1')
    expect(keys.keyFor(card)).toBe('key-2')
    keys.failed(cash, new ApiError(409, 'payment.already_paid', 'paid'))
    expect(keys.pending(cash)).toBeNull()
    expect(keys.pending(card)).toBe('key-2')
    expect(refundAction('item_order', 3, [3, 1])).toBe(refundAction('item_order', 3, [1, 3]))
    expect(refundAction('item_order', 3, [1])).not.toBe(refundAction('item_order', 3, [1, 3]))
    expect(refundAction('prescription', 3, [], '退药')).not.toBe(refundAction('prescription', 3, [], ''))
  })

  it('classifies outcomes', () => {
    expect(outcomeUnknown(new ApiError(0, 'network.error', 'x'))).toBe(true)
    expect(outcomeUnknown(new ApiError(500, 'internal.error', 'x'))).toBe(true)
    expect(outcomeUnknown(new ApiError(504, 'http.no_envelope', 'x'))).toBe(true)
    expect(outcomeUnknown(new ApiError(409, 'refund.exceeds_paid', 'x'))).toBe(false)
    expect(outcomeUnknown(new ApiError(422, 'validation.failed', 'x'))).toBe(false)
    expect(outcomeUnknown(new Error('weird'))).toBe(true)
  })
})

describe('payments over HTTP', () => {
  let mock: MockAdapter
  beforeEach(() => {
    mock = new MockAdapter(http)
  })
  afterEach(() => mock.restore())

  it('sends the same Idempotency-Key when a timed-out payment is retried, a new one for the next payment', async () => {
    const seen: string[] = []
    const bodies: unknown[] = []
    let calls = 0
    mock.onPost('/api/outpatient/payments').reply((config) => {
      seen.push(String(config.headers?.['Idempotency-Key']))
      bodies.push(JSON.parse(String(config.data)))
      calls += 1
      if (calls === 1) return [504, '<html>gateway timeout</html>']
      return [201, { id: calls, payment_no: `SF20261125-0000${calls}` }]
    })
    const keys = new ActionKeys()
    const action = paymentAction('registration', 42, 'wechat')
    const pay = () => keys.run(action, (key) =>
      oms.createPayment({ target: 'registration', target_id: 42, method: 'wechat' }, key))
    await expect(pay()).rejects.toMatchObject({ status: 504 })
    await expect(pay()).resolves.toMatchObject({ payment_no: 'SF20261125-00002' })
    await pay()
    expect(seen[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(seen[1]).toBe(seen[0])
    expect(seen[2]).not.toBe(seen[0])
    // the client never sends an amount
    expect(bodies[0]).toEqual({ target: 'registration', target_id: 42, method: 'wechat' })
  })

  it('sends refunds with their key and body', async () => {
    mock.onPost('/api/outpatient/item-orders/3/refund').reply((config) => {
      expect(config.headers?.['Idempotency-Key']).toBe('k-1')
      expect(JSON.parse(String(config.data))).toEqual({ line_ids: [1, 3], reason: '未做' })
      return [201, { id: 1, amount: '-0.30' }]
    })
    mock.onPost('/api/outpatient/registrations/42/refund').reply(409, envelope('registration.visited'))
    await expect(oms.refundItemOrder(3, { line_ids: [1, 3], reason: '未做' }, 'k-1')).resolves.toMatchObject({ amount: '-0.30' })
    await expect(oms.refundRegistration(42, {}, 'k-2')).rejects.toMatchObject({ status: 409, code: 'registration.visited' })
  })
})
