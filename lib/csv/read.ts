import type { Readable } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { createContext, failSource } from '../core/context.js'
import { EspipeError } from '../core/errors.js'
import { concatInputs } from '../core/input.js'
import { failLongLine } from '../core/line-limit.js'
import { LosslessNumber, parseExact, stringifyExact } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'
import type { CsvEncoding } from './dialect.js'
import type { CsvParseOptions, RowMapper } from './parse.js'
import { CsvParser } from './parse.js'

export type { CsvEncoding }

export interface CsvReadOptions {
  /** Input files; none or `-` is stdin. */
  files?: string[]
  idColumn?: string
  contentColumn?: string
  delimiter?: string
  quote?: string
  /** The first line is data, not a header: `columns` must then name the columns. */
  noHeader?: boolean
  /** Column names; with a header line they replace the header's names. */
  columns?: string[]
  limit?: number
  skip?: number
  encoding?: CsvEncoding
  /** Numbers, booleans and null instead of strings in `_source` (ids stay strings). */
  cast?: boolean
  /**
   * Emit NDJSON bytes (Buffers, each a run of whole lines) instead of objects: the lines
   * stringifyExact would give for the records, built without the intermediate objects.
   */
  serialize?: boolean
  context?: StageContext
}

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/

/**
 * `--cast`: true, false, null and numbers become JSON values. A number keeps its text: one
 * that prints back the same is a JS number, any other (1.0, 1e3, -0, 9007199254740993) a
 * LosslessNumber written as it was. `007` is not a JSON number and stays a string.
 */
export function castValue (v: string): unknown {
  if (v === 'true') return true
  if (v === 'false') return false
  if (v === 'null' || v === '') return null
  if (NUMBER.test(v)) return String(Number(v)) === v ? Number(v) : new LosslessNumber(v)
  return v
}

/** A cell's value as JSON text. */
function cellJson (v: unknown): string {
  return v instanceof LosslessNumber ? v.value : JSON.stringify(v)
}

function parseContent (text: string | undefined): JsonObject | undefined {
  if (text === undefined) return undefined
  const t = text.trimStart()
  if (!t.startsWith('{')) return undefined
  try {
    // Exact: the cell's numbers keep their digits (its text may span lines, so it is parsed
    // and written again, compact, rather than passed through).
    const v: unknown = parseExact(t)
    return isJsonObject(v) ? v : undefined
  } catch {
    return undefined
  }
}

/**
 * Header names as keys: a repeated name gets `_2`, `_3`…, an empty one `column_N` (its
 * position), so no cell is lost to a name another cell has. Returns what was renamed.
 */
export function uniqueColumns (names: readonly string[]): { columns: string[], renamed: string[] } {
  const taken = new Set(names.filter((n) => n !== ''))
  const seen = new Set<string>()
  const renamed: string[] = []
  const columns = names.map((name, i) => {
    if (name !== '' && !seen.has(name)) { seen.add(name); return name }
    const base = name === '' ? `column_${i + 1}` : name
    let k = name === '' ? 1 : 2
    let fresh = name === '' ? base : `${base}_${k}`
    while (taken.has(fresh) || seen.has(fresh)) fresh = `${base}_${++k}`
    seen.add(fresh)
    renamed.push(`column ${i + 1} ${name === '' ? '(empty)' : `'${name}'`} is ${fresh}`)
    return fresh
  })
  return { columns, renamed }
}

/** Line breaks in CSV text: CRLF, LF and a lone CR each end one physical line. */
function lineBreaks (text: string, from = 0, to = text.length): number {
  let n = 0
  for (let i = text.indexOf('\r', from); i >= 0 && i < to; i = text.indexOf('\r', i + 1)) n++
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) if (i === 0 || text.charCodeAt(i - 1) !== 0x0d) n++
  return n
}

/** Where the quote that is still open at the end of `raw` was opened. */
function openQuoteAt (raw: string, quote: string): number {
  let open = -1
  let inside = false
  for (let i = raw.indexOf(quote); i >= 0; i = raw.indexOf(quote, i + 1)) {
    inside = !inside
    if (inside) open = i
  }
  return inside ? open : raw.length
}

/** The physical line each record of one file starts on, for messages and dead-letter entries. */
interface LineCounter { next: number }

/**
 * Turns one file's CSV rows into records `{"_id", "_source"}`. The header (unless --no-header)
 * names the columns; a row of the wrong width or with no id is a record error and the rest
 * flows on.
 */
function rowsToRecords (name: string, o: Required<Pick<CsvReadOptions, 'idColumn' | 'contentColumn' | 'cast' | 'noHeader' | 'serialize'>> & { columns?: string[], encoding: CsvEncoding }, ctx: StageContext, quota: { skip: number, limit: number, onLimit: () => void }, lines: LineCounter): RowMapper {
  const file = name === '-' ? undefined : name
  let columns = o.noHeader ? o.columns : undefined
  let idIndex = columns?.indexOf(o.idColumn) ?? -1
  let contentIndex = columns?.indexOf(o.contentColumn) ?? -1
  // For `serialize`: each column's `"name":` prefix, escaped once per file.
  let keyPrefixes: string[] | undefined
  const setColumns = (given: string[], line: number): void => {
    const { columns: cols, renamed } = uniqueColumns(given)
    if (renamed.length > 0) ctx.logger.warn(`${file ?? 'stdin'} line ${line}: column names repeated or empty, so renamed: ${renamed.join(', ')}`, { file, line })
    columns = cols
    keyPrefixes = o.serialize ? cols.map((c) => JSON.stringify(c) + ':') : undefined
    idIndex = cols.indexOf(o.idColumn)
    contentIndex = cols.indexOf(o.contentColumn)
    if (idIndex < 0) {
      throw new EspipeError('CSV_MISSING_ID_COLUMN', `${file ?? 'stdin'} line ${line} has no column '${o.idColumn}' (columns: ${cols.join(', ')}); name the id column with --id-column`, { context: { file, line, column: o.idColumn } })
    }
  }
  if (columns !== undefined) setColumns(columns, 1)
  // Physical line numbers are counted from the raw text of each record (CRLF, LF or CR ends a
  // line, inside quotes too).
  return (record, raw) => {
    const line = lines.next
    lines.next += lineBreaks(raw)
    // Blank lines reach us as one empty field: skipped, but counted as lines.
    if (record.length === 1 && record[0] === '' && raw.trim() === '') return undefined
    if (columns === undefined) {
      const header = record.map((c) => c.trim())
      setColumns(o.columns ?? header, line)
      return undefined
    }
    if (quota.limit <= 0) return undefined
    ctx.stats.add('read')
    const fail = (code: string, message: string): void => {
      ctx.failures.fail({ record: raw.replace(/\r?\n$|\r$/, ''), line, code, message: `${file ?? 'stdin'} line ${line} ${message}`, context: { file } })
    }
    if (record.length !== columns.length) {
      fail('CSV_RECORD_INCONSISTENT_FIELDS_LENGTH', `has ${record.length} fields, the header has ${columns.length}`)
      return undefined
    }
    if (o.encoding === 'utf8' && raw.includes('\uFFFD')) {
      fail('CSV_INVALID_ENCODING', 'is not valid UTF-8 (if the file is Latin-1, use --encoding latin1)')
      return undefined
    }
    const id = record[idIndex]
    if (id === undefined || id === '') {
      fail('CSV_MISSING_ID', `has an empty '${o.idColumn}'`)
      return undefined
    }
    if (quota.skip > 0) { quota.skip--; return undefined }
    let source = contentIndex >= 0 ? parseContent(record[contentIndex]) : undefined
    if (source === undefined && keyPrefixes !== undefined) {
      let line = '{"_id":' + JSON.stringify(id) + ',"_source":{'
      for (let i = 0; i < keyPrefixes.length; i++) {
        line += (i === 0 ? '' : ',') + keyPrefixes[i] + (o.cast ? cellJson(castValue(record[i])) : JSON.stringify(record[i]))
      }
      quota.limit--
      ctx.stats.add('emitted')
      if (quota.limit <= 0) quota.onLimit()
      return line + '}}'
    }
    if (source === undefined) {
      const row: JsonObject = {}
      for (let i = 0; i < columns.length; i++) row[columns[i]] = o.cast ? castValue(record[i]) : record[i]
      source = row
    }
    quota.limit--
    ctx.stats.add('emitted')
    if (quota.limit <= 0) quota.onLimit()
    return o.serialize ? stringifyExact({ _id: id, _source: source }) : { _id: id, _source: source }
  }
}

/** A readable stream of records from one or more CSV files (or stdin), one file after another. */
export function csvRead (opts: CsvReadOptions = {}): Readable {
  const ctx = opts.context ?? createContext({ tool: 'csv-read', counters: ['read', 'emitted'] })
  const encoding = opts.encoding ?? 'utf8'
  // --limit ends the input early, as a signal does: nothing more is read.
  const stop = new AbortController()
  const signal = AbortSignal.any([ctx.signal, stop.signal])
  const quota = { skip: opts.skip ?? 0, limit: opts.limit ?? Infinity, onLimit: () => stop.abort() }
  const o = {
    idColumn: opts.idColumn ?? 'id',
    contentColumn: opts.contentColumn ?? 'content',
    cast: opts.cast ?? false,
    serialize: opts.serialize ?? false,
    noHeader: opts.noHeader ?? false,
    columns: opts.columns,
    encoding
  }
  const csvOptions: CsvParseOptions = { encoding, delimiter: opts.delimiter ?? ',', quote: opts.quote ?? '"', maxRecordBytes: ctx.maxLineBytes }
  const quote = csvOptions.quote
  let lines: LineCounter = { next: 1 }
  return concatInputs(opts.files ?? ['-'], (name) => {
    const at: LineCounter = lines = { next: 1 }
    // A record longer than --max-line-bytes: a record error on the line it starts on.
    const onLong: CsvParseOptions['onLong'] = (long) => {
      if (quota.limit > 0) failLongLine(ctx, { ...long, line: at.next }, { file: name === '-' ? undefined : name, what: 'the record on line' })
      at.next += long.lineBreaks
    }
    return [new CsvParser({ ...csvOptions, onLong }, rowsToRecords(name, o, ctx, quota, lines), o.serialize)]
  }, { signal, onFatal: (out, err) => failSource(ctx, out, err), mapError: (name, err) => {
    // The parser's errors (a broken quote) are fatal: name the file and the physical line,
    // counted from where the record began (an unclosed quote: the line it opened on).
    const e = err as Error & { code?: string, raw?: string }
    if (err instanceof EspipeError || typeof e.code !== 'string' || !e.code.startsWith('CSV_')) return err
    const file = name === '-' ? undefined : name
    const raw = e.raw ?? ''
    const notClosed = e.code === 'CSV_QUOTE_NOT_CLOSED'
    const line = lines.next + lineBreaks(raw, 0, notClosed ? openQuoteAt(raw, quote) : raw.length)
    const message = notClosed ? 'Quote Not Closed: the quote opened on this line is never closed' : e.message.replace(/ at line \d+/, '')
    return new EspipeError(e.code, `${file ?? 'stdin'} line ${line}: ${message}`, { context: { file, line } })
  } })
}
