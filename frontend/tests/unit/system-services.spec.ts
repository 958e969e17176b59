/**
 * The services page: a service's overall health, the summary, and the page against a mocked API (one block per
 * service with its instances and checks, the honest empty state, the 10-second auto-refresh that stops when the
 * page closes, and a failed refresh that keeps the last state on screen).
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import MockAdapter from 'axios-mock-adapter'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'

import type { ServiceInfo, ServiceInstance } from '@/api/gateway'
import { http } from '@/api/http'
import { i18n, setLocale } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import { AUTO_REFRESH_MS, serviceHealth, summarize } from '@/views/system/services'

import { envelope, resetStorage, tokenOut } from './helpers'

function instance(id: string, status: ServiceInstance['status'], output = 'HTTP GET /health: 200 OK'):
  ServiceInstance {
  return { id, address: '127.0.0.1', port: 18600, status,
    checks: [{ check_id: `service:${id}`, name: 'HTTP /health', status, output }] }
}

function service(name: string, ...instances: ServiceInstance[]): ServiceInfo {
  return { name, archive: name === 'dbs' ? 'datacenter' : null, instances }
}

describe('service health', () => {
  it('is passing only when every instance passes', () => {
    expect(serviceHealth(service('dbs', instance('a', 'passing'), instance('b', 'passing')))).toBe('passing')
    expect(serviceHealth(service('dbs', instance('a', 'passing'), instance('b', 'critical')))).toBe('warning')
    expect(serviceHealth(service('dbs', instance('a', 'passing'), instance('b', 'warning')))).toBe('warning')
    expect(serviceHealth(service('dbs', instance('a', 'warning')))).toBe('warning')
    expect(serviceHealth(service('dbs', instance('a', 'critical')))).toBe('critical')
  })

  it('is critical without any instance', () => {
    expect(serviceHealth(service('dbs'))).toBe('critical')
  })

  it('sums up services and instances', () => {
    expect(summarize([service('dbs', instance('a', 'passing'), instance('b', 'critical')), service('oms')]))
      .toEqual({ services: 2, instances: 2, passing: 1, unhealthy: 1 })
  })
})

// -- the page ----------------------------------------------------------------------------------------------------

let mock: MockAdapter
let wrapper: VueWrapper | null = null

function page(items: ServiceInfo[]) {
  return { items, total: items.length, page: 1, size: Math.max(items.length, 1) }
}

beforeAll(async () => {
  await import('@/views/system/ServicesView.vue')
}, 60_000)

beforeEach(() => {
  resetStorage()
  setActivePinia(createPinia())
  mock = new MockAdapter(http)
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
  mock.restore()
  useAuthStore().stopIdleWatch()
  setLocale('zh-CN')
  vi.useRealTimers()
})

async function open(): Promise<VueWrapper> {
  useAuthStore().applyTokens(tokenOut('1', { role: 'super_admin', grants: [] }))
  const ServicesView = (await import('@/views/system/ServicesView.vue')).default
  wrapper = mount(ServicesView, { global: { plugins: [i18n], stubs: { transition: false } }, attachTo: document.body })
  await flushPromises()
  return wrapper
}

function byTest(name: string): HTMLElement | null {
  return document.body.querySelector<HTMLElement>(`[data-test="${name}"]`)
}

describe('services page', () => {
  it('shows each service with its archive, instances and checks', async () => {
    mock.onGet('/api/admin/services').reply(200, page([
      service('dbs', instance('dbs-1', 'passing'), instance('dbs-2', 'critical', 'connection refused')),
      service('registry-helper'),
    ]))
    await open()
    const dbs = byTest('service-dbs')!
    expect(dbs.dataset.status).toBe('warning')
    expect(dbs.querySelector('[data-test="service-archive"]')!.textContent).toContain('数据中心')
    expect(dbs.textContent).toContain('127.0.0.1:18600')
    const down = dbs.querySelector<HTMLElement>('[data-test="service-instance-dbs-2"]')!
    expect(down.dataset.status).toBe('critical')
    expect(down.querySelector('[data-test="instance-status"]')!.className).toContain('el-tag--danger')
    expect(down.textContent).toContain('connection refused')
    expect(down.textContent).toContain('故障')
    const helper = byTest('service-registry-helper')!
    expect(helper.querySelector('[data-test="service-no-instances"]')).not.toBeNull()
    expect(helper.textContent).toContain('平台组件')
    expect(byTest('services-unhealthy')!.textContent).toContain('1')
  })

  it('says so honestly when nothing is registered', async () => {
    mock.onGet('/api/admin/services').reply(200, page([]))
    await open()
    expect(byTest('services-empty')).not.toBeNull()
    expect(byTest('services-table')).toBeNull()
  })

  it('reloads every 10 seconds while open, and stops when closed', async () => {
    vi.useFakeTimers()
    mock.onGet('/api/admin/services').reply(200, page([service('dbs', instance('dbs-1', 'passing'))]))
    await open()
    expect(mock.history.get!.length).toBe(1)
    await vi.advanceTimersByTimeAsync(AUTO_REFRESH_MS - 100)
    expect(mock.history.get!.length).toBe(1)
    await vi.advanceTimersByTimeAsync(200)
    expect(mock.history.get!.length).toBe(2)
    await vi.advanceTimersByTimeAsync(AUTO_REFRESH_MS)
    expect(mock.history.get!.length).toBe(3)
    wrapper!.unmount()
    wrapper = null
    await vi.advanceTimersByTimeAsync(AUTO_REFRESH_MS * 3)
    expect(mock.history.get!.length).toBe(3)
  })

  it('reloads on the refresh button, and pauses when auto-refresh is off', async () => {
    vi.useFakeTimers()
    mock.onGet('/api/admin/services').reply(200, page([]))
    await open()
    byTest('services-refresh')!.click()
    await flushPromises()
    expect(mock.history.get!.length).toBe(2)
    byTest('services-auto')!.click()
    await flushPromises()
    await vi.advanceTimersByTimeAsync(AUTO_REFRESH_MS * 3)
    expect(mock.history.get!.length).toBe(2)
  })

  it('keeps the last state when a refresh fails, and says so', async () => {
    vi.useFakeTimers()
    mock.onGet('/api/admin/services').replyOnce(200, page([service('dbs', instance('dbs-1', 'passing'))]))
    mock.onGet('/api/admin/services').reply(503, envelope('registry.unavailable'))
    await open()
    await vi.advanceTimersByTimeAsync(AUTO_REFRESH_MS + 10)
    expect(byTest('service-dbs')).not.toBeNull()
    const error = byTest('services-error')!
    expect(error.dataset.code).toBe('registry.unavailable')
    expect(error.textContent).toContain('服务注册中心暂时无法访问')
    expect(error.textContent).toContain('刷新失败')
  })

  it('shows a first failure with a retry', async () => {
    mock.onGet('/api/admin/services').replyOnce(503, envelope('registry.unavailable'))
    await open()
    expect(byTest('services-error')).not.toBeNull()
    expect(byTest('services-empty')).toBeNull()
    mock.onGet('/api/admin/services').reply(200, page([]))
    byTest('services-error-retry')!.click()
    await flushPromises()
    expect(byTest('services-error')).toBeNull()
    expect(byTest('services-empty')).not.toBeNull()
  })
})
