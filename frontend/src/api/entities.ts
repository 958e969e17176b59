/**
 * The resources the services expose, as the UI names them. `entity` is the singular snake-case name the server
 * uses in error codes (`department.not_found`) and the i18n key under `entities.*`; `namespace` is the plural
 * kebab-case route segment (`/api/datacenter/medical-items`) that also keys `datacenter.in_use` counts.
 *
 * Add a service's resources here when you build its screens, and their names to both locale files.
 */

export interface EntityInfo {
  namespace: string
  entity: string
}

/** The data center's catalogues (services/dbs/api.py), in menu order. */
export const DATACENTER_ENTITIES = [
  { namespace: 'departments', entity: 'department' },
  { namespace: 'doctors', entity: 'doctor' },
  { namespace: 'registration-types', entity: 'registration_type' },
  { namespace: 'drug-origins', entity: 'drug_origin' },
  { namespace: 'item-categories', entity: 'item_category' },
  { namespace: 'medical-items', entity: 'medical_item' },
  { namespace: 'drugs', entity: 'drug' },
  { namespace: 'devices', entity: 'device' },
  { namespace: 'warehouses', entity: 'warehouse' },
  { namespace: 'handlers', entity: 'handler' },
  { namespace: 'units', entity: 'unit' },
  { namespace: 'suppliers', entity: 'supplier' },
] as const satisfies readonly EntityInfo[]

export type DatacenterNamespace = (typeof DATACENTER_ENTITIES)[number]['namespace']

const ALL: readonly EntityInfo[] = [...DATACENTER_ENTITIES, { namespace: 'users', entity: 'user' }]

/** `medical-items` → `medical_item`; unknown namespaces give null. */
export function entityOfNamespace(namespace: string): string | null {
  return ALL.find((e) => e.namespace === namespace)?.entity ?? null
}

export function isDatacenterNamespace(value: unknown): value is DatacenterNamespace {
  return DATACENTER_ENTITIES.some((e) => e.namespace === value)
}
