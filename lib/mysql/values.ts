import { EspipeError } from '../core/errors.js'
import { binaryIdText } from './binary-id.js'
import { float32Text } from './columns.js'
import type { LineBuffer } from './line-buffer.js'
import type { TimeFormatter } from './time.js'

/**
 * Each column's value as JSON, written from the bytes the server sent (the text protocol sends
 * every value as text: numbers as their digits, dates as 'YYYY-MM-DD hh:mm:ss', BIT and binary
 * strings as raw bytes), straight into the output line. No value passes through a JavaScript
 * number or string it could lose digits in (the man page's TYPES section is the contract).
 */
export type ColumnKind =
  | 'int' | 'bigint' | 'decimal' | 'float' | 'bit' | 'year'
  | 'date' | 'datetime' | 'timestamp' | 'time'
  | 'json' | 'binary' | 'text' | 'enum' | 'set'
  | 'geometry' | 'null' | 'other'

// The protocol's column type numbers.
const T = {
  DECIMAL: 0, TINY: 1, SHORT: 2, LONG: 3, FLOAT: 4, DOUBLE: 5, NULL: 6, TIMESTAMP: 7, LONGLONG: 8, INT24: 9,
  DATE: 10, TIME: 11, DATETIME: 12, YEAR: 13, NEWDATE: 14, VARCHAR: 15, BIT: 16, TIMESTAMP2: 17, DATETIME2: 18, TIME2: 19,
  JSON: 245, NEWDECIMAL: 246, ENUM: 247, SET: 248, TINY_BLOB: 249, MEDIUM_BLOB: 250, LONG_BLOB: 251, BLOB: 252,
  VAR_STRING: 253, STRING: 254, GEOMETRY: 255
} as const
const ZEROFILL_FLAG = 0x40
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

/** A FLOAT (single precision): the server prints it with 6 significant digits, which lose some of its values. */
export function isFloat32 (f: FieldMeta): boolean {
  return (f.columnType ?? f.type) === T.FLOAT
}

/** ZEROFILL numbers come padded with zeros (00042), which a JSON number cannot start with. */
export function zerofilled (f: FieldMeta): boolean {
  return (flagsOf(f) & ZEROFILL_FLAG) !== 0
}

/** A value that cannot be written as JSON: the row is a failed record, with this reason. */
export class ValueError extends Error {
  constructor (readonly code: string, message: string, readonly column: string) {
    super(message)
  }
}

const CONTROL = /[\u0000-\u001f]/

/**
 * A string as a JSON string literal; JSON.stringify only when something needs escaping. (Two
 * indexOf and a one-range class scan twice as fast as one regular expression for all three.)
 */
export function quoteJson (s: string): string {
  return s.indexOf('"') >= 0 || s.indexOf('\\') >= 0 || CONTROL.test(s) ? JSON.stringify(s) : '"' + s + '"'
}

/** A BIT value's bytes (big-endian) as its unsigned integer's decimal digits. */
export function bitText (b: Uint8Array): string {
  if (b.length <= 6) {
    let n = 0
    for (const byte of b) n = n * 256 + byte
    return String(n)
  }
  let n = 0n
  for (const byte of b) n = (n << 8n) | BigInt(byte)
  return n.toString()
}

/** Writes one non-NULL value, the bytes src[a, b), as JSON into the line. */
export type ByteWriter = (out: LineBuffer, src: Buffer, a: number, b: number) => void

export interface WriterOptions {
  time: TimeFormatter
  /** Called once per column the first time it holds a date ISO-8601 can't name (0000-00-00). */
  zeroDate?: (column: string) => void
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const HEX = '0123456789abcdef'
const SHORT_ESCAPES: Record<number, number> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72 } // \b \t \n \f \r

/** Copies bytes; a loop beats a native call for the short values most columns hold. */
export function copy (out: LineBuffer, src: Buffer, a: number, b: number): void {
  const buf = out.buf
  let pos = out.pos
  if (b - a < 48) {
    for (let i = a; i < b; i++) buf[pos++] = src[i]
  } else {
    buf.set(src.subarray(a, b), pos)
    pos += b - a
  }
  out.pos = pos
}

let viewOf: Buffer | undefined
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))

/**
 * Where the first byte JSON must escape (a control, " or \\) is in src[a, b), or b. Four bytes
 * at a time (bit tricks on a 32-bit word: a byte below 0x20, or equal to 0x22 or 0x5c, sets its
 * high bit), which is about three times faster than a byte loop on long text.
 */
function firstToEscape (src: Buffer, a: number, b: number): number {
  if (viewOf !== src) {
    viewOf = src
    view = new DataView(src.buffer, src.byteOffset, src.length)
  }
  let i = a
  for (; i + 4 <= b; i += 4) {
    const x = view.getUint32(i, true)
    const q = x ^ 0x22222222
    const s = x ^ 0x5c5c5c5c
    if (((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) !== 0) break
  }
  for (; i < b; i++) {
    const c = src[i]
    if (c < 0x20 || c === QUOTE || c === BACKSLASH) return i
  }
  return b
}

/**
 * UTF-8 bytes as a JSON string, escaped exactly as JSON.stringify escapes (\" \\ \b \t \n \f \r,
 * other controls as \u00xx); bytes of multi-byte characters are all >= 0x80 and pass as they are.
 */
export function writeJsonString (out: LineBuffer, src: Buffer, a: number, b: number): void {
  let i = firstToEscape(src, a, b)
  out.buf[out.pos++] = QUOTE
  copy(out, src, a, i)
  if (i < b) {
    const buf = out.buf
    let pos = out.pos
    for (; i < b; i++) {
      const c = src[i]
      if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) { buf[pos++] = c; continue }
      buf[pos++] = BACKSLASH
      const short = c < 0x20 ? SHORT_ESCAPES[c] : c
      if (short !== undefined) { buf[pos++] = short; continue }
      buf[pos++] = 0x75; buf[pos++] = 0x30; buf[pos++] = 0x30 // u00
      buf[pos++] = HEX.charCodeAt(c >> 4); buf[pos++] = HEX.charCodeAt(c & 15)
    }
    out.pos = pos
  }
  out.buf[out.pos++] = QUOTE
}

function writeQuotedAscii (out: LineBuffer, src: Buffer, a: number, b: number): void {
  out.buf[out.pos++] = QUOTE
  copy(out, src, a, b)
  out.buf[out.pos++] = QUOTE
}

const DIGIT0 = 0x30
const isDigit = (c: number): boolean => c >= DIGIT0 && c <= 0x39

/** Whether src[a, b) is a JSON number (the server writes floats so; this guards the assumption). */
function isJsonNumber (src: Buffer, a: number, b: number): boolean {
  let i = a
  if (src[i] === 0x2d) i++
  if (i >= b || !isDigit(src[i])) return false
  if (src[i] === DIGIT0 && i + 1 < b && isDigit(src[i + 1])) return false
  while (i < b && isDigit(src[i])) i++
  if (i < b && src[i] === 0x2e) {
    i++
    if (i >= b || !isDigit(src[i])) return false
    while (i < b && isDigit(src[i])) i++
  }
  if (i < b && (src[i] === 0x65 || src[i] === 0x45)) {
    i++
    if (i < b && (src[i] === 0x2b || src[i] === 0x2d)) i++
    if (i >= b || !isDigit(src[i])) return false
    while (i < b && isDigit(src[i])) i++
  }
  return i === b
}

/** Digits with ZEROFILL's leading zeros dropped (00042 → 42, 0000 → 0, 0001.50 → 1.50). */
function writeUnpadded (out: LineBuffer, src: Buffer, a: number, b: number): void {
  let i = a
  while (i < b - 1 && src[i] === DIGIT0 && src[i + 1] !== 0x2e) i++
  copy(out, src, i, b)
}

/** A date with a zero month or day ('0000-00-00', '2024-00-10'), which ISO-8601 cannot name. */
function isZeroDate (src: Buffer, a: number): boolean {
  return (src[a + 5] === DIGIT0 && src[a + 6] === DIGIT0) || (src[a + 8] === DIGIT0 && src[a + 9] === DIGIT0)
}

function writeAscii (out: LineBuffer, s: string): void {
  out.pos += out.buf.write(s, out.pos, 'latin1')
}

function writeUtf8 (out: LineBuffer, s: string): void {
  out.pos += out.buf.write(s, out.pos, 'utf8')
}

const ESCAPABLE = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]) // " \ / b f n r t
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)

/**
 * Text the server accepted as JSON is JSON, except for what MariaDB's parser lets through and
 * JSON does not: a number ending in a point (`1.`, `1.e5`) and any backslash escape (`\x`).
 * Those need a closer look only when the text has a backslash or a point after a digit.
 */
function laxJsonSuspect (v: Buffer): boolean {
  for (let i = v.indexOf(BACKSLASH); i >= 0; i = v.indexOf(BACKSLASH, i + 2)) {
    const c = v[i + 1]
    if (c === 0x75) {
      if (!(isHex(v[i + 2]) && isHex(v[i + 3]) && isHex(v[i + 4]) && isHex(v[i + 5]))) return true
    } else if (!ESCAPABLE.has(c)) return true
  }
  for (let i = v.indexOf(0x2e); i >= 0; i = v.indexOf(0x2e, i + 1)) {
    if (i > 0 && isDigit(v[i - 1]) && !isDigit(v[i + 1])) return true
  }
  return false
}

/**
 * A JSON column's text (or --content-column's), ready to sit inside an NDJSON line: as stored,
 * byte for byte, unless it spans lines (its line breaks, which valid JSON has only between
 * tokens, are dropped). `trusted`: the server checked it is JSON (a JSON column); otherwise it is
 * parsed to be sure. `object`: it must be a JSON object (it is to be _source). Throws ValueError.
 */
export function writeJsonText (out: LineBuffer, src: Buffer, a: number, b: number, column: string, trusted: boolean, object = false): void {
  const v = src.subarray(a, b)
  if (!trusted || laxJsonSuspect(v)) {
    try {
      JSON.parse(v.toString('utf8'))
    } catch (err) {
      throw new ValueError('ROW_INVALID_JSON', `column ${column} does not hold valid JSON (${(err as Error).message})`, column)
    }
  }
  if (object) {
    let i = 0
    while (i < v.length && (v[i] === 0x20 || v[i] === 0x09 || v[i] === 0x0a || v[i] === 0x0d)) i++
    if (v[i] !== 0x7b) throw new ValueError('ROW_CONTENT_NOT_OBJECT', `content column ${column} holds JSON that is not an object, so it cannot be _source`, column)
  }
  if (v.indexOf(0x0a) < 0 && v.indexOf(0x0d) < 0) {
    copy(out, src, a, b)
    return
  }
  const buf = out.buf
  let pos = out.pos
  for (let i = a; i < b; i++) {
    const c = src[i]
    if (c !== 0x0a && c !== 0x0d) buf[pos++] = c
  }
  out.pos = pos
}

/** Bytes a value of each kind may grow to, per byte it has (the line is reserved before it is written). */
export const GROWTH = 6

/** The writer for one column's values; each value's JSON form is in the man page. */
export function byteWriter (kind: ColumnKind, column: string, opts: WriterOptions & { zerofill?: boolean, float32?: boolean }): ByteWriter {
  const zero = (out: LineBuffer, src: Buffer, a: number, b: number): void => {
    opts.zeroDate?.(column)
    writeQuotedAscii(out, src, a, b)
  }
  const utc = opts.time.utc
  switch (kind) {
    case 'int': case 'bigint': case 'decimal': case 'year':
      return opts.zerofill === true || kind === 'year' ? writeUnpadded : copy
    case 'float':
      if (opts.float32 === true) return (out, src, a, b) => writeAscii(out, float32Text(Number(src.toString('latin1', a, b))))
      return (out, src, a, b) => {
        if (isJsonNumber(src, a, b)) copy(out, src, a, b)
        else writeAscii(out, String(Number(src.toString('latin1', a, b))))
      }
    case 'bit': return (out, src, a, b) => writeAscii(out, bitText(src.subarray(a, b)))
    case 'date': case 'time': return writeQuotedAscii
    case 'datetime': case 'timestamp': {
      if (utc) {
        return (out, src, a, b) => {
          if (isZeroDate(src, a)) return zero(out, src, a, b)
          const buf = out.buf
          buf[out.pos++] = QUOTE
          const at = out.pos
          copy(out, src, a, b)
          buf[at + 10] = 0x54 // T
          buf[out.pos++] = 0x5a // Z
          buf[out.pos++] = QUOTE
        }
      }
      const format = kind === 'datetime' ? opts.time.datetime : opts.time.timestamp
      return (out, src, a, b) => {
        if (isZeroDate(src, a)) return zero(out, src, a, b)
        out.buf[out.pos++] = QUOTE
        writeAscii(out, format(src.toString('latin1', a, b)) as string)
        out.buf[out.pos++] = QUOTE
      }
    }
    case 'json': return (out, src, a, b) => writeJsonText(out, src, a, b, column, true)
    case 'text': case 'enum': case 'set': return writeJsonString
    case 'null': return (out) => writeAscii(out, 'null')
    case 'geometry':
      throw new EspipeError('ER_GEOMETRY_COLUMN', `column ${column} is a geometry: select ST_AsGeoJSON(${column}) (or ST_AsText) in the query to read it`)
    case 'binary': case 'other':
      return (out, src, a, b) => {
        out.buf[out.pos++] = QUOTE
        writeAscii(out, src.toString('base64', a, b))
        out.buf[out.pos++] = QUOTE
      }
  }
}

/** A non-NULL value, as bytes, as the text of an id part (binary: see binaryIdText); `cursor`: binary as base64 always, for the checkpoint. */
export function partText (kind: ColumnKind, src: Buffer, a: number, b: number, cursor = false): string {
  switch (kind) {
    case 'bit': return bitText(src.subarray(a, b))
    case 'binary': case 'other': {
      return cursor ? src.toString('base64', a, b) : binaryIdText(src.subarray(a, b))
    }
    case 'text': case 'enum': case 'set': case 'json': return src.toString('utf8', a, b)
    default: return src.toString('latin1', a, b)
  }
}

/** A value as mysql2 parses it (a probe, MIN/MAX) as a cursor text, as partText would give it. */
export function cursorText (kind: ColumnKind, v: unknown): string {
  if (Buffer.isBuffer(v)) return partText(kind, v, 0, v.length, true)
  return String(v)
}

/** Writes a non-NULL value as an id part would be written by itself (a one-column key). */
export function idWriter (kind: ColumnKind): ByteWriter {
  switch (kind) {
    case 'int': case 'bigint': case 'decimal': case 'date': case 'time': case 'datetime': case 'timestamp': case 'year':
      return writeQuotedAscii
    case 'text': case 'enum': case 'set': return writeJsonString
    default:
      return (out, src, a, b) => writeUtf8(out, quoteJson(partText(kind, src, a, b)))
  }
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

/** A value, as bytes, as plain JSON for a dead-letter entry: text as a string, binary as base64, the rest as the server's text. */
export function plainValue (kind: ColumnKind, src: Buffer, a: number, b: number): string {
  return kind === 'binary' || kind === 'other' ? src.toString('base64', a, b) : partText(kind, src, a, b)
}
