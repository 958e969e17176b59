/**
 * The gateway's own API: sign-in and tokens (`/api/auth`) and the super admin's user, grant, audit and service
 * administration (`/api/admin`). Types mirror gateway/schemas.py; datetimes are ISO 8601 strings in UTC.
 *
 *     import * as gateway from '@/api/gateway'
 *     const page = await gateway.listUsers({ q: 'dc', page: 1, size: 20 })
 */
import type { Archive } from '@/permissions'

import { http } from './http'
import type { Page, PageQuery } from './types'

export type Level = 'read' | 'write'
export type Role = 'admin' | 'super_admin'

/** GrantOut / GrantIn */
export interface Grant {
  archive: Archive
  level: Level
}

/** UserOut: the signed-in user as `login`, `refresh` and `me` describe them. */
export interface User {
  id: number
  username: string
  display_name: string
  role: Role
  grants: Grant[]
}

/** UserDetail: a user as the admin API lists them. */
export interface UserDetail extends User {
  active: boolean
  must_change_password: boolean
  locked_until: string | null
  created_at: string
  last_login_at: string | null
}

/** TokenOut */
export interface TokenOut {
  access_token: string
  refresh_token: string
  token_type: 'bearer'
  /** Seconds until the access token expires. */
  expires_in: number
  must_change_password: boolean
  user: User
}

/** UserCreate; `username` must match ^[a-z][a-z0-9_.-]{2,31}$ (the server lower-cases it). */
export interface UserCreate {
  username: string
  display_name: string
  password: string
  role?: Role
}

/** UserUpdate */
export interface UserUpdate {
  display_name?: string
  active?: boolean
}

/** PasswordResetOut: the new initial password, shown once; it must be changed at the next sign-in. */
export interface PasswordResetOut {
  password: string
}

/** AuditOut: one row of the append-only audit log (a proxied request or a security event). */
export interface AuditEntry {
  id: number
  /** When it happened (ISO 8601, UTC). */
  occurred_at: string
  user_id: number | null
  username: string | null
  client_ip: string | null
  method: string
  path: string
  archive: string | null
  status: number
  duration_ms: number
  request_id: string | null
  /** `request` for a proxied request, else a security event: one of `AUDIT_ACTIONS`, e.g. `admin.grants_changed`. */
  action: string
  detail: Record<string, unknown> | null
}

export interface UserQuery extends PageQuery {
  /** Matches username or display name. */
  q?: string
  role?: Role
  active?: boolean
}

/**
 * What the gateway writes in the `action` column (gateway/service.py `_audit_event`, gateway/audit.py): `request`
 * for every request it answers, and the security events. The audit filter offers these; others are still shown.
 */
export const AUDIT_ACTIONS = [
  'request',
  'auth.login',
  'auth.login_failed',
  'auth.login_locked',
  'auth.login_disabled',
  'auth.locked',
  'auth.refresh_reused',
  'auth.password_changed',
  'auth.password_change_failed',
  'admin.user_created',
  'admin.user_disabled',
  'admin.user_enabled',
  'admin.password_reset',
  'admin.grants_changed',
] as const

export interface AuditQuery extends PageQuery {
  /** Username or user id. */
  user?: string
  archive?: Archive | 'system'
  status?: number
  /** 2 for 2xx, 4 for 4xx… */
  status_class?: 1 | 2 | 3 | 4 | 5
  action?: string
  method?: string
  /** ISO 8601 WITH a time zone (the API refuses naive times), e.g. `2026-05-01T08:00:00+08:00`; inclusive. */
  since?: string
  /** Same format; exclusive. */
  until?: string
}

/** CheckOut */
export interface HealthCheck {
  check_id: string
  name: string
  status: string
  output: string
}

/** InstanceOut */
export interface ServiceInstance {
  id: string
  address: string
  port: number
  status: 'passing' | 'warning' | 'critical'
  checks: HealthCheck[]
}

/** ServiceOut: a name registered in the registry; `archive` is null for one that owns no archive. */
export interface ServiceInfo {
  name: string
  archive: Archive | null
  instances: ServiceInstance[]
}

// -- sign-in and tokens ------------------------------------------------------------------------------------------

export async function login(username: string, password: string): Promise<TokenOut> {
  return (await http.post<TokenOut>('/api/auth/login', { username, password }, { skipAuth: true })).data
}

/** The raw refresh call. The HTTP layer refreshes by itself on a 401; use `useAuthStore().refresh()` instead. */
export async function refresh(refreshToken: string): Promise<TokenOut> {
  return (await http.post<TokenOut>('/api/auth/refresh', { refresh_token: refreshToken }, { skipAuth: true })).data
}

/** Revokes the access token and its refresh family. */
export async function logout(): Promise<void> {
  await http.post('/api/auth/logout', null, { silentExpiry: true })
}

export async function me(): Promise<User> {
  return (await http.get<User>('/api/auth/me')).data
}

/** Answers a new token pair (with `must_change_password: false`). */
export async function changePassword(oldPassword: string, newPassword: string): Promise<TokenOut> {
  return (await http.post<TokenOut>('/api/auth/password', { old_password: oldPassword, new_password: newPassword }))
    .data
}

// -- users and grants (super admin) ------------------------------------------------------------------------------

export async function listUsers(query: UserQuery = {}): Promise<Page<UserDetail>> {
  return (await http.get<Page<UserDetail>>('/api/admin/users', { params: query })).data
}

export async function getUser(id: number): Promise<UserDetail> {
  return (await http.get<UserDetail>(`/api/admin/users/${id}`)).data
}

export async function createUser(body: UserCreate): Promise<UserDetail> {
  return (await http.post<UserDetail>('/api/admin/users', body)).data
}

/** Change the display name, or disable (`active: false`) / enable a user. */
export async function updateUser(id: number, body: UserUpdate): Promise<UserDetail> {
  return (await http.patch<UserDetail>(`/api/admin/users/${id}`, body)).data
}

export async function resetPassword(id: number): Promise<PasswordResetOut> {
  return (await http.post<PasswordResetOut>(`/api/admin/users/${id}/reset-password`)).data
}

export async function getGrants(id: number): Promise<Grant[]> {
  return (await http.get<Grant[]>(`/api/admin/users/${id}/grants`)).data
}

/** Replaces the user's whole set of grants (at most one per archive; not for super admins). */
export async function putGrants(id: number, grants: Grant[]): Promise<Grant[]> {
  return (await http.put<Grant[]>(`/api/admin/users/${id}/grants`, grants)).data
}

// -- audit and services (super admin) ----------------------------------------------------------------------------

export async function searchAudit(query: AuditQuery = {}): Promise<Page<AuditEntry>> {
  return (await http.get<Page<AuditEntry>>('/api/admin/audit', { params: query })).data
}

/** Every registered service with its instances and their checks, in one page (the registry is not paged). */
export async function listServices(): Promise<Page<ServiceInfo>> {
  return (await http.get<Page<ServiceInfo>>('/api/admin/services')).data
}
