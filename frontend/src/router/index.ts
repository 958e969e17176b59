/**
 * Routes and guards. Every view is lazy (its own chunk). Guards, in order:
 * not signed in → /login?redirect=<full path>; initial password not changed → /password; no grant for the
 * page's archive (or not super admin for `system`) → the 403 page inside the shell.
 *
 * Adding a page: add a child of the shell route with `meta: { archive, level, titleKey }`.
 */
import { createRouter, createWebHistory, type RouteRecordRaw, type RouterHistory } from 'vue-router'

import { DATACENTER_ENTITIES, entityOfNamespace } from '@/api/entities'
import { ARCHIVE_PAGES } from '@/menu'
import { type Archive, ARCHIVES, BUILT_ARCHIVES } from '@/permissions'
import { safeRedirect } from '@/session'
import { useAuthStore } from '@/stores/auth'

import './meta'

const notBuilt: RouteRecordRaw[] = ARCHIVES.filter((archive) => !BUILT_ARCHIVES.includes(archive)).map((archive) => ({
  path: `${archive}/:rest(.*)*`,
  name: `archive-${archive}`,
  component: () => import('@/views/NotBuiltView.vue'),
  props: { archive },
  meta: { archive, level: 'read', titleKey: `archives.${archive}` },
}))

// The views of each archive's pages (ARCHIVE_PAGES in menu.ts names them; each is its own lazy chunk).
const PAGE_VIEWS: Record<string, () => Promise<unknown>> = {
  'outpatient-registration': () => import('@/views/oms/RegistrationView.vue'),
  'outpatient-prescriptions': () => import('@/views/oms/PrescriptionView.vue'),
  'outpatient-item-orders': () => import('@/views/oms/ItemOrderView.vue'),
  'outpatient-item-payments': () => import('@/views/oms/PaymentView.vue'),
  'outpatient-drug-payments': () => import('@/views/oms/PaymentView.vue'),
  'outpatient-exams': () => import('@/views/oms/ExamView.vue'),
  'outpatient-patients': () => import('@/views/oms/PatientsView.vue'),
  'outpatient-daily-summary': () => import('@/views/oms/DailySummaryView.vue'),
  'scheduling-week': () => import('@/views/dms/WeekView.vue'),
  'scheduling-templates': () => import('@/views/dms/TemplatesView.vue'),
  'scheduling-attendance': () => import('@/views/dms/AttendanceView.vue'),
}

// Props a shared view needs to know which page it is.
const PAGE_PROPS: Record<string, Record<string, unknown>> = {
  'outpatient-item-payments': { kind: 'item' },
  'outpatient-drug-payments': { kind: 'drug' },
}

const archivePages: RouteRecordRaw[] = Object.entries(ARCHIVE_PAGES).flatMap(([archive, pages]) => [
  { path: archive, redirect: `/${archive}/${pages[0]!.name}` },
  ...pages.map((page) => ({
    path: `${archive}/${page.name}`,
    name: `${archive}-${page.name}`,
    component: PAGE_VIEWS[`${archive}-${page.name}`]!,
    props: PAGE_PROPS[`${archive}-${page.name}`] ?? false,
    meta: { archive: archive as Archive, level: page.level, titleKey: page.titleKey },
  })),
])

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/LoginView.vue'),
    meta: { public: true, titleKey: 'nav.login' },
  },
  {
    path: '/password',
    name: 'password',
    component: () => import('@/views/ChangePasswordView.vue'),
    meta: { titleKey: 'nav.password' },
  },
  {
    path: '/',
    component: () => import('@/layouts/ShellLayout.vue'),
    children: [
      { path: '', name: 'home', component: () => import('@/views/HomeView.vue'), meta: { titleKey: 'nav.home' } },
      { path: 'system', redirect: { name: 'system-users' } },
      {
        path: 'system/users',
        name: 'system-users',
        component: () => import('@/views/system/UsersView.vue'),
        meta: { archive: 'system', level: 'write', titleKey: 'nav.users' },
      },
      {
        path: 'system/grants',
        name: 'system-grants',
        component: () => import('@/views/system/GrantsView.vue'),
        meta: { archive: 'system', level: 'write', titleKey: 'nav.grants' },
      },
      {
        path: 'system/audit',
        name: 'system-audit',
        component: () => import('@/views/system/AuditView.vue'),
        meta: { archive: 'system', level: 'read', titleKey: 'nav.audit' },
      },
      {
        path: 'system/services',
        name: 'system-services',
        component: () => import('@/views/system/ServicesView.vue'),
        meta: { archive: 'system', level: 'read', titleKey: 'nav.services' },
      },
      { path: 'datacenter', redirect: '/datacenter/departments' },
      {
        // Only the known catalogues match; anything else falls through to the 404 page.
        path: `datacenter/:entity(${DATACENTER_ENTITIES.map((e) => e.namespace).join('|')})`,
        name: 'datacenter-entity',
        component: () => import('@/views/dbs/CatalogueView.vue'),
        props: true,
        meta: {
          archive: 'datacenter',
          level: 'read',
          titleKey: (route) => `catalogues.${entityOfNamespace(String(route.params.entity)) ?? 'unknown'}`,
        },
      },
      ...archivePages,
      {
        path: 'outpatient/patients/:id(\\d+)',
        name: 'outpatient-patient',
        component: () => import('@/views/oms/PatientDetailView.vue'),
        props: (route) => ({ id: Number(route.params.id) }),
        meta: { archive: 'outpatient', level: 'read', titleKey: 'oms.nav.patient_detail' },
      },
      ...notBuilt,
      {
        path: 'forbidden',
        name: 'forbidden',
        component: () => import('@/views/ForbiddenView.vue'),
        meta: { titleKey: 'nav.forbidden' },
      },
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/NotFoundView.vue'),
        meta: { titleKey: 'nav.not_found' },
      },
    ],
  },
]

export function installGuards(router: ReturnType<typeof createRouter>): void {
  router.beforeEach(async (to) => {
    const auth = useAuthStore()
    await auth.init()
    if (to.meta.public) {
      if (to.name === 'login' && auth.signedIn) {
        const target = safeRedirect(to.query.redirect)
        return auth.mustChangePassword ? { name: 'password', query: { redirect: target } } : target
      }
      return true
    }
    if (!auth.signedIn) {
      return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
    }
    if (auth.mustChangePassword && to.name !== 'password') {
      return { name: 'password', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
    }
    const archive = to.meta.archive
    if (archive && !auth.can(archive, to.meta.level ?? 'read')) {
      return { name: 'forbidden', query: { from: to.fullPath }, replace: true }
    }
    return true
  })
}

export function createAppRouter(history: RouterHistory = createWebHistory(import.meta.env.BASE_URL)) {
  const router = createRouter({
    history,
    routes,
    scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
  })
  installGuards(router)
  return router
}
