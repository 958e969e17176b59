/** The services page's logic: a service's overall health from its instances, and the page's summary. */
import type { ServiceInfo } from '@/api/gateway'
import type { TagType } from './audit'

export type Health = 'passing' | 'warning' | 'critical'

/** How often the page reloads while it is open. */
export const AUTO_REFRESH_MS = 10_000

/**
 * All instances passing → passing; none passing (or no instance at all: nothing can serve it) → critical;
 * anything in between (some down, or warnings) → warning.
 */
export function serviceHealth(service: ServiceInfo): Health {
  const statuses = service.instances.map((i) => i.status)
  if (statuses.length === 0 || !statuses.includes('passing')) {
    return statuses.length > 0 && statuses.every((s) => s === 'warning') ? 'warning' : 'critical'
  }
  return statuses.every((s) => s === 'passing') ? 'passing' : 'warning'
}

export function healthTagType(status: string): TagType {
  switch (status) {
    case 'passing':
      return 'success'
    case 'warning':
      return 'warning'
    case 'critical':
      return 'danger'
    default:
      return 'info'
  }
}

export interface ServicesSummary {
  services: number
  instances: number
  passing: number
  /** Instances that are not passing. */
  unhealthy: number
}

export function summarize(services: readonly ServiceInfo[]): ServicesSummary {
  const instances = services.flatMap((s) => s.instances)
  const passing = instances.filter((i) => i.status === 'passing').length
  return { services: services.length, instances: instances.length, passing, unhealthy: instances.length - passing }
}
