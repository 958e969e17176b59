/**
 * The audit page's logic: the filter form → `GET /api/admin/audit` query parameters, status colours, and the
 * `detail` object → readable key/value pairs (never raw JSON).
 */
import type { AuditQuery } from '@/api/gateway'
import { ARCHIVES, isArchive } from '@/permissions'
import { formatDateTime } from '@/utils/format'

/** What the filter form holds (strings as the inputs give them; '' = no filter). */
export interface AuditFilters {
  /** Username or numeric user id. */
  user: string
  /** An archive, `system`, or ''. */
  archive: string
  /** `2xx`/`4xx`/`5xx` (a class) or an exact status such as `404`. */
  status: string
  action: string
  /** Start and end as the date-time picker gives them (local time), or null. */
  range: [Date, Date] | null
}

export function emptyFilters(): AuditFilters {
  return { user: '', archive: '', status: '', action: '', range: null }
}

/** The archive filter's choices: the seven archives, then `system` (the gateway's own API). */
export const AUDIT_ARCHIVES = [...ARCHIVES, 'system'] as const

/** The status classes offered in the status filter. */
export const STATUS_CLASSES = ['2xx', '3xx', '4xx', '5xx'] as const

export type StatusFilter = Pick<AuditQuery, 'status' | 'status_class'>

/**
 * `2xx` / `2XX` / `2` → `{status_class: 2}`; `404` → `{status: 404}`; '' → `{}`; anything else (`abc`, `600`,
 * `6xx`, `99`) → null, i.e. not a valid filter.
 */
export function parseStatus(text: string): StatusFilter | null {
  const value = text.trim().toLowerCase()
  if (value === '') return {}
  const klass = /^([1-5])(?:xx)?$/.exec(value)
  if (klass) return { status_class: Number(klass[1]) as 1 | 2 | 3 | 4 | 5 }
  if (/^[1-5]\d\d$/.test(value)) return { status: Number(value) }
  return null
}

function pad(value: number, width = 2): string {
  return String(Math.trunc(Math.abs(value))).padStart(width, '0')
}

/**
 * A moment as ISO 8601 in the browser's local time WITH its UTC offset (the API refuses naive times):
 * `2026-05-01T08:00:00+08:00`, `2026-04-30T20:00:00-04:00`, `…+00:00` in UTC. Milliseconds are kept when not zero.
 */
export function toOffsetIso(date: Date): string {
  const offset = -date.getTimezoneOffset() // minutes east of UTC
  const sign = offset >= 0 ? '+' : '-'
  const ms = date.getMilliseconds()
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    (ms ? `.${pad(ms, 3)}` : '') +
    `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`
}

export class InvalidFilter extends Error {
  constructor(readonly field: keyof AuditFilters) {
    super(`invalid audit filter: ${field}`)
    this.name = 'InvalidFilter'
  }
}

/**
 * The query for a page of the log. The picked range is inclusive of its end second: `until` (exclusive on the
 * server) is the end plus one second. Throws `InvalidFilter` for a status that is neither a class nor a code.
 */
export function auditQuery(filters: AuditFilters, page: number, size: number): AuditQuery {
  const status = parseStatus(filters.status)
  if (status === null) throw new InvalidFilter('status')
  const query: AuditQuery = { page, size, ...status }
  const user = filters.user.trim()
  if (user) query.user = user
  if (filters.archive === 'system' || isArchive(filters.archive)) query.archive = filters.archive
  const action = filters.action.trim()
  if (action) query.action = action
  if (filters.range) {
    const [since, until] = filters.range
    query.since = toOffsetIso(since)
    query.until = toOffsetIso(new Date(until.getTime() + 1000))
  }
  return query
}

export type TagType = 'success' | 'info' | 'warning' | 'danger'

/** 2xx green, 4xx orange, 5xx red, the rest grey. */
export function statusTagType(status: number): TagType {
  if (status >= 200 && status < 300) return 'success'
  if (status >= 400 && status < 500) return 'warning'
  if (status >= 500) return 'danger'
  return 'info'
}

// -- detail ----------------------------------------------------------------------------------------------------

export interface DetailEntry {
  key: string
  label: string
  value: string
}

export interface Translator {
  t: (key: string, params?: Record<string, unknown>) => string
  te: (key: string) => boolean
}

const LEVELS = new Set(['read', 'write'])

function isGrantMap(value: Record<string, unknown>): boolean {
  return Object.entries(value).every(([k, v]) => isArchive(k) && typeof v === 'string' && LEVELS.has(v))
}

function formatValue(key: string, value: unknown, tr: Translator): string {
  const { t, te } = tr
  const separator = t('common.list_separator')
  if (value === null || value === undefined || value === '') return t('system.common.none')
  if (typeof value === 'boolean') return t(value ? 'common.yes' : 'common.no')
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') {
    if (key === 'role' && te(`roles.${value}`)) return t(`roles.${value}`)
    if (key === 'archive' && te(`archives.${value}`)) return t(`archives.${value}`)
    if (key === 'level' && te(`level_names.${value}`)) return t(`level_names.${value}`)
    if (/(_at|_until)$/.test(key) && !Number.isNaN(Date.parse(value))) return formatDateTime(value)
    return value
  }
  if (Array.isArray(value)) {
    return value.length ? value.map((item) => formatValue(key, item, tr)).join(separator) : t('system.common.none')
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    if (entries.length === 0) return t('system.common.none')
    if (isGrantMap(value as Record<string, unknown>)) {
      // {datacenter: 'write'} → 数据中心：读写, in menu order
      return ARCHIVES.filter((a) => a in (value as object))
        .map((a) => t('system.audit.grant_pair', { archive: t(`archives.${a}`),
          level: t(`level_names.${(value as Record<string, string>)[a]}`) }))
        .join(separator)
    }
    return entries.map(([k, v]) => `${label(k, tr)}: ${formatValue(k, v, tr)}`).join(separator)
  }
  return String(value)
}

function label(key: string, { t, te }: Translator): string {
  return te(`system.audit.detail_keys.${key}`) ? t(`system.audit.detail_keys.${key}`) : key
}

/** `detail` as labelled, translated values: grant maps as archive：level lists, times in local time. */
export function describeDetail(detail: Record<string, unknown> | null | undefined, tr: Translator): DetailEntry[] {
  if (!detail || typeof detail !== 'object') return []
  return Object.entries(detail).map(([key, value]) => ({ key, label: label(key, tr), value: formatValue(key, value, tr) }))
}
