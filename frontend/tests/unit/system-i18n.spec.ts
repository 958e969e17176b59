/**
 * The system pages' messages: every key the pages and their components use exists in both languages, every
 * message compiles and fills its parameters, and the audit actions the gateway writes all have a name.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { afterEach, describe, expect, it } from 'vitest'

import { AUDIT_ACTIONS } from '@/api/gateway'
import { i18n, LOCALES, setLocale } from '@/i18n'
import system from '@/i18n/locales/system.zh-CN'

const SRC = resolve(__dirname, '../../src')
const REPO = resolve(__dirname, '../../..')

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : /\.(vue|ts)$/.test(name) ? [path] : []
  })
}

function leaves(value: unknown, prefix: string): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([k, v]) => leaves(v, `${prefix}.${k}`))
}

/** Static keys in t('…') calls, and the literal prefixes of template-literal keys (`archives.${a}`). */
function usedKeys(): { full: Set<string>; prefixes: Set<string> } {
  const full = new Set<string>()
  const prefixes = new Set<string>()
  const sources = [...files(join(SRC, 'views/system')), ...files(join(SRC, 'components/system'))]
  for (const file of sources) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/\bt\(\s*'([a-z_]+(?:\.[a-z0-9_]+)+)'/g)) full.add(m[1]!)
    for (const m of text.matchAll(/'((?:system|password|errors)\.[a-z0-9_.]+[a-z0-9_])'/g)) full.add(m[1]!)
    for (const m of text.matchAll(/\bt\(\s*`([a-z_.]+)\.\$\{/g)) prefixes.add(m[1]!)
  }
  return { full, prefixes }
}

afterEach(() => setLocale('zh-CN'))

describe('system page messages', () => {
  it('exist in both languages for every key the pages use', () => {
    const { full, prefixes } = usedKeys()
    expect(full.size).toBeGreaterThan(80)
    expect(full).toContain('system.grants.saved_note')
    const missing: string[] = []
    for (const locale of LOCALES) {
      setLocale(locale)
      for (const key of full) if (!i18n.global.te(key, locale)) missing.push(`${locale}: ${key}`)
      for (const prefix of prefixes) {
        const value = i18n.global.tm(prefix) as unknown
        if (typeof value !== 'object' || value === null) missing.push(`${locale}: ${prefix}.*`)
      }
    }
    expect(missing).toEqual([])
  })

  it('compile and fill their parameters in both languages', () => {
    const params = { username: 'alice', name: '张三', count: 2, level: 'L', archive: 'A', id: 7, ms: 12,
      services: 3, instances: 4, time: 'T', seconds: 10, up: 1, total: 2, address: '127.0.0.1', port: 80 }
    for (const locale of LOCALES) {
      setLocale(locale)
      for (const key of leaves(system, 'system')) {
        const text = i18n.global.t(key, params)
        expect(text, `${locale} ${key}`).not.toBe(key)
        expect(text, `${locale} ${key}`).not.toMatch(/[{}]/)
      }
    }
  })

  it('name every audit action the gateway writes, in both languages', () => {
    const gateway = ['gateway/service.py', 'gateway/audit.py'].map((f) => readFileSync(join(REPO, f), 'utf8')).join()
    const written = new Set<string>()
    for (const m of gateway.matchAll(/_audit_event\([^,]+,[^,]+,\s*"([a-z_.]+)"/g)) written.add(m[1]!)
    for (const m of gateway.matchAll(/_record_failure\([^)]*"([a-z_.]+)"\)/g)) written.add(m[1]!)
    for (const m of gateway.matchAll(/"admin\.user_enabled" if data\.active else "(admin\.user_disabled)"/g)) {
      written.add('admin.user_enabled')
      written.add(m[1]!)
    }
    for (const m of gateway.matchAll(/"action":\s*"([a-z_.]+)"/g)) written.add(m[1]!)
    expect(written).toContain('request')
    expect(written).toContain('admin.grants_changed')
    expect([...written].filter((a) => !(AUDIT_ACTIONS as readonly string[]).includes(a))).toEqual([])
    for (const locale of LOCALES) {
      for (const action of AUDIT_ACTIONS) {
        expect(i18n.global.te(`system.audit.actions.${action}`, locale), `${locale} ${action}`).toBe(true)
      }
    }
  })
})
