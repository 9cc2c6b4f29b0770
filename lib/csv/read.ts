import type { Options as CsvOptions } from 'csv-parse'
import { parse } from 'csv-parse'
import type { Readable } from 'node:stream'
import { Transform } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { createContext, failSource } from '../core/context.js'
import { EspipeError } from '../core/errors.js'
import { concatInputs } from '../core/input.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'
import type { CsvEncoding } from './dialect.js'

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
   * Emit each record already serialised as its NDJSON line (a string) instead of an object:
   * the same bytes JSON.stringify would give, built without the intermediate object.
   */
  serialize?: boolean
  context?: StageContext
}

interface CsvChunk { record: string[], raw: string }

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/

/** `--cast`: only values that print back the same become numbers, so `007` and ids keep their text. */
export function castValue (v: string): unknown {
  if (v === 'true') return true
  if (v === 'false') return false
  if (v === 'null' || v === '') return null
  if (NUMBER.test(v)) {
    const n = Number(v)
    if (Number.isFinite(n) && (String(n) === v || /[.eE]/.test(v))) return n
  }
  return v
}

function parseContent (text: string | undefined): JsonObject | undefined {
  if (text === undefined) return undefined
  const t = text.trimStart()
  if (!t.startsWith('{')) return undefined
  try {
    const v: unknown = JSON.parse(t)
    return isJsonObject(v) ? v : undefined
  } catch {
    return undefined
  }
}

/**
 * Turns one file's CSV rows into records `{"_id", "_source"}`. The header (unless --no-header)
 * names the columns; a row of the wrong width or with no id is a record error and the rest
 * flows on.
 */
function rowsToRecords (name: string, o: Required<Pick<CsvReadOptions, 'idColumn' | 'contentColumn' | 'cast' | 'noHeader' | 'serialize'>> & { columns?: string[], encoding: CsvEncoding }, ctx: StageContext, quota: { skip: number, limit: number, onLimit: () => void }): Transform {
  const file = name === '-' ? undefined : name
  let columns = o.noHeader ? o.columns : undefined
  let idIndex = columns?.indexOf(o.idColumn) ?? -1
  let contentIndex = columns?.indexOf(o.contentColumn) ?? -1
  // For `serialize`: each column's `"name":` prefix, escaped once per file. Duplicate names
  // collapse in an object, so such a header takes the object path to give the same bytes.
  let keyPrefixes: string[] | undefined
  const setColumns = (cols: string[]): void => {
    columns = cols
    keyPrefixes = o.serialize && new Set(cols).size === cols.length ? cols.map((c) => JSON.stringify(c) + ':') : undefined
    idIndex = cols.indexOf(o.idColumn)
    contentIndex = cols.indexOf(o.contentColumn)
    if (idIndex < 0) {
      throw new EspipeError('CSV_MISSING_ID_COLUMN', `${file ?? 'stdin'} has no column '${o.idColumn}' (columns: ${cols.join(', ')}); name the id column with --id-column`, { context: { file, column: o.idColumn } })
    }
  }
  if (columns !== undefined) setColumns(columns)
  // Line numbers are counted from the raw text of each record: csv-parse's `info` option
  // would do it for us but copies an object per row, a sixth of the parse time.
  let nextLine = 1
  return new Transform({
    objectMode: true,
    transform (chunk: CsvChunk, _enc, done) {
      try {
        const { record, raw } = chunk
        const line = nextLine
        for (let i = raw.indexOf('\n'); i >= 0; i = raw.indexOf('\n', i + 1)) nextLine++
        // Blank lines reach us as one empty field: skipped, but counted as lines.
        if (record.length === 1 && record[0] === '' && raw.trim() === '') return done()
        if (columns === undefined) {
          const header = record.map((c) => c.trim())
          setColumns(o.columns ?? header)
          return done()
        }
        if (quota.limit <= 0) return done()
        ctx.stats.add('read')
        const fail = (code: string, message: string): void => {
          ctx.failures.fail({ record: raw.replace(/\r?\n$/, ''), line, code, message, context: { file } })
        }
        if (record.length !== columns.length) {
          fail('CSV_RECORD_INCONSISTENT_FIELDS_LENGTH', `line ${line} has ${record.length} fields, the header has ${columns.length}`)
          return done()
        }
        if (o.encoding === 'utf8' && raw.includes('\uFFFD')) {
          fail('CSV_INVALID_ENCODING', `line ${line} is not valid UTF-8 (if the file is Latin-1, use --encoding latin1)`)
          return done()
        }
        const id = record[idIndex]
        if (id === undefined || id === '') {
          fail('CSV_MISSING_ID', `line ${line} has an empty '${o.idColumn}'`)
          return done()
        }
        if (quota.skip > 0) { quota.skip--; return done() }
        let source = contentIndex >= 0 ? parseContent(record[contentIndex]) : undefined
        if (source === undefined && keyPrefixes !== undefined) {
          let line = '{"_id":' + JSON.stringify(id) + ',"_source":{'
          for (let i = 0; i < keyPrefixes.length; i++) {
            line += (i === 0 ? '' : ',') + keyPrefixes[i] + JSON.stringify(o.cast ? castValue(record[i]) : record[i])
          }
          quota.limit--
          ctx.stats.add('emitted')
          this.push(line + '}}')
          if (quota.limit <= 0) quota.onLimit()
          return done()
        }
        if (source === undefined) {
          const row: JsonObject = {}
          for (let i = 0; i < columns.length; i++) row[columns[i]] = o.cast ? castValue(record[i]) : record[i]
          source = row
        }
        quota.limit--
        ctx.stats.add('emitted')
        this.push(o.serialize ? JSON.stringify({ _id: id, _source: source }) : { _id: id, _source: source })
        if (quota.limit <= 0) quota.onLimit()
        done()
      } catch (err) {
        done(err as Error)
      }
    }
  })
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
  const csvOptions: CsvOptions = {
    bom: true,
    encoding,
    delimiter: opts.delimiter ?? ',',
    quote: opts.quote ?? '"',
    relax_column_count: true,
    raw: true
  }
  return concatInputs(opts.files ?? ['-'], (name) => [parse(csvOptions), rowsToRecords(name, o, ctx, quota)], { signal, onFatal: (out, err) => failSource(ctx, out, err), mapError: (name, err) => {
    // csv-parse's own errors (a broken quote) are fatal: name the file and line.
    const e = err as Error & { code?: string, lines?: number }
    if (err instanceof EspipeError || typeof e.code !== 'string' || !e.code.startsWith('CSV_')) return err
    const file = name === '-' ? undefined : name
    return new EspipeError(e.code, `${file ?? 'stdin'} line ${e.lines ?? '?'}: ${e.message}`, { context: { file, line: e.lines } })
  } })
}
