import { Transform } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import { Coalescer } from '../core/coalesce.js'
import { EspipeError, UsageError } from '../core/errors.js'
import type { WriteLedger } from '../core/ledger.js'
import { ParsedLine } from '../core/ndjson.js'
import type { JsonObject } from '../core/record.js'
import { RECORD_FIELDS, compilePath, idToString, isJsonObject } from '../core/record.js'
import { ColumnCollector, ColumnTree, leafPathsOfJson } from './columns.js'
import type { CsvDialect } from './dialect.js'
import { checkDialect } from './dialect.js'
import { RowFormatter, cellText } from './format.js'
import { uniqueColumns } from './read.js'

/** What a record with keys outside the columns does: fail (not written, dead-lettered) or ignore (written without them). */
export type ExtraKeys = 'fail' | 'ignore'
export const EXTRA_KEYS: readonly ExtraKeys[] = ['fail', 'ignore']

export const CSV_WRITE_COUNTERS: Array<string | [string, string]> = ['read', 'written', ['partial', 'keys outside the columns left out']]

export interface CsvWriteOptions extends Partial<CsvDialect> {
  /** Dot paths into the content, in order; without them the columns come from the first `sample` records. */
  columns?: string[]
  /** How many records to look at for the columns when none are given (default 1000). */
  sample?: number
  /** The id's column (default `id`; first, unless the content or `columns` has a key of that name); false: no id column. */
  idColumn?: string | false
  idField?: string
  contentField?: string
  extraKeys?: ExtraKeys
  /** Write the header line (default true). */
  header?: boolean
  crlf?: boolean
  bom?: boolean
  escapeFormulas?: boolean
  /**
   * Counts `written` as the sink confirms the bytes (fileSink / ledgerSink with the same
   * ledger); without one, a record counts as written when its row is made.
   */
  ledger?: WriteLedger
  context?: StageContext
}

const NO_CONTENT: JsonObject = Object.freeze({})

/** One record on its way to a row (a class: one shape for every record keeps V8 on its fast path). */
class Pending {
  content: JsonObject = NO_CONTENT
  id: string | undefined = undefined
  constructor (
    /** The line it came as; undefined for an object given in code. */
    readonly parsed: ParsedLine | undefined,
    readonly value: unknown,
    /** Its number among the records read, to name an object given in code. */
    readonly n: number
  ) {}
}

/** What csvWrite does unless told; csv-write's options show these. */
export const CSV_WRITE_DEFAULTS = { sample: 1000, idColumn: 'id', extraKeys: 'fail' as ExtraKeys, ...RECORD_FIELDS }
const NEEDS_QUOTES = "which only quotes can hold, and --quote '' turned quoting off"
const hasLoneSurrogate = (s: string): boolean => !(s as unknown as { isWellFormed: () => boolean }).isWellFormed()
const NOT_LATIN1 = /[^\u0000-\u00ff]/

/**
 * Records in (parsed lines or plain objects), CSV bytes out: a header of column paths, then
 * one row per record. Without `columns`, the first `sample` records are held (their number,
 * not their size, bounds memory) to learn the columns, then written in input order.
 */
export function csvWrite (opts: CsvWriteOptions = {}): Transform {
  const ctx = opts.context ?? createContext({ tool: 'csv-write', counters: CSV_WRITE_COUNTERS })
  const dialect = checkDialect(opts)
  const sample = opts.sample ?? CSV_WRITE_DEFAULTS.sample
  if (!Number.isInteger(sample) || sample < 1) throw new UsageError(`invalid value for --sample: ${sample} (must be at least 1)`)
  if (opts.bom === true && dialect.encoding === 'latin1') throw new UsageError('--bom needs --encoding utf8 or utf16le: Latin-1 has no byte order mark')
  const given = opts.columns
  if (given !== undefined) {
    if (given.length === 0) throw new UsageError('--columns needs at least one column')
    const twice = given.find((c, i) => given.indexOf(c) !== i)
    if (twice !== undefined) throw new UsageError(`--columns names '${twice}' twice`)
  }
  const idColumn = opts.idColumn === undefined ? CSV_WRITE_DEFAULTS.idColumn : opts.idColumn
  if (idColumn === '') throw new UsageError('--id-column needs a name (--no-id leaves the id out)')
  const idField = opts.idField ?? CSV_WRITE_DEFAULTS.idField
  const contentField = opts.contentField ?? CSV_WRITE_DEFAULTS.contentField
  const getId = compilePath(idField)
  const getContent = compilePath(contentField)
  const contentPath = contentField === '.' || contentField === '' ? [] : contentField.replace(/^\./, '').split('.')
  const extraKeys = opts.extraKeys ?? CSV_WRITE_DEFAULTS.extraKeys
  const formatter = new RowFormatter({ ...dialect, escapeFormulas: opts.escapeFormulas })
  const eol = opts.crlf === true ? '\r\n' : '\n'
  const encoding = dialect.encoding

  let tree: ColumnTree | undefined
  let idIndex = -1
  let held: Pending[] | undefined = given === undefined ? [] : undefined
  const collector = new ColumnCollector()
  /** Each key outside the columns: how many records had it, and the first of them. */
  const outside = new Map<string, { records: number, first: string }>()

  const fixColumns = (columns: string[]): void => {
    let cols = columns
    if (idColumn !== false && !cols.includes(idColumn)) cols = [idColumn, ...cols]
    tree = new ColumnTree(cols)
    idIndex = idColumn === false ? -1 : tree.indexOf(idColumn)
    if (opts.header === false || cols.length === 0) return
    const header = formatter.row(cols)
    const bad = cols.find((c) => encodingProblem(c) !== undefined)
    if (bad !== undefined) throw new EspipeError('CSV_UNENCODABLE', `column name '${bad}' ${encodingProblem(bad) ?? ''}`)
    const unquotable = formatter.unquotable(cols)
    if (unquotable !== undefined) throw new EspipeError('CSV_NEEDS_QUOTES', `column name '${cols[unquotable.index]}' ${unquotable.reason}, ${NEEDS_QUOTES}`)
    // Only an empty key ("") can make a name csv-read renames: the columns are distinct paths.
    const { renamed } = uniqueColumns(cols)
    if (renamed.length > 0) ctx.logger.warn(`a column with an empty name (the key ""): csv-read reads it back under another: ${renamed.join(', ')}`)
    out.add(header + eol)
  }

  const where = (rec: Pending): string => rec.parsed === undefined ? `record ${rec.n}` : `line ${rec.parsed.line}`
  const fail = (rec: Pending, code: string, message: string): void => {
    const { parsed } = rec
    ctx.failures.fail({ record: parsed?.text ?? rec.value, line: parsed?.line, code, message, context: { file: parsed?.file } })
  }

  /** Runs one record's work; a record nested deeper than the stack allows is a failed record, not the end of the run. */
  const guard = (rec: Pending, work: () => void): void => {
    try {
      work()
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      fail(rec, 'RECORD_TOO_DEEP', `${where(rec)} is nested too deeply to be written (${err.message})`)
    }
  }

  /** Why this text can't be written in the output encoding, or undefined. */
  const encodingProblem = (text: string): string | undefined => {
    if (encoding === 'latin1') {
      const c = NOT_LATIN1.exec(text)
      if (c !== null) return `holds '${c[0]}', which Latin-1 cannot encode (use --encoding utf8 or utf16le)`
    } else if (encoding === 'utf8' && hasLoneSurrogate(text)) {
      return 'holds a lone UTF-16 surrogate (an escape like \\ud800 in the JSON), which UTF-8 cannot encode'
    }
    return undefined
  }

  const write = (rec: Pending): void => {
    if (tree === undefined) return
    const placed = tree.place(rec.content)
    if (placed.conflict !== undefined) {
      return fail(rec, 'CSV_COLUMN_CONFLICT', `${where(rec)} fills column '${placed.conflict}' twice (from a nested and a dotted key)`)
    }
    if (idIndex >= 0) {
      const own = placed.cells[idIndex]
      if (own !== undefined && cellText(own) !== rec.id) {
        return fail(rec, 'CSV_ID_CONFLICT', `${where(rec)} has id '${rec.id ?? ''}' but its content's '${idColumn as string}' is '${cellText(own)}'; name another id column with --id-column, or leave the id out with --no-id`)
      }
      placed.cells[idIndex] = rec.id
    }
    if (placed.extra !== undefined) {
      for (const key of placed.extra) {
        const seen = outside.get(key)
        if (seen !== undefined) { seen.records++; continue }
        outside.set(key, { records: 1, first: where(rec) })
        if (extraKeys === 'ignore') ctx.logger.warn(`key '${key}' (first at ${where(rec)}) is not a column: its values are left out (list every column with --columns, or raise --sample)`)
      }
      if (extraKeys === 'fail') {
        return fail(rec, 'CSV_EXTRA_KEYS', `${where(rec)} has ${placed.extra.length === 1 ? 'a key' : 'keys'} outside the columns: ${placed.extra.join(', ')}; list every column with --columns (or raise --sample), or write such rows without them with --extra-keys ignore`)
      }
    }
    // Only text can hold what the encoding can't: strings, and for Latin-1 the JSON of arrays
    // and objects too (JSON.stringify escapes lone surrogates, but not €).
    const cells = placed.cells
    for (let i = 0; i < cells.length; i++) {
      const v = cells[i]
      const bad = typeof v === 'string' ? encodingProblem(v) : encoding === 'latin1' && typeof v === 'object' && v !== null ? encodingProblem(cellText(v)) : undefined
      if (bad !== undefined) return fail(rec, 'CSV_UNENCODABLE', `${where(rec)}: column '${tree.columns[i]}' ${bad}`)
    }
    const unquotable = formatter.unquotable(cells)
    if (unquotable !== undefined) return fail(rec, 'CSV_NEEDS_QUOTES', `${where(rec)}: column '${tree.columns[unquotable.index]}' ${unquotable.reason}, ${NEEDS_QUOTES}`)
    const line = formatter.row(cells)
    if (placed.extra !== undefined) ctx.stats.add('partial')
    if (opts.ledger === undefined) ctx.stats.add('written')
    out.add(line + eol, 1)
  }

  const endSample = (): void => {
    if (held === undefined) return
    const records = held
    held = undefined
    // No record to learn columns from (empty input): no header either.
    if (records.length === 0) return
    // The id column keeps its place when the first record has it (csv-read's rows do), else it leads.
    const columns = collector.columns
    fixColumns(idColumn === false || collector.inFirst(idColumn) ? columns : columns.filter((c) => c !== idColumn))
    for (const rec of records) guard(rec, () => write(rec))
  }

  const stream = new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 16,
    transform (chunk: unknown, _enc, done) {
      try {
        const parsed = chunk instanceof ParsedLine ? chunk : undefined
        // Parsed lines were counted by the parser; objects handed in by code are counted here.
        if (parsed === undefined) ctx.stats.add('read')
        const rec = new Pending(parsed, parsed === undefined ? chunk : parsed.value, ctx.stats.get('read'))
        guard(rec, () => handle(rec))
        done()
      } catch (err) {
        done(err as Error)
      }
    },
    flush (done) {
      try {
        endSample()
        out.flush()
        if (outside.size > 0) {
          const list = [...outside].map(([key, s]) => `${key} (${s.records} record${s.records === 1 ? '' : 's'}, first at ${s.first})`).join(', ')
          ctx.logger.warn(`${extraKeys === 'fail' ? 'records not written because of keys' : 'keys left out,'} outside the columns: ${list}; list every column with --columns`)
        }
        done()
      } catch (err) {
        done(err as Error)
      }
    }
  })

  const out = new Coalescer(stream, encoding, opts.ledger)
  if (opts.bom === true) out.add('\uFEFF')
  if (given !== undefined) fixColumns(given)
  return stream

  function handle (rec: Pending): void {
    const { parsed } = rec
    // Every number as written: the line is parsed again only when JSON.parse changed one.
    const value = parsed === undefined ? rec.value : parsed.exact
    if (!isJsonObject(value)) return fail(rec, 'RECORD_NOT_OBJECT', `${where(rec)} is not a JSON object`)
    if (idColumn !== false) {
      rec.id = idToString(getId(value))
      if (rec.id === undefined) return fail(rec, 'RECORD_MISSING_ID', `${where(rec)} has no id at '${idField}' (--no-id writes rows without one)`)
    }
    const content = getContent(value)
    if (content === undefined) return fail(rec, 'RECORD_MISSING_CONTENT', `${where(rec)} has no content at '${contentField}'`)
    if (!isJsonObject(content)) return fail(rec, 'RECORD_CONTENT_NOT_OBJECT', `${where(rec)}: the content at '${contentField}' is not an object, so it has no columns`)
    rec.content = content
    if (held === undefined) return write(rec)
    collector.collect(content, parsed === undefined ? undefined : () => leafPathsOfJson(parsed.text, contentPath))
    held.push(rec)
    if (held.length >= sample) endSample()
  }
}
