/** The permission helper, the v-can directive and the <Can> component. */
import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it } from 'vitest'
import { nextTick } from 'vue'

import {
  ARCHIVES,
  BUILT_ARCHIVES,
  can,
  canRead,
  canWrite,
  heldArchives,
  isBuilt,
  levelOf,
  parsePermission,
  type Subject,
} from '@/permissions'
import { useAuthStore } from '@/stores/auth'

import Toolbar from './fixtures/PermissionToolbar.vue'
import { resetStorage, tokenOut } from './helpers'

const superAdmin: Subject = { role: 'super_admin', grants: [] }
const editor: Subject = { role: 'admin', grants: [{ archive: 'datacenter', level: 'write' },
  { archive: 'scheduling', level: 'read' }] }
const viewer: Subject = { role: 'admin', grants: [{ archive: 'datacenter', level: 'read' }] }
const nobody: Subject = { role: 'admin', grants: [] }

describe('archives', () => {
  it('lists the seven archives in menu order, spelled as the API spells them', () => {
    expect(ARCHIVES).toEqual(['outpatient', 'inpatient', 'statistics', 'datacenter', 'scheduling', 'storage',
      'pharmacy'])
  })

  it('knows which archives are built', () => {
    expect(BUILT_ARCHIVES).toEqual(['outpatient', 'datacenter', 'scheduling'])
    expect(isBuilt('datacenter')).toBe(true)
    expect(isBuilt('outpatient')).toBe(true)
    expect(isBuilt('pharmacy')).toBe(false)
  })
})

describe('canRead / canWrite', () => {
  it('super admin can read and write every archive and the system pages', () => {
    for (const archive of [...ARCHIVES, 'system'] as const) {
      expect(canRead(superAdmin, archive)).toBe(true)
      expect(canWrite(superAdmin, archive)).toBe(true)
    }
  })

  it('write implies read', () => {
    expect(canRead(editor, 'datacenter')).toBe(true)
    expect(canWrite(editor, 'datacenter')).toBe(true)
  })

  it('read does not imply write', () => {
    expect(canRead(viewer, 'datacenter')).toBe(true)
    expect(canWrite(viewer, 'datacenter')).toBe(false)
    expect(canWrite(editor, 'scheduling')).toBe(false)
  })

  it('no grant, no access; admins never get the system pages', () => {
    expect(canRead(viewer, 'outpatient')).toBe(false)
    expect(canRead(nobody, 'datacenter')).toBe(false)
    expect(canRead(editor, 'system')).toBe(false)
    expect(can(null, 'datacenter')).toBe(false)
    expect(can(undefined, 'system')).toBe(false)
  })

  it('takes the higher level if a subject somehow holds two grants on one archive', () => {
    const twice: Subject = { role: 'admin', grants: [{ archive: 'storage', level: 'read' },
      { archive: 'storage', level: 'write' }] }
    expect(levelOf(twice, 'storage')).toBe('write')
  })

  it('lists the held archives in menu order with their level', () => {
    expect(heldArchives(editor)).toEqual([{ archive: 'datacenter', level: 'write' },
      { archive: 'scheduling', level: 'read' }])
    expect(heldArchives(superAdmin).map((h) => h.archive)).toEqual([...ARCHIVES])
    expect(heldArchives(null)).toEqual([])
  })
})

describe('parsePermission', () => {
  it('reads "<archive>[:level]" and "system"', () => {
    expect(parsePermission('datacenter:write')).toEqual({ scope: 'datacenter', level: 'write' })
    expect(parsePermission('datacenter')).toEqual({ scope: 'datacenter', level: 'read' })
    expect(parsePermission('system')).toEqual({ scope: 'system', level: 'read' })
  })

  it('throws on a typo instead of silently hiding or showing', () => {
    expect(() => parsePermission('data-center:write')).toThrow(/Invalid permission/)
    expect(() => parsePermission('datacenter:delete')).toThrow(/Invalid permission/)
    expect(() => parsePermission('datacenter:write:x')).toThrow(/Invalid permission/)
  })
})

describe('v-can and <Can>', () => {
  beforeEach(() => {
    resetStorage()
    setActivePinia(createPinia())
  })

  it('hides write controls for a read-only grant and shows them for a write grant, live', async () => {
    const auth = useAuthStore()
    auth.applyTokens(tokenOut('1', { grants: [{ archive: 'datacenter', level: 'read' }] }))
    const wrapper = mount(Toolbar, { attachTo: document.body })

    const create = wrapper.get('[data-test="create"]')
    expect(create.isVisible()).toBe(false)
    expect(create.attributes('hidden')).toBeDefined()
    expect(wrapper.find('[data-test="delete"]').exists()).toBe(false)
    expect(wrapper.find('[data-test="admin"]').exists()).toBe(false)
    expect(wrapper.find('[data-test="denied"]').exists()).toBe(true)
    expect(wrapper.get('[data-test="list"]').isVisible()).toBe(true)

    auth.applyTokens(tokenOut('2', { grants: [{ archive: 'datacenter', level: 'write' }] }))
    await nextTick()
    expect(wrapper.get('[data-test="create"]').isVisible()).toBe(true)
    expect(wrapper.get('[data-test="create"]').attributes('hidden')).toBeUndefined()
    expect(wrapper.find('[data-test="delete"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="admin"]').exists()).toBe(false)
    wrapper.unmount()
  })

  it('shows everything to the super admin and nothing to a signed-out visitor', async () => {
    const auth = useAuthStore()
    const wrapper = mount(Toolbar, { attachTo: document.body })
    expect(wrapper.get('[data-test="create"]').isVisible()).toBe(false)
    expect(wrapper.find('[data-test="delete"]').exists()).toBe(false)

    auth.applyTokens(tokenOut('1', { role: 'super_admin', grants: [] }))
    await nextTick()
    expect(wrapper.get('[data-test="create"]').isVisible()).toBe(true)
    expect(wrapper.find('[data-test="delete"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="admin"]').exists()).toBe(true)
    auth.stopIdleWatch()
    wrapper.unmount()
  })
})
