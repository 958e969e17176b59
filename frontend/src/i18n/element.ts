/** Element Plus's built-in texts (pagination, date pickers, dialogs…) in the UI's language. */
import en from 'element-plus/es/locale/lang/en'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'dayjs/locale/zh-cn'

import type { Locale } from './index'

export function elementLocale(locale: Locale) {
  return locale === 'en' ? en : zhCn
}
