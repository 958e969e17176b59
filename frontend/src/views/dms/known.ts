/**
 * The doctors, departments and registration types the scheduling screens can offer without reading the data
 * center. A scheduling user need not hold `datacenter:read`, so the filters and form choices are collected from
 * what the scheduling API itself returns: templates and sessions both carry `doctor_id/doctor_name`,
 * `department_id/department_name` and `registration_type_id/registration_type_name` (sessions also the fee).
 * A `Known` is a plain accumulator: the pages add every list they load, so a department filter never makes the
 * other departments disappear from its own choices.
 */
import type { AttendanceItem, Schedule, Template } from '@/api/dms'
import type { Money } from '@/api/types'

export interface KnownDoctor {
  id: number
  name: string
  departmentId: number
  departmentName: string
}

export interface KnownDepartment {
  id: number
  name: string
}

export interface KnownRegistrationType {
  id: number
  name: string
  /** The fee, when a session showed it (templates do not carry it). */
  fee: Money | null
}

/** Anything that names a doctor and their department (sessions, templates, attendance rows). */
type DoctorSource = Pick<Schedule, 'doctor_id' | 'doctor_name' | 'department_id' | 'department_name'>
type TypeSource = Pick<Template, 'registration_type_id' | 'registration_type_name'> & { fee?: Money | null }

const collator = new Intl.Collator('zh-CN', { numeric: true })

export function byName<T extends { name: string; id: number }>(a: T, b: T): number {
  return collator.compare(a.name, b.name) || a.id - b.id
}

/** Doctors ordered by department, then name, then id (the grid's row order). */
export function byDepartmentThenName(a: KnownDoctor, b: KnownDoctor): number {
  return collator.compare(a.departmentName, b.departmentName) || a.departmentId - b.departmentId ||
    collator.compare(a.name, b.name) || a.id - b.id
}

export function doctorOf(source: DoctorSource): KnownDoctor {
  return { id: source.doctor_id, name: source.doctor_name, departmentId: source.department_id,
    departmentName: source.department_name }
}

export class Known {
  private readonly doctorMap = new Map<number, KnownDoctor>()
  private readonly typeMap = new Map<number, KnownRegistrationType>()

  /** Later sources win: a session created today carries fresher names than an old template. */
  addDoctors(sources: readonly DoctorSource[]): this {
    for (const source of sources) this.doctorMap.set(source.doctor_id, doctorOf(source))
    return this
  }

  addDoctor(doctor: KnownDoctor): this {
    this.doctorMap.set(doctor.id, { ...doctor })
    return this
  }

  addRegistrationTypes(sources: readonly TypeSource[]): this {
    for (const source of sources) {
      const before = this.typeMap.get(source.registration_type_id)
      this.typeMap.set(source.registration_type_id, {
        id: source.registration_type_id,
        name: source.registration_type_name,
        fee: source.fee ?? before?.fee ?? null,
      })
    }
    return this
  }

  addSchedules(items: readonly Schedule[]): this {
    return this.addDoctors(items).addRegistrationTypes(items)
  }

  addTemplates(items: readonly Template[]): this {
    return this.addDoctors(items).addRegistrationTypes(items)
  }

  addAttendance(items: readonly AttendanceItem[]): this {
    return this.addDoctors(items)
  }

  /** Every doctor, or those of one department; ordered by department, then name. */
  doctors(departmentId?: number | null): KnownDoctor[] {
    return [...this.doctorMap.values()]
      .filter((d) => departmentId === undefined || departmentId === null || d.departmentId === departmentId)
      .sort(byDepartmentThenName)
  }

  doctor(id: number | null | undefined): KnownDoctor | null {
    return id === null || id === undefined ? null : this.doctorMap.get(id) ?? null
  }

  departments(): KnownDepartment[] {
    const out = new Map<number, KnownDepartment>()
    for (const d of this.doctorMap.values()) out.set(d.departmentId, { id: d.departmentId, name: d.departmentName })
    return [...out.values()].sort(byName)
  }

  registrationTypes(): KnownRegistrationType[] {
    return [...this.typeMap.values()].sort(byName)
  }
}
