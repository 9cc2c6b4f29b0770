import { UsageError } from '../core/errors.js'
import type { SortEntry } from '../core/id-sort.js'
import { keysMatch, stringifyExact } from '../core/json.js'
import { ParsedLine, rawRecordId, recordId } from '../core/ndjson.js'
import type { RawObject } from '../core/raw-json.js'
import { rawMemberRange, scanObject } from '../core/raw-json.js'
import type { JsonObject, PathGetter } from '../core/record.js'
import { compilePath, isJsonObject, jsonKind } from '../core/record.js'
import { RecordFields } from '../core/record-fields.js'
import type { RecordPosition } from '../core/position.js'
import type { RecordOp } from '../core/operation.js'
import { RESERVED_KEYS, isOpProblem, recordOp, withoutReserved } from '../core/operation.js'
import { binaryIdBytes } from './binary-id.js'
import type { ColumnInfo } from './columns.js'
import { integerIdProblem, isBinaryColumn, isIntegerColumn } from './columns.js'
import type { SqlValue } from './column-values.js'
import { Inexact, columnValue } from './column-values.js'
import type { TimeParser } from './time.js'
import { timeParser } from './time.js'
import { checkIdentifier } from './identifiers.js'
import type { TableInfo } from './table.js'
import type { TablePlan } from './schema-mapping.js'
import { SchemaRows } from './schema-rows.js'
import { MYSQL_WRITE_DEFAULTS } from './write-defaults.js'

export type { SqlValue } from './column-values.js'

/** One record ready for the table. */
export interface Row {
  id: string
  /** The id as the key column compares it (case-folded for a _ci collation): routing and sorting use it. */
  key: string
  values: SqlValue[]
  bytes: number
  line?: number
  file?: string
  /** The original line, kept instead of the parsed record to dead-letter it if it fails. */
  text?: string
  /** Where the content's JSON text is in `text`, when it was stored as it came. */
  range?: [number, number]
  record?: unknown
  /** Its position in the read and its ticket with the checkpoint's writer, when one acknowledges records. */
  pos?: RecordPosition
  ticket?: number
  /** What the record asked for (its `_op`); undefined: what --mode writes. A delete's values are its id alone. */
  op?: RecordOp
  /** An update or upsert into mapped columns: which of them (after the id) its partial document gives. */
  present?: boolean[]
}

/** A record that cannot become a row, with why. */
export interface RecordProblem {
  code: string
  message: string
  id?: string
}

export function isProblem (v: Row | RecordProblem): v is RecordProblem {
  return 'code' in v
}

function isProblemValue (v: SqlValue | RecordProblem): v is RecordProblem {
  return v !== null && typeof v === 'object' && !Buffer.isBuffer(v)
}

/** Column list and where each value comes from, checked before connecting. */
export interface Layout {
  columns: string[]
  idColumn: string
  /** [column, path in the content] for --columns/--map; empty: the content goes whole into one JSON column. */
  mapped: Array<readonly [string, string]>
  /** How many of `mapped`, first, are --columns: filled from the member of that very name (a dot in it is no path). */
  named?: number
}

export interface LayoutOptions {
  idColumn?: string
  contentColumn?: string
  columns?: readonly string[]
  map?: ReadonlyArray<readonly [string, string]>
  create?: boolean
}

/** The columns a write fills, from the options alone (refused before any connection). */
export function rowLayout (opts: LayoutOptions): Layout {
  const idColumn = checkIdentifier(opts.idColumn ?? MYSQL_WRITE_DEFAULTS.idColumn, 'column')
  const mapped: Array<readonly [string, string]> = [
    ...(opts.columns ?? []).map((c) => [c, c] as const),
    ...(opts.map ?? [])
  ]
  if (mapped.length === 0) {
    const contentColumn = checkIdentifier(opts.contentColumn ?? MYSQL_WRITE_DEFAULTS.contentColumn, 'column')
    if (contentColumn.toLowerCase() === idColumn.toLowerCase()) throw new UsageError('--id-column and --content-column must differ')
    return { idColumn, columns: [idColumn, contentColumn], mapped }
  }
  if (opts.create === true) throw new UsageError('--create makes the (id, content) table, or with --schema the typed table of a mapping; create the table for --columns/--map yourself')
  const seen = new Set([idColumn.toLowerCase()])
  for (const [col] of mapped) {
    checkIdentifier(col, 'column')
    if (seen.has(col.toLowerCase())) throw new UsageError(`column ${col} is given twice (the id column is filled from --id-field)`)
    seen.add(col.toLowerCase())
  }
  return { idColumn, columns: [idColumn, ...mapped.map(([c]) => c)], mapped, named: opts.columns?.length ?? 0 }
}

/** An upper bound of a value's bytes on the wire; exact (and slower) only for large strings. */
export function valueBytes (v: unknown): number {
  if (Buffer.isBuffer(v)) return v.length * 2 + 9
  if (typeof v !== 'string') return 9
  return v.length <= 21_000 ? v.length * 3 + 9 : Buffer.byteLength(v) + 9
}

export interface RowBuilderOptions {
  layout: Layout
  table: TableInfo
  /** Where the id is (default `_id`). */
  idField?: string
  /** Where the content is (default `_source`; `.` is the whole record). */
  contentField?: string
  /** Ids the key column would merge pass (--allow-id-merge); otherwise they fail. */
  allowIdMerge?: boolean
  /** Most bytes of one row: a larger one can't be sent (max_allowed_packet). */
  maxBytes: number
  /** How DATETIME and TIMESTAMP values without an offset are read (--timezone; default UTC). */
  time?: TimeParser
  /** The table was made from this mapping (--schema): the layout's columns are its fields, checked as SchemaRows does. */
  schema?: TablePlan
}

/**
 * Turns records into rows. The content goes into its JSON column as the text it had in the
 * input line (a scanned line's top-level member is cut, not parsed); mapped columns get each
 * value as written, refused when the column would round it; ids are refused that an integer key
 * would merge. Returns a RecordProblem for a record that can't be written.
 */
export class RowBuilder {
  private readonly layout: Layout
  private readonly table: TableInfo
  private readonly maxBytes: number
  private readonly fields: RecordFields
  /** A top-level content field that can be cut from the line as it came (see rawMemberRange). */
  private readonly rawKey: string | undefined
  /** A top-level id that, with rawKey, a scanned line (ParsedLine.raw) gives without a parse. */
  private readonly rawIdKey: string | undefined
  /** `raw`: a JSON column filled from a member of the content by its name, which gets that member's text as it came. */
  private readonly mappedColumns: Array<{ get: PathGetter, col: ColumnInfo, raw?: string }>
  private readonly anyRaw: boolean
  private readonly checkId: boolean
  private readonly binaryId: boolean
  private readonly time: TimeParser
  private readonly schema: SchemaRows | undefined

  constructor (o: RowBuilderOptions) {
    this.layout = o.layout
    this.table = o.table
    this.maxBytes = o.maxBytes
    this.fields = new RecordFields(o.idField, o.contentField)
    this.rawKey = o.layout.mapped.length === 0 ? this.fields.contentKey : undefined
    this.rawIdKey = this.rawKey !== undefined ? this.fields.idKey : undefined
    this.mappedColumns = o.layout.mapped.map(([col, path], i) => {
      const info = o.table.columns.get(col.toLowerCase()) as ColumnInfo
      const named = i < (o.layout.named ?? 0)
      return { get: named ? (obj) => obj[path] : compilePath(path), col: info, raw: named && info.kind === 'json' && this.fields.contentKey !== undefined ? path : undefined }
    })
    this.anyRaw = this.mappedColumns.some((m) => m.raw !== undefined)
    this.checkId = isIntegerColumn(o.table.idColumn) && o.allowIdMerge !== true
    this.binaryId = isBinaryColumn(o.table.idColumn)
    this.time = o.time ?? timeParser()
    this.schema = o.schema === undefined ? undefined : new SchemaRows(o.schema, o.schema.columns.map((c) => o.table.columns.get(c.name.toLowerCase()) as ColumnInfo), this.time)
  }

  /** The id as its column takes it: in a binary column, the bytes mysql-read's id stands for (binaryIdText). */
  private idValue (id: string): SqlValue | RecordProblem {
    if (!this.binaryId) return id
    const bytes = binaryIdBytes(id)
    return Buffer.isBuffer(bytes) ? bytes : { code: 'RECORD_INEXACT_ID', message: bytes.problem, id }
  }

  /** A record (a parsed line, or an object given in code) → its row, or why it can't be one. */
  build (chunk: unknown): Row | RecordProblem {
    const parsed = chunk instanceof ParsedLine ? chunk : undefined
    // A scanned line is cut, not parsed (only a failing one is, for its dead-letter entry).
    const raw = this.rawIdKey === undefined ? undefined : parsed?.raw
    const value = raw !== undefined ? undefined : parsed?.value ?? chunk
    if (raw === undefined && !isJsonObject(value)) return { code: 'RECORD_NOT_OBJECT', message: 'record is not a JSON object' }
    const id = raw === undefined ? recordId(parsed ?? value as JsonObject, this.fields.getId) : rawRecordId(raw, this.rawIdKey as string)
    const op = recordOp(raw, raw === undefined ? value as JsonObject : undefined)
    if (isOpProblem(op)) return { code: op.code, message: op.message, id }
    if (id === undefined) return { code: 'RECORD_MISSING_ID', message: `record has no id at '${this.fields.idPath}'` }
    if (this.checkId) {
      const problem = integerIdProblem(id, this.table.idColumn)
      if (problem !== undefined) return { code: 'RECORD_INEXACT_ID', message: problem, id }
    }
    const idValue = this.idValue(id)
    if (isProblemValue(idValue)) return idValue
    // A delete needs the id alone.
    if (op === 'delete') return { id, key: this.table.keyOf(id), values: [idValue], bytes: valueBytes(idValue), line: parsed?.line, file: parsed?.file, text: parsed?.text, record: parsed === undefined ? value : undefined, op }
    // An update or upsert is merged into what the row holds: its content must be a document.
    const partial = op === 'update' || op === 'upsert'
    let values: SqlValue[]
    let range: [number, number] | undefined
    let present: boolean[] | undefined
    if (raw !== undefined) {
      // The scan found the line's keys each once: its content's text is the record's content.
      range = this.rawKey === '' ? [0, raw.text.length] : raw.member(this.rawKey as string)
      if (range === undefined) return { code: 'RECORD_MISSING_CONTENT', message: `record has no content at '${this.fields.contentPath}'`, id }
      if (partial && raw.text.charCodeAt(range[0]) !== 0x7b /* { */) return { code: 'RECORD_CONTENT_NOT_OBJECT', message: `content at '${this.fields.contentPath}' is not an object, so there is nothing to merge (_op ${op})`, id }
      // The whole record is the content: its position and operation are not part of it.
      const content = this.rawKey === '' ? raw.withoutAll(RESERVED_KEYS) : raw.text.slice(range[0], range[1])
      if (content.length !== range[1] - range[0]) range = undefined
      values = [idValue, content]
    } else {
      const made = this.values(parsed, value as JsonObject, partial)
      if ('code' in made) return { ...made, id }
      if (partial && this.layout.mapped.length === 0 && !(typeof made.values[0] === 'string' && made.values[0].startsWith('{'))) {
        return { code: 'RECORD_CONTENT_NOT_OBJECT', message: `content at '${this.fields.contentPath}' is not an object, so there is nothing to merge (_op ${op})`, id }
      }
      values = made.values
      range = made.range
      present = made.present
      values.unshift(idValue)
    }
    let bytes = 0
    for (const v of values) bytes += valueBytes(v)
    if (bytes > this.maxBytes) {
      return { code: 'ER_NET_PACKET_TOO_LARGE', message: `record is ${bytes} bytes, more than fits in the server's max_allowed_packet (${this.table.maxPacket} bytes); raise max_allowed_packet on the server to load it`, id }
    }
    return { id, key: this.table.keyOf(id), values, bytes, line: parsed?.line, file: parsed?.file, text: parsed?.text, record: parsed === undefined ? value : undefined, range, op, present }
  }

  /** What the id sorter holds of a row: its line, and where its content is when it was cut from it. */
  sortEntry (row: Row): SortEntry {
    // A record with an operation is built again from its line (only a plain write is rebuilt from its range).
    return { key: row.key, line: row.line, file: row.file, text: row.text ?? stringifyExact(row.record), id: row.id, range: row.text === undefined || row.op !== undefined ? undefined : row.range }
  }

  /** The row of an entry back from the id sorter (built once already, so it builds again). */
  fromSorted (e: SortEntry): Row | RecordProblem {
    if (e.range !== undefined && e.id !== undefined) {
      // Checked on the way in: the row is the id and the content's text, no parse needed.
      const idValue = this.idValue(e.id)
      if (isProblemValue(idValue)) return idValue
      const values: SqlValue[] = [idValue, e.text.slice(e.range[0], e.range[1])]
      return { id: e.id, key: e.key, values, bytes: valueBytes(values[0]) + valueBytes(values[1]), line: e.line, file: e.file, text: e.text }
    }
    const row = this.build(new ParsedLine(JSON.parse(e.text) as JsonObject, e.text, e.line ?? 0, e.file))
    return isProblem(row) ? row : { ...row, line: e.line }
  }

  /** The row's values after the id, or why the record can't be written. */
  private values (parsed: ParsedLine | undefined, value: JsonObject, partial: boolean): { values: SqlValue[], range?: [number, number], present?: boolean[] } | RecordProblem {
    const exact = (): JsonObject => parsed?.exact ?? value
    if (this.layout.mapped.length === 0) {
      const content = this.fields.getContent(value)
      if (content === undefined) return { code: 'RECORD_MISSING_CONTENT', message: `record has no content at '${this.fields.contentPath}'` }
      // The content's text as it came, unless a key in the line is there twice: the table then
      // gets the last one's value written once (MariaDB's JSON functions would read the first).
      const range = this.rawKey === undefined || parsed === undefined
        ? undefined
        : this.rawKey === '' ? [0, parsed.text.length] as [number, number] : rawMemberRange(parsed.text, value, this.rawKey)
      if (range !== undefined && keysMatch((parsed as ParsedLine).text, value)) {
        const text = (parsed as ParsedLine).text.slice(range[0], range[1])
        if (this.rawKey !== '') return { values: [text], range }
        // The whole record is the content: its position and operation are not part of it.
        const cut = withoutReserved(text)
        return cut.length === text.length ? { values: [text], range } : { values: [cut] }
      }
      const whole = stringifyExact(this.fields.getContent(exact()))
      return { values: [this.rawKey === '' ? withoutReserved(whole) : whole] }
    }
    const content = this.fields.getContent(exact())
    if (!isJsonObject(content)) return { code: 'RECORD_CONTENT_NOT_OBJECT', message: `content at '${this.fields.contentPath}' is ${jsonKind(content)}, not an object, so columns can't be taken from it` }
    if (this.schema !== undefined) {
      const made = this.schema.values(content)
      if (made instanceof Inexact) return { code: made.code, message: made.message }
      return { values: made.values, present: partial ? made.present : undefined }
    }
    const values: SqlValue[] = []
    // A partial document sets the columns it gives and leaves the others as they are.
    const present: boolean[] | undefined = partial ? [] : undefined
    const raw = this.anyRaw && parsed !== undefined ? this.rawContent(parsed) : undefined
    for (const { get, col, raw: key } of this.mappedColumns) {
      const got = get(content)
      const range = key === undefined ? undefined : raw?.member(key)
      if (range !== undefined) {
        // A JSON column gets the member's JSON text as the line has it (spacing, escapes, digits), as mysql-read wrote it.
        values.push((raw as RawObject).text.slice(range[0], range[1]))
        present?.push(true)
        continue
      }
      const v = columnValue(got, col, this.time)
      if (v instanceof Inexact) return { code: v.code, message: v.message }
      values.push(v)
      present?.push(got !== undefined)
    }
    return { values, present }
  }

  /** The content of a line as a RawObject, when its text says exactly what its parse does (see scanObject). */
  private rawContent (parsed: ParsedLine): RawObject | undefined {
    const key = this.fields.contentKey as string
    if (key === '') return parsed.raw ?? scanObject(parsed.text)
    const range = (parsed.raw ?? scanObject(parsed.text))?.member(key)
    return range === undefined ? undefined : scanObject(parsed.text.slice(range[0], range[1]))
  }
}
