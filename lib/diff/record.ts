import { isUtf8 } from 'node:buffer'
import { jsonKind } from '../core/record.js'
import type { Head } from './scan.js'
import { LineScanner, descend, head } from './scan.js'

/** Where rec-diff finds a record's identity and content (the options that say so). */
export interface RecordShape {
  /** The id's path (default `_id`): a non-empty string, or a number as written. */
  idField: string
  /** The content's path (default `_source`); `.` is the whole line. */
  contentField: string
  /** Match by (`_index`, id) instead of the id alone. */
  byIndex: boolean
}

export interface RecordError { code: string, message: string }

const splitPath = (path: string): Head[] => path.replace(/^\./, '').split('.').map(head)

/** Lone surrogates (`"\ud800"`) have no UTF-8: such an id is keyed by its JSON text instead. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
/** Starts a key made of an id's JSON text: never the first byte of UTF-8. */
const JSON_KEY_MARK = 0xff

/**
 * Reads one line as a record, without parsing it: checks it is one JSON object (its reader
 * checked it is UTF-8, a whole chunk at a time), and finds its key (the id's bytes, after `_index`'s with --by-index) and its content's bytes.
 * The results stay in the fields until the next line.
 */
export class RecordReader {
  /** The key's bytes are key[0, keyLength). */
  key = Buffer.allocUnsafe(256)
  keyLength = 0
  /** Where the content is in the line's buffer; -1 when the record has none. */
  contentStart = -1
  contentEnd = -1
  private readonly scanner: LineScanner
  private readonly idRest: Head[]
  private readonly contentRest: Head[]
  private readonly wholeLine: boolean
  private readonly shape: RecordShape

  constructor (shape: RecordShape) {
    this.shape = shape
    const id = splitPath(shape.idField)
    this.wholeLine = shape.contentField === '.' || shape.contentField === ''
    const content = this.wholeLine ? [] : splitPath(shape.contentField)
    const heads = [id[0], this.wholeLine ? head('') : content[0]]
    if (shape.byIndex) heads.push(head('_index'))
    this.scanner = new LineScanner(heads)
    this.idRest = id.slice(1)
    this.contentRest = content.slice(1)
  }

  /** Reads buf[start, end), one line without its line end; an error says why it is no record. */
  read (buf: Buffer, start: number, end: number, line: number): RecordError | undefined {
    const sc = this.scanner
    if (!sc.scan(buf, start, end)) return notJson(buf, start, end, line)
    if (this.wholeLine) {
      this.contentStart = sc.objectStart
      this.contentEnd = sc.objectEnd
    } else if (this.contentRest.length === 0) {
      this.contentStart = sc.starts[1]
      this.contentEnd = sc.ends[1]
    } else {
      const content = descend(buf, sc.starts[1] < 0 ? undefined : [sc.starts[1], sc.ends[1]], this.contentRest)
      this.contentStart = content?.[0] ?? -1
      this.contentEnd = content?.[1] ?? -1
    }
    let at = 0
    if (this.shape.byIndex) {
      const is = sc.starts[2]
      const ie = sc.ends[2]
      if (is < 0 || buf[is] !== 0x22 || ie - is === 2) {
        return { code: 'RECORD_MISSING_INDEX', message: is < 0 ? `line ${line} has no _index (--by-index)` : `line ${line}: _index is ${kindAt(buf, is, ie)}, not an index name (--by-index)` }
      }
      at = this.keyPart(buf, is, ie, 4, sc.escaped)
      this.key.writeUInt32BE(at - 4, 0)
    }
    let is = sc.starts[0]
    let ie = sc.ends[0]
    if (this.idRest.length > 0) {
      const id = descend(buf, is < 0 ? undefined : [is, ie], this.idRest)
      is = id?.[0] ?? -1
      ie = id?.[1] ?? -1
    }
    if (is < 0) return { code: 'RECORD_MISSING_ID', message: `line ${line} has no id at '${this.shape.idField}'` }
    const c = buf[is]
    if (c === 0x22) {
      if (ie - is === 2) return { code: 'RECORD_MISSING_ID', message: `line ${line}: the id at '${this.shape.idField}' is empty` }
    } else if (!(c === 0x2d || (c >= 0x30 && c <= 0x39))) {
      return { code: 'RECORD_BAD_ID', message: `line ${line}: the id at '${this.shape.idField}' is ${kindAt(buf, is, ie)}, not a string or a number` }
    }
    this.keyLength = this.keyPart(buf, is, ie, at, sc.escaped)
    return undefined
  }

  /** Writes the key bytes of a string or number token at key[at…]; returns where they end. */
  private keyPart (buf: Buffer, start: number, end: number, at: number, escaped: boolean): number {
    let from = start
    let to = end
    if (buf[start] === 0x22) {
      from++
      to--
      if (escaped) {
        const slash = buf.indexOf(0x5c, from)
        if (slash >= 0 && slash < to) return this.decodedPart(buf.toString('utf8', start, end), at)
      }
    }
    this.room(at + to - from)
    // Ids are short: a loop beats Buffer.copy's set-up.
    const key = this.key
    for (let i = from; i < to; i++) key[at++] = buf[i]
    return at
  }

  private decodedPart (token: string, at: number): number {
    const text = JSON.parse(token) as string
    const bytes = LONE_SURROGATE.test(text) ? Buffer.concat([Buffer.of(JSON_KEY_MARK), Buffer.from(JSON.stringify(text))]) : Buffer.from(text, 'utf8')
    this.room(at + bytes.length)
    bytes.copy(this.key, at)
    return at + bytes.length
  }

  private room (n: number): void {
    if (n <= this.key.length) return
    const grown = Buffer.allocUnsafe(Math.max(n, this.key.length * 2))
    this.key.copy(grown)
    this.key = grown
  }
}

function kindAt (buf: Buffer, start: number, end: number): string {
  return jsonKind(JSON.parse(buf.toString('utf8', start, end)))
}

/** Why a line the scan refused is no record, in JSON.parse's words (as every espipe reader says it). */
function notJson (buf: Buffer, start: number, end: number, line: number): RecordError {
  if (!isUtf8(buf.subarray(start, end))) return { code: 'NDJSON_INVALID_UTF8', message: `line ${line} is not UTF-8` }
  const text = buf.toString('utf8', start, end)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    return { code: 'NDJSON_INVALID_JSON', message: `line ${line} is not JSON: ${(err as Error).message}` }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { code: 'NDJSON_NOT_OBJECT', message: `line ${line} is JSON but not an object: ${jsonKind(value)}` }
  // The scan refuses only what JSON.parse refuses (test/diff/scan.test.ts): reaching here is a bug.
  return { code: 'EDIFF_SCAN', message: `line ${line} is JSON that rec-diff's scan could not read; please report it` }
}

/** The key's id part as text, for messages. */
export function keyText (key: Buffer, byIndex: boolean): string {
  if (!byIndex) return idText(key)
  const n = key.readUInt32BE(0)
  return `${JSON.stringify(key.toString('utf8', 4, 4 + n))}/${idText(key.subarray(4 + n))}`
}

function idText (bytes: Buffer): string {
  return bytes[0] === JSON_KEY_MARK ? bytes.toString('utf8', 1) : JSON.stringify(bytes.toString('utf8'))
}
