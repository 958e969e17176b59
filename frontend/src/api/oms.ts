/**
 * The outpatient service's API (services/oms, `/api/outpatient`): look-ups for the screens, patients 门诊患者库,
 * registrations 用户挂号, prescriptions 处方划价, item orders 项目划价, payments 项目缴费 / 药品缴费 (an append-only
 * ledger: refunds are negative entries), the daily summary 日结, and exams 项目检查 with their attachments.
 *
 *     import * as oms from '@/api/oms'
 *     const sessions = await oms.listOnDuty({ department_id: 3, date: '2026-11-25' })
 *     const key = newIdempotencyKey()        // once per click; reused when that click's request is retried
 *     const payment = await oms.createPayment({ target: 'registration', target_id: 42, method: 'wechat' }, key)
 *
 * Types mirror the contract's shapes (field names as the API spells them). Money is a `Money` string both ways
 * and the client never sends an amount to pay: the server computes it. The POSTs that move money — payments and
 * the three refund actions — take the `Idempotency-Key` the caller made for that user action.
 *
 * Error codes the screens handle (all `ApiError`, translated under `errors.*`):
 * - patients: 422 `patient.id_card_invalid` {field: "id_card"}, 422 `patient.id_card_mismatch` {field:
 *   "birth_date"}, 409 `patient.id_card_taken` {patient_id}, 409 `patient.possible_duplicate` {candidates}, 404
 *   `patient.not_found`;
 * - registrations: 409 `registration.duplicate` {registration_id}, `registration.invalid_state` {status},
 *   `registration.visited`, `registration.not_active` {status}, 404 `registration.not_found`; scheduling's codes
 *   pass through (`schedule.full`, `schedule.not_open`, `schedule.past`, 404 `schedule.not_found`), 503
 *   `service.unavailable`;
 * - documents: `prescription.not_editable` / `item_order.not_editable` {status}, `prescription.dispensed`,
 *   `prescription.not_paid`, `item_order.not_paid`, `item.examined` {line_id}, `item.not_paid`, 422 `pricing.*`
 *   {field: "lines[2].drug_id"}, 404 `prescription.not_found` / `item_order.not_found`;
 * - payments: 409 `payment.already_paid`, `payment.invalid_state`, `refund.exceeds_paid`, 404 `payment.not_found`;
 * - exams: 404 `exam.not_found`, 409 `exam.not_paid`, 415 `attachment.unsupported_type`, 413
 *   `attachment.too_large`, 422 `attachment.empty`, 404 `attachment.not_found`.
 */
import type { AxiosResponse } from 'axios'

import type { Schedule, ScheduleStatus, Session } from './dms'
import { ApiError, NO_ENVELOPE } from './errors'
import { http } from './http'
import type { Money, Page, PageQuery } from './types'

export type { Money } from './types'

export const OUTPATIENT_PREFIX = '/api/outpatient'
const P = OUTPATIENT_PREFIX

// --- enums (the contract's spellings) -------------------------------------------------------------------------

// The scheduling ones are scheduling's own (OMS passes its sessions on unchanged).
export { SCHEDULE_STATUSES, SESSIONS } from './dms'
export type { ScheduleStatus, Session }

export const GENDERS = ['male', 'female', 'unknown'] as const
export const PAYMENT_METHODS = ['cash', 'card', 'wechat', 'alipay', 'insurance'] as const
export const REGISTRATION_STATUSES = ['pending_payment', 'registered', 'visited', 'cancelled', 'refunded'] as const
export const PRESCRIPTION_STATUSES = ['unpaid', 'paid', 'dispensed', 'refunded', 'cancelled'] as const
export const ITEM_ORDER_STATUSES = ['unpaid', 'paid', 'refunded', 'cancelled'] as const
export const ITEM_LINE_STATUSES = ['unpaid', 'paid', 'examined', 'refunded', 'cancelled'] as const
export const EXAM_STATUSES = ['pending', 'done'] as const
export const PAYMENT_KINDS = ['payment', 'refund'] as const
export const PAYMENT_TARGETS = ['registration', 'prescription', 'item_order'] as const
export const ATTACHMENT_TYPES = ['application/pdf', 'image/png', 'image/jpeg'] as const

export type Gender = (typeof GENDERS)[number]
export type PaymentMethod = (typeof PAYMENT_METHODS)[number]
export type RegistrationStatus = (typeof REGISTRATION_STATUSES)[number]
export type PrescriptionStatus = (typeof PRESCRIPTION_STATUSES)[number]
export type ItemOrderStatus = (typeof ITEM_ORDER_STATUSES)[number]
export type ItemLineStatus = (typeof ITEM_LINE_STATUSES)[number]
export type ExamStatus = (typeof EXAM_STATUSES)[number]
export type PaymentKind = (typeof PAYMENT_KINDS)[number]
export type PaymentTarget = (typeof PAYMENT_TARGETS)[number]
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number]

/** The largest attachment the server takes: 20 × 1024 × 1024 bytes. */
export const ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024

// --- look-ups (outpatient:read; proxied from the data center and scheduling) ------------------------------------

export interface DepartmentOption {
  id: number
  code: string
  name: string
}

/** One clinic session of one doctor: scheduling's own type (OMS passes DMS's answer on unchanged). */
export type OnDutySession = Schedule

export interface DrugOption {
  id: number
  code: string
  name: string
  generic_name: string | null
  specification: string | null
  unit_name: string
  retail_price: Money
  category: string
  prescription_only: boolean
}

export interface MedicalItemOption {
  id: number
  code: string
  name: string
  category_name: string
  unit_name: string
  price: Money
  department_id: number
  department_name: string
  result_required: boolean
}

export interface LookupQuery extends PageQuery {
  q?: string
}

export async function listDepartments(q?: string): Promise<{ items: DepartmentOption[] }> {
  return (await http.get<{ items: DepartmentOption[] }>(`${P}/lookups/departments`, { params: { q } })).data
}

export async function listOnDuty(query: { department_id: number; date: string; session?: Session }):
  Promise<{ items: OnDutySession[] }> {
  return (await http.get<{ items: OnDutySession[] }>(`${P}/lookups/on-duty`, { params: query })).data
}

export async function listDrugs(query: LookupQuery = {}): Promise<Page<DrugOption>> {
  return (await http.get<Page<DrugOption>>(`${P}/lookups/drugs`, { params: query })).data
}

export async function listMedicalItems(query: LookupQuery = {}): Promise<Page<MedicalItemOption>> {
  return (await http.get<Page<MedicalItemOption>>(`${P}/lookups/medical-items`, { params: query })).data
}

// --- patients 门诊患者库 ----------------------------------------------------------------------------------------

/** A patient in lists: ID card and phone masked. */
export interface PatientOut {
  id: number
  patient_no: string
  name: string
  gender: Gender
  birth_date: string
  age: number | null
  id_card_masked: string | null
  phone_masked: string | null
  created_at: string
}

/** The only shape with the full ID card and phone. */
export interface PatientDetail extends PatientOut {
  id_card: string | null
  phone: string | null
  address: string | null
  allergies: string | null
  updated_at: string
}

export interface PatientCreate {
  name: string
  gender: Gender
  birth_date: string
  id_card?: string | null
  phone?: string | null
  address?: string | null
  allergies?: string | null
  /** Create even when a patient with the same name and birth date (and phone) exists. */
  allow_duplicate?: boolean
}

export type PatientUpdate = Partial<Omit<PatientCreate, 'allow_duplicate'>> & { allow_duplicate?: boolean }

export interface PatientQuery extends PageQuery {
  /** Name (contains), patient number, phone, or ID card (exact, or its last 4+ digits). */
  q?: string
  gender?: Gender
}

export async function listPatients(query: PatientQuery = {}): Promise<Page<PatientOut>> {
  return (await http.get<Page<PatientOut>>(`${P}/patients`, { params: query })).data
}

export async function getPatient(id: number): Promise<PatientDetail> {
  return (await http.get<PatientDetail>(`${P}/patients/${id}`)).data
}

export async function createPatient(body: PatientCreate): Promise<PatientDetail> {
  return (await http.post<PatientDetail>(`${P}/patients`, body)).data
}

export async function updatePatient(id: number, body: PatientUpdate): Promise<PatientDetail> {
  return (await http.patch<PatientDetail>(`${P}/patients/${id}`, body)).data
}

// --- registrations 用户挂号 -------------------------------------------------------------------------------------

export interface RegistrationOut {
  id: number
  registration_no: string
  patient_id: number
  patient_name: string
  patient_no: string
  schedule_id: number
  doctor_id: number
  doctor_name: string
  department_id: number
  department_name: string
  visit_date: string
  session: Session
  registration_type_name: string
  fee: Money
  status: RegistrationStatus
  created_at: string
  paid_at: string | null
  visited_at: string | null
  cancelled_at: string | null
  refunded_at: string | null
  created_by: number | string | null
}

export interface RegistrationQuery extends PageQuery {
  /** Registration number, or patient name / number. */
  q?: string
  patient_id?: number
  status?: RegistrationStatus
  visit_date?: string
  department_id?: number
  doctor_id?: number
}

export async function listRegistrations(query: RegistrationQuery = {}): Promise<Page<RegistrationOut>> {
  return (await http.get<Page<RegistrationOut>>(`${P}/registrations`, { params: query })).data
}

export async function getRegistration(id: number): Promise<RegistrationOut> {
  return (await http.get<RegistrationOut>(`${P}/registrations/${id}`)).data
}

/** Books the slot in scheduling; the registration starts `pending_payment` with the session's fee. */
export async function createRegistration(body: { patient_id: number; schedule_id: number }): Promise<RegistrationOut> {
  return (await http.post<RegistrationOut>(`${P}/registrations`, body)).data
}

export async function cancelRegistration(id: number): Promise<RegistrationOut> {
  return (await http.post<RegistrationOut>(`${P}/registrations/${id}/cancel`)).data
}

export async function visitRegistration(id: number): Promise<RegistrationOut> {
  return (await http.post<RegistrationOut>(`${P}/registrations/${id}/visit`)).data
}

/** Refunds the registration fee (registered only): the negative ledger entry. */
export async function refundRegistration(id: number, body: { reason?: string | null }, idempotencyKey: string):
  Promise<PaymentOut> {
  return (await http.post<PaymentOut>(`${P}/registrations/${id}/refund`, body,
    { headers: { 'Idempotency-Key': idempotencyKey } })).data
}

export interface BillingDocument {
  target: PaymentTarget
  target_id: number
  target_no: string
  /** The document's own status (a registration's, a prescription's or an item order's). */
  status: string
  total_amount: Money
  paid_amount: Money
  refundable_amount: Money
}

export interface BillingOut {
  registration: RegistrationOut
  /** Σ of every ledger entry of the registration (payments minus refunds). */
  paid_amount: Money
  unpaid_amount: Money
  refundable_amount: Money
  documents: BillingDocument[]
  payments: PaymentOut[]
}

export async function getBilling(registrationId: number): Promise<BillingOut> {
  return (await http.get<BillingOut>(`${P}/registrations/${registrationId}/billing`)).data
}

// --- prescriptions 处方划价 ---------------------------------------------------------------------------------------

export interface PrescriptionLine {
  id: number
  drug_id: number
  drug_code: string
  drug_name: string
  specification: string | null
  unit_name: string
  unit_price: Money
  quantity: number
  usage: string | null
  days: number | null
  amount: Money
}

export interface PrescriptionOut {
  id: number
  prescription_no: string
  registration_id: number
  registration_no: string
  patient_id: number
  patient_name: string
  status: PrescriptionStatus
  total_amount: Money
  note: string | null
  created_by: number | string | null
  created_at: string
  updated_at: string
  paid_at: string | null
  refunded_at: string | null
  lines: PrescriptionLine[]
}

export interface PrescriptionLineIn {
  drug_id: number
  quantity: number
  usage?: string | null
  days?: number | null
}

export interface PrescriptionCreate {
  registration_id: number
  note?: string | null
  lines: PrescriptionLineIn[]
}

export interface DocumentQuery extends PageQuery {
  q?: string
  registration_id?: number
  patient_id?: number
  status?: string
}

export async function listPrescriptions(query: DocumentQuery = {}): Promise<Page<PrescriptionOut>> {
  return (await http.get<Page<PrescriptionOut>>(`${P}/prescriptions`, { params: query })).data
}

export async function getPrescription(id: number): Promise<PrescriptionOut> {
  return (await http.get<PrescriptionOut>(`${P}/prescriptions/${id}`)).data
}

export async function createPrescription(body: PrescriptionCreate): Promise<PrescriptionOut> {
  return (await http.post<PrescriptionOut>(`${P}/prescriptions`, body)).data
}

/** Replaces the lines (re-priced) while unpaid. */
export async function updatePrescriptionLines(id: number, body: { note?: string | null; lines: PrescriptionLineIn[] }):
  Promise<PrescriptionOut> {
  return (await http.put<PrescriptionOut>(`${P}/prescriptions/${id}/lines`, body)).data
}

export async function cancelPrescription(id: number): Promise<PrescriptionOut> {
  return (await http.post<PrescriptionOut>(`${P}/prescriptions/${id}/cancel`)).data
}

export async function refundPrescription(id: number, body: { reason?: string | null }, idempotencyKey: string):
  Promise<PaymentOut> {
  return (await http.post<PaymentOut>(`${P}/prescriptions/${id}/refund`, body,
    { headers: { 'Idempotency-Key': idempotencyKey } })).data
}

// --- item orders 项目划价 and exams 项目检查 ------------------------------------------------------------------------

export interface AttachmentOut {
  id: number
  filename: string
  content_type: AttachmentType
  size: number
  uploaded_by: number | string | null
  created_at: string
}

export interface ExamOut {
  line_id: number
  item_order_id: number
  order_no: string
  patient_id: number
  patient_name: string
  item_name: string
  department_name: string
  status: ExamStatus
  findings: string | null
  conclusion: string | null
  examiner_id: number | null
  examiner_name: string | null
  examined_at: string | null
  attachments: AttachmentOut[]
}

export interface ItemOrderLine {
  id: number
  medical_item_id: number
  item_code: string
  item_name: string
  category_name: string
  unit_name: string
  department_id: number
  department_name: string
  result_required: boolean
  unit_price: Money
  quantity: number
  amount: Money
  status: ItemLineStatus
  exam: ExamOut | null
}

export interface ItemOrderOut {
  id: number
  order_no: string
  registration_id: number
  registration_no: string
  patient_id: number
  patient_name: string
  status: ItemOrderStatus
  total_amount: Money
  refunded_amount: Money
  note: string | null
  created_by: number | string | null
  created_at: string
  updated_at: string
  paid_at: string | null
  lines: ItemOrderLine[]
}

export interface ItemOrderLineIn {
  medical_item_id: number
  quantity: number
}

export interface ItemOrderCreate {
  registration_id: number
  note?: string | null
  lines: ItemOrderLineIn[]
}

export async function listItemOrders(query: DocumentQuery = {}): Promise<Page<ItemOrderOut>> {
  return (await http.get<Page<ItemOrderOut>>(`${P}/item-orders`, { params: query })).data
}

export async function getItemOrder(id: number): Promise<ItemOrderOut> {
  return (await http.get<ItemOrderOut>(`${P}/item-orders/${id}`)).data
}

export async function createItemOrder(body: ItemOrderCreate): Promise<ItemOrderOut> {
  return (await http.post<ItemOrderOut>(`${P}/item-orders`, body)).data
}

export async function updateItemOrderLines(id: number, body: { note?: string | null; lines: ItemOrderLineIn[] }):
  Promise<ItemOrderOut> {
  return (await http.put<ItemOrderOut>(`${P}/item-orders/${id}/lines`, body)).data
}

export async function cancelItemOrder(id: number): Promise<ItemOrderOut> {
  return (await http.post<ItemOrderOut>(`${P}/item-orders/${id}/cancel`)).data
}

/** Refunds the given paid lines (default: every paid line without an exam result). */
export async function refundItemOrder(id: number, body: { line_ids?: number[]; reason?: string | null },
  idempotencyKey: string): Promise<PaymentOut> {
  return (await http.post<PaymentOut>(`${P}/item-orders/${id}/refund`, body,
    { headers: { 'Idempotency-Key': idempotencyKey } })).data
}

// --- payments 项目缴费 / 药品缴费 ----------------------------------------------------------------------------------

export interface PaymentLine {
  line_id: number | null
  name: string
  amount: Money
}

/** One ledger entry (the receipt). `amount` is positive for payments, negative for refunds. */
export interface PaymentOut {
  id: number
  payment_no: string
  kind: PaymentKind
  target: PaymentTarget
  target_id: number
  target_no: string
  registration_id: number
  registration_no: string
  patient_id: number
  patient_name: string
  amount: Money
  method: PaymentMethod
  cashier_id: number | null
  cashier_name: string | null
  refund_of_id: number | null
  reason: string | null
  lines: PaymentLine[]
  created_at: string
}

export interface PaymentCreate {
  target: PaymentTarget
  target_id: number
  method: PaymentMethod
}

export interface PaymentQuery extends PageQuery {
  /** Payment number, patient name or document number. */
  q?: string
  date?: string
  method?: PaymentMethod
  kind?: PaymentKind
  cashier_id?: number
  registration_id?: number
  target?: PaymentTarget
}

/** Pays the whole outstanding amount of the target (computed by the server; the client never sends money). */
export async function createPayment(body: PaymentCreate, idempotencyKey: string): Promise<PaymentOut> {
  return (await http.post<PaymentOut>(`${P}/payments`, body, { headers: { 'Idempotency-Key': idempotencyKey } })).data
}

export async function listPayments(query: PaymentQuery = {}): Promise<Page<PaymentOut>> {
  return (await http.get<Page<PaymentOut>>(`${P}/payments`, { params: query })).data
}

export async function getPayment(id: number): Promise<PaymentOut> {
  return (await http.get<PaymentOut>(`${P}/payments/${id}`)).data
}

export interface MethodSummary {
  method: PaymentMethod
  payment_count: number
  paid_amount: Money
  refund_count: number
  /** Positive: the sum of the refunds' magnitudes. */
  refunded_amount: Money
  net_amount: Money
}

export interface DailySummary {
  date: string
  cashier_id: number | null
  methods: MethodSummary[]
  totals: Omit<MethodSummary, 'method'>
}

export async function dailySummary(query: { date?: string; cashier_id?: number } = {}): Promise<DailySummary> {
  return (await http.get<DailySummary>(`${P}/payments/daily-summary`, { params: query })).data
}

// --- patient history -------------------------------------------------------------------------------------------

export interface RegistrationHistory extends RegistrationOut {
  prescriptions: PrescriptionOut[]
  item_orders: ItemOrderOut[]
  payments: PaymentOut[]
}

export interface PatientHistory {
  patient: PatientDetail
  registrations: RegistrationHistory[]
  totals: { paid_amount: Money; refunded_amount: Money; net_amount: Money }
}

export async function patientHistory(id: number): Promise<PatientHistory> {
  return (await http.get<PatientHistory>(`${P}/patients/${id}/history`)).data
}

// --- exams 项目检查 ---------------------------------------------------------------------------------------------

export interface ExamQuery extends PageQuery {
  status?: ExamStatus
  /** Patient name or order number. */
  q?: string
  department_id?: number
}

export async function listExams(query: ExamQuery = {}): Promise<Page<ExamOut>> {
  return (await http.get<Page<ExamOut>>(`${P}/exams`, { params: query })).data
}

export async function getExam(lineId: number): Promise<ExamOut> {
  return (await http.get<ExamOut>(`${P}/exams/${lineId}`)).data
}

/** Records (or corrects) the result: the caller becomes the examiner and the line becomes examined. */
export async function saveExam(lineId: number, body: { findings: string; conclusion: string }): Promise<ExamOut> {
  return (await http.put<ExamOut>(`${P}/exams/${lineId}`, body)).data
}

export async function listAttachments(lineId: number): Promise<{ items: AttachmentOut[] }> {
  return (await http.get<{ items: AttachmentOut[] }>(`${P}/exams/${lineId}/attachments`)).data
}

/**
 * Uploads the file as the raw request body (`?filename=` names it); the server decides the type from the content.
 * Large files take a while on a slow link, hence the longer timeout; `onProgress` gets 0…1.
 */
export async function uploadAttachment(lineId: number, file: Blob, filename: string,
  onProgress?: (fraction: number) => void): Promise<AttachmentOut> {
  return (await http.post<AttachmentOut>(`${P}/exams/${lineId}/attachments`, file, {
    params: { filename },
    headers: { 'Content-Type': file.type || 'application/octet-stream' },
    timeout: 300_000,
    onUploadProgress: onProgress
      ? (event) => onProgress(event.total ? Math.min(1, event.loaded / event.total) : 0)
      : undefined,
  })).data
}

/** The path of an attachment's file (it needs the token: fetch it with `fetchAttachment`, never a plain link). */
export function attachmentPath(id: number): string {
  return `${P}/attachments/${id}`
}

/**
 * The attachment's content as a Blob, fetched through `http` so that it carries the token (and refreshes it).
 * 401/403 go through the normal error path; any other failure's body is a Blob too, so its envelope is read here
 * and rejected as the usual `ApiError`.
 */
export async function fetchAttachment(id: number): Promise<Blob> {
  const response = await http.get<Blob>(attachmentPath(id), {
    responseType: 'blob',
    validateStatus: (status) => (status >= 200 && status < 300) || (status >= 400 && status !== 401 && status !== 403),
  })
  if (response.status >= 400) throw await blobError(response)
  return response.data
}

async function blobError(response: AxiosResponse<Blob>): Promise<ApiError> {
  const requestId = typeof response.headers?.['x-request-id'] === 'string' ? response.headers['x-request-id'] : null
  try {
    const text = await readText(response.data)
    const body = JSON.parse(text) as { code?: unknown; message?: unknown; detail?: unknown }
    if (typeof body.code === 'string' && typeof body.message === 'string') {
      const detail = body.detail && typeof body.detail === 'object' ? body.detail as Record<string, unknown> : null
      return new ApiError(response.status, body.code, body.message, detail, requestId)
    }
  } catch {
    // not our envelope
  }
  return new ApiError(response.status, NO_ENVELOPE, `HTTP ${response.status}`, null, requestId)
}

function readText(data: unknown): Promise<string> {
  if (typeof data === 'string') return Promise.resolve(data)
  if (data instanceof Blob) {
    if (typeof data.text === 'function') return data.text()
    return new Promise((resolve, reject) => {
      const reader = new FileReader()
      reader.onload = () => resolve(String(reader.result ?? ''))
      reader.onerror = () => reject(reader.error)
      reader.readAsText(data)
    })
  }
  return Promise.resolve('')
}
