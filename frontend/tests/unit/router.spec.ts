/** The real routes and guards: sign-in first, the forced password change, 403 inside the shell, not-built pages. */
import MockAdapter from 'axios-mock-adapter'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createMemoryHistory, type Router } from 'vue-router'

import type { Grant, Role } from '@/api/gateway'
import { http } from '@/api/http'
import { createAppRouter } from '@/router'
import { breadcrumbsOf, titleKeyOf } from '@/router/meta'
import { safeRedirect } from '@/session'
import { useAuthStore } from '@/stores/auth'

import { resetStorage, tokenOut } from './helpers'

let mock: MockAdapter
let router: Router

beforeEach(() => {
  resetStorage()
  setActivePinia(createPinia())
  mock = new MockAdapter(http)
  router = createAppRouter(createMemoryHistory())
})

afterEach(() => {
  useAuthStore().stopIdleWatch()
  mock.restore()
})

function signIn(role: Role, grants: Grant[], mustChange = false) {
  const tokens = tokenOut('1', { role, grants, mustChange })
  mock.onGet('/api/auth/me').reply(200, tokens.user)
  useAuthStore().applyTokens(tokens)
}

async function go(path: string) {
  await router.push(path)
  return router.currentRoute.value
}

describe('guards', () => {
  it('sends a visitor to sign-in with the full path to come back to', async () => {
    const route = await go('/datacenter/doctors?q=x')
    expect(route.name).toBe('login')
    expect(route.query.redirect).toBe('/datacenter/doctors?q=x')
    expect((await go('/')).fullPath).toBe('/login')
  })

  it('keeps a user with an initial password on the password page', async () => {
    signIn('admin', [{ archive: 'datacenter', level: 'write' }], true)
    const route = await go('/datacenter/units')
    expect(route.name).toBe('password')
    expect(route.query.redirect).toBe('/datacenter/units')
    expect((await go('/')).name).toBe('password')
  })

  it('shows the 403 page for an archive without a grant, and the system pages only to the super admin', async () => {
    signIn('admin', [{ archive: 'datacenter', level: 'read' }])
    expect((await go('/datacenter/departments')).name).toBe('datacenter-entity')
    const refused = await go('/outpatient/registration')
    expect(refused.name).toBe('forbidden')
    expect(refused.query.from).toBe('/outpatient/registration')
    expect((await go('/scheduling/week')).name).toBe('forbidden')
    expect((await go('/system/users')).name).toBe('forbidden')
    expect((await go('/system/audit')).name).toBe('forbidden')
  })

  it('lets the super admin in everywhere; not-built archives get their honest page', async () => {
    signIn('super_admin', [])
    for (const name of ['users', 'grants', 'audit', 'services']) {
      expect((await go(`/system/${name}`)).name).toBe(`system-${name}`)
    }
    const outpatient = await go('/outpatient')
    expect(outpatient.name).toBe('outpatient-registration')
    expect(outpatient.meta.archive).toBe('outpatient')
    expect((await go('/scheduling')).name).toBe('scheduling-week')
    expect((await go('/outpatient/item-payments')).name).toBe('outpatient-item-payments')
    expect((await go('/outpatient/patients/42')).name).toBe('outpatient-patient')
    expect((await go('/outpatient/patients/abc')).name).toBe('not-found')
    expect((await go('/pharmacy/anything/deeper')).name).toBe('archive-pharmacy')
    expect(router.hasRoute('archive-outpatient')).toBe(false)
    expect(router.hasRoute('archive-datacenter')).toBe(false)
  })

  it('redirects /datacenter to its first catalogue and 404s an unknown one', async () => {
    signIn('admin', [{ archive: 'datacenter', level: 'read' }])
    expect((await go('/datacenter')).fullPath).toBe('/datacenter/departments')
    expect((await go('/datacenter/gizmos')).name).toBe('not-found')
    expect((await go('/no/such/page')).name).toBe('not-found')
  })

  it('sends a signed-in user away from the sign-in page to where they were going', async () => {
    signIn('admin', [{ archive: 'datacenter', level: 'read' }])
    expect((await go('/login?redirect=/datacenter/units')).fullPath).toBe('/datacenter/units')
    expect((await go('/login?redirect=//evil.example/x')).fullPath).toBe('/')
  })
})

describe('meta', () => {
  it('names pages and builds breadcrumbs from the route meta', async () => {
    signIn('super_admin', [])
    const users = await go('/system/users')
    expect(titleKeyOf(users)).toBe('nav.users')
    expect(breadcrumbsOf(users).map((c) => c.key)).toEqual(['nav.home', 'archives.system', 'nav.users'])
    const units = await go('/datacenter/medical-items')
    expect(titleKeyOf(units)).toBe('catalogues.medical_item')
    expect(breadcrumbsOf(units).map((c) => c.key)).toEqual(['nav.home', 'archives.datacenter', 'catalogues.medical_item'])
    const storage = await go('/storage')
    expect(breadcrumbsOf(storage).map((c) => c.key)).toEqual(['nav.home', 'archives.storage'])
    expect(breadcrumbsOf(await go('/')).map((c) => c.key)).toEqual(['nav.home'])
  })

  it('accepts only redirects inside the app', () => {
    expect(safeRedirect('/datacenter/units?page=2')).toBe('/datacenter/units?page=2')
    expect(safeRedirect('//evil.example')).toBe('/')
    expect(safeRedirect('/\\evil.example')).toBe('/')
    expect(safeRedirect('https://evil.example')).toBe('/')
    expect(safeRedirect('/login?redirect=/x')).toBe('/')
    expect(safeRedirect(undefined)).toBe('/')
    expect(safeRedirect(['/a'])).toBe('/')
  })
})
