/**
 * Printing one part of a page (a receipt, the daily summary): `printArea(element)` copies the element into a
 * print-only container at the end of <body>, marks the document as printing and calls `window.print()`; the print
 * CSS of PrintArea.vue then leaves everything but that copy off the paper (the shell, dialogs, buttons). The copy
 * is removed after printing. It carries no `data-test` names, so nothing on the page is found twice meanwhile.
 */
const PRINTING = 'oms-printing'
const ROOT_CLASS = 'oms-print-root'

export function printArea(area: HTMLElement | null | undefined): void {
  if (!area || typeof window === 'undefined') return
  const body = document.body
  for (const stale of body.querySelectorAll(`:scope > .${ROOT_CLASS}`)) stale.remove()
  const root = document.createElement('div')
  root.className = ROOT_CLASS
  const copy = area.cloneNode(true) as HTMLElement
  copy.removeAttribute('data-test')
  for (const element of copy.querySelectorAll('[data-test]')) element.removeAttribute('data-test')
  root.appendChild(copy)
  body.appendChild(root)
  body.classList.add(PRINTING)
  const done = () => {
    root.remove()
    body.classList.remove(PRINTING)
    window.removeEventListener('afterprint', done)
  }
  window.addEventListener('afterprint', done)
  window.print()
}
