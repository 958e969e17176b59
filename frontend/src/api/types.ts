/** Shapes shared by every service's API (ARCHITECTURE §4). */

/** A list response: `{items, total, page, size}`; `page` starts at 1, `size` is at most 100. */
export interface Page<T> {
  items: T[]
  total: number
  page: number
  size: number
}

/** The paging query parameters every list endpoint accepts. */
export interface PageQuery {
  page?: number
  size?: number
}

/** Money as the API sends it: a decimal string with two places, e.g. "12.50". Show with `formatMoney`. */
export type Money = string
