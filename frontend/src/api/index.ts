/**
 * # The API layer — conventions
 *
 * One module per backend service, named after the service (ARCHITECTURE §1, §9):
 *
 * | module        | service                | gateway prefix                   |
 * |---------------|------------------------|----------------------------------|
 * | `gateway.ts`  | gateway (auth, admin)  | `/api/auth`, `/api/admin`        |
 * | `dbs.ts`      | data center 数据中心   | `/api/datacenter`                |
 * | `oms.ts`      | outpatient 门诊管理    | `/api/outpatient`                |
 * | `dms.ts`      | scheduling 排班管理    | `/api/scheduling`                |
 * | `hms.ts` `tms.ts` `sms.ts` `pms.ts` | the other archives (later), same pattern |
 *
 * Rules for a module:
 * - Use `http` from `./http` (never a new axios instance): it attaches the token, refreshes it once on a 401,
 *   retries, and turns every failure into an `ApiError {status, code, message, detail}`.
 * - Export one plain `async` function per endpoint, returning the response body (`.data`), typed with interfaces
 *   that mirror the service's `schemas.py` (field names exactly as the API spells them, snake_case). Lists return
 *   `Page<T>` from `./types`; money fields are `Money` strings ("12.50"), never numbers.
 * - Call sites import the module as a namespace: `import * as dbs from '@/api/dbs'`, then `dbs.listDepartments(…)`.
 * - POSTs that move money or stock send an `Idempotency-Key` header: `newIdempotencyKey()` from `./http`, made once
 *   per user action and reused when that action is retried.
 * - Show failures with `errorMessage(err)` (translated through `errors.<code>` in src/i18n/locales); add a message
 *   to BOTH locale files for every new error code the service sends. `invalidFields(err)` gives the fields a 422
 *   names, for highlighting form items.
 * - Entity names (for `<entity>.not_found` and `datacenter.in_use` messages) live in `./entities.ts` and under
 *   `entities.*` in the locale files.
 */
export { ApiError, errorMessage, invalidFields, isApiError } from './errors'
export { http, newIdempotencyKey, refreshSession } from './http'
export type { Money, Page, PageQuery } from './types'
