/**
 * The grants matrix as data: one level per archive (`none`, `read` or `write`), built from the user's grants and
 * turned back into the list `PUT /api/admin/users/{id}/grants` replaces the whole set with (archives at `none`
 * are left out, one entry per archive, in menu order).
 */
import type { Grant, Level } from '@/api/gateway'
import { ARCHIVES, isArchive, type Archive } from '@/permissions'

export type MatrixLevel = 'none' | Level

/** The matrix's columns, left to right. */
export const MATRIX_LEVELS: readonly MatrixLevel[] = ['none', 'read', 'write']

export type GrantMatrix = Record<Archive, MatrixLevel>

export function emptyMatrix(): GrantMatrix {
  return Object.fromEntries(ARCHIVES.map((a) => [a, 'none'])) as GrantMatrix
}

/** The matrix for a set of grants. Unknown archives are ignored; if an archive appears twice, write wins. */
export function matrixOf(grants: readonly Grant[]): GrantMatrix {
  const matrix = emptyMatrix()
  for (const grant of grants) {
    if (!isArchive(grant.archive)) continue
    if (grant.level === 'write' || (grant.level === 'read' && matrix[grant.archive] === 'none')) {
      matrix[grant.archive] = grant.level
    }
  }
  return matrix
}

/** The body of the PUT: every archive not at `none`, in menu order. */
export function grantsOf(matrix: GrantMatrix): Grant[] {
  const out: Grant[] = []
  for (const archive of ARCHIVES) {
    const level = matrix[archive]
    if (level === 'read' || level === 'write') out.push({ archive, level })
  }
  return out
}

/** The archives whose level differs between the saved matrix and the edited one, in menu order. */
export function changedArchives(saved: GrantMatrix, draft: GrantMatrix): Archive[] {
  return ARCHIVES.filter((archive) => saved[archive] !== draft[archive])
}
