/**
 * `ApiError` (what every failed request rejects with) and `errorMessage(err)`, which turns any error into one
 * translated sentence for the user: `errors.<code>` from the locale files, with the envelope's `detail` as
 * parameters; `<entity>.not_found` without its own key falls back to a generic "… does not exist"; an unknown
 * code falls back to a message for its HTTP status; a failure without a response to a network message.
 * The server's English `message` is never shown.
 */
import { computed, ref } from 'vue'

import { entityOfNamespace } from '@/api/entities'
import { i18n } from '@/i18n'
import { formatDateTime } from '@/utils/format'

/** Client-side codes for failures that never got an envelope from a server. */
export const NETWORK_ERROR = 'network.error'
export const NETWORK_TIMEOUT = 'network.timeout'
export const REQUEST_CANCELLED = 'request.cancelled'
/** A response that is not our envelope (a proxy's HTML page…): translated by its HTTP status alone. */
export const NO_ENVELOPE = 'http.no_envelope'

/** Every failed request rejects with this. `status` is 0 when no HTTP response arrived. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: Record<string, unknown> | null
  readonly requestId: string | null

  constructor(status: number, code: string, message: string, detail: Record<string, unknown> | null = null,
    requestId: string | null = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.detail = detail
    this.requestId = requestId
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError
}

/** HTTP status → key under `errors.status.*`, used when a code has no message of its own. */
const STATUS_KEYS: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'bad_request',
  409: 'conflict',
  413: 'too_large',
  415: 'bad_request',
  422: 'invalid',
  429: 'too_many',
  500: 'server',
  502: 'unavailable',
  503: 'unavailable',
  504: 'timeout',
}

/** The server's English password-policy rules (gateway/security.py) → `password.rules.*`. */
const PASSWORD_RULES: Record<string, string> = {
  'at least 8 characters': 'length',
  'at most 128 characters': 'max',
  '3 of: lower case, upper case, digits, symbols': 'classes',
  'must not contain the username': 'username',
}

type Translate = (key: string, params?: Record<string, unknown>) => string

function translator(): { t: Translate; te: (key: string) => boolean; list: string } {
  const g = i18n.global
  return {
    t: (key, params) => (params ? g.t(key, params) : g.t(key)),
    te: (key) => g.te(key),
    list: g.t('common.list_separator'),
  }
}

function fieldLabel(name: string): string {
  const { t, te } = translator()
  return te(`fields.${name}`) ? t(`fields.${name}`) : name
}

export function entityLabel(entity: string): string {
  const { t, te } = translator()
  return te(`entities.${entity}`) ? t(`entities.${entity}`) : t('errors.record')
}

/** The envelope's `detail`, turned into readable message parameters. */
function params(error: ApiError): Record<string, unknown> {
  const { t, te, list } = translator()
  const detail = error.detail ?? {}
  const out: Record<string, unknown> = { status: error.status, code: error.code }
  for (const [key, value] of Object.entries(detail)) {
    if (typeof value === 'string' || typeof value === 'number') out[key] = value
  }
  if (typeof detail.locked_until === 'string') out.until = formatDateTime(detail.locked_until)
  if (typeof detail.field === 'string') out.field = fieldLabel(detail.field)
  if (typeof detail.archive === 'string' && te(`archives.${detail.archive}`)) {
    out.archive = t(`archives.${detail.archive}`)
  }
  if (detail.level === 'read' || detail.level === 'write') out.level = t(`levels.${detail.level}`)
  if (detail.references && typeof detail.references === 'object') {
    out.references = Object.entries(detail.references as Record<string, unknown>)
      .map(([namespace, count]) => {
        const entity = entityOfNamespace(namespace)
        return t('errors.reference_count', { entity: entity ? entityLabel(entity) : namespace, count: Number(count) })
      })
      .join(list)
  }
  if (Array.isArray(detail.rules)) {
    out.rules = detail.rules
      .map((rule) => (typeof rule === 'string' && PASSWORD_RULES[rule] ? t(`password.rules.${PASSWORD_RULES[rule]}`)
        : String(rule)))
      .join(list)
  }
  if (Array.isArray(detail.errors)) {
    const fields = new Set<string>()
    for (const item of detail.errors as { loc?: unknown }[]) {
      const loc = Array.isArray(item?.loc) ? item.loc.map(String).filter((p) => p !== 'body' && p !== 'query') : []
      const last = [...loc].reverse().find((p) => !/^\d+$/.test(p))
      if (last) fields.add(fieldLabel(last))
    }
    out.fields = [...fields].join(list)
  }
  return out
}

/** Messages that read better when the detail names what was refused: code → [detail field, key]. */
const DETAILED: Record<string, [string, string]> = {
  'auth.forbidden': ['archive', 'errors.auth.forbidden_archive'],
  'validation.failed': ['fields', 'errors.validation.failed_fields'],
  'auth.password_policy': ['rules', 'errors.auth.password_policy_rules'],
  'datacenter.in_use': ['references', 'errors.datacenter.in_use_references'],
}

/** One translated sentence for any error (ApiError or not). Never the raw server message or JSON. */
export function errorMessage(error: unknown): string {
  const { t, te } = translator()
  if (!isApiError(error)) return t('errors.unexpected')
  const values = params(error)
  const detailed = DETAILED[error.code]
  if (detailed && values[detailed[0]]) return t(detailed[1], values)
  const key = `errors.${error.code}`
  if (te(key)) return t(key, values)
  const notFound = /^([a-z][a-z0-9_]*)\.not_found$/.exec(error.code)
  if (notFound) return t('errors.entity_not_found', { entity: entityLabel(notFound[1]!) })
  if (error.status === 0) return t('errors.network.error')
  const statusKey = STATUS_KEYS[error.status] ?? (error.status >= 500 ? 'server' : 'default')
  return t(`errors.status.${statusKey}`, values)
}

/** For forms: the request fields a `validation.failed` (422) names, e.g. `['code', 'department_id']`. */
export function invalidFields(error: unknown): string[] {
  if (!isApiError(error) || !Array.isArray(error.detail?.errors)) {
    const field = isApiError(error) ? error.detail?.field : undefined
    return typeof field === 'string' ? [field] : []
  }
  const out = new Set<string>()
  for (const item of error.detail.errors as { loc?: unknown }[]) {
    const loc = Array.isArray(item?.loc) ? item.loc.map(String) : []
    const last = [...loc].reverse().find((p) => !/^\d+$/.test(p) && p !== 'body' && p !== 'query')
    if (last) out.add(last)
  }
  return [...out]
}


/**
 * The last failure of a form and how to show it: `errorText` (translated, follows the language) and
 * `errorCode` (the server's code, or 'unknown'), for an error alert with `data-code`.
 */
export function useFailure() {
  const failure = ref<unknown>(null)
  const errorText = computed(() => (failure.value ? errorMessage(failure.value) : ''))
  const errorCode = computed(() => (isApiError(failure.value) ? failure.value.code : 'unknown'))
  return { failure, errorText, errorCode }
}
