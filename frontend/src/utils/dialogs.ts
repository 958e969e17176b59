/**
 * Confirmation dialogs in the UI's language. Programmatic ElMessageBox is rendered outside the component tree,
 * so it does not follow <el-config-provider> after a language switch: its buttons are set here from i18n.
 *
 *     if (await confirmAction(t('…'), t('…'))) await dbs.deleteDepartment(id)
 */
// Imported explicitly (with its CSS), not auto-imported: a .ts helper that no page uses yet would otherwise be
// missing from the generated auto-imports.d.ts when vue-tsc runs.
import { ElMessageBox, type ElMessageBoxOptions } from 'element-plus/es'
import 'element-plus/es/components/message-box/style/css'

import { i18n } from '@/i18n'

/** Resolves true when confirmed, false when cancelled or closed. */
export async function confirmAction(message: string, title: string, options: ElMessageBoxOptions = {}):
  Promise<boolean> {
  const { t } = i18n.global
  try {
    await ElMessageBox.confirm(message, title, {
      confirmButtonText: t('common.confirm'),
      cancelButtonText: t('common.cancel'),
      type: 'warning',
      ...options,
    })
    return true
  } catch {
    return false
  }
}
