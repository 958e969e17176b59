/** Printing part of a page (src/components/oms/print.ts): only a copy goes to paper, without test names, and goes away. */
import { afterEach, describe, expect, it, vi } from 'vitest'

import { printArea } from '@/components/oms/print'

afterEach(() => {
  document.body.innerHTML = ''
  document.body.className = ''
})

describe('printArea', () => {
  it('prints a copy of the area alone, then removes it', () => {
    document.body.innerHTML = '<div id="app"><div class="area" data-test="receipt"><b data-test="receipt-no">SF1</b></div></div>'
    let during = ''
    const print = vi.spyOn(window, 'print').mockImplementation(() => {
      during = document.body.className
    })
    printArea(document.querySelector<HTMLElement>('.area'))
    expect(print).toHaveBeenCalledTimes(1)
    expect(during).toContain('oms-printing')
    const root = document.body.lastElementChild as HTMLElement
    expect(root.className).toBe('oms-print-root')
    expect(root.textContent).toBe('SF1')
    expect(root.querySelector('[data-test]')).toBeNull() // the page's names stay unique
    expect(document.querySelectorAll('[data-test="receipt"]')).toHaveLength(1)
    window.dispatchEvent(new Event('afterprint'))
    expect(document.querySelector('.oms-print-root')).toBeNull()
    expect(document.body.classList.contains('oms-printing')).toBe(false)
  })

  it('does nothing without an area', () => {
    const print = vi.spyOn(window, 'print').mockImplementation(() => {})
    printArea(null)
    expect(print).not.toHaveBeenCalled()
  })
})
