/**
 * The data center's API (services/dbs, `/api/datacenter`): twelve catalogues with the same seven endpoints each.
 * Types mirror services/dbs/schemas.py — `XOut` is a row as the API shows it (with the names of the rows it
 * references, for the UI), `XCreate` the body of POST, `XUpdate` (= `Partial<XCreate>`) the body of PATCH and
 * `XQuery` the list filters. Money is a `Money` string ("12.50") both ways; never a number.
 *
 *     import * as dbs from '@/api/dbs'
 *     const page = await dbs.listDepartments({ q: '内', kind: 'clinical', page: 1, size: 20 })
 *     const drug = await dbs.get('drugs', 7)
 *     await dbs.update('doctors', 3, { department_id: 2 })      // PATCH: only what changes
 *     await dbs.deactivate('departments', 5)                     // instead of a delete that got 409
 *
 * The generic functions (`list`, `get`, `create`, `update`, `remove`, `activate`, `deactivate`) take the
 * namespace (the route segment, see `DATACENTER_ENTITIES` in ./entities.ts) and are typed by it through
 * `DbsTypes`. Errors (all `ApiError`, see ./errors.ts) the screens handle:
 * - 409 `datacenter.code_taken` detail `{field: "code"}`;
 * - 422 `datacenter.reference_not_found` / `datacenter.reference_inactive` detail `{field, id}`;
 * - 422 `validation.failed` detail `{errors: [{loc, …}]}` (see `invalidFields`);
 * - 409 `datacenter.in_use` on delete, detail `{references: {namespace: count}}`: deactivate instead;
 * - 404 `<entity>.not_found`.
 */
import type { DatacenterNamespace } from './entities'
import { http, newIdempotencyKey } from './http'
import type { Money, Page, PageQuery } from './types'

export const DATACENTER_PREFIX = '/api/datacenter'

// --- enums (ARCHITECTURE §11, services/dbs/models.py) ------------------------------------------------------

export const DEPARTMENT_KINDS = ['clinical', 'medical_technical', 'administrative'] as const
export const GENDERS = ['male', 'female', 'unknown'] as const
export const DOCTOR_TITLES = ['chief', 'associate_chief', 'attending', 'resident'] as const
export const PRACTICES = ['outpatient', 'inpatient'] as const
export const DRUG_CATEGORIES = ['western', 'chinese_patent', 'herbal'] as const
export const DEVICE_CATEGORIES = ['equipment', 'consumable'] as const

export type DepartmentKind = (typeof DEPARTMENT_KINDS)[number]
export type Gender = (typeof GENDERS)[number]
export type DoctorTitle = (typeof DOCTOR_TITLES)[number]
export type Practice = (typeof PRACTICES)[number]
export type DrugCategory = (typeof DRUG_CATEGORIES)[number]
export type DeviceCategory = (typeof DEVICE_CATEGORIES)[number]

// --- shared shapes ------------------------------------------------------------------------------------------

/** CatalogueOut: what every row shows. Datetimes are ISO 8601 strings (UTC). */
export interface CatalogueRow {
  id: number
  code: string
  name: string
  active: boolean
  created_at: string
  updated_at: string
}

/** CatalogueIn: what every create takes. `code` matches ^[A-Za-z0-9_-]{1,32}$ (unique per entity, any case);
 * `name` is 1–64 characters. Strings are trimmed by the server. */
export interface CatalogueCreate {
  code: string
  name: string
}

/** CatalogueQuery: `q` searches code and name (drugs: also the generic name); `active` true/false. */
export interface CatalogueQuery extends PageQuery {
  q?: string
  active?: boolean
}

// --- 科室 departments ----------------------------------------------------------------------------------------

export interface Department extends CatalogueRow {
  kind: DepartmentKind
}
export interface DepartmentCreate extends CatalogueCreate {
  kind: DepartmentKind
}
export interface DepartmentQuery extends CatalogueQuery {
  kind?: DepartmentKind
}

// --- 医生 doctors ---------------------------------------------------------------------------------------------

export interface Doctor extends CatalogueRow {
  gender: Gender
  department_id: number
  department_name: string
  title: DoctorTitle
  registration_type_id: number | null
  registration_type_name: string | null
  practice: Practice
}
export interface DoctorCreate extends CatalogueCreate {
  gender: Gender
  department_id: number
  title: DoctorTitle
  /** The default registration type; `null` clears it. */
  registration_type_id?: number | null
  practice: Practice
}
export interface DoctorQuery extends CatalogueQuery {
  department_id?: number
  title?: DoctorTitle
  practice?: Practice
  gender?: Gender
  registration_type_id?: number
}

// --- 挂号类型 registration types ------------------------------------------------------------------------------

export interface RegistrationType extends CatalogueRow {
  fee: Money
}
export interface RegistrationTypeCreate extends CatalogueCreate {
  /** ≥ 0, at most two decimals and 10 integer digits. */
  fee: Money
}
export type RegistrationTypeQuery = CatalogueQuery

// --- 药品产地 drug origins, 项目大类 item categories, 计量单位 units: code and name only -------------------------------

export type DrugOrigin = CatalogueRow
export type DrugOriginCreate = CatalogueCreate
export type DrugOriginQuery = CatalogueQuery
export type ItemCategory = CatalogueRow
export type ItemCategoryCreate = CatalogueCreate
export type ItemCategoryQuery = CatalogueQuery
export type Unit = CatalogueRow
export type UnitCreate = CatalogueCreate
export type UnitQuery = CatalogueQuery

// --- 价目表 medical items --------------------------------------------------------------------------------------

export interface MedicalItem extends CatalogueRow {
  category_id: number
  category_name: string
  unit_id: number
  unit_name: string
  price: Money
  /** The executing department. */
  department_id: number
  department_name: string
  result_required: boolean
}
export interface MedicalItemCreate extends CatalogueCreate {
  category_id: number
  unit_id: number
  price: Money
  department_id: number
  result_required?: boolean
}
export interface MedicalItemQuery extends CatalogueQuery {
  category_id?: number
  unit_id?: number
  department_id?: number
  result_required?: boolean
}

// --- 药品 drugs -----------------------------------------------------------------------------------------------

export interface Drug extends CatalogueRow {
  generic_name: string | null
  specification: string
  dosage_form: string
  unit_id: number
  unit_name: string
  origin_id: number
  origin_name: string
  category: DrugCategory
  retail_price: Money
  low_stock_threshold: number
  prescription_only: boolean
}
export interface DrugCreate extends CatalogueCreate {
  /** At most 64 characters; blank or `null` means none. */
  generic_name?: string | null
  /** 1–64 characters, e.g. "0.25g×24粒". */
  specification: string
  /** 1–32 characters, e.g. "胶囊剂". */
  dosage_form: string
  unit_id: number
  origin_id: number
  category: DrugCategory
  retail_price: Money
  /** 0 … 1 000 000 000. */
  low_stock_threshold: number
  prescription_only?: boolean
}
export interface DrugQuery extends CatalogueQuery {
  category?: DrugCategory
  unit_id?: number
  origin_id?: number
  prescription_only?: boolean
}

// --- 器材 devices ---------------------------------------------------------------------------------------------

export interface Device extends CatalogueRow {
  specification: string
  unit_id: number
  unit_name: string
  origin_id: number
  origin_name: string
  category: DeviceCategory
  retail_price: Money
  low_stock_threshold: number
}
export interface DeviceCreate extends CatalogueCreate {
  specification: string
  unit_id: number
  origin_id: number
  category: DeviceCategory
  retail_price: Money
  low_stock_threshold: number
}
export interface DeviceQuery extends CatalogueQuery {
  category?: DeviceCategory
  unit_id?: number
  origin_id?: number
}

// --- 仓库 warehouses, 经办人 handlers, 供货商 suppliers ---------------------------------------------------------

export interface Warehouse extends CatalogueRow {
  location: string | null
}
export interface WarehouseCreate extends CatalogueCreate {
  /** At most 128 characters; blank or `null` means none. */
  location?: string | null
}
export type WarehouseQuery = CatalogueQuery

export interface Handler extends CatalogueRow {
  phone: string | null
}
export interface HandlerCreate extends CatalogueCreate {
  /** Digits, spaces, '+' and '-', 5–20 characters, starting with '+' or a digit and ending with a digit. */
  phone?: string | null
}
export type HandlerQuery = CatalogueQuery

export interface Supplier extends CatalogueRow {
  contact: string | null
  phone: string | null
  address: string | null
  licence_no: string | null
}
export interface SupplierCreate extends CatalogueCreate {
  contact?: string | null
  phone?: string | null
  address?: string | null
  /** 药品/医疗器械经营许可证 number. */
  licence_no?: string | null
}
export type SupplierQuery = CatalogueQuery

// --- the namespace → types map ------------------------------------------------------------------------------

interface Types<Row extends CatalogueRow, Create extends CatalogueCreate, Query extends CatalogueQuery> {
  row: Row
  create: Create
  query: Query
}

/** For each namespace: the row (`XOut`), the create body (`XCreate`) and the list query (`XQuery`). */
export interface DbsTypes {
  departments: Types<Department, DepartmentCreate, DepartmentQuery>
  doctors: Types<Doctor, DoctorCreate, DoctorQuery>
  'registration-types': Types<RegistrationType, RegistrationTypeCreate, RegistrationTypeQuery>
  'drug-origins': Types<DrugOrigin, DrugOriginCreate, DrugOriginQuery>
  'item-categories': Types<ItemCategory, ItemCategoryCreate, ItemCategoryQuery>
  'medical-items': Types<MedicalItem, MedicalItemCreate, MedicalItemQuery>
  drugs: Types<Drug, DrugCreate, DrugQuery>
  devices: Types<Device, DeviceCreate, DeviceQuery>
  warehouses: Types<Warehouse, WarehouseCreate, WarehouseQuery>
  handlers: Types<Handler, HandlerCreate, HandlerQuery>
  units: Types<Unit, UnitCreate, UnitQuery>
  suppliers: Types<Supplier, SupplierCreate, SupplierQuery>
}

// Every namespace of ./entities.ts has its types here, and nothing else does (a compile error otherwise).
type Exactly<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never
export const TYPES_COVER_EVERY_NAMESPACE: Exactly<keyof DbsTypes, DatacenterNamespace> = true

export type RowOf<N extends DatacenterNamespace> = DbsTypes[N]['row']
export type CreateOf<N extends DatacenterNamespace> = DbsTypes[N]['create']
/** The PATCH body: the create fields, each optional; `null` only where the field is nullable. */
export type UpdateOf<N extends DatacenterNamespace> = Partial<CreateOf<N>>
export type QueryOf<N extends DatacenterNamespace> = DbsTypes[N]['query']

/** Any row of any catalogue, as the generic screen handles it. */
export type AnyRow = CatalogueRow & Record<string, unknown>

// --- endpoints ----------------------------------------------------------------------------------------------

function path(namespace: DatacenterNamespace, id?: number, action?: 'activate' | 'deactivate'): string {
  let out = `${DATACENTER_PREFIX}/${namespace}`
  if (id !== undefined) out += `/${id}`
  if (action) out += `/${action}`
  return out
}

/** GET /api/datacenter/{namespace}: one page (`size` ≤ 100), ordered by id. Empty filters are not sent. */
export async function list<N extends DatacenterNamespace>(namespace: N, query: QueryOf<N> = {} as QueryOf<N>):
  Promise<Page<RowOf<N>>> {
  return (await http.get<Page<RowOf<N>>>(path(namespace), { params: query })).data
}

/** GET /api/datacenter/{namespace}/{id} */
export async function get<N extends DatacenterNamespace>(namespace: N, id: number): Promise<RowOf<N>> {
  return (await http.get<RowOf<N>>(path(namespace, id))).data
}

/**
 * POST /api/datacenter/{namespace} → 201 with the new row. Sends an `Idempotency-Key` (made per call unless one
 * is given) so that a request retried after a token refresh or a lost answer does not 409 on its own code.
 */
export async function create<N extends DatacenterNamespace>(namespace: N, body: CreateOf<N>,
  idempotencyKey: string = newIdempotencyKey()): Promise<RowOf<N>> {
  return (await http.post<RowOf<N>>(path(namespace), body, { headers: { 'Idempotency-Key': idempotencyKey } })).data
}

/** PATCH /api/datacenter/{namespace}/{id}: only the fields given change. */
export async function update<N extends DatacenterNamespace>(namespace: N, id: number, changes: UpdateOf<N>):
  Promise<RowOf<N>> {
  return (await http.patch<RowOf<N>>(path(namespace, id), changes)).data
}

/** DELETE /api/datacenter/{namespace}/{id} → 204, or 409 `datacenter.in_use` with the reference counts. */
export async function remove(namespace: DatacenterNamespace, id: number): Promise<void> {
  await http.delete(path(namespace, id))
}

/** POST /api/datacenter/{namespace}/{id}/deactivate: retire a row (always allowed; harmless twice). */
export async function deactivate<N extends DatacenterNamespace>(namespace: N, id: number): Promise<RowOf<N>> {
  return (await http.post<RowOf<N>>(path(namespace, id, 'deactivate'))).data
}

/** POST /api/datacenter/{namespace}/{id}/activate: bring a row back. */
export async function activate<N extends DatacenterNamespace>(namespace: N, id: number): Promise<RowOf<N>> {
  return (await http.post<RowOf<N>>(path(namespace, id, 'activate'))).data
}

// --- named list functions, for the other archives' screens (selects of departments, doctors, drugs …) --------

export const listDepartments = (query?: DepartmentQuery) => list('departments', query)
export const listDoctors = (query?: DoctorQuery) => list('doctors', query)
export const listRegistrationTypes = (query?: RegistrationTypeQuery) => list('registration-types', query)
export const listDrugOrigins = (query?: DrugOriginQuery) => list('drug-origins', query)
export const listItemCategories = (query?: ItemCategoryQuery) => list('item-categories', query)
export const listMedicalItems = (query?: MedicalItemQuery) => list('medical-items', query)
export const listDrugs = (query?: DrugQuery) => list('drugs', query)
export const listDevices = (query?: DeviceQuery) => list('devices', query)
export const listWarehouses = (query?: WarehouseQuery) => list('warehouses', query)
export const listHandlers = (query?: HandlerQuery) => list('handlers', query)
export const listUnits = (query?: UnitQuery) => list('units', query)
export const listSuppliers = (query?: SupplierQuery) => list('suppliers', query)
