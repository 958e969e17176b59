/**
 * `data-test` on the rows of an `<el-table>`. Element Plus renders its `<tr>`s itself and passes no attributes to
 * them, so after every render the body rows (`tr.el-table__row`, in data order — no sorting, no tree) get the
 * attributes computed for the matching item. A MutationObserver catches the table's own re-renders.
 *
 *     const tableRef = ref()
 *     useRowTestIds(tableRef, () => rows.value.map((u) => ({ 'data-test': `user-row-${u.username}` })))
 */
import { onBeforeUnmount, onMounted, watch, type ComponentPublicInstance, type Ref } from 'vue'

export type RowAttrs = Record<string, string>

function elementOf(target: ComponentPublicInstance | HTMLElement | null | undefined): HTMLElement | null {
  if (!target) return null
  if (target instanceof HTMLElement) return target
  const el = (target as ComponentPublicInstance).$el as unknown
  return el instanceof HTMLElement ? el : null
}

/** Sets the attributes on the body rows of the table inside `root`; returns how many rows were labelled. */
export function applyRowAttrs(root: HTMLElement, rows: readonly RowAttrs[]): number {
  const trs = root.querySelectorAll<HTMLTableRowElement>('.el-table__body-wrapper tr.el-table__row')
  trs.forEach((tr, index) => {
    const attrs = rows[index]
    if (!attrs) return
    for (const [name, value] of Object.entries(attrs)) {
      if (tr.getAttribute(name) !== value) tr.setAttribute(name, value)
    }
  })
  return Math.min(trs.length, rows.length)
}

export function useRowTestIds(table: Ref<ComponentPublicInstance | HTMLElement | null | undefined>,
  rows: () => readonly RowAttrs[]): void {
  let observer: MutationObserver | null = null

  const apply = (): void => {
    const root = elementOf(table.value)
    if (root) applyRowAttrs(root, rows())
  }

  onMounted(() => {
    const root = elementOf(table.value)
    if (root && typeof MutationObserver !== 'undefined') {
      // Only the row list is observed (childList), so setting attributes here never re-triggers it.
      observer = new MutationObserver(apply)
      observer.observe(root, { childList: true, subtree: true })
    }
    apply()
  })
  watch(rows, apply, { flush: 'post', deep: true })
  onBeforeUnmount(() => observer?.disconnect())
}
