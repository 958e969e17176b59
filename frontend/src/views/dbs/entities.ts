/**
 * What the one data-center screen (CatalogueView) shows for each of the twelve catalogues: the table's columns,
 * the list filters, and the create/edit form's fields with the server's validation rules (services/dbs/schemas.py).
 *
 * Column and field names are checked by TypeScript against the API types in `@/api/dbs` (a typo does not compile);
 * `tests/unit/dbs-entities.spec.ts` checks the configuration against the router's entities and the server's
 * schemas. Labels are `dbs.fields.<label ?? name>` in the locale files; enum values `dbs.enums.<enum>.<value>`.
 *
 * Field kinds and the rules they carry (the same as the server's):
 *   code       required; trimmed; ^[A-Za-z0-9_-]{1,32}$ (unique per entity, checked by the server: 409)
 *   text       trimmed; `required` → 1..max characters; otherwise at most `max`, and blank is sent as null
 *   phone      optional; trimmed; digits, spaces, '+' and '-', 5–20 characters, starts with + or a digit and
 *              ends with a digit; blank is sent as null
 *   money      required; ≥ 0, at most two decimals and 10 integer digits; sent as a string ("12.50")
 *   count      required; a whole number 0 … 1 000 000 000 (low-stock thresholds)
 *   enum       required; one of the enum's values
 *   reference  a select of the `source` catalogue's active rows (the current value is kept when editing);
 *              `required: false` means nullable: clearing it sends null
 *   bool       a switch; false by default
 */
import {
  DEPARTMENT_KINDS,
  DEVICE_CATEGORIES,
  DOCTOR_TITLES,
  DRUG_CATEGORIES,
  GENDERS,
  PRACTICES,
  type CreateOf,
  type QueryOf,
  type RowOf,
} from '@/api/dbs'
import { DATACENTER_ENTITIES, type DatacenterNamespace } from '@/api/entities'

// --- enums --------------------------------------------------------------------------------------------------

/** The enums the catalogues use; values as the API spells them, labels under `dbs.enums.<name>.<value>`. */
export const ENUMS = {
  department_kind: DEPARTMENT_KINDS,
  gender: GENDERS,
  doctor_title: DOCTOR_TITLES,
  practice: PRACTICES,
  drug_category: DRUG_CATEGORIES,
  device_category: DEVICE_CATEGORIES,
} as const

export type EnumName = keyof typeof ENUMS

// --- the shape of a configuration ---------------------------------------------------------------------------

type Key<T> = Extract<keyof T, string>
type RowKey<N extends DatacenterNamespace> = Key<RowOf<N>>
type FieldKey<N extends DatacenterNamespace> = Key<CreateOf<N>>
type FilterKey<N extends DatacenterNamespace> = Exclude<Key<QueryOf<N>>, 'q' | 'active' | 'page' | 'size'>

/** A table column. `code`, `name` and the active tag are always shown first/last; list the others here. */
export type Column<N extends DatacenterNamespace> = { label?: string; width?: number } & (
  | { kind: 'text' | 'count'; key: RowKey<N> }
  | { kind: 'money'; key: RowKey<N> }
  | { kind: 'enum'; key: RowKey<N>; enum: EnumName }
  | { kind: 'bool'; key: RowKey<N> }
  /** A reference: labelled by `key` (`department_id`), shows the API's `show` (`department_name`). */
  | { kind: 'reference'; key: RowKey<N>; show: RowKey<N> }
)

/** A list filter besides `q` and `active` (which every list has). */
export type Filter<N extends DatacenterNamespace> = { label?: string } & (
  | { kind: 'enum'; name: FilterKey<N>; enum: EnumName }
  | { kind: 'reference'; name: FilterKey<N>; source: DatacenterNamespace }
  | { kind: 'bool'; name: FilterKey<N> }
)

/** A form field (create and edit). `wide` spans both columns of the form. */
export type Field<N extends DatacenterNamespace> = { label?: string; wide?: boolean } & (
  | { kind: 'code'; name: FieldKey<N> }
  | { kind: 'text'; name: FieldKey<N>; required: boolean; max: number }
  | { kind: 'phone'; name: FieldKey<N> }
  | { kind: 'money'; name: FieldKey<N> }
  | { kind: 'count'; name: FieldKey<N> }
  | { kind: 'enum'; name: FieldKey<N>; enum: EnumName }
  /** `show`: the row's `*_name` for the current value when editing. */
  | { kind: 'reference'; name: FieldKey<N>; source: DatacenterNamespace; required: boolean; show: RowKey<N> }
  | { kind: 'bool'; name: FieldKey<N> }
)

export interface EntityConfig<N extends DatacenterNamespace = DatacenterNamespace> {
  namespace: N
  /** Singular snake case: `entities.<entity>`, `catalogues.<entity>`, `dbs.nouns.<entity>`. */
  entity: string
  /** What `q` searches: `dbs.search.<search>` is the search box's placeholder. */
  search: 'code_name' | 'code_name_generic'
  columns: Column<N>[]
  filters: Filter<N>[]
  fields: Field<N>[]
}

/** Any entity's configuration, as the generic screen handles it. */
export type AnyColumn = Column<DatacenterNamespace>
export type AnyFilter = Filter<DatacenterNamespace>
export type AnyField = Field<DatacenterNamespace>
export type AnyConfig = EntityConfig<DatacenterNamespace>

// --- limits (services/dbs/schemas.py) -----------------------------------------------------------------------

export const CODE_PATTERN = /^[A-Za-z0-9_-]{1,32}$/
export const CODE_MAX = 32
export const NAME_MAX = 64
/** `Phone`: ^[+0-9][0-9 +-]{3,18}[0-9]$, at most 20 characters. */
export const PHONE_PATTERN = /^[+0-9][0-9 +-]{3,18}[0-9]$/
/** `Money`: Decimal(max_digits=12, decimal_places=2), ≥ 0. */
export const MONEY_INTEGER_DIGITS = 10
export const MONEY_DECIMALS = 2
/** `Threshold`: 0 … 1 000 000 000. */
export const COUNT_MAX = 1_000_000_000

// The two fields every catalogue has, first in every form.
const CODE = { kind: 'code', name: 'code' } as const
const NAME = { kind: 'text', name: 'name', required: true, max: NAME_MAX } as const

// --- the twelve catalogues ----------------------------------------------------------------------------------

const departments: EntityConfig<'departments'> = {
  namespace: 'departments',
  entity: 'department',
  search: 'code_name',
  columns: [{ kind: 'enum', key: 'kind', enum: 'department_kind' }],
  filters: [{ kind: 'enum', name: 'kind', enum: 'department_kind' }],
  fields: [CODE, NAME, { kind: 'enum', name: 'kind', enum: 'department_kind' }],
}

const doctors: EntityConfig<'doctors'> = {
  namespace: 'doctors',
  entity: 'doctor',
  search: 'code_name',
  columns: [
    { kind: 'enum', key: 'gender', enum: 'gender', width: 80 },
    { kind: 'reference', key: 'department_id', show: 'department_name' },
    { kind: 'enum', key: 'title', enum: 'doctor_title', width: 150 },
    { kind: 'reference', key: 'registration_type_id', show: 'registration_type_name' },
    { kind: 'enum', key: 'practice', enum: 'practice', width: 90 },
  ],
  filters: [
    { kind: 'reference', name: 'department_id', source: 'departments' },
    { kind: 'enum', name: 'title', enum: 'doctor_title' },
    { kind: 'enum', name: 'practice', enum: 'practice' },
    { kind: 'enum', name: 'gender', enum: 'gender' },
    { kind: 'reference', name: 'registration_type_id', source: 'registration-types' },
  ],
  fields: [
    CODE,
    NAME,
    { kind: 'enum', name: 'gender', enum: 'gender' },
    { kind: 'reference', name: 'department_id', source: 'departments', required: true, show: 'department_name' },
    { kind: 'enum', name: 'title', enum: 'doctor_title' },
    {
      kind: 'reference', name: 'registration_type_id', source: 'registration-types', required: false,
      show: 'registration_type_name',
    },
    { kind: 'enum', name: 'practice', enum: 'practice' },
  ],
}

const registrationTypes: EntityConfig<'registration-types'> = {
  namespace: 'registration-types',
  entity: 'registration_type',
  search: 'code_name',
  columns: [{ kind: 'money', key: 'fee' }],
  filters: [],
  fields: [CODE, NAME, { kind: 'money', name: 'fee' }],
}

const drugOrigins: EntityConfig<'drug-origins'> = {
  namespace: 'drug-origins',
  entity: 'drug_origin',
  search: 'code_name',
  columns: [],
  filters: [],
  fields: [CODE, NAME],
}

const itemCategories: EntityConfig<'item-categories'> = {
  namespace: 'item-categories',
  entity: 'item_category',
  search: 'code_name',
  columns: [],
  filters: [],
  fields: [CODE, NAME],
}

const medicalItems: EntityConfig<'medical-items'> = {
  namespace: 'medical-items',
  entity: 'medical_item',
  search: 'code_name',
  columns: [
    { kind: 'reference', key: 'category_id', show: 'category_name' },
    { kind: 'reference', key: 'unit_id', show: 'unit_name', width: 96 },
    { kind: 'money', key: 'price' },
    { kind: 'reference', key: 'department_id', show: 'department_name', label: 'executing_department_id' },
    { kind: 'bool', key: 'result_required' },
  ],
  filters: [
    { kind: 'reference', name: 'category_id', source: 'item-categories' },
    { kind: 'reference', name: 'department_id', source: 'departments', label: 'executing_department_id' },
    { kind: 'reference', name: 'unit_id', source: 'units' },
    { kind: 'bool', name: 'result_required' },
  ],
  fields: [
    CODE,
    NAME,
    { kind: 'reference', name: 'category_id', source: 'item-categories', required: true, show: 'category_name' },
    { kind: 'reference', name: 'unit_id', source: 'units', required: true, show: 'unit_name' },
    { kind: 'money', name: 'price' },
    {
      kind: 'reference', name: 'department_id', source: 'departments', required: true, show: 'department_name',
      label: 'executing_department_id',
    },
    { kind: 'bool', name: 'result_required' },
  ],
}

const drugs: EntityConfig<'drugs'> = {
  namespace: 'drugs',
  entity: 'drug',
  search: 'code_name_generic',
  columns: [
    { kind: 'text', key: 'generic_name' },
    { kind: 'text', key: 'specification' },
    { kind: 'text', key: 'dosage_form', width: 90 },
    { kind: 'reference', key: 'unit_id', show: 'unit_name', width: 96 },
    { kind: 'reference', key: 'origin_id', show: 'origin_name', width: 170 },
    { kind: 'enum', key: 'category', enum: 'drug_category', label: 'drug_category' },
    { kind: 'money', key: 'retail_price' },
    { kind: 'count', key: 'low_stock_threshold' },
    { kind: 'bool', key: 'prescription_only' },
  ],
  filters: [
    { kind: 'enum', name: 'category', enum: 'drug_category', label: 'drug_category' },
    { kind: 'reference', name: 'origin_id', source: 'drug-origins' },
    { kind: 'reference', name: 'unit_id', source: 'units' },
    { kind: 'bool', name: 'prescription_only' },
  ],
  fields: [
    CODE,
    NAME,
    { kind: 'text', name: 'generic_name', required: false, max: 64 },
    { kind: 'text', name: 'specification', required: true, max: 64 },
    { kind: 'text', name: 'dosage_form', required: true, max: 32 },
    { kind: 'enum', name: 'category', enum: 'drug_category', label: 'drug_category' },
    { kind: 'reference', name: 'unit_id', source: 'units', required: true, show: 'unit_name' },
    { kind: 'reference', name: 'origin_id', source: 'drug-origins', required: true, show: 'origin_name' },
    { kind: 'money', name: 'retail_price' },
    { kind: 'count', name: 'low_stock_threshold' },
    { kind: 'bool', name: 'prescription_only' },
  ],
}

const devices: EntityConfig<'devices'> = {
  namespace: 'devices',
  entity: 'device',
  search: 'code_name',
  columns: [
    { kind: 'text', key: 'specification' },
    { kind: 'reference', key: 'unit_id', show: 'unit_name', width: 96 },
    { kind: 'reference', key: 'origin_id', show: 'origin_name', width: 170 },
    { kind: 'enum', key: 'category', enum: 'device_category', label: 'device_category' },
    { kind: 'money', key: 'retail_price' },
    { kind: 'count', key: 'low_stock_threshold' },
  ],
  filters: [
    { kind: 'enum', name: 'category', enum: 'device_category', label: 'device_category' },
    { kind: 'reference', name: 'origin_id', source: 'drug-origins' },
    { kind: 'reference', name: 'unit_id', source: 'units' },
  ],
  fields: [
    CODE,
    NAME,
    { kind: 'text', name: 'specification', required: true, max: 64 },
    { kind: 'enum', name: 'category', enum: 'device_category', label: 'device_category' },
    { kind: 'reference', name: 'unit_id', source: 'units', required: true, show: 'unit_name' },
    { kind: 'reference', name: 'origin_id', source: 'drug-origins', required: true, show: 'origin_name' },
    { kind: 'money', name: 'retail_price' },
    { kind: 'count', name: 'low_stock_threshold' },
  ],
}

const warehouses: EntityConfig<'warehouses'> = {
  namespace: 'warehouses',
  entity: 'warehouse',
  search: 'code_name',
  columns: [{ kind: 'text', key: 'location' }],
  filters: [],
  fields: [CODE, NAME, { kind: 'text', name: 'location', required: false, max: 128, wide: true }],
}

const handlers: EntityConfig<'handlers'> = {
  namespace: 'handlers',
  entity: 'handler',
  search: 'code_name',
  columns: [{ kind: 'text', key: 'phone' }],
  filters: [],
  fields: [CODE, NAME, { kind: 'phone', name: 'phone' }],
}

const units: EntityConfig<'units'> = {
  namespace: 'units',
  entity: 'unit',
  search: 'code_name',
  columns: [],
  filters: [],
  fields: [CODE, NAME],
}

const suppliers: EntityConfig<'suppliers'> = {
  namespace: 'suppliers',
  entity: 'supplier',
  search: 'code_name',
  columns: [
    { kind: 'text', key: 'contact' },
    { kind: 'text', key: 'phone' },
    { kind: 'text', key: 'address', width: 220 },
    { kind: 'text', key: 'licence_no' },
  ],
  filters: [],
  fields: [
    CODE,
    NAME,
    { kind: 'text', name: 'contact', required: false, max: 64 },
    { kind: 'phone', name: 'phone' },
    { kind: 'text', name: 'licence_no', required: false, max: 64 },
    { kind: 'text', name: 'address', required: false, max: 255, wide: true },
  ],
}

/** Every catalogue's configuration, by namespace (the route's `:entity`). */
export const ENTITY_CONFIGS: { [N in DatacenterNamespace]: EntityConfig<N> } = {
  departments,
  doctors,
  'registration-types': registrationTypes,
  'drug-origins': drugOrigins,
  'item-categories': itemCategories,
  'medical-items': medicalItems,
  drugs,
  devices,
  warehouses,
  handlers,
  units,
  suppliers,
}

/** The configuration of a route's `:entity`, or null for an unknown one. */
export function configOf(namespace: string): AnyConfig | null {
  const known = DATACENTER_ENTITIES.find((e) => e.namespace === namespace)
  return known ? (ENTITY_CONFIGS[known.namespace] as unknown as AnyConfig) : null
}

/** The i18n key of a column's, filter's or field's label. */
export function labelKey(item: { label?: string; key?: string; name?: string }): string {
  return `dbs.fields.${item.label ?? item.key ?? item.name}`
}
