/**
 * vue-i18n (Composition API). Chinese (zh-CN) by default, English switchable; the choice is remembered in
 * localStorage['hap.locale']. In components use `const { t } = useI18n()`; elsewhere `i18n.global.t`.
 * Element Plus's own texts follow the same choice through <el-config-provider> in App.vue (see ./element.ts).
 */
import { createI18n } from 'vue-i18n'

import en from './locales/en'
import zhCN, { type MessageSchema } from './locales/zh-CN'

export const LOCALES = ['zh-CN', 'en'] as const
export type Locale = (typeof LOCALES)[number]
export const DEFAULT_LOCALE: Locale = 'zh-CN'
export const LOCALE_STORAGE_KEY = 'hap.locale'

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value)
}

function storedLocale(): Locale {
  try {
    const value = globalThis.localStorage?.getItem(LOCALE_STORAGE_KEY)
    return isLocale(value) ? value : DEFAULT_LOCALE
  } catch {
    return DEFAULT_LOCALE
  }
}

const messages: Record<Locale, MessageSchema> = { 'zh-CN': zhCN, en }

export const i18n = createI18n({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: DEFAULT_LOCALE,
  messages,
  // A missing key is a bug: it is reported in development and tests, and shows the key rather than nothing.
  missingWarn: import.meta.env.DEV,
  fallbackWarn: false,
})

export function currentLocale(): Locale {
  return i18n.global.locale.value as Locale
}

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  try {
    globalThis.localStorage?.setItem(LOCALE_STORAGE_KEY, locale)
  } catch {
    // storage can be unavailable (private mode); the choice then lasts for this page only
  }
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}

export type { MessageSchema }
