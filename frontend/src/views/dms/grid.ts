/**
 * The week grid as data: one row per doctor (ordered by department, then name), one column per day × session
 * (Monday morning … Sunday night, 21 columns), each cell holding that doctor's session or nothing. Rows come
 * from the week's sessions and from extra doctors the page wants to show even without a session that week (the
 * doctor chosen in the filter, the doctors of the templates) so that an empty cell can be clicked to create one.
 */
import { SESSIONS, type Schedule, type ScheduleStatus, type Session } from '@/api/dms'

import { byDepartmentThenName, doctorOf, type KnownDoctor } from './known'
import { isoWeekday, weekdayKey, type WeekdayKey } from './week'

export interface GridColumn {
  date: string
  session: Session
  weekday: WeekdayKey
  /** The first session of its day (the header groups the three sessions under the date). */
  firstOfDay: boolean
  past: boolean
}

/** How a cell looks: no session, open with free slots, open but full, closed, cancelled. */
export type CellState = 'empty' | 'open' | 'full' | 'closed' | 'cancelled'

export interface GridCell {
  date: string
  session: Session
  schedule: Schedule | null
  /** Free slots: quota − booked while open, 0 otherwise (the API's definition of `remaining`). */
  remaining: number
  state: CellState
  /** Before today: nothing can be created there (the server refuses `schedule.date_in_past`). */
  past: boolean
  /** `week-cell-<doctorId>-<YYYY-MM-DD>-<session>` */
  testId: string
}

export interface GridRow {
  doctor: KnownDoctor
  cells: GridCell[]
  /** The row's sessions that week and their sums, for the row header. */
  sessions: number
  quota: number
  booked: number
}

export interface Grid {
  columns: GridColumn[]
  rows: GridRow[]
}

/** quota − booked while open (never negative), 0 when closed or cancelled. */
export function remainingOf(schedule: Pick<Schedule, 'quota' | 'booked' | 'status'>): number {
  return schedule.status === 'open' ? Math.max(0, schedule.quota - schedule.booked) : 0
}

export function cellState(schedule: Pick<Schedule, 'quota' | 'booked' | 'status'> | null): CellState {
  if (!schedule) return 'empty'
  if (schedule.status !== 'open') return schedule.status
  return remainingOf(schedule) > 0 ? 'open' : 'full'
}

export function cellKey(doctorId: number, date: string, session: Session): string {
  return `${doctorId}-${date}-${session}`
}

export function cellTestId(doctorId: number, date: string, session: Session): string {
  return `week-cell-${cellKey(doctorId, date, session)}`
}

export function gridColumns(days: readonly string[], today: string): GridColumn[] {
  return days.flatMap((date) => SESSIONS.map((session, index) => ({
    date,
    session,
    weekday: weekdayKey(isoWeekday(date)),
    firstOfDay: index === 0,
    past: date < today,
  })))
}

/** Prefer a live session over a cancelled one when two share a cell (the week view sends only live ones). */
const STATUS_RANK: Record<ScheduleStatus, number> = { open: 0, closed: 1, cancelled: 2 }

/**
 * Lays the week's sessions out. `days` are the week's seven dates (sessions on other dates are ignored),
 * `extraDoctors` get a row even without a session, `today` marks past cells.
 */
export function buildGrid(days: readonly string[], items: readonly Schedule[], today: string,
  extraDoctors: readonly KnownDoctor[] = []): Grid {
  const columns = gridColumns(days, today)
  const inWeek = new Set(days)
  const doctors = new Map<number, KnownDoctor>()
  for (const doctor of extraDoctors) doctors.set(doctor.id, doctor)
  const byCell = new Map<string, Schedule>()
  for (const item of items) {
    if (!inWeek.has(item.schedule_date)) continue
    doctors.set(item.doctor_id, doctorOf(item)) // the session's names are the freshest
    const key = cellKey(item.doctor_id, item.schedule_date, item.session)
    const before = byCell.get(key)
    if (!before || STATUS_RANK[item.status] < STATUS_RANK[before.status]) byCell.set(key, item)
  }
  const rows = [...doctors.values()].sort(byDepartmentThenName).map((doctor) => {
    let sessions = 0
    let quota = 0
    let booked = 0
    const cells = columns.map((column): GridCell => {
      const schedule = byCell.get(cellKey(doctor.id, column.date, column.session)) ?? null
      if (schedule && schedule.status !== 'cancelled') {
        sessions += 1
        quota += schedule.quota
        booked += schedule.booked
      }
      return {
        date: column.date,
        session: column.session,
        schedule,
        remaining: schedule ? remainingOf(schedule) : 0,
        state: cellState(schedule),
        past: column.past,
        testId: cellTestId(doctor.id, column.date, column.session),
      }
    })
    return { doctor, cells, sessions, quota, booked }
  })
  return { columns, rows }
}

/** The week's totals for the toolbar: sessions, quota, booked and free slots. */
export function gridTotals(grid: Grid): { sessions: number; quota: number; booked: number; remaining: number } {
  let remaining = 0
  for (const row of grid.rows) for (const cell of row.cells) remaining += cell.remaining
  return {
    sessions: grid.rows.reduce((n, r) => n + r.sessions, 0),
    quota: grid.rows.reduce((n, r) => n + r.quota, 0),
    booked: grid.rows.reduce((n, r) => n + r.booked, 0),
    remaining,
  }
}
