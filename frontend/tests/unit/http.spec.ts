/**
 * The request layer against a mocked network (axios-mock-adapter on the real `http` instance): token attachment,
 * the single-flight refresh, the redirect to sign-in when the session cannot be recovered, and the translation of
 * error envelopes.
 */
import MockAdapter from 'axios-mock-adapter'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createMemoryHistory, createRouter, type Router } from 'vue-router'

import { ApiError, errorMessage, isApiError } from '@/api/errors'
import { http } from '@/api/http'
import { setLocale } from '@/i18n'
import { connectSession } from '@/session'
import { SESSION_STORAGE_KEY, useAuthStore } from '@/stores/auth'

import { envelope, resetStorage, tokenOut } from './helpers'

const Page = { template: '<div />' }

function testRouter(): Router {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', name: 'login', component: Page },
      { path: '/password', name: 'password', component: Page },
      { path: '/', name: 'home', component: Page },
      { path: '/datacenter/:entity', name: 'datacenter-entity', component: Page },
    ],
  })
}

let mock: MockAdapter
let router: Router
let disconnect: () => void

beforeEach(async () => {
  resetStorage()
  setActivePinia(createPinia())
  mock = new MockAdapter(http)
  router = testRouter()
  disconnect = connectSession(router)
  await router.push('/datacenter/doctors?q=%E5%BC%A0&page=2')
})

afterEach(() => {
  disconnect()
  mock.restore()
  useAuthStore().stopIdleWatch()
  setLocale('zh-CN')
})

function signIn(suffix = 'old') {
  const auth = useAuthStore()
  auth.applyTokens(tokenOut(suffix))
  return auth
}

describe('tokens', () => {
  it('attaches the access token to every request', async () => {
    signIn('abc')
    mock.onGet('/api/auth/me').reply((config) => [200, { seen: config.headers?.Authorization }])
    const response = await http.get('/api/auth/me')
    expect(response.data.seen).toBe('Bearer access-abc')
  })

  it('sends no token to the sign-in endpoint', async () => {
    signIn('abc')
    mock.onPost('/api/auth/login').reply((config) => [200, { seen: config.headers?.Authorization ?? null }])
    const response = await http.post('/api/auth/login', {}, { skipAuth: true })
    expect(response.data.seen).toBeNull()
  })

  it('drops empty query parameters', async () => {
    signIn()
    mock.onGet('/api/admin/users').reply((config) => [200, config.params])
    const response = await http.get('/api/admin/users', { params: { q: '', active: undefined, role: null, page: 2 } })
    expect(response.data).toEqual({ page: 2 })
  })
})

describe('401 and the single-flight refresh', () => {
  it('refreshes once for two concurrent 401s and retries both with the new token', async () => {
    const auth = signIn('old')
    const sent: string[] = []
    let unauthorized = 0
    let bothFailed!: () => void
    const bothFailedPromise = new Promise<void>((resolve) => (bothFailed = resolve))
    let refreshCalls = 0
    let refreshBody: unknown = null

    const guarded = (config: { headers?: Record<string, unknown>; url?: string }): [number, unknown] => {
      const token = String(config.headers?.Authorization)
      sent.push(`${config.url} ${token}`)
      if (token === 'Bearer access-new') return [200, { items: [], total: 0, page: 1, size: 20, url: config.url }]
      unauthorized += 1
      if (unauthorized === 2) bothFailed()
      return [401, envelope('auth.token_expired', 'The token has expired')]
    }
    mock.onGet('/api/datacenter/departments').reply(guarded)
    mock.onGet('/api/datacenter/doctors').reply(guarded)
    mock.onPost('/api/auth/refresh').reply(async (config) => {
      refreshCalls += 1
      refreshBody = JSON.parse(config.data)
      expect(config.headers?.Authorization).toBeUndefined()
      await bothFailedPromise // answer only once both requests have had their 401
      return [200, tokenOut('new')]
    })

    const [a, b] = await Promise.all([http.get('/api/datacenter/departments'), http.get('/api/datacenter/doctors')])

    expect(refreshCalls).toBe(1)
    expect(refreshBody).toEqual({ refresh_token: 'refresh-old' })
    expect(a.data.url).toBe('/api/datacenter/departments')
    expect(b.data.url).toBe('/api/datacenter/doctors')
    expect(sent.filter((s) => s.endsWith('Bearer access-old'))).toHaveLength(2)
    expect(sent.filter((s) => s.endsWith('Bearer access-new'))).toHaveLength(2)
    expect(auth.accessToken).toBe('access-new')
    expect(auth.refreshToken).toBe('refresh-new')
    expect(JSON.parse(sessionStorage.getItem(SESSION_STORAGE_KEY)!).refreshToken).toBe('refresh-new')
    expect(router.currentRoute.value.name).toBe('datacenter-entity')
  })

  it('retries only once: a second 401 after the refresh ends the session', async () => {
    const auth = signIn('old')
    let calls = 0
    mock.onGet('/api/datacenter/units').reply(() => {
      calls += 1
      // a broken retry limit would loop forever: stop it so the assertion below fails instead of hanging
      return calls > 5 ? [200, {}] : [401, envelope('auth.token_revoked')]
    })
    mock.onPost('/api/auth/refresh').reply(200, tokenOut('new'))
    await expect(http.get('/api/datacenter/units')).rejects.toMatchObject({ status: 401, code: 'auth.token_revoked' })
    expect(calls).toBe(2)
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('login'))
    expect(auth.signedIn).toBe(false)
  })

  it('when the refresh fails: clears the session and goes to sign-in with ?redirect=<current full path>', async () => {
    const auth = signIn('old')
    mock.onGet('/api/datacenter/drugs').reply(401, envelope('auth.token_expired'))
    mock.onPost('/api/auth/refresh').reply(401, envelope('auth.refresh_invalid', 'The refresh token is not valid'))

    const error = await http.get('/api/datacenter/drugs').catch((e: unknown) => e)

    expect(isApiError(error)).toBe(true)
    expect((error as ApiError).code).toBe('auth.token_expired')
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('login'))
    expect(router.currentRoute.value.query.redirect).toBe('/datacenter/doctors?q=%E5%BC%A0&page=2')
    expect(router.currentRoute.value.query.reason).toBe('expired')
    expect(auth.signedIn).toBe(false)
    expect(auth.accessToken).toBeNull()
    expect(auth.refreshToken).toBeNull()
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toBeNull()
    // no sign-out call for a session the server already ended
    expect(mock.history.post!.map((r) => r.url)).toEqual(['/api/auth/refresh'])
  })

  it('keeps the session when the refresh cannot reach the server', async () => {
    const auth = signIn('old')
    mock.onGet('/api/datacenter/drugs').reply(401, envelope('auth.token_expired'))
    mock.onPost('/api/auth/refresh').networkError()
    const error = await http.get('/api/datacenter/drugs').catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 0, code: 'network.error' })
    expect(errorMessage(error)).toBe('无法连接到服务器，请检查网络连接后重试。')
    expect(auth.signedIn).toBe(true)
    expect(auth.refreshToken).toBe('refresh-old')
    expect(router.currentRoute.value.name).toBe('datacenter-entity')
  })

  it('a 401 without a refresh token goes straight to sign-in', async () => {
    mock.onGet('/api/auth/me').reply(401, envelope('auth.token_missing'))
    await expect(http.get('/api/auth/me')).rejects.toMatchObject({ status: 401, code: 'auth.token_missing' })
    expect(mock.history.post).toHaveLength(0)
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('login'))
    expect(router.currentRoute.value.query.redirect).toBe('/datacenter/doctors?q=%E5%BC%A0&page=2')
  })

  it('a 403 is not a reason to refresh', async () => {
    signIn('old')
    mock.onPost('/api/datacenter/departments').reply(403, envelope('auth.forbidden', 'Requires datacenter:write',
      { archive: 'datacenter', level: 'write' }))
    const error = await http.post('/api/datacenter/departments', {}).catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 403, code: 'auth.forbidden' })
    expect(mock.history.post!.map((r) => r.url)).toEqual(['/api/datacenter/departments'])
    expect(errorMessage(error)).toBe('您没有「数据中心」的写权限。')
    expect(router.currentRoute.value.name).toBe('datacenter-entity')
  })

  it('403 auth.password_change_required opens the password page', async () => {
    const auth = signIn('old')
    mock.onGet('/api/datacenter/units').reply(403, envelope('auth.password_change_required'))
    await expect(http.get('/api/datacenter/units')).rejects.toBeInstanceOf(ApiError)
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('password'))
    expect(auth.mustChangePassword).toBe(true)
    expect(router.currentRoute.value.query.redirect).toBe('/datacenter/doctors?q=%E5%BC%A0&page=2')
  })
})

describe('errors become ApiError and translated messages', () => {
  it('translates the envelope code through errors.<code>, with the detail as parameters', async () => {
    signIn()
    mock.onDelete('/api/datacenter/departments/3').reply(409, envelope('datacenter.in_use',
      'The department 3 is still referenced (doctors: 2, medical-items: 1) and cannot be deleted; deactivate it instead',
      { references: { doctors: 2, 'medical-items': 1 } }))

    const error = await http.delete('/api/datacenter/departments/3').catch((e: unknown) => e)

    expect(error).toBeInstanceOf(ApiError)
    expect(error).toMatchObject({ status: 409, code: 'datacenter.in_use',
      detail: { references: { doctors: 2, 'medical-items': 1 } } })
    expect(errorMessage(error)).toBe('该记录仍被引用（医生 2 条、医疗项目 1 条），不能删除；可以改为停用。')
    setLocale('en')
    expect(errorMessage(error)).toBe(
      'This record is still referenced (Doctor: 2, Medical item: 1) and cannot be deleted; you can deactivate it instead.')
  })

  it('shows a locked account with the time in local time', async () => {
    const until = '2026-11-25T08:30:00+00:00'
    mock.onPost('/api/auth/login').reply(403, envelope('auth.account_locked', 'locked', { locked_until: until }))
    const error = await http.post('/api/auth/login', {}, { skipAuth: true }).catch((e: unknown) => e)
    const local = new Intl.DateTimeFormat('zh-CN', { year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(until))
    expect(errorMessage(error)).toBe(`连续登录失败次数过多，账户已被锁定，请于 ${local} 之后再试。`)
  })

  it('uses the generic message for an <entity>.not_found without its own key', async () => {
    signIn()
    mock.onGet('/api/datacenter/departments/99').reply(404, envelope('department.not_found', 'No department with id 99'))
    mock.onGet('/api/datacenter/gizmos/1').reply(404, envelope('gizmo.not_found', 'No gizmo with id 1'))
    const known = await http.get('/api/datacenter/departments/99').catch((e: unknown) => e)
    const unknown = await http.get('/api/datacenter/gizmos/1').catch((e: unknown) => e)
    expect(errorMessage(known)).toBe('科室不存在或已被删除。')
    expect(errorMessage(unknown)).toBe('该记录不存在或已被删除。')
  })

  it('falls back to a message for the status when the code is unknown, and never shows the raw body', async () => {
    signIn()
    mock.onGet('/api/x').reply(503, envelope('brand_new.code', 'Something in English'))
    mock.onGet('/api/y').reply(502, '<html><body>Bad Gateway</body></html>')
    mock.onGet('/api/z').reply(418, { unexpected: 'json' })
    const x = await http.get('/api/x').catch((e: unknown) => e)
    const y = await http.get('/api/y').catch((e: unknown) => e)
    const z = await http.get('/api/z').catch((e: unknown) => e)
    expect(errorMessage(x)).toBe('服务暂时不可用，请稍后重试。')
    expect(y).toMatchObject({ status: 502, code: 'http.no_envelope' })
    expect(errorMessage(y)).toBe('服务暂时不可用，请稍后重试。')
    expect(errorMessage(z)).toBe('请求失败（418），请稍后重试。')
    for (const e of [x, y, z]) {
      expect(errorMessage(e)).not.toMatch(/Something in English|<html>|unexpected|\{/)
    }
  })

  it('names the invalid fields of a 422 validation.failed', async () => {
    signIn()
    mock.onPost('/api/datacenter/doctors').reply(422, envelope('validation.failed', 'body.code: String should match',
      { errors: [{ loc: ['body', 'code'], type: 'string_pattern_mismatch', msg: 'x' },
        { loc: ['body', 'department_id'], type: 'missing', msg: 'y' }] }))
    const error = await http.post('/api/datacenter/doctors', {}).catch((e: unknown) => e)
    expect(errorMessage(error)).toBe('以下内容填写有误：编码、科室。')
  })

  it('turns a network failure into a generic, translated message', async () => {
    signIn()
    mock.onGet('/api/datacenter/units').networkError()
    const error = await http.get('/api/datacenter/units').catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 0, code: 'network.error' })
    expect(errorMessage(error)).toBe('无法连接到服务器，请检查网络连接后重试。')
    setLocale('en')
    expect(errorMessage(error)).toBe('Cannot reach the server. Check the network connection and try again.')
  })

  it('turns a timeout into its own message', async () => {
    signIn()
    mock.onGet('/api/datacenter/units').timeout()
    const error = await http.get('/api/datacenter/units').catch((e: unknown) => e)
    expect(error).toMatchObject({ status: 0, code: 'network.timeout' })
    expect(errorMessage(error)).toBe('服务器响应超时，请稍后重试。')
  })

  it('gives a generic message for anything that is not an ApiError', () => {
    expect(errorMessage(new TypeError('x is undefined'))).toBe('发生意外错误，请刷新页面后重试。')
  })
})
