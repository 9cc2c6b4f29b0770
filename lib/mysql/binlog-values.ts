import type { ColumnKind } from './values.js'

/**
 * A value of a binary-log row image, as the binlog library decodes it, turned back into the
 * text the server sends for it in a result set (the text protocol's bytes). mysql-read's own
 * RowFormat then writes that text, so a row reads the same through --binlog as through a
 * SELECT, byte for byte (the man page's TYPES section is the one contract for both).
 *
 * What the library gets wrong, and is corrected here (test/mysql/binlog-values.test.ts):
 * - YEAR 0000 comes as 1900 (it adds 1900 to the stored byte, and 0 means year 0000);
 * - ENUM's empty value (index 0, what a bad value is stored as outside strict mode) comes as
 *   undefined instead of '';
 * - a DOUBLE comes as a number whose text JavaScript writes otherwise than the server does
 *   (1e+21 for 1e21, 1e-7 for 0.0000001): doubleText writes it as the server does;
 * - ENUM and SET value lists are split at every comma and keep doubled quotes: enumValues
 *   parses COLUMN_TYPE properly, and the lists are handed to it with each table's columns.
 * Integers, DECIMAL (exact strings), dates and times (strings, since dateStrings is on and the
 * session zone is UTC), BIT and binary strings (Buffers) and text come as the server's text.
 */

/** Digits and exponent of the shortest decimal that reads back as `x` (what dtoa's mode 0 gives). */
function shortest (x: number): { digits: string, decpt: number } {
  const s = Math.abs(x).toExponential()
  const e = s.indexOf('e')
  const digits = s.slice(0, e).replace('.', '')
  return { digits, decpt: Number(s.slice(e + 1)) + 1 }
}

/**
 * A DOUBLE as the server writes it in a result (my_gcvt with the whole buffer as width): the
 * shortest digits that read back as the same double, positional when the decimal point falls
 * within 15 places either side of them (DBL_DIG), else as d.ddde±x without a + sign.
 */
export function doubleText (x: number): string {
  if (x === 0) return '0'
  if (!Number.isFinite(x)) return String(x)
  const sign = x < 0 ? '-' : ''
  const { digits, decpt } = shortest(x)
  const len = digits.length
  if (decpt >= -14 && (decpt <= 15 || len > decpt)) {
    if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`
    if (decpt >= len) return `${sign}${digits}${'0'.repeat(decpt - len)}`
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`
  }
  const exp = decpt - 1
  return `${sign}${digits[0]}${len > 1 ? '.' + digits.slice(1) : ''}e${exp}`
}

/**
 * The values of an ENUM or SET from its COLUMN_TYPE (`enum('a','b c','it''s')`): quoted
 * strings with '' for a quote and backslash escapes, as information_schema prints them.
 */
export function enumValues (columnType: string): string[] {
  const open = columnType.indexOf('(')
  const out: string[] = []
  let i = open + 1
  while (i > 0 && i < columnType.length) {
    if (columnType[i] !== "'") { i++; continue }
    let v = ''
    i++
    while (i < columnType.length) {
      const c = columnType[i]
      if (c === "'" && columnType[i + 1] === "'") { v += "'"; i += 2; continue }
      if (c === '\\' && i + 1 < columnType.length) { v += columnType[i + 1]; i += 2; continue }
      if (c === "'") { i++; break }
      v += c
      i++
    }
    out.push(v)
  }
  return out
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1')

/**
 * How one column's decoded binlog values become the server's text of them (null for NULL).
 * `float32`: a FLOAT (the library gives its exact single-precision value, which RowFormat
 * writes as the shortest text that reads back as it).
 */
export function binlogTextOf (kind: ColumnKind, float32: boolean): (v: unknown) => Buffer | null {
  switch (kind) {
    case 'int': case 'bigint': case 'decimal':
      return (v) => v === null || v === undefined ? null : latin1(String(v))
    case 'year':
      // The stored byte is the year less 1900, and 0 is year 0000; 1900 itself is no YEAR.
      return (v) => v === null || v === undefined ? null : latin1(v === 1900 || v === '1900' ? '0' : String(v))
    case 'float':
      if (float32) return (v) => v === null || v === undefined ? null : latin1(String(v))
      return (v) => v === null || v === undefined ? null : latin1(typeof v === 'number' ? doubleText(v) : String(v))
    case 'date': case 'datetime': case 'timestamp': case 'time':
      return (v) => v === null || v === undefined ? null : latin1(String(v))
    case 'bit': case 'binary': case 'other':
      return (v) => v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8')
    case 'enum':
      // Index 0 is the empty value a bad one is stored as outside strict mode.
      return (v) => v === null ? null : v === undefined ? Buffer.alloc(0) : Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8')
    default:
      return (v) => v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8')
  }
}
