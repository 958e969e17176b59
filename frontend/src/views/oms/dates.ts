/**
 * The hospital's calendar day. "Today" for registrations, the cashier's daily summary and the registration list is
 * the day in the hospital's time zone (Asia/Shanghai, ARCHITECTURE §4), whatever the browser's zone is.
 */

export const HOSPITAL_TIME_ZONE = 'Asia/Shanghai'

/** `YYYY-MM-DD` of `now` in the hospital's time zone. */
export function hospitalToday(now: Date = new Date(), timeZone: string = HOSPITAL_TIME_ZONE): string {
  // en-CA formats as YYYY-MM-DD.
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(now)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  return `${get('year')}-${get('month')}-${get('day')}`
}
