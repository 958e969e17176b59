/**
 * The outpatient screens against a mocked API: the registration desk from department to receipt (and the same key
 * when a payment is retried), the patient form's checks and duplicate answers, the pricing editor's live total and
 * body, the cashier's bill and line refunds, the exam upload's checks, and hidden write controls for read-only
 * grants.
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import MockAdapter from 'axios-mock-adapter'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Component } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'

import type { Grant } from '@/api/gateway'
import { http } from '@/api/http'
import type {
  BillingOut,
  ExamOut,
  ItemOrderOut,
  OnDutySession,
  PatientDetail,
  PatientOut,
  PaymentOut,
  RegistrationOut,
} from '@/api/oms'
import CashierDesk from '@/components/oms/CashierDesk.vue'
import PatientFormDialog from '@/components/oms/PatientFormDialog.vue'
import PricingWorkbench from '@/components/oms/PricingWorkbench.vue'
import { i18n, setLocale } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import DailySummaryView from '@/views/oms/DailySummaryView.vue'
import ExamView from '@/views/oms/ExamView.vue'
import PatientDetailView from '@/views/oms/PatientDetailView.vue'
import RegistrationView from '@/views/oms/RegistrationView.vue'

import { envelope, resetStorage, tokenOut } from './helpers'

const confirmAction = vi.fn(async (..._args: unknown[]) => true)
vi.mock('@/utils/dialogs', () => ({ confirmAction: (...args: unknown[]) => confirmAction(...args) }))

const P = '/api/outpatient'
const WRITE: Grant[] = [{ archive: 'outpatient', level: 'write' }]
const READ: Grant[] = [{ archive: 'outpatient', level: 'read' }]
const KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

function session(patch: Partial<OnDutySession>): OnDutySession {
  return { id: 11, doctor_id: 3, doctor_name: '王医生', department_id: 1, department_name: '内科',
    schedule_date: '2026-11-25', session: 'morning', registration_type_id: 1, registration_type_name: '普通号',
    fee: '30.00', quota: 20, booked: 5, visited: 0, remaining: 15, status: 'open', note: null, created_at: '',
    updated_at: '', ...patch }
}

const PATIENT: PatientOut = { id: 5, patient_no: 'P00000005', name: '张三', gender: 'male', birth_date: '1990-03-07',
  age: 36, id_card_masked: '110101********1233', phone_masked: '138****0000', created_at: '2026-01-01T00:00:00Z' }

const REGISTRATION: RegistrationOut = { id: 42, registration_no: 'R20261125-00042', patient_id: 5, patient_name: '张三',
  patient_no: 'P00000005', schedule_id: 11, doctor_id: 3, doctor_name: '王医生', department_id: 1,
  department_name: '内科', visit_date: '2026-11-25', session: 'morning', registration_type_name: '普通号', fee: '30.00',
  status: 'pending_payment', created_at: '2026-11-25T01:00:00Z', paid_at: null, visited_at: null, cancelled_at: null,
  refunded_at: null, created_by: 7 }

function payment(patch: Partial<PaymentOut>): PaymentOut {
  return { id: 12, payment_no: 'SF20261125-00012', kind: 'payment', target: 'registration', target_id: 42,
    target_no: 'R20261125-00042', registration_id: 42, registration_no: 'R20261125-00042', patient_id: 5,
    patient_name: '张三', amount: '30.00', method: 'wechat', cashier_id: 7, cashier_name: '收费员', refund_of_id: null,
    reason: null, lines: [{ line_id: null, name: '普通号挂号费', amount: '30.00' }], created_at: '2026-11-25T01:01:00Z',
    ...patch }
}

let mock: MockAdapter
let wrapper: VueWrapper | null = null

beforeEach(() => {
  resetStorage()
  setActivePinia(createPinia())
  mock = new MockAdapter(http)
  confirmAction.mockClear()
  confirmAction.mockImplementation(async () => true)
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
  mock.restore()
  useAuthStore().stopIdleWatch()
  setLocale('zh-CN')
})

async function open(component: Component, grants: Grant[], props: Record<string, unknown> = {}): Promise<VueWrapper> {
  useAuthStore().applyTokens(tokenOut('1', { grants }))
  const router = createRouter({ history: createMemoryHistory(), routes: [
    { path: '/', component: { template: '<div />' } },
    { path: '/outpatient/patients', name: 'outpatient-patients', component: { template: '<div />' } },
    { path: '/outpatient/patients/:id', name: 'outpatient-patient', component: { template: '<div />' } },
  ] })
  wrapper = mount(component, { props, global: { plugins: [i18n, router] }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

function byTest(name: string): HTMLElement | null {
  return document.body.querySelector<HTMLElement>(`[data-test="${name}"]`)
}

async function click(name: string): Promise<void> {
  const element = byTest(name)
  if (!element) throw new Error(`no [data-test="${name}"]`)
  element.click()
  await flushPromises()
}

async function type(name: string, value: string): Promise<void> {
  const input = byTest(name) as HTMLInputElement
  if (!input) throw new Error(`no [data-test="${name}"]`)
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}

async function pause(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
  await flushPromises()
}

describe('registration desk', () => {
  beforeEach(() => {
    mock.onGet(`${P}/lookups/departments`).reply(200, { items: [{ id: 1, code: 'NK', name: '内科' }] })
    mock.onGet(`${P}/lookups/on-duty`).reply(200, { items: [
      session({ id: 11 }), session({ id: 12, doctor_name: '李医生', remaining: 0, booked: 20, fee: '50.00',
        registration_type_name: '专家号' }),
    ] })
    mock.onGet(`${P}/registrations`).reply(200, { items: [], total: 0, page: 1, size: 20 })
    mock.onGet(`${P}/patients`).reply(200, { items: [PATIENT], total: 1, page: 1, size: 10 })
  })

  async function chooseDepartment(page: VueWrapper): Promise<void> {
    const select = page.findAllComponents({ name: 'ElSelect' })
      .find((c) => c.attributes('data-test') === 'reg-department' || c.element.getAttribute('data-test') === 'reg-department')
    select!.vm.$emit('update:modelValue', 1)
    await flushPromises()
  }

  it('registers a patient, collects the fee with the chosen method and shows the receipt', async () => {
    mock.onPost(`${P}/registrations`).reply(201, REGISTRATION)
    mock.onPost(`${P}/payments`).reply(201, payment({}))
    const page = await open(RegistrationView, WRITE)
    await chooseDepartment(page)
    const onDuty = mock.history.get.find((r) => r.url === `${P}/lookups/on-duty`)!
    expect(onDuty.params).toMatchObject({ department_id: 1 })
    expect(onDuty.params.date).toMatch(/^\d{4}-\d{2}-\d{2}$/)

    // the full session cannot be chosen
    const full = byTest('reg-session-12') as HTMLButtonElement
    expect(full.dataset.remaining).toBe('0')
    expect(full.disabled).toBe(true)
    const open11 = byTest('reg-session-11')!
    expect(open11.dataset.remaining).toBe('15')
    expect((byTest('reg-submit') as HTMLButtonElement).disabled).toBe(true)
    await click('reg-session-11')
    expect(byTest('reg-fee')!.dataset.amount).toBe('30.00')
    expect(byTest('reg-fee')!.textContent).toContain('¥30.00')

    await type('reg-patient-search', '张三')
    await pause(350)
    expect(mock.history.get.find((r) => r.url === `${P}/patients`)!.params).toMatchObject({ q: '张三' })
    await click('reg-patient-result-5')
    expect(byTest('reg-patient-selected')!.dataset.patientId).toBe('5')

    await click('reg-submit')
    expect(JSON.parse(mock.history.post[0]!.data)).toEqual({ patient_id: 5, schedule_id: 11 })
    expect(byTest('reg-pay-body')!.dataset.registrationNo).toBe('R20261125-00042')

    await click('reg-pay-method-wechat')
    await click('reg-pay-submit')
    const pay = mock.history.post[1]!
    expect(pay.url).toBe(`${P}/payments`)
    expect(JSON.parse(pay.data)).toEqual({ target: 'registration', target_id: 42, method: 'wechat' })
    expect(pay.headers?.['Idempotency-Key']).toMatch(KEY)
    const receipt = byTest('receipt')!
    expect(receipt.dataset.paymentNo).toBe('SF20261125-00012')
    expect(receipt.dataset.amount).toBe('30.00')
    expect(receipt.textContent).toContain('微信支付')
    expect(receipt.textContent).toContain('收费员')
    expect(byTest('receipt-print')).not.toBeNull()
  })

  it('retries a payment whose answer was lost with the same Idempotency-Key', async () => {
    mock.onGet(`${P}/registrations`).reply(200, { items: [REGISTRATION], total: 1, page: 1, size: 20 })
    mock.onPost(`${P}/payments`).replyOnce(504, '<html>timeout</html>').onPost(`${P}/payments`).reply(201, payment({}))
    await open(RegistrationView, WRITE)
    const row = byTest('reg-row-R20261125-00042')!
    expect(row.tagName).toBe('TR')
    expect(row.dataset.status).toBe('pending_payment')
    await click('reg-pay-R20261125-00042')
    await click('reg-pay-submit')
    expect(byTest('reg-pay-error')).not.toBeNull()
    expect(byTest('reg-pay-retry-hint')).not.toBeNull()
    await click('reg-pay-submit')
    const [first, second] = mock.history.post
    expect(second!.headers?.['Idempotency-Key']).toBe(first!.headers?.['Idempotency-Key'])
    expect(byTest('receipt')!.dataset.paymentNo).toBe('SF20261125-00012')
  })

  it('shows the server\'s refusal translated, and refreshes the sessions when one filled up', async () => {
    mock.onPost(`${P}/registrations`).reply(409, envelope('registration.duplicate', 'dup', { registration_id: 9 }))
    const page = await open(RegistrationView, WRITE)
    await chooseDepartment(page)
    await click('reg-session-11')
    await type('reg-patient-search', 'P00000005')
    await pause(350)
    await click('reg-patient-result-5')
    await click('reg-submit')
    const error = byTest('reg-error')!
    expect(error.dataset.code).toBe('registration.duplicate')
    expect(error.textContent).toContain('不能重复挂号')
  })

  it('offers the row actions of each state, confirmed, and refunds with a key', async () => {
    const registered = { ...REGISTRATION, id: 43, registration_no: 'R20261125-00043', status: 'registered' as const }
    mock.onGet(`${P}/registrations`).reply(200, { items: [REGISTRATION, registered], total: 2, page: 1, size: 20 })
    mock.onPost(`${P}/registrations/43/refund`).reply(201, payment({ kind: 'refund', amount: '-30.00',
      payment_no: 'SF20261125-00013' }))
    await open(RegistrationView, WRITE)
    expect(byTest('reg-cancel-R20261125-00042')).not.toBeNull()
    expect(byTest('reg-visit-R20261125-00042')).toBeNull()
    expect(byTest('reg-visit-R20261125-00043')).not.toBeNull()
    expect(byTest('reg-refund-R20261125-00043')).not.toBeNull()
    await click('reg-refund-R20261125-00043')
    expect(confirmAction).toHaveBeenCalledTimes(1)
    expect(String(confirmAction.mock.calls[0]![0])).toContain('¥30.00')
    const refund = mock.history.post[0]!
    expect(refund.url).toBe(`${P}/registrations/43/refund`)
    expect(refund.headers?.['Idempotency-Key']).toMatch(KEY)
    expect(byTest('receipt')!.dataset.amount).toBe('-30.00')
  })

  it('hides every write control from a read-only grant', async () => {
    mock.onGet(`${P}/registrations`).reply(200, { items: [REGISTRATION], total: 1, page: 1, size: 20 })
    await open(RegistrationView, READ)
    expect(byTest('reg-row-R20261125-00042')).not.toBeNull()
    for (const name of ['reg-submit', 'reg-quick-create', 'reg-pay-R20261125-00042', 'reg-cancel-R20261125-00042']) {
      expect(byTest(name), name).toBeNull()
    }
  })
})

describe('patient form', () => {
  const CREATED: PatientDetail = { ...PATIENT, id_card: '110101199003071233', phone: '13800000000', address: null,
    allergies: null, updated_at: '' }

  it('checks the ID card before sending and fills the birth date and gender from it', async () => {
    mock.onPost(`${P}/patients`).reply(201, CREATED)
    const page = await open(PatientFormDialog, WRITE)
    await type('patient-form-name', '张三')
    await type('patient-form-id-card', '110101199003071234')
    await click('patient-form-submit')
    expect(mock.history.post).toHaveLength(0)
    await pause(150) // Element Plus shows a form item's message after a short debounce
    expect(byTest('patient-form-id-card')!.closest('.el-form-item')!.textContent).toContain('校验位')
    await type('patient-form-id-card', '110101199003071233')
    expect((byTest('patient-form-birth-date') as HTMLInputElement).value).toBe('1990-03-07')
    await click('patient-form-submit')
    expect(JSON.parse(mock.history.post[0]!.data)).toEqual({ name: '张三', gender: 'male', birth_date: '1990-03-07',
      id_card: '110101199003071233', phone: null, address: null, allergies: null })
    expect(page.emitted('saved')![0]).toEqual([CREATED])
  })

  it('offers the registered patient for a taken ID card', async () => {
    mock.onPost(`${P}/patients`).reply(409, envelope('patient.id_card_taken', 'taken', { patient_id: 5 }))
    mock.onGet(`${P}/patients/5`).reply(200, CREATED)
    const page = await open(PatientFormDialog, WRITE)
    await type('patient-form-name', '张三')
    await type('patient-form-id-card', '110101199003071233')
    await click('patient-form-submit')
    expect(byTest('patient-form-taken')).not.toBeNull()
    await click('patient-form-use-existing')
    expect(page.emitted('existing')![0]).toEqual([CREATED])
  })

  it('lists possible duplicates and creates anyway with allow_duplicate', async () => {
    mock.onPost(`${P}/patients`).replyOnce(409, envelope('patient.possible_duplicate', 'dup', { candidates: [PATIENT] }))
      .onPost(`${P}/patients`).reply(201, CREATED)
    await open(PatientFormDialog, WRITE)
    await type('patient-form-name', '张三')
    await click('patient-form-gender-male')
    await type('patient-form-birth-date', '1990-03-07')
    await click('patient-form-submit')
    expect(byTest('patient-form-candidate-5')!.textContent).toContain('P00000005')
    await click('patient-form-create-anyway')
    expect(JSON.parse(mock.history.post[1]!.data)).toMatchObject({ name: '张三', allow_duplicate: true })
  })
})

describe('pricing', () => {
  const DRUG = { id: 7, code: 'AMX', name: '阿莫西林胶囊', generic_name: null, specification: '0.25g×24粒', unit_name: '盒',
    retail_price: '0.10', category: 'western', prescription_only: true }
  const VC = { ...DRUG, id: 8, code: 'VC', name: '维生素C片', retail_price: '33.33' }
  const registered = { ...REGISTRATION, status: 'registered' as const }

  it('prices lines live without floats, sends the lines (no prices) and marks the line the server refuses', async () => {
    mock.onGet(`${P}/registrations`).reply(200, { items: [registered], total: 1, page: 1, size: 10 })
    mock.onGet(`${P}/prescriptions`).reply(200, { items: [], total: 0, page: 1, size: 10 })
    mock.onGet(`${P}/lookups/drugs`).reply((config) => [200, { items: config.params.q === 'VC' ? [VC] : [DRUG], total: 1,
      page: 1, size: 10 }])
    mock.onPost(`${P}/prescriptions`).reply(422, envelope('pricing.drug_inactive', 'inactive', { field: 'lines[1].drug_id' }))
    await open(PricingWorkbench, WRITE, { kind: 'prescription' })
    await click('rx-registration-R20261125-00042')
    expect(byTest('rx-registration-current')!.dataset.registrationNo).toBe('R20261125-00042')

    await type('rx-drug-search', '阿莫')
    await pause(350)
    await click('rx-drug-option-7')
    await type('rx-line-0-quantity', '3')
    expect(byTest('rx-line-amount-0')!.dataset.amount).toBe('0.30')
    await type('rx-drug-search', 'VC')
    await pause(350)
    await click('rx-drug-option-8')
    await type('rx-line-1-quantity', '3')
    await type('rx-line-0-usage', '口服')
    await type('rx-line-0-days', '7')
    expect(byTest('rx-line-amount-1')!.dataset.amount).toBe('99.99')
    expect(byTest('rx-total')!.dataset.amount).toBe('100.29')
    expect(byTest('rx-total')!.textContent).toContain('¥100.29')

    await click('rx-save')
    expect(JSON.parse(mock.history.post[0]!.data)).toEqual({ registration_id: 42, note: null, lines: [
      { drug_id: 7, quantity: 3, usage: '口服', days: 7 }, { drug_id: 8, quantity: 3, usage: null, days: null }] })
    expect(byTest('rx-error')!.dataset.code).toBe('pricing.drug_inactive')
    expect(byTest('rx-line-1')!.textContent).toContain('该药品或项目不可用')
  })

  it('refuses to send a line with a bad quantity', async () => {
    mock.onGet(`${P}/registrations`).reply(200, { items: [registered], total: 1, page: 1, size: 10 })
    mock.onGet(`${P}/prescriptions`).reply(200, { items: [], total: 0, page: 1, size: 10 })
    mock.onGet(`${P}/lookups/drugs`).reply(200, { items: [DRUG], total: 1, page: 1, size: 10 })
    await open(PricingWorkbench, WRITE, { kind: 'prescription' })
    await click('rx-registration-R20261125-00042')
    await type('rx-drug-search', '阿莫')
    await pause(350)
    await click('rx-drug-option-7')
    await type('rx-line-0-quantity', '1.5')
    expect(byTest('rx-line-amount-0')!.dataset.amount).toBe('')
    await click('rx-save')
    expect(mock.history.post).toHaveLength(0)
    expect(byTest('rx-problem')!.dataset.problem).toBe('lines_invalid')
  })
})

describe('cashier', () => {
  const ORDER: ItemOrderOut = { id: 3, order_no: 'XM20261125-00003', registration_id: 42, registration_no: 'R20261125-00042',
    patient_id: 5, patient_name: '张三', status: 'paid', total_amount: '260.30', refunded_amount: '0.00', note: null,
    created_by: 7, created_at: '', updated_at: '', paid_at: '', lines: [
      { id: 1, medical_item_id: 1, item_code: 'CT', item_name: '头部CT', category_name: '检查', unit_name: '次',
        department_id: 9, department_name: '放射科', result_required: true, unit_price: '260.00', quantity: 1,
        amount: '260.00', status: 'examined', exam: null },
      { id: 2, medical_item_id: 2, item_code: 'XC', item_name: '采血', category_name: '治疗', unit_name: '次',
        department_id: 9, department_name: '检验科', result_required: false, unit_price: '0.10', quantity: 3,
        amount: '0.30', status: 'paid', exam: null },
    ] }
  const BILLING: BillingOut = {
    registration: { ...REGISTRATION, status: 'registered' }, paid_amount: '290.30', unpaid_amount: '99.99',
    refundable_amount: '30.30', payments: [payment({})],
    documents: [
      { target: 'registration', target_id: 42, target_no: 'R20261125-00042', status: 'registered', total_amount: '30.00',
        paid_amount: '30.00', refundable_amount: '30.00' },
      { target: 'item_order', target_id: 3, target_no: 'XM20261125-00003', status: 'paid', total_amount: '260.30',
        paid_amount: '260.30', refundable_amount: '0.30' },
      { target: 'prescription', target_id: 7, target_no: 'RX20261125-00007', status: 'unpaid', total_amount: '99.99',
        paid_amount: '0.00', refundable_amount: '0.00' },
    ],
  }

  beforeEach(() => {
    mock.onGet(`${P}/payments`).reply(200, { items: [], total: 0, page: 1, size: 10 })
    mock.onGet(`${P}/registrations`).reply(200, { items: [BILLING.registration], total: 1, page: 1, size: 10 })
    mock.onGet(`${P}/registrations/42/billing`).reply(200, BILLING)
    mock.onGet(`${P}/item-orders/3`).reply(200, ORDER)
  })

  it('shows the bill and this window\'s documents, and collects a prescription with a key', async () => {
    mock.onPost(`${P}/payments`).reply(201, payment({ target: 'prescription', target_id: 7, amount: '99.99',
      payment_no: 'SF20261125-00020', method: 'alipay' }))
    await open(CashierDesk, WRITE, { kind: 'drug' })
    await click('pay-registration-R20261125-00042')
    const billing = byTest('pay-billing')!
    expect(billing.dataset).toMatchObject({ paid: '290.30', unpaid: '99.99', refundable: '30.30', screenUnpaid: '99.99' })
    expect(byTest('pay-doc-XM20261125-00003')).toBeNull()
    expect(byTest('pay-doc-RX20261125-00007')!.dataset).toMatchObject({ status: 'unpaid', total: '99.99' })
    await click('pay-method-alipay')
    await click('pay-submit-RX20261125-00007')
    const post = mock.history.post[0]!
    expect(JSON.parse(post.data)).toEqual({ target: 'prescription', target_id: 7, method: 'alipay' })
    expect(post.headers?.['Idempotency-Key']).toMatch(KEY)
    expect(byTest('receipt')!.dataset.paymentNo).toBe('SF20261125-00020')
  })

  it('refunds the chosen item lines; a line with a result cannot be chosen', async () => {
    mock.onPost(`${P}/item-orders/3/refund`).reply(201, payment({ kind: 'refund', target: 'item_order', amount: '-0.30',
      payment_no: 'SF20261125-00021', lines: [{ line_id: 2, name: '采血', amount: '-0.30' }] }))
    await open(CashierDesk, WRITE, { kind: 'item' })
    await click('pay-registration-R20261125-00042')
    expect(byTest('pay-doc-XM20261125-00003')!.dataset).toMatchObject({ status: 'paid', refundable: '0.30' })
    expect(byTest('pay-doc-RX20261125-00007')).toBeNull()
    await click('pay-refund-XM20261125-00003')
    const examined = byTest('pay-refund-line-1')!
    expect(examined.dataset).toMatchObject({ refundable: 'false', reason: 'examined' })
    expect(examined.querySelector('input')!.disabled).toBe(true)
    expect(byTest('pay-refund-line-2')!.dataset.refundable).toBe('true')
    expect(byTest('pay-refund-amount')!.dataset.amount).toBe('0.30')
    await type('pay-refund-reason', '未做')
    await click('pay-refund-confirm')
    expect(confirmAction).toHaveBeenCalledTimes(1)
    const refund = mock.history.post[0]!
    expect(JSON.parse(refund.data)).toEqual({ reason: '未做', line_ids: [2] })
    expect(refund.headers?.['Idempotency-Key']).toMatch(KEY)
    expect(byTest('receipt')!.dataset).toMatchObject({ amount: '-0.30', kind: 'refund' })
  })

  it('explains a refusal and refunds nothing when the confirmation is declined', async () => {
    confirmAction.mockImplementation(async () => false)
    await open(CashierDesk, WRITE, { kind: 'item' })
    await click('pay-registration-R20261125-00042')
    await click('pay-refund-R20261125-00042')
    await click('pay-refund-confirm')
    expect(mock.history.post).toHaveLength(0)
    confirmAction.mockImplementation(async () => true)
    mock.onPost(`${P}/registrations/42/refund`).reply(409, envelope('registration.visited'))
    await click('pay-refund-confirm')
    expect(byTest('pay-refund-error')!.dataset.code).toBe('registration.visited')
    expect(byTest('pay-refund-error')!.textContent).toContain('已就诊')
  })
})

describe('exams', () => {
  const EXAM: ExamOut = { line_id: 15, item_order_id: 3, order_no: 'XM20261125-00003', patient_id: 5, patient_name: '张三',
    item_name: '头部CT', department_name: '放射科', status: 'pending', findings: null, conclusion: null, examiner_id: null,
    examiner_name: null, examined_at: null, attachments: [] }

  beforeEach(() => {
    mock.onGet(`${P}/lookups/medical-items`).reply(200, { items: [], total: 0, page: 1, size: 100 })
    mock.onGet(`${P}/exams`).reply(200, { items: [EXAM], total: 1, page: 1, size: 20 })
    mock.onGet(`${P}/exams/15`).reply(200, EXAM)
  })

  function choose(file: File): Promise<void> {
    const input = byTest('exam-upload') as HTMLInputElement
    Object.defineProperty(input, 'files', { value: [file], configurable: true })
    input.dispatchEvent(new Event('change'))
    return pause(20)
  }

  it('lists pending exams, saves a result and uploads only real PDF/PNG/JPEG files', async () => {
    mock.onPut(`${P}/exams/15`).reply(200, { ...EXAM, status: 'done', findings: '未见异常', conclusion: '正常',
      examiner_name: '技师' })
    mock.onPost(`${P}/exams/15/attachments`).reply(201, { id: 4, filename: 'ct.png', content_type: 'image/png', size: 12,
      uploaded_by: 7, created_at: '2026-11-25T02:00:00Z' })
    mock.onGet(`${P}/exams/15/attachments`).reply(200, { items: [{ id: 4, filename: 'ct.png', content_type: 'image/png',
      size: 12, uploaded_by: 7, created_at: '2026-11-25T02:00:00Z' }] })
    await open(ExamView, WRITE)
    expect(mock.history.get.find((r) => r.url === `${P}/exams`)!.params).toMatchObject({ status: 'pending' })
    expect(byTest('exam-row-15')!.dataset.status).toBe('pending')
    await click('exam-open-15')
    expect(byTest('exam-panel')!.dataset.lineId).toBe('15')

    await click('exam-save')
    expect(mock.history.put).toHaveLength(0) // both fields are required
    await type('exam-findings', '未见异常')
    await type('exam-conclusion', '正常')
    await click('exam-save')
    expect(JSON.parse(mock.history.put[0]!.data)).toEqual({ findings: '未见异常', conclusion: '正常' })

    await choose(new File(['<html>not an image</html>'], 'fake.png', { type: 'image/png' }))
    expect(byTest('exam-upload-error')!.dataset.code).toBe('attachment.unsupported_type')
    expect(mock.history.post).toHaveLength(0)

    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0])
    await choose(new File([png], 'ct.png', { type: 'image/png' }))
    await pause(20)
    expect(mock.history.post).toHaveLength(1)
    expect(mock.history.post[0]!.params).toEqual({ filename: 'ct.png' })
    expect(byTest('exam-attachment-4')).not.toBeNull()
  })

  it('shows the server\'s 413 for an upload', async () => {
    mock.onPost(`${P}/exams/15/attachments`).reply(413, envelope('attachment.too_large'))
    await open(ExamView, WRITE)
    await click('exam-open-15')
    await choose(new File([new TextEncoder().encode('%PDF-1.4 x')], 'r.pdf'))
    await pause(20)
    const error = byTest('exam-upload-error')!
    expect(error.dataset.code).toBe('attachment.too_large')
    expect(error.textContent).toContain('20 MB')
  })

  it('gives a read-only user no form controls', async () => {
    await open(ExamView, READ)
    await click('exam-open-15')
    expect(byTest('exam-save')).toBeNull()
    expect(byTest('exam-upload')).toBeNull()
    expect((byTest('exam-findings') as HTMLTextAreaElement).readOnly).toBe(true)
  })
})

describe('daily summary', () => {
  it('asks for the signed-in cashier\'s own entries when "only mine" is ticked, and shows every method', async () => {
    const zero = { payment_count: 0, paid_amount: '0.00', refund_count: 0, refunded_amount: '0.00', net_amount: '0.00' }
    mock.onGet(`${P}/payments/daily-summary`).reply(200, {
      date: '2026-11-25', cashier_id: null,
      methods: [{ method: 'cash', payment_count: 2, paid_amount: '60.00', refund_count: 1, refunded_amount: '30.00',
        net_amount: '30.00' }, ...['card', 'wechat', 'alipay', 'insurance'].map((method) => ({ method, ...zero }))],
      totals: { payment_count: 2, paid_amount: '60.00', refund_count: 1, refunded_amount: '30.00', net_amount: '30.00' },
    })
    const page = await open(DailySummaryView, READ)
    expect(mock.history.get[0]!.params.cashier_id).toBeUndefined()
    expect(byTest('summary-row-cash')!.dataset.net).toBe('30.00')
    expect(byTest('summary-row-insurance')!.dataset.net).toBe('0.00')
    expect(byTest('summary-totals')!.dataset).toMatchObject({ net: '30.00', paid: '60.00', refunded: '30.00' })
    const checkbox = page.findComponent({ name: 'ElCheckbox' })
    checkbox.vm.$emit('update:modelValue', true)
    await flushPromises()
    expect(mock.history.get.at(-1)!.params).toMatchObject({ cashier_id: 7 })
  })
})

describe('patient detail', () => {
  it('masks the ID card and phone until asked, and shows each visit with its documents, payments and totals', async () => {
    const detail: PatientDetail = { ...PATIENT, id_card: '110101199003071233', phone: '13800000000', address: null,
      allergies: '青霉素', updated_at: '' }
    const refund = payment({ id: 13, payment_no: 'SF20261125-00013', kind: 'refund', amount: '-30.00', refund_of_id: 12 })
    mock.onGet(`${P}/patients/5/history`).reply(200, {
      patient: detail,
      registrations: [{ ...REGISTRATION, status: 'refunded', prescriptions: [], payments: [payment({}), refund],
        item_orders: [{ id: 3, order_no: 'XM20261125-00003', registration_id: 42, registration_no: 'R20261125-00042',
          patient_id: 5, patient_name: '张三', status: 'paid', total_amount: '260.00', refunded_amount: '0.00', note: null,
          created_by: '7', created_at: '', updated_at: '', paid_at: '', lines: [{ id: 15, medical_item_id: 1,
            item_code: 'CT', item_name: '头部CT', category_name: '检查', unit_name: '次', department_id: 9,
            department_name: '放射科', result_required: true, unit_price: '260.00', quantity: 1, amount: '260.00',
            status: 'examined', exam: { line_id: 15, item_order_id: 3, order_no: 'XM20261125-00003', patient_id: 5,
              patient_name: '张三', item_name: '头部CT', department_name: '放射科', status: 'done', findings: '未见异常',
              conclusion: '正常', examiner_id: 8, examiner_name: '技师', examined_at: '2026-11-25T03:00:00Z',
              attachments: [{ id: 4, filename: 'ct.png', content_type: 'image/png', size: 12, uploaded_by: '8',
                created_at: '2026-11-25T03:00:00Z' }] } }] }] }],
      totals: { paid_amount: '30.00', refunded_amount: '30.00', net_amount: '0.00' },
    })
    await open(PatientDetailView, WRITE, { id: 5 })
    expect(byTest('patient-detail')!.dataset.patientNo).toBe('P00000005')
    const idCard = byTest('patient-detail-id-card')!
    expect(idCard.textContent).toContain('110101********1233')
    expect(idCard.textContent).not.toContain('110101199003071233')
    expect(byTest('patient-detail-phone')!.textContent).toContain('138****0000')
    await click('patient-detail-reveal')
    expect(byTest('patient-detail-id-card')!.textContent).toContain('110101199003071233')
    expect(byTest('patient-detail-id-card')!.dataset.masked).toBe('false')
    expect(byTest('history-totals')!.dataset).toMatchObject({ paid: '30.00', refunded: '30.00', net: '0.00' })
    expect(byTest('history-visit-R20261125-00042')!.dataset.status).toBe('refunded')
    expect(byTest('history-io-XM20261125-00003')!.dataset.total).toBe('260.00')
    expect(byTest('history-exam-15')!.textContent).toContain('未见异常')
    expect(byTest('history-attachment-4')).not.toBeNull()
    expect(byTest('history-payment-SF20261125-00013')!.dataset.amount).toBe('-30.00')
    await click('history-reprint-SF20261125-00013')
    expect(byTest('receipt')!.dataset).toMatchObject({ paymentNo: 'SF20261125-00013', kind: 'refund' })
  })
})
