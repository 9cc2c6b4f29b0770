import { numberText, stringifyExact } from '../core/json.js'
import { fromBase64 } from './binary-id.js'
import type { ColumnInfo } from './columns.js'
import { isNumericColumn, numericProblem } from './columns.js'
import type { TimeParser } from './time.js'

/**
 * What mysql-write sends for a record's value, by the column's type: the inverse of
 * mysql-read's TYPES (man mysql-read), so what one writes the other takes back into the same
 * type. A Buffer goes as bytes (X'…'), a string as text the server converts, null as NULL.
 */
export type SqlValue = string | number | Buffer | null

/**
 * A value the column can't hold as it is (RECORD_INEXACT_VALUE), or can't take in this form
 * (RECORD_WRONG_FORM: not base64 for bytes, not a number for BIT, a time no instant has): the
 * record fails with this.
 */
export class Inexact {
  constructor (readonly message: string, readonly code: 'RECORD_INEXACT_VALUE' | 'RECORD_WRONG_FORM' = 'RECORD_INEXACT_VALUE') {}
}

function describe (v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : stringifyExact(v)
  return s.length > 40 ? `${s.slice(0, 37)}...` : s
}

/** A BIT value: the number mysql-read writes, as its bytes (a digit string would be stored as its character codes). */
function bitValue (v: unknown, col: ColumnInfo): Buffer | Inexact {
  const text = typeof v === 'boolean' ? (v ? '1' : '0') : typeof v === 'string' ? v : numberText(v)
  if (text === undefined || !/^\d+$/.test(text)) return new Inexact(`column ${col.name} is ${col.columnType.toUpperCase()}: its value must be a whole number from 0 (as mysql-read writes a BIT), not ${describe(v)}`, 'RECORD_WRONG_FORM')
  let n = BigInt(text)
  const bytes: number[] = []
  do { bytes.unshift(Number(n & 0xffn)); n >>= 8n } while (n > 0n)
  // Too many bits for the column: the server refuses it (Data too long), and the record fails.
  return Buffer.from(bytes)
}

/** The largest single-precision float. */
const FLOAT_MAX = 3.4028234663852886e38

/**
 * A FLOAT's value as the server takes it. The shortest text of the largest float
 * (3.4028235e38, as mysql-read writes it) is a double past it, which the server refuses as out
 * of range rather than round down: that float goes as its exact value instead.
 */
function floatText (text: string): string {
  const n = Number(text)
  return Math.abs(n) > FLOAT_MAX && Math.abs(Math.fround(n)) === FLOAT_MAX ? String(Math.sign(n) * FLOAT_MAX) : text
}

/**
 * Seconds with more fractional digits than the column keeps are stored rounded, with no more
 * than a note even in strict mode: refused here unless the digits past it are zeros.
 */
function fractionProblem (text: string, given: string, col: ColumnInfo): Inexact | undefined {
  const m = /\.(\d+)$/.exec(text)
  const fsp = col.fsp ?? 0
  if (m === null || m[1].length <= fsp || /^0*$/.test(m[1].slice(fsp))) return undefined
  return new Inexact(`${given} can't be stored exactly in ${col.columnType.toUpperCase()} column ${col.name}: it keeps ${fsp} fractional digit${fsp === 1 ? '' : 's'} of a second`)
}

/**
 * The value bound for one column (undefined: the member is missing). Numbers go as the text
 * they were written as and the server converts them; one the column would round is refused
 * here (strict mode does not catch it). A JSON column takes any JSON value as its JSON text,
 * null included (SQL NULL is a missing member, as mysql-read leaves it out); a binary column
 * takes base64; BIT a number; YEAR 0 is 0000; DATETIME and TIMESTAMP ISO-8601, read in `time`'s zone.
 */
export function columnValue (v: unknown, col: ColumnInfo, time: TimeParser): SqlValue | Inexact {
  if (v === undefined) return null
  const kind = col.kind
  if (kind === 'json') return stringifyExact(v)
  if (v === null) return null
  switch (kind) {
    case 'bit': return bitValue(v, col)
    case 'binary': {
      const bytes = typeof v === 'string' ? fromBase64(v) : undefined
      if (bytes === undefined) return new Inexact(`column ${col.name} is ${col.columnType.toUpperCase()}: its value must be base64 (canonical, padded, as mysql-read writes bytes), not ${describe(v)}`, 'RECORD_WRONG_FORM')
      return bytes
    }
    case 'datetime': case 'timestamp': {
      if (typeof v !== 'string') break
      const t = kind === 'datetime' ? time.datetime(v) : time.timestamp(v)
      if (t !== undefined && 'problem' in t) return new Inexact(`column ${col.name} (${col.columnType.toUpperCase()}): ${t.problem}`, 'RECORD_WRONG_FORM')
      const text = t === undefined ? v : t.text
      return fractionProblem(text, v, col) ?? text
    }
    case 'time':
      if (typeof v === 'string') return fractionProblem(v, v, col) ?? v
      break
    case 'year':
      // mysql-read writes the year 0000 as 0, which the server reads as 2000 from text; '0000' is 0000.
      if (numberText(v) === '0') return '0000'
      break
    default: break
  }
  if (typeof v === 'boolean') return v ? 1 : 0
  const text = typeof v === 'string' ? v : numberText(v)
  if (text === undefined) return stringifyExact(v)
  if (isNumericColumn(col) && !(/^-?\d{1,15}$/.test(text) && col.dataType !== 'float')) {
    const problem = numericProblem(text, col)
    if (problem !== undefined) return new Inexact(problem)
    if (col.dataType === 'float') return floatText(text)
  }
  return text
}
