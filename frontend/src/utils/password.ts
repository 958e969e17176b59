/**
 * The password policy, the same as the server's (gateway/security.py `check_password_policy`): at least 8 and at
 * most 128 characters, at least 3 of 4 classes (lower case, upper case, digits, others), and not containing the
 * username (case-insensitive). Characters are counted as Python does (code points, not UTF-16 units).
 */

export type PasswordRule = 'length' | 'max' | 'classes' | 'username'

export const PASSWORD_RULES: readonly PasswordRule[] = ['length', 'classes', 'username']

const LOWER = /\p{Ll}/u
const UPPER = /\p{Lu}/u
const DIGIT = /\p{Nd}/u
// Python's `not c.isalnum()`: anything that is neither a letter nor a number.
const SYMBOL = /[^\p{L}\p{N}]/u

export function passwordClasses(password: string): number {
  const chars = [...password]
  return [LOWER, UPPER, DIGIT, SYMBOL].filter((re) => chars.some((c) => re.test(c))).length
}

/** The rules the password breaks, in the server's order; empty when it is acceptable. */
export function passwordProblems(password: string, username: string): PasswordRule[] {
  const problems: PasswordRule[] = []
  const length = [...password].length
  if (length < 8) problems.push('length')
  if (length > 128) problems.push('max')
  if (passwordClasses(password) < 3) problems.push('classes')
  if (username && password.toLowerCase().includes(username.toLowerCase())) problems.push('username')
  return problems
}
