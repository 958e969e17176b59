/**
 * `confirmAction` (src/utils/dialogs.ts, buttons in the UI's language), loaded on first use. dialogs.ts imports
 * ElMessageBox with its CSS explicitly; importing it statically from a view makes every unit test that merely
 * routes to that view (tests/unit/router.spec.ts) load a .css file in Node and fail. Loaded lazily, it is also a
 * chunk of its own, fetched only when a confirmation is first needed.
 */
import type { ElMessageBoxOptions } from 'element-plus'

/** Resolves true when confirmed, false when cancelled or closed. */
export async function askConfirmation(message: string, title: string, options: ElMessageBoxOptions = {}): Promise<boolean> {
  const { confirmAction } = await import('@/utils/dialogs')
  return confirmAction(message, title, options)
}
