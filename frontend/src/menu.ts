/**
 * The pages of each archive, in menu order: the sidebar lists them under the archive, the router mounts them.
 * (The data center's pages are its catalogues, listed in `api/entities.ts`.)
 */
import type { Archive } from '@/permissions'

export interface ArchivePage {
  /** Path under the archive (`/outpatient/registration`) and the route name (`outpatient-registration`). */
  name: string
  /** i18n key of the page's name (menu, breadcrumbs, title). */
  titleKey: string
  /** The level the page needs to open (its write controls still check `write` themselves). */
  level: 'read' | 'write'
}

export const ARCHIVE_PAGES: Partial<Record<Archive, readonly ArchivePage[]>> = {
  outpatient: [
    { name: 'registration', titleKey: 'oms.nav.registration', level: 'read' },
    { name: 'prescriptions', titleKey: 'oms.nav.prescriptions', level: 'read' },
    { name: 'item-orders', titleKey: 'oms.nav.item_orders', level: 'read' },
    { name: 'item-payments', titleKey: 'oms.nav.item_payments', level: 'read' },
    { name: 'drug-payments', titleKey: 'oms.nav.drug_payments', level: 'read' },
    { name: 'exams', titleKey: 'oms.nav.exams', level: 'read' },
    { name: 'patients', titleKey: 'oms.nav.patients', level: 'read' },
    { name: 'daily-summary', titleKey: 'oms.nav.daily_summary', level: 'read' },
  ],
  scheduling: [
    { name: 'week', titleKey: 'dms.nav.week', level: 'read' },
    { name: 'templates', titleKey: 'dms.nav.templates', level: 'read' },
    { name: 'attendance', titleKey: 'dms.nav.attendance', level: 'read' },
  ],
}

export function pagesOf(archive: Archive): readonly ArchivePage[] {
  return ARCHIVE_PAGES[archive] ?? []
}
