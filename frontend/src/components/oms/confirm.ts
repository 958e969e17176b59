/**
 * Confirmations of the outpatient screens: `confirmAction` (buttons in the UI's language), loaded on first use like
 * src/components/system/confirm.ts, and with stable `data-test` names on the box for the browser tests:
 * `confirm-dialog` (the box), `confirm-ok`, `confirm-cancel`.
 */
import type { ElMessageBoxOptions } from 'element-plus'

import { askConfirmation } from '@/components/system/confirm'

const BOX_CLASS = 'oms-confirm'

/** Sets the data-test names on the confirmation box once Element Plus has rendered it. */
function tagBox(): void {
  if (typeof document === 'undefined' || typeof MutationObserver === 'undefined') return
  const tag = (): boolean => {
    const boxes = document.querySelectorAll<HTMLElement>(`.${BOX_CLASS}`)
    const box = boxes[boxes.length - 1]
    if (!box) return false
    box.setAttribute('data-test', 'confirm-dialog')
    const buttons = box.querySelectorAll<HTMLElement>('.el-message-box__btns button')
    // Element Plus renders cancel first, then confirm.
    buttons[0]?.setAttribute('data-test', buttons.length > 1 ? 'confirm-cancel' : 'confirm-ok')
    if (buttons.length > 1) buttons[buttons.length - 1]!.setAttribute('data-test', 'confirm-ok')
    return buttons.length > 0
  }
  if (tag()) return
  const observer = new MutationObserver(() => {
    if (tag()) observer.disconnect()
  })
  observer.observe(document.body, { childList: true, subtree: true })
  setTimeout(() => observer.disconnect(), 5000)
}

/** Resolves true when confirmed, false when cancelled or closed. */
export async function confirmOms(message: string, title: string, options: ElMessageBoxOptions = {}): Promise<boolean> {
  const pending = askConfirmation(message, title, { ...options, customClass: BOX_CLASS })
  tagBox()
  return pending
}
