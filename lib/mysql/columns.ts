import { EspipeError } from '../core/errors.js'
import type { TimeFormatter } from './time.js'

/**
 * Each column's value as JSON text, without loss (the man page's TYPES section is the contract).
 * Values come from mysql2 with bigNumberStrings, dateStrings and jsonStrings, so every number
 * that JavaScript could round arrives as the server's own text and is written as that text.
 */
export type ColumnKind =
  | 'int' | 'bigint' | 'decimal' | 'float' | 'bit' | 'year'
  | 'date' | 'datetime' | 'timestamp' | 'time'
  | 'json' | 'binary' | 'text' | 'enum' | 'set'
  | 'geometry' | 'null' | 'other'

// mysql2's column type numbers (the protocol's).
const T = {
  DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, NULL: 6, TIMESTAMP: 7, LONGLONG: 8, INT24: 9,
  DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13, NEWDATE: 14, VARCHAR: 15, BIT: 16, TIMESTAMP2: 17, DATETIME2: 18, TIME2: 19,
  JSON: 245, NEWDECIMAL: 246, ENUM: 247, SET: 248, TINY_BLOB: 249, MEDIUM_BLOB: 250, LONG_BLOB: 251, BLOB: 252,
  VAR_STRING: 253, STRING: 254, GEOMETRY: 255
} as const
const ENUM_FLAG = 0x100
const SET_FLAG = 0x800
const BINARY_CHARSET = 63

export interface FieldMeta {
  name: string
  columnType?: number
  type?: number
  characterSet?: number
  flags?: number | string[]
  extendedFormat?: string
  extendedTypeName?: string
}

function flagsOf (f: FieldMeta): number {
  return typeof f.flags === 'number' ? f.flags : 0
}

/** What a result column holds, from the metadata the server sends with every result. */
export function columnKind (f: FieldMeta): ColumnKind {
  const type = f.columnType ?? f.type
  if (f.extendedFormat === 'json') return 'json' // MariaDB's JSON is LONGTEXT; extended metadata says so
  switch (type) {
    case T.TINY: case T.SHORT: case T.LONG: case T.INT24: return 'int'
    case T.LONGLONG: return 'bigint'
    case T.YEAR: return 'year'
    case T.DECIMAL: case T.NEWDECIMAL: return 'decimal'
    case T.FLOAT: case T.DOUBLE: return 'float'
    case T.BIT: return 'bit'
    case T.DATE: case T.NEWDATE: return 'date'
    case T.DATETIME: case T.DATETIME2: return 'datetime'
    case T.TIMESTAMP: case T.TIMESTAMP2: return 'timestamp'
    case T.TIME: case T.TIME2: return 'time'
    case T.JSON: return 'json'
    case T.NULL: return 'null'
    case T.GEOMETRY: return 'geometry'
    case T.ENUM: return 'enum'
    case T.SET: return 'set'
    case T.VARCHAR: case T.VAR_STRING: case T.STRING: case T.TINY_BLOB: case T.MEDIUM_BLOB: case T.LONG_BLOB: case T.BLOB: {
      const flags = flagsOf(f)
      if ((flags & ENUM_FLAG) !== 0) return 'enum'
      if ((flags & SET_FLAG) !== 0) return 'set'
      return f.characterSet === BINARY_CHARSET ? 'binary' : 'text'
    }
    default: return 'other'
  }
}

/** A value that cannot be written as JSON: the row is a failed record, with this reason. */
export class ValueError extends Error {
  constructor (readonly code: string, message: string, readonly column: string) {
    super(message)
  }
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f]/

/** A string as a JSON string literal; JSON.stringify only when something needs escaping. */
export function quoteJson (s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"'
}

function floatText (n: number): string {
  return Object.is(n, -0) ? '-0' : String(n)
}

/** A BIT value's bytes (big-endian) as its unsigned integer's decimal digits. */
export function bitText (b: Buffer): string {
  if (b.length <= 6) return String(b.length === 0 ? 0 : b.readUIntBE(0, b.length))
  let n = 0n
  for (const byte of b) n = (n << 8n) | BigInt(byte)
  return n.toString()
}

function isDigit (c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

const ESCAPABLE = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]) // " \ / b f n r t
const HEX4 = /^[0-9a-fA-F]{4}$/

/**
 * Text the server accepted as JSON is JSON, except for what MariaDB's parser lets through and
 * JSON does not: a number ending in a point (`1.`, `1.e5`) and any backslash escape (`\x`).
 * Those need a look only when the text has a backslash or a point after a digit.
 */
function laxJsonSuspect (text: string): boolean {
  for (let i = text.indexOf('\\'); i >= 0; i = text.indexOf('\\', i + 2)) {
    const c = text.charCodeAt(i + 1)
    if (c === 0x75 /* u */) {
      if (!HEX4.test(text.slice(i + 2, i + 6))) return true
    } else if (!ESCAPABLE.has(c)) return true
  }
  for (let i = text.indexOf('.'); i >= 0; i = text.indexOf('.', i + 1)) {
    if (isDigit(text.charCodeAt(i - 1)) && !isDigit(text.charCodeAt(i + 1))) return true
  }
  return false
}

/**
 * The JSON text of a JSON column (or of --content-column), ready to sit inside an NDJSON line:
 * as stored, byte for byte, unless it spans lines (then its line breaks, which valid JSON has
 * only between tokens, are dropped). `trusted`: the server checked it is JSON (a JSON column);
 * otherwise it is parsed to be sure. Throws ValueError when it is not JSON.
 */
export function jsonColumnText (text: string, column: string, trusted: boolean): string {
  if (!trusted || laxJsonSuspect(text)) {
    try {
      JSON.parse(text)
    } catch (err) {
      throw new ValueError('ROW_INVALID_JSON', `column ${column} does not hold valid JSON (${(err as Error).message})`, column)
    }
  }
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]/g, '') : text
}

/** Whether JSON text (known valid) is an object. */
export function isJsonObjectText (text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c === 0x7b
  }
  return false
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Binary bytes as an id: their text when they are UTF-8 (as ids mysql-write stored are), otherwise base64. */
export function binaryIdText (b: Buffer): string {
  try {
    return utf8.decode(b)
  } catch {
    return b.toString('base64')
  }
}

/** Writes one non-NULL value as JSON text. */
export type ValueWriter = (v: unknown) => string

export interface WriterOptions {
  time: TimeFormatter
  /** Called once per column the first time it holds a date JSON can't name (0000-00-00). */
  zeroDate?: (column: string) => void
}

/** The writer for one column's values; each value's JSON form is in the man page. */
export function valueWriter (kind: ColumnKind, column: string, opts: WriterOptions): ValueWriter {
  const zero = (text: string): string => {
    opts.zeroDate?.(column)
    return '"' + text + '"'
  }
  switch (kind) {
    case 'int': case 'year': return (v) => String(v)
    case 'bigint': case 'decimal': return (v) => String(v) // the server's digits (bigNumberStrings, no decimalNumbers)
    case 'float': return (v) => floatText(v as number)
    case 'bit': return (v) => bitText(v as Buffer)
    case 'date': case 'time': return (v) => '"' + String(v) + '"'
    case 'datetime': return (v) => { const iso = opts.time.datetime(v as string); return iso === undefined ? zero(v as string) : '"' + iso + '"' }
    case 'timestamp': return (v) => { const iso = opts.time.timestamp(v as string); return iso === undefined ? zero(v as string) : '"' + iso + '"' }
    case 'json': return (v) => jsonColumnText(String(v), column, true)
    case 'binary': return (v) => '"' + (v as Buffer).toString('base64') + '"'
    case 'text': case 'enum': case 'set': return (v) => quoteJson(v as string)
    case 'null': return () => 'null'
    case 'geometry':
      throw new EspipeError('ER_GEOMETRY_COLUMN', `column ${column} is a geometry: select ST_AsGeoJSON(${column}) (or ST_AsText) in the query to read it`)
    case 'other': return (v) => Buffer.isBuffer(v) ? '"' + v.toString('base64') + '"' : typeof v === 'string' ? quoteJson(v) : JSON.stringify(v)
  }
}

/** A non-NULL value as the text of an id part (and of a key cursor, except binary: see cursorText). */
export function idText (kind: ColumnKind, v: unknown): string {
  if (Buffer.isBuffer(v)) return kind === 'bit' ? bitText(v) : binaryIdText(v)
  if (kind === 'float') return floatText(v as number)
  return String(v)
}

/** A key value as the checkpoint keeps it: its id text, but binary always as base64 (exact). */
export function cursorText (kind: ColumnKind, v: unknown): string {
  if (Buffer.isBuffer(v)) return kind === 'bit' ? bitText(v) : v.toString('base64')
  return idText(kind, v)
}

/** Kinds a read can be paged by: their order in ORDER BY is the order `>` compares. */
export function pageable (kind: ColumnKind): boolean {
  return kind === 'int' || kind === 'bigint' || kind === 'decimal' || kind === 'float' || kind === 'bit' || kind === 'year' ||
    kind === 'date' || kind === 'datetime' || kind === 'timestamp' || kind === 'time' || kind === 'binary' || kind === 'text'
}

const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/
const TEMPORAL = /^-?[0-9][0-9:. -]*$/

/**
 * A cursor value as an SQL literal the server compares exactly: numbers as bare digits (a
 * quoted number would be compared as a double, and BIGINTs past 2^53 would collide), strings
 * as hex with their character set (independent of sql_mode's NO_BACKSLASH_ESCAPES), binary as
 * hex. Every text is checked, so nothing from a checkpoint file reaches the server as SQL.
 */
export function sqlLiteral (kind: ColumnKind, text: string): string {
  switch (kind) {
    case 'int': case 'bigint': case 'decimal': case 'float': case 'bit': case 'year':
      if (!NUMBER.test(text)) break
      return text
    case 'date': case 'datetime': case 'timestamp': case 'time':
      if (!TEMPORAL.test(text)) break
      return `'${text}'`
    case 'binary':
      return `X'${Buffer.from(text, 'base64').toString('hex')}'`
    case 'text':
      return `_utf8mb4 X'${Buffer.from(text, 'utf8').toString('hex')}'`
    default:
      break
  }
  throw new EspipeError('ECHECKPOINT', `invalid ${kind} cursor value '${text}'`)
}

/** The value of a row as plain JSON for a dead-letter entry (binary as base64). */
export function plainValue (v: unknown): unknown {
  return Buffer.isBuffer(v) ? v.toString('base64') : v
}
