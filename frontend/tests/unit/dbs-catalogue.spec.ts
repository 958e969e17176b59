/**
 * The catalogue screen (src/views/dbs/CatalogueList.vue and its dialogs) against a mocked API: the list and its
 * query, write controls only for a write grant, the PATCH of an edit, a taken code shown on its field, and a
 * refused delete explained with an offer to deactivate.
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import MockAdapter from 'axios-mock-adapter'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import type { Grant } from '@/api/gateway'
import { http } from '@/api/http'
import { i18n, setLocale } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import CatalogueList from '@/views/dbs/CatalogueList.vue'
import { configOf } from '@/views/dbs/entities'

import { envelope, resetStorage, tokenOut } from './helpers'

const BASE = { created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' }
const NK = { ...BASE, id: 1, code: 'NK', name: '内科', kind: 'clinical', active: true }
const CWK = { ...BASE, id: 12, code: 'CWK', name: '财务科', kind: 'administrative', active: false }

let mock: MockAdapter
let wrapper: VueWrapper | null = null

beforeEach(() => {
  resetStorage()
  setActivePinia(createPinia())
  mock = new MockAdapter(http)
  mock.onGet('/api/datacenter/departments').reply(200, { items: [NK, CWK], total: 2, page: 1, size: 20 })
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
  mock.restore()
  useAuthStore().stopIdleWatch()
  setLocale('zh-CN')
})

async function open(grants: Grant[], namespace = 'departments'): Promise<VueWrapper> {
  useAuthStore().applyTokens(tokenOut('1', { grants }))
  wrapper = mount(CatalogueList, {
    props: { config: configOf(namespace)! },
    global: { plugins: [i18n] },
    attachTo: document.body,
  })
  await flushPromises()
  return wrapper
}

const WRITE: Grant[] = [{ archive: 'datacenter', level: 'write' }]
const READ: Grant[] = [{ archive: 'datacenter', level: 'read' }]

/** Dialogs are teleported to <body>. */
function byTest(name: string): HTMLElement | null {
  return document.body.querySelector<HTMLElement>(`[data-test="${name}"]`)
}

async function click(name: string): Promise<void> {
  const element = byTest(name)
  if (!element) throw new Error(`no [data-test="${name}"]`)
  element.click()
  await flushPromises()
}

/** Element Plus shows a form item's message after a short debounce. */
async function messagesShown(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 150))
  await flushPromises()
}

async function type(name: string, value: string): Promise<void> {
  const input = byTest(name) as HTMLInputElement
  input.value = value
  input.dispatchEvent(new Event('input'))
  await flushPromises()
}

describe('the list', () => {
  it('shows the rows with translated enums, status tags and row names, and the total', async () => {
    const page = await open(WRITE)
    expect(page.find('[data-test="catalogue-departments"]').exists()).toBe(true)
    const row = page.get('[data-test="row-NK"]')
    expect(row.element.tagName).toBe('TR')
    expect(row.text()).toContain('内科')
    expect(row.text()).toContain('临床科室')
    expect(row.text()).toContain('启用')
    expect(page.get('[data-test="row-CWK"]').text()).toContain('已停用')
    expect(page.get('[data-test="catalogue-pagination"]').attributes('data-total')).toBe('2')
    expect(mock.history.get[0]!.params).toMatchObject({ page: 1, size: 20 })
  })

  it('sends the search and the filters, starting again from page 1', async () => {
    const page = await open(WRITE)
    await page.get('[data-test="catalogue-search"]').setValue(' 内 ')
    await page.get('[data-test="catalogue-search-submit"]').trigger('submit')
    await flushPromises()
    expect(mock.history.get.at(-1)!.params).toMatchObject({ q: '内', page: 1 })
  })

  it('shows a failed load as a translated message with a retry', async () => {
    mock.reset()
    mock.onGet('/api/datacenter/departments').reply(503, envelope('database.unavailable'))
    const page = await open(WRITE)
    const failure = page.get('[data-test="catalogue-error"]')
    expect(failure.attributes('data-code')).toBe('database.unavailable')
    expect(failure.text()).toContain('数据库暂时不可用')
    expect(failure.text()).not.toContain('server message in English')
  })
})

describe('permissions', () => {
  it('hides every write control from a read-only grant', async () => {
    const page = await open(READ)
    expect(page.find('[data-test="row-NK"]').exists()).toBe(true)
    for (const name of ['catalogue-create', 'row-edit-NK', 'row-delete-NK', 'row-deactivate-NK',
      'row-activate-CWK']) {
      expect(page.find(`[data-test="${name}"]`).exists(), name).toBe(false)
    }
  })

  it('shows them to a write grant: deactivate for active rows, activate for inactive ones', async () => {
    const page = await open(WRITE)
    for (const name of ['catalogue-create', 'row-edit-NK', 'row-delete-NK', 'row-deactivate-NK',
      'row-activate-CWK']) {
      expect(page.find(`[data-test="${name}"]`).exists(), name).toBe(true)
    }
    expect(page.find('[data-test="row-activate-NK"]').exists()).toBe(false)
    expect(page.find('[data-test="row-deactivate-CWK"]').exists()).toBe(false)
  })
})

describe('edit and create', () => {
  it('PATCHes only the changed field', async () => {
    mock.onPatch('/api/datacenter/departments/1').reply(200, { ...NK, name: '大内科' })
    await open(WRITE)
    await click('row-edit-NK')
    expect(byTest('catalogue-form')?.dataset.mode).toBe('edit')
    expect((byTest('field-code') as HTMLInputElement).value).toBe('NK')
    await type('field-name', '大内科')
    await click('catalogue-form-submit')
    expect(mock.history.patch).toHaveLength(1)
    expect(JSON.parse(mock.history.patch[0]!.data)).toEqual({ name: '大内科' })
  })

  it('catches bad input before anything is sent', async () => {
    await open(WRITE)
    await click('catalogue-create')
    await type('field-code', '内科')
    await click('catalogue-form-submit')
    expect(mock.history.post).toHaveLength(0)
    await messagesShown()
    const text = byTest('catalogue-form')?.textContent
    expect(text).toContain('编码只能包含字母、数字、下划线和连字符')
    expect(text).toContain('请输入名称')
    expect(text).toContain('请选择科室类型')
  })

  it('shows a taken code under the code field', async () => {
    mock.onPost('/api/datacenter/departments').reply(409, envelope('datacenter.code_taken', 'taken', { field: 'code' }))
    const page = await open(WRITE)
    await click('catalogue-create')
    await type('field-code', 'NK')
    await type('field-name', '内科二')
    // choose the kind as a person would: open the select, click the option
    const form = page.findComponent({ name: 'ElForm' })
    ;(form.vm.$props.model as Record<string, unknown>).kind = 'clinical'
    await flushPromises()
    await click('catalogue-form-submit')
    expect(mock.history.post).toHaveLength(1)
    expect(JSON.parse(mock.history.post[0]!.data)).toEqual({ code: 'NK', name: '内科二', kind: 'clinical' })
    expect(mock.history.post[0]!.headers?.['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/)
    await messagesShown()
    const codeItem = byTest('field-code')!.closest('.el-form-item')!
    expect(codeItem.textContent).toContain('该编码已被使用')
    expect(byTest('catalogue-form-error')).toBeNull()
  })
})

describe('delete', () => {
  it('explains a refused delete with the referencing catalogues and offers to deactivate', async () => {
    mock.onDelete('/api/datacenter/departments/1').reply(409, envelope('datacenter.in_use', 'in use',
      { references: { doctors: 3, 'medical-items': 2 } }))
    mock.onPost('/api/datacenter/departments/1/deactivate').reply(200, { ...NK, active: false })
    await open(WRITE)
    await click('row-delete-NK')
    expect(byTest('delete-dialog')?.textContent).toContain('内科')
    await click('delete-confirm')
    expect(mock.history.delete).toHaveLength(1)
    const dialog = byTest('in-use-dialog')!
    expect(dialog.textContent).toContain('医生：3 条')
    expect(dialog.textContent).toContain('医疗项目：2 条')
    expect(byTest('in-use-ref-doctors')?.dataset.count).toBe('3')
    await click('in-use-deactivate')
    expect(mock.history.post.map((r) => r.url)).toEqual(['/api/datacenter/departments/1/deactivate'])
  })

  it('names the referencing catalogues in English too', async () => {
    setLocale('en')
    mock.onDelete('/api/datacenter/departments/1').reply(409, envelope('datacenter.in_use', 'in use',
      { references: { doctors: 3 } }))
    await open(WRITE)
    await click('row-delete-NK')
    await click('delete-confirm')
    expect(byTest('in-use-dialog')?.textContent).toContain('Doctors: 3')
  })

  it('deletes an unreferenced row and reloads the list', async () => {
    mock.onDelete('/api/datacenter/departments/12').reply(204)
    await open(WRITE)
    const loads = mock.history.get.length
    await click('row-delete-CWK')
    await click('delete-confirm')
    expect(mock.history.delete.map((r) => r.url)).toEqual(['/api/datacenter/departments/12'])
    expect(byTest('in-use-dialog')).toBeNull()
    expect(mock.history.get.length).toBeGreaterThan(loads)
  })
})
