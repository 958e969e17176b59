/**
 * The data-center screens' configuration (src/views/dbs/entities.ts) against the router, the locale files and
 * the server: every catalogue the router serves has a configuration; every label and enum value has a message
 * in both languages; and the form fields, filters, references and enums are the ones services/dbs declares
 * (read from schemas.py, service.py and models.py, so a change on the server that the UI misses fails here).
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

import { describe, expect, it } from 'vitest'

import { DATACENTER_ENTITIES } from '@/api/entities'
import { i18n } from '@/i18n'
import { routes } from '@/router'
import {
  CODE_PATTERN,
  ENTITY_CONFIGS,
  ENUMS,
  NAME_MAX,
  configOf,
  labelKey,
  type AnyConfig,
  type AnyField,
} from '@/views/dbs/entities'

const DBS = resolve(__dirname, '../../../services/dbs')
const schemas = readFileSync(resolve(DBS, 'schemas.py'), 'utf8')
const service = readFileSync(resolve(DBS, 'service.py'), 'utf8')
const models = readFileSync(resolve(DBS, 'models.py'), 'utf8')

const configs = Object.values(ENTITY_CONFIGS) as unknown as AnyConfig[]

/** The namespaces in the route `datacenter/:entity(a|b|…)`. */
function routedNamespaces(): string[] {
  const shell = routes.find((r) => r.path === '/')
  const route = shell?.children?.find((r) => r.name === 'datacenter-entity')
  const match = /:entity\(([^)]*)\)/.exec(route?.path ?? '')
  return match ? match[1]!.split('|') : []
}

/** `Catalogue(Model, "entity", "namespace", …)` in service.py: model class name → {entity, namespace, body}. */
function catalogues(): Map<string, { entity: string; namespace: string; body: string }> {
  const out = new Map<string, { entity: string; namespace: string; body: string }>()
  const re = /Catalogue\(\s*(\w+), "(\w+)", "([\w-]+)"(\)|[\s\S]*?\n\))/g
  for (const m of service.matchAll(re)) out.set(m[1]!, { entity: m[2]!, namespace: m[3]!, body: m[4]! })
  return out
}

/** The body lines of `class <name>(<base>):` in schemas.py: `field: type [= default]`. */
function classFields(name: string): { name: string; type: string; default: string | null }[] {
  const start = schemas.search(new RegExp(`^class ${name}\\(`, 'm'))
  if (start < 0) return []
  const rest = schemas.slice(start).split('\n').slice(1)
  const out: { name: string; type: string; default: string | null }[] = []
  let pending = ''
  for (const line of rest) {
    if (line !== '' && !line.startsWith(' ')) break
    const text = (pending + line.trim()).trim()
    if (!text || text === 'pass' || text.startsWith('#')) continue
    // A field whose annotation spans lines (`q: Annotated[\n …\n] = None`): join until brackets balance.
    const open = (text.match(/\[/g) ?? []).length - (text.match(/]/g) ?? []).length
    if (open > 0) {
      pending = `${text} `
      continue
    }
    pending = ''
    const m = /^(\w+): (.+?)(?: = (.+))?$/.exec(text)
    if (m) out.push({ name: m[1]!, type: m[2]!, default: m[3] ?? null })
  }
  return out
}

/** What the UI's field must be for a server field type (schemas.py names). */
function expectedField(type: string, fallback: string | null): Partial<AnyField> & { kind: string } {
  const text = /^(optional_)?text\((\d+)\)$/.exec(type)
  if (text) return { kind: 'text', required: !text[1], max: Number(text[2]) }
  if (type === 'Id') return { kind: 'reference', required: true }
  if (type === 'Id | None') return { kind: 'reference', required: false }
  if (type === 'Money') return { kind: 'money' }
  if (type === 'Threshold') return { kind: 'count' }
  if (type === 'bool') return { kind: 'bool' }
  if (type === 'OptionalPhone') return { kind: 'phone' }
  if (/^[A-Z]\w+$/.test(type)) return { kind: 'enum', enum: enumName(type) } as never
  throw new Error(`unknown server field type ${type} (default ${fallback})`)
}

/** DepartmentKind → department_kind. */
function enumName(pythonClass: string): string {
  return pythonClass.replace(/(?<!^)([A-Z])/g, '_$1').toLowerCase()
}

describe('the catalogue configuration', () => {
  it('has one configuration for every catalogue the router serves, and no other', () => {
    const routed = routedNamespaces()
    expect(routed).toHaveLength(12)
    expect(Object.keys(ENTITY_CONFIGS).sort()).toEqual([...routed].sort())
    for (const namespace of routed) expect(configOf(namespace)?.namespace).toBe(namespace)
    expect(configOf('patients')).toBeNull()
  })

  it('names each entity as src/api/entities.ts does', () => {
    for (const { namespace, entity } of DATACENTER_ENTITIES) {
      expect(ENTITY_CONFIGS[namespace].entity).toBe(entity)
      expect(ENTITY_CONFIGS[namespace].namespace).toBe(namespace)
    }
  })

  it('starts every form with the code and the name, with the server rules', () => {
    for (const config of configs) {
      expect(config.fields[0]).toEqual({ kind: 'code', name: 'code' })
      expect(config.fields[1]).toEqual({ kind: 'text', name: 'name', required: true, max: NAME_MAX })
    }
    expect(schemas).toMatch(/pattern=r"\^\[A-Za-z0-9_-\]\{1,32\}\$"/)
    expect(CODE_PATTERN.source).toBe('^[A-Za-z0-9_-]{1,32}$')
    expect(schemas).toMatch(/^Name = Annotated\[str, StringConstraints\(strip_whitespace=True, min_length=1, max_length=64\)\]/m)
  })

  it('has a label in both languages for every column, filter and field, and for every enum value', () => {
    const keys = new Set<string>()
    for (const config of configs) {
      for (const item of [...config.columns, ...config.filters, ...config.fields]) keys.add(labelKey(item))
      keys.add(`dbs.nouns.${config.entity}`)
      keys.add(`catalogues.${config.entity}`)
      keys.add(`dbs.search.${config.search}`)
    }
    for (const [name, values] of Object.entries(ENUMS)) {
      for (const value of values) keys.add(`dbs.enums.${name}.${value}`)
    }
    const missing = [...keys].flatMap((key) => (['zh-CN', 'en'] as const)
      .filter((locale) => !i18n.global.te(key, locale)).map((locale) => `${locale}: ${key}`))
    expect(missing).toEqual([])
  })
})

describe('the configuration matches services/dbs', () => {
  const byModel = catalogues()

  it('finds the twelve catalogues in service.py', () => {
    expect([...byModel.values()].map((c) => c.namespace).sort()).toEqual(Object.keys(ENTITY_CONFIGS).sort())
  })

  it('has the fields of each XCreate schema, with their kinds, requiredness and lengths', () => {
    for (const [model, { namespace }] of byModel) {
      const config = configOf(namespace)!
      const server = classFields(`${model}Create`)
      const ui = config.fields.slice(2) // code and name come from CatalogueIn (checked above)
      expect(ui.map((f) => f.name).sort(), namespace).toEqual(server.map((f) => f.name).sort())
      for (const field of server) {
        const mine = ui.find((f) => f.name === field.name)!
        const expected = expectedField(field.type, field.default)
        expect(mine, `${namespace}.${field.name}`).toMatchObject(expected)
      }
    }
  })

  it('points each reference field at the catalogue the server checks it against', () => {
    const namespaceOf = new Map([...byModel].map(([model, c]) => [model, c.namespace]))
    for (const [, { namespace, body }] of byModel) {
      const references = /references=\{([^}]*)\}/.exec(body)?.[1] ?? ''
      const server = Object.fromEntries([...references.matchAll(/"(\w+)": (\w+)/g)]
        .map((m) => [m[1]!, namespaceOf.get(m[2]!)]))
      const ui = Object.fromEntries(configOf(namespace)!.fields
        .flatMap((f) => (f.kind === 'reference' ? [[f.name, f.source]] : [])))
      expect(ui, namespace).toEqual(server)
    }
  })

  it('offers the filters of each XQuery schema (besides q and active), of the right kind', () => {
    for (const [model, { namespace }] of byModel) {
      const server = classFields(`${model}Query`).filter((f) => f.name !== 'q')
      const config = configOf(namespace)!
      expect(config.filters.map((f) => f.name).sort(), namespace).toEqual(server.map((f) => f.name).sort())
      for (const field of server) {
        const filter = config.filters.find((f) => f.name === field.name)!
        const type = field.type.replace(/ \| None$/, '')
        const kind = type === 'Id' ? 'reference' : type === 'bool' ? 'bool' : 'enum'
        expect(filter.kind, `${namespace} filter ${field.name}`).toBe(kind)
        if (filter.kind === 'enum') expect(filter.enum).toBe(enumName(type))
      }
    }
  })

  it('filters references on the catalogue the column points at', () => {
    for (const config of configs) {
      for (const filter of config.filters) {
        if (filter.kind !== 'reference') continue
        const field = config.fields.find((f) => f.name === filter.name)
        expect(field?.kind === 'reference' && field.source, `${config.namespace} ${filter.name}`).toBe(filter.source)
      }
    }
  })

  it('knows every value of every enum, as models.py spells them', () => {
    for (const [name, values] of Object.entries(ENUMS)) {
      const pythonClass = name.replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase())
      const block = new RegExp(`class ${pythonClass}\\(StrEnum\\):([\\s\\S]*?)\\n\\n`).exec(models)?.[1] ?? ''
      const server = [...block.matchAll(/^\s+\w+ = "(\w+)"/gm)].map((m) => m[1])
      expect(server.length, pythonClass).toBeGreaterThan(0)
      expect([...values], name).toEqual(server)
    }
  })

  it('shows every reference column by the name the API sends with it', () => {
    for (const [model, { namespace }] of byModel) {
      const out = classFields(`${model}Out`).map((f) => f.name)
      for (const column of configOf(namespace)!.columns) {
        if (column.kind === 'reference') expect(out, `${namespace} ${column.show}`).toContain(column.show)
        else expect(out, `${namespace} ${column.key}`).toContain(column.key)
      }
    }
  })
})
