import type { Grant, Role, TokenOut } from '@/api/gateway'

/** A login/refresh response as the gateway sends it (gateway/schemas.py TokenOut). */
export function tokenOut(suffix: string, options: { role?: Role; grants?: Grant[]; mustChange?: boolean } = {}): TokenOut {
  return {
    access_token: `access-${suffix}`,
    refresh_token: `refresh-${suffix}`,
    token_type: 'bearer',
    expires_in: 900,
    must_change_password: options.mustChange ?? false,
    user: {
      id: 7,
      username: 'dc_editor',
      display_name: '数据中心管理员',
      role: options.role ?? 'admin',
      grants: options.grants ?? [
        { archive: 'datacenter', level: 'write' },
        { archive: 'scheduling', level: 'read' },
      ],
    },
  }
}

export function envelope(code: string, message = 'server message in English', detail: Record<string, unknown> | null = null) {
  return { code, message, detail }
}

export function resetStorage(): void {
  sessionStorage.clear()
  localStorage.clear()
}
