/**
 * Route meta: what a page needs and how it is named.
 *
 * - `public`: no sign-in needed (only the sign-in page).
 * - `archive` + `level`: the permission the page needs (`level` defaults to `read`); `archive: 'system'` means
 *   super admin only. Without a grant the guard shows the 403 page inside the shell.
 * - `titleKey`: i18n key of the page's name (breadcrumbs, page title, browser tab), or a function of the route for
 *   pages named by a parameter (e.g. `/datacenter/:entity`).
 */
import type { RouteLocationNormalizedLoaded, RouteLocationRaw } from 'vue-router'

import type { Level } from '@/api/gateway'
import type { Scope } from '@/permissions'

export type TitleKey = string | ((route: RouteLocationNormalizedLoaded) => string)

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    archive?: Scope
    level?: Level
    titleKey?: TitleKey
  }
}

export interface Crumb {
  key: string
  to?: RouteLocationRaw
}

export function titleKeyOf(route: RouteLocationNormalizedLoaded): string | null {
  const key = route.meta.titleKey
  if (!key) return null
  return typeof key === 'function' ? key(route) : key
}

/** Home › archive › page, from the route's meta (the archive level is skipped when it is the page itself). */
export function breadcrumbsOf(route: RouteLocationNormalizedLoaded): Crumb[] {
  const crumbs: Crumb[] = [{ key: 'nav.home', to: { name: 'home' } }]
  const title = titleKeyOf(route)
  if (route.name === 'home' || !title) return crumbs
  const archive = route.meta.archive
  const archiveKey = archive ? `archives.${archive}` : null
  if (archiveKey && archiveKey !== title) {
    crumbs.push({ key: archiveKey, to: archive === 'system' || archive === undefined ? undefined : `/${archive}` })
  }
  crumbs.push({ key: title })
  return crumbs
}
