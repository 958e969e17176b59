#!/usr/bin/env node
/**
 * The initial JavaScript of the production build: the entry chunk plus everything it imports statically
 * (recursively), i.e. what the browser must load before the first route's own chunk. Read from
 * dist/.vite/manifest.json, cross-checked with the <script type="module"> and <link rel="modulepreload"> tags of
 * dist/index.html. Prints JSON and exits 1 when the gzip total is above the budget (400 KB, ARCHITECTURE §9).
 *
 *     npm run build && npm run size            # budget from SIZE_LIMIT_KB, default 400
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const dist = join(root, 'dist')
const limitKb = Number(process.env.SIZE_LIMIT_KB ?? 400)
const KB = 1000

function fail(message) {
  console.error(JSON.stringify({ ok: false, error: message }, null, 2))
  process.exit(2)
}

const manifestPath = join(dist, '.vite', 'manifest.json')
const indexPath = join(dist, 'index.html')
if (!existsSync(indexPath)) fail('dist/index.html is missing: run `npm run build` first')

const files = new Set()
const css = new Set()

if (existsSync(manifestPath)) {
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
  const entries = Object.entries(manifest).filter(([, chunk]) => chunk.isEntry)
  if (!entries.length) fail('the manifest has no entry chunk')
  const seen = new Set()
  const visit = (key) => {
    if (seen.has(key)) return
    seen.add(key)
    const chunk = manifest[key]
    if (!chunk) fail(`the manifest has no chunk ${key}`)
    if (chunk.file.endsWith('.js')) files.add(chunk.file)
    for (const sheet of chunk.css ?? []) css.add(sheet)
    for (const imported of chunk.imports ?? []) visit(imported) // static imports only, not dynamicImports
  }
  for (const [key] of entries) visit(key)
}

// index.html must not load anything the manifest walk missed.
const html = readFileSync(indexPath, 'utf8')
const tagPattern = /<(?:script[^>]*type="module"[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="([^"]+)"/g
for (const match of html.matchAll(tagPattern)) files.add(match[1].replace(/^\//, ''))
for (const match of html.matchAll(/<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)) css.add(match[1].replace(/^\//, ''))

function measure(file) {
  const body = readFileSync(join(dist, file))
  return { file, bytes: body.length, gzip: gzipSync(body, { level: 9 }).length }
}

const js = [...files].sort().map(measure)
const styles = [...css].sort().map(measure)
const total = js.reduce((sum, f) => sum + f.gzip, 0)
const report = {
  ok: total <= limitKb * KB,
  initialJsGzipBytes: total,
  initialJsGzipKB: Number((total / KB).toFixed(1)),
  initialJsRawBytes: js.reduce((sum, f) => sum + f.bytes, 0),
  limitKB: limitKb,
  files: js,
  initialCssGzipBytes: styles.reduce((sum, f) => sum + f.gzip, 0),
  css: styles,
}
console.log(JSON.stringify(report, null, 2))
if (!report.ok) {
  console.error(`initial JavaScript is ${report.initialJsGzipKB} KB gzip, above the ${limitKb} KB budget`)
  process.exit(1)
}
