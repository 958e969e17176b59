/**
 * Archives, grants and the permission rule the UI applies (ARCHITECTURE §5): `super_admin` can do everything;
 * an `admin` can do what their grants say, and `write` implies `read`. The UI only hides what the user may not
 * do; the gateway and the services still decide.
 */
import type { Grant, Level, Role } from '@/api/gateway'

/** The seven archives, in menu order (门诊管理, 住院管理, 统计管理, 数据中心, 排班管理, 仓库管理, 药房管理). */
export const ARCHIVES = [
  'outpatient',
  'inpatient',
  'statistics',
  'datacenter',
  'scheduling',
  'storage',
  'pharmacy',
] as const

export type Archive = (typeof ARCHIVES)[number]

/** `system` is the gateway's own scope (users, grants, audit, services): super admin only. */
export type Scope = Archive | 'system'

export const LEVELS = ['read', 'write'] as const satisfies readonly Level[]

/** Archives whose service and screens exist. The others show an honest "not available yet" page. */
export const BUILT_ARCHIVES: readonly Archive[] = ['outpatient', 'datacenter', 'scheduling']

/** Who the rule is applied to: the signed-in user as the API describes them (or nothing when signed out). */
export interface Subject {
  role: Role
  grants: readonly Grant[]
}

export function isArchive(value: unknown): value is Archive {
  return typeof value === 'string' && (ARCHIVES as readonly string[]).includes(value)
}

export function isBuilt(archive: Archive): boolean {
  return BUILT_ARCHIVES.includes(archive)
}

/** The level a subject holds on an archive: `write`, `read` or null (super admin holds `write` everywhere). */
export function levelOf(subject: Subject | null | undefined, archive: Scope): Level | null {
  if (!subject) return null
  if (subject.role === 'super_admin') return 'write'
  if (archive === 'system') return null
  let level: Level | null = null
  for (const grant of subject.grants) {
    if (grant.archive !== archive) continue
    if (grant.level === 'write') return 'write'
    level = 'read'
  }
  return level
}

/** The permission rule: super admin can everything; `write` implies `read`; no grant, nothing. */
export function can(subject: Subject | null | undefined, archive: Scope, level: Level = 'read'): boolean {
  const held = levelOf(subject, archive)
  if (held === null) return false
  return level === 'read' || held === 'write'
}

export function canRead(subject: Subject | null | undefined, archive: Scope): boolean {
  return can(subject, archive, 'read')
}

export function canWrite(subject: Subject | null | undefined, archive: Scope): boolean {
  return can(subject, archive, 'write')
}

/** The archives a subject holds, in menu order, with the level held. */
export function heldArchives(subject: Subject | null | undefined): { archive: Archive; level: Level }[] {
  const out: { archive: Archive; level: Level }[] = []
  for (const archive of ARCHIVES) {
    const level = levelOf(subject, archive)
    if (level) out.push({ archive, level })
  }
  return out
}

/**
 * Parses a permission string as used by `v-can` and `<Can>`: `"datacenter:write"`, `"datacenter"` (read) or
 * `"system"` (super admin). Throws on a typo so that a wrong string fails loudly in development and tests.
 */
export function parsePermission(value: string): { scope: Scope; level: Level } {
  const [scope, level = 'read', ...rest] = value.split(':')
  if (rest.length || !(scope === 'system' || isArchive(scope)) || (level !== 'read' && level !== 'write')) {
    throw new Error(`Invalid permission "${value}": expected "<archive>[:read|write]" or "system"`)
  }
  return { scope, level }
}
