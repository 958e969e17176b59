/**
 * The one HTTP client of the UI. Every API module (`gateway.ts`, `dbs.ts`, …) uses `http` from here.
 *
 * - Attaches `Authorization: Bearer <access token>` (tokens come from the session hooks the auth store installs).
 * - On a 401 (`auth.token_expired`, or any 401 while a refresh token is held) it refreshes the session ONCE —
 *   concurrent 401s wait for the same `POST /api/auth/refresh` — and retries the original request once.
 *   If the refresh fails, the session hooks clear the session and send the user to sign-in with
 *   `?redirect=<current full path>`.
 * - A 403 `auth.password_change_required` sends the user to the password page.
 * - Every failure is rejected as an `ApiError {status, code, message, detail}` built from the server's envelope
 *   `{code, message, detail}` (ARCHITECTURE §4). Show it with `errorMessage(err)` (see `@/api/errors`), never raw.
 */
import axios, {
  AxiosHeaders,
  type AxiosError,
  type AxiosInstance,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios'

import {
  ApiError,
  isApiError,
  NETWORK_ERROR,
  NETWORK_TIMEOUT,
  NO_ENVELOPE,
  REQUEST_CANCELLED,
} from '@/api/errors'
import type { TokenOut } from '@/api/gateway'

export { ApiError, errorMessage, isApiError } from '@/api/errors'

declare module 'axios' {
  interface AxiosRequestConfig {
    /** Send no access token and never refresh (sign-in and refresh themselves). */
    skipAuth?: boolean
    /** On a 401 that cannot be recovered, reject without ending the session (used by sign-out). */
    silentExpiry?: boolean
    /** Internal: this request is already the retry after a refresh. */
    _retried?: boolean
    /** Internal: the access token this request was sent with. */
    _token?: string | null
  }
}

/** What the HTTP layer needs from the session; installed by `connectSession` (src/session.ts). */
export interface SessionHooks {
  accessToken(): string | null
  refreshToken(): string | null
  /** A refresh succeeded: store the new token pair and user. */
  refreshed(tokens: TokenOut): void
  /** The session cannot be recovered (refresh failed or no refresh token): clear it and go to sign-in. */
  expired(error: ApiError): void
  /** The server requires the initial password to be changed before anything else. */
  passwordChangeRequired(): void
}

let hooks: SessionHooks | null = null
let refreshing: Promise<TokenOut> | null = null

export function installSessionHooks(value: SessionHooks | null): void {
  hooks = value
  refreshing = null
}

export const http: AxiosInstance = axios.create({
  baseURL: '/',
  timeout: 30_000,
  headers: { Accept: 'application/json' },
})

const REFRESH_PATH = '/api/auth/refresh'

/**
 * Exchanges the refresh token for a new pair, once: callers that arrive while a refresh is in flight get the same
 * promise. Rejects with an ApiError when there is no refresh token or the server refuses it.
 */
export function refreshSession(): Promise<TokenOut> {
  if (refreshing) return refreshing
  const token = hooks?.refreshToken()
  if (!token) {
    return Promise.reject(new ApiError(401, 'auth.session_expired', 'No refresh token'))
  }
  refreshing = http
    .post<TokenOut>(REFRESH_PATH, { refresh_token: token }, { skipAuth: true })
    .then((response) => {
      hooks?.refreshed(response.data)
      return response.data
    })
    .finally(() => {
      refreshing = null
    })
  return refreshing
}

http.interceptors.request.use((config: InternalAxiosRequestConfig) => {
  // Empty filters are not sent: `{q: '', active: undefined}` means "no filter", not "q equals ''".
  if (config.params && typeof config.params === 'object' && !(config.params instanceof URLSearchParams)) {
    config.params = Object.fromEntries(Object.entries(config.params as Record<string, unknown>)
      .filter(([, value]) => value !== undefined && value !== null && value !== ''))
  }
  if (!config.skipAuth) {
    const token = hooks?.accessToken() ?? null
    config._token = token
    if (token) {
      config.headers = AxiosHeaders.from(config.headers)
      config.headers.set('Authorization', `Bearer ${token}`)
    }
  }
  return config
})

http.interceptors.response.use(
  (response: AxiosResponse) => response,
  async (error: AxiosError) => {
    const apiError = toApiError(error)
    const config = error.config
    if (!config || config.skipAuth || !hooks) throw apiError

    if (apiError.status === 401 && !config._retried) {
      const recoverable = apiError.code === 'auth.token_expired' || !!hooks.refreshToken()
      if (recoverable) {
        try {
          // Sent with a token that has since been replaced (another request refreshed meanwhile): just retry.
          const current = hooks.accessToken()
          if (!current || current === config._token) await refreshSession()
        } catch (refreshError) {
          const refused = isApiError(refreshError) && refreshError.status >= 400 && refreshError.status < 500
          // A refresh that could not be made (network down, gateway 5xx) keeps the session: the next try may work.
          if (!refused) throw toApiError(refreshError)
          if (!config.silentExpiry) hooks?.expired(refreshError)
          throw apiError
        }
        config._retried = true
        const headers = AxiosHeaders.from(config.headers)
        headers.delete('Authorization') // the request interceptor attaches the new token
        config.headers = headers
        return http.request(config)
      }
    }
    if (apiError.status === 401 && !config.silentExpiry) {
      hooks.expired(apiError)
    } else if (apiError.status === 403 && apiError.code === 'auth.password_change_required') {
      hooks.passwordChangeRequired()
    }
    throw apiError
  },
)

/** The error envelope every service sends (ARCHITECTURE §4). */
export interface ErrorEnvelope {
  code: string
  message: string
  detail?: Record<string, unknown> | null
}

function isEnvelope(data: unknown): data is ErrorEnvelope {
  return typeof data === 'object' && data !== null && typeof (data as ErrorEnvelope).code === 'string' &&
    typeof (data as ErrorEnvelope).message === 'string'
}

/** Turns whatever axios rejected with into an ApiError (the envelope's code, or a status/network fallback). */
export function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error
  if (axios.isCancel(error)) return new ApiError(0, REQUEST_CANCELLED, 'Request cancelled')
  if (axios.isAxiosError(error)) {
    const response = error.response
    if (!response) {
      const timedOut = error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT'
      return new ApiError(0, timedOut ? NETWORK_TIMEOUT : NETWORK_ERROR, error.message || 'Network error')
    }
    const requestId = headerValue(response.headers, 'x-request-id')
    if (isEnvelope(response.data)) {
      const { code, message, detail } = response.data
      return new ApiError(response.status, code, message, detail ?? null, requestId)
    }
    // Not our envelope (e.g. a proxy's HTML error page): keep only the status; the message comes from it.
    return new ApiError(response.status, NO_ENVELOPE, `HTTP ${response.status}`, null, requestId)
  }
  const message = error instanceof Error ? error.message : String(error)
  return new ApiError(0, 'internal.client_error', message)
}

function headerValue(headers: unknown, name: string): string | null {
  if (headers instanceof AxiosHeaders) {
    const value = headers.get(name)
    return typeof value === 'string' ? value : null
  }
  if (headers && typeof headers === 'object') {
    const value = (headers as Record<string, unknown>)[name]
    return typeof value === 'string' ? value : null
  }
  return null
}

/**
 * A fresh `Idempotency-Key` for a POST that moves money or stock (ARCHITECTURE §4). Create it once per user
 * action and reuse it when that same action is retried. Works on plain-HTTP intranet origins too, where
 * `crypto.randomUUID` is not available.
 */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16)
  globalThis.crypto.getRandomValues(bytes)
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
