/**
 * The doctors, departments and registration types a scheduling page can offer (see src/views/dms/known.ts for
 * why they are collected from the scheduling API rather than read from the data center). One per page:
 *
 *     const directory = useDirectory()
 *     void directory.loadTemplates()           // GET /templates?size=100, every page
 *     directory.addSchedules(week.items)      // whatever the page loads anyway
 *     directory.departments.value / directory.doctors(departmentId) / directory.registrationTypes.value
 *
 * Loading failures are swallowed: the choices are then just shorter, and the page's own load shows the error.
 */
import { computed, ref, shallowRef } from 'vue'

import * as dms from '@/api/dms'
import { Known, type KnownDoctor } from '@/views/dms/known'

/** Templates are read 100 at a time (the API's maximum), at most this many pages. */
const TEMPLATE_PAGES = 20

export function useDirectory() {
  const known = new Known()
  /** Bumped on every change: the computed lists below depend on it (the accumulator itself is not reactive). */
  const version = ref(0)
  const templates = shallowRef<dms.Template[]>([])
  const loadedWeeks = new Set<string>()
  let templatesLoading: Promise<void> | null = null

  function touched<T>(value: T): T {
    version.value++
    return value
  }

  function addSchedules(items: readonly dms.Schedule[]): void {
    touched(known.addSchedules(items))
  }

  function addTemplates(items: readonly dms.Template[]): void {
    touched(known.addTemplates(items))
  }

  function addAttendance(items: readonly dms.AttendanceItem[]): void {
    touched(known.addAttendance(items))
  }

  function addDoctor(doctor: KnownDoctor): void {
    touched(known.addDoctor(doctor))
  }

  /** Every template (all pages), kept in `templates`; a second call while one runs waits for it. */
  function loadTemplates(force = false): Promise<void> {
    if (templatesLoading && !force) return templatesLoading
    templatesLoading = (async () => {
      const all: dms.Template[] = []
      try {
        for (let page = 1; page <= TEMPLATE_PAGES; page++) {
          const result = await dms.listTemplates({ page, size: 100 })
          all.push(...result.items)
          if (result.items.length === 0 || all.length >= result.total) break
        }
      } catch {
        // fewer choices; the page's own list shows the failure
      }
      templates.value = all
      addTemplates(all)
    })()
    return templatesLoading
  }

  /** The sessions of these weeks (unfiltered), each week once per page. */
  async function loadWeeks(weekStarts: readonly string[]): Promise<void> {
    await Promise.all(weekStarts.filter((w) => !loadedWeeks.has(w)).map(async (weekStart) => {
      try {
        const week = await dms.getWeek({ week_start: weekStart })
        loadedWeeks.add(weekStart)
        addSchedules(week.items)
      } catch {
        // fewer choices
      }
    }))
  }

  /** Reads `version` so that a computed or render using the result follows every addition. */
  function tracked<T>(read: () => T): T {
    void version.value
    return read()
  }

  const departments = computed(() => tracked(() => known.departments()))
  const registrationTypes = computed(() => tracked(() => known.registrationTypes()))
  const allDoctors = computed(() => tracked(() => known.doctors()))

  function doctors(departmentId?: number | null): KnownDoctor[] {
    return allDoctors.value.filter((d) => departmentId === undefined || departmentId === null ||
      d.departmentId === departmentId)
  }

  function doctor(id: number | null | undefined): KnownDoctor | null {
    return tracked(() => known.doctor(id))
  }

  /** The doctors that have a template (of one department, or all). */
  function templateDoctors(departmentId?: number | null): KnownDoctor[] {
    const ids = new Set(templates.value.filter((t) => departmentId === undefined || departmentId === null ||
      t.department_id === departmentId).map((t) => t.doctor_id))
    return allDoctors.value.filter((d) => ids.has(d.id))
  }

  return {
    version,
    templates,
    departments,
    registrationTypes,
    allDoctors,
    doctors,
    doctor,
    templateDoctors,
    addSchedules,
    addTemplates,
    addAttendance,
    addDoctor,
    loadTemplates,
    loadWeeks,
  }
}

export type Directory = ReturnType<typeof useDirectory>
