import type { Connection } from 'mysql2/promise'
import { doneWhen } from '../core/callback.js'
import { Writable } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError, UsageError, errorMessage } from '../core/errors.js'
import type { RetryPolicy } from '../core/retry.js'
import type { MysqlConnectionSettings } from './connection.js'
import { describeTarget, explainConnectFailure, resolveConnection, targetContext } from './connection.js'
import { sqlCode } from './errors.js'
import { checkIdentifier, parseTableName, quoteTable } from './identifiers.js'
import type { LaneShared, Row, SqlValue } from './lane.js'
import { Lane, openConnection } from './lane.js'
import { ConnectionPool } from './pool.js'
import { IdSorter } from './sort.js'
import type { RowCounts, WriteMode } from './statement.js'
import { BatchStatement } from './statement.js'
import type { TableInfo } from './table.js'
import { prepareTable } from './table.js'
import { keysMatch, numberText, parseExact, stringifyExact } from '../core/json.js'
import { ParsedLine, rawRecordId, recordId } from '../core/ndjson.js'
import { rawMemberRange } from '../core/raw-json.js'
import type { JsonObject } from '../core/record.js'
import { compilePath, isJsonObject, jsonKind, topLevelKey } from '../core/record.js'
import type { ColumnInfo } from './columns.js'
import { integerIdProblem, isIntegerColumn, isNumericColumn, numericProblem } from './columns.js'

export type SortIds = 'auto' | 'always' | 'never'
export const SORT_IDS: readonly SortIds[] = ['auto', 'always', 'never']
export const MYSQL_WRITE_COUNTERS: Array<string | [string, string]> = ['read', 'inserted', 'updated', ['skipped', 'duplicate id']]

export interface MysqlWriteOptions {
  connection: MysqlConnectionSettings
  /** `table` or `database.table`. */
  table: string
  mode?: WriteMode
  idField?: string
  contentField?: string
  idColumn?: string
  contentColumn?: string
  /** Real columns, each filled from the content field of the same name. */
  columns?: readonly string[]
  /** Real columns filled from paths inside the content: [column, path]. */
  map?: ReadonlyArray<readonly [string, string]>
  create?: boolean
  /**
   * Write even when the table's id column would merge distinct ids (a case-insensitive or PAD
   * SPACE collation, CHAR, a prefix key, "01" into an integer column); otherwise refused.
   */
  allowIdMerge?: boolean
  batchSize?: number
  concurrency?: number
  /**
   * How a batch is retried through lost connections, deadlocks and lock wait timeouts
   * (default DEFAULT_RETRY; `forMs` also bounds the time, as --retry-for does).
   */
  retry?: RetryPolicy
  /** Write rows in id order (see IdSorter); auto does so once the input proves unordered. */
  sortIds?: SortIds
  /** Where sort runs are spilled (default: the OS temporary directory). */
  tmpdir?: string
  /** Bytes of records per sort run (default 8 MiB). */
  sortRunBytes?: number
  context?: StageContext
}

/** Column list and where each value comes from, checked before connecting. */
interface Layout {
  columns: string[]
  idColumn: string
  /** [column, path in the content] for --columns/--map; empty: the content goes whole into one JSON column. */
  mapped: Array<readonly [string, string]>
}

/** A record's value that the table can't hold as it is: the record fails with this. */
class Inexact {
  constructor (readonly message: string) {}
}

/**
 * The value bound for one column. Numbers go as the text they were written as and the server
 * converts them; one the column would round is refused here (strict mode does not catch it).
 */
function columnValue (v: unknown, col: ColumnInfo): SqlValue | Inexact {
  if (v === undefined || v === null) return null
  if (typeof v === 'boolean') return v ? 1 : 0
  const text = typeof v === 'string' ? v : numberText(v)
  if (text === undefined) return stringifyExact(v)
  if (isNumericColumn(col) && !(/^-?\d{1,15}$/.test(text) && col.dataType !== 'float')) {
    const problem = numericProblem(text, col)
    if (problem !== undefined) return new Inexact(problem)
  }
  return text
}

function buildLayout (opts: MysqlWriteOptions): Layout {
  const idColumn = checkIdentifier(opts.idColumn ?? 'id', 'column')
  const mapped: Array<readonly [string, string]> = [
    ...(opts.columns ?? []).map((c) => [c, c] as const),
    ...(opts.map ?? [])
  ]
  if (mapped.length === 0) {
    const contentColumn = checkIdentifier(opts.contentColumn ?? 'content', 'column')
    if (contentColumn.toLowerCase() === idColumn.toLowerCase()) throw new UsageError('--id-column and --content-column must differ')
    return { idColumn, columns: [idColumn, contentColumn], mapped }
  }
  if (opts.create === true) throw new UsageError('--create makes the (id, content) table only; create the table for --columns/--map yourself')
  const seen = new Set([idColumn.toLowerCase()])
  for (const [col] of mapped) {
    checkIdentifier(col, 'column')
    if (seen.has(col.toLowerCase())) throw new UsageError(`column ${col} is given twice (the id column is filled from --id-field)`)
    seen.add(col.toLowerCase())
  }
  return { idColumn, columns: [idColumn, ...mapped.map(([c]) => c)], mapped }
}

// Statement text, the VALUES groups' parentheses and commas, and the packet header.
const STATEMENT_OVERHEAD = 64 * 1024
const MAX_PLACEHOLDERS = 65_535

function fnv1a (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** An upper bound of a value's bytes on the wire; exact (and slower) only for large strings. */
function valueBytes (v: unknown): number {
  if (typeof v !== 'string') return 9
  return v.length <= 21_000 ? v.length * 3 + 9 : Buffer.byteLength(v) + 9
}

/**
 * Records in, rows in a MySQL/MariaDB table. Connects and checks the table before it
 * returns, so a wrong password or a missing table fails before any input is read.
 */
export async function mysqlWrite (opts: MysqlWriteOptions): Promise<Writable> {
  const ctx = opts.context ?? createContext({ tool: 'mysql-write', counters: MYSQL_WRITE_COUNTERS })
  const table = parseTableName(opts.table)
  const layout = buildLayout(opts)
  const target = resolveConnection(opts.connection)
  ctx.logger.masker.add(target.password)
  const tableLabel = table.database === undefined ? table.table : `${table.database}.${table.table}`
  const context: ErrorContext = targetContext(target, tableLabel)
  const mode = opts.mode ?? 'ignore'
  // Two: one batch is built while the other is written. More connections contend in the
  // server for the same index pages when ids come in order (measured on 2 cores: 4 were 0.6-0.7×
  // the rate of 2), though a server with many cores far away may want more.
  const concurrency = Math.max(1, opts.concurrency ?? 2)
  const getId = compilePath(opts.idField ?? '_id')
  const getContent = compilePath(opts.contentField ?? '_source')
  // A top-level content field can be cut from the line as it came (see rawMemberRange).
  const rawKey = layout.mapped.length === 0 ? topLevelKey(opts.contentField ?? '_source') : undefined
  // Scanned lines (ParsedLine.raw) give a top-level id and content without a parse.
  const idKey = topLevelKey(opts.idField ?? '_id')
  const rawIdKey = rawKey !== undefined && idKey !== '' ? idKey : undefined

  let first: Connection
  let info: TableInfo
  try {
    first = await openConnection(target)
  } catch (err) {
    throw new EspipeError(sqlCode(err), `cannot connect to MySQL at ${describeTarget(target)}: ${await explainConnectFailure(err, target)}`, { context, cause: err })
  }
  try {
    info = await prepareTable(first, table, { create: opts.create === true, idColumn: layout.idColumn, contentColumn: layout.columns[1], columns: layout.columns, allowIdMerge: opts.allowIdMerge }, context)
  } catch (err) {
    first.destroy()
    if (err instanceof EspipeError) throw err
    throw new EspipeError(sqlCode(err), `${errorMessage(err)} (MySQL at ${describeTarget(target)}, table ${tableLabel})`, { context, cause: err })
  }
  // The lanes' first batch goes over the connection the table was checked on.
  const pool = new ConnectionPool(target, concurrency, (message, code) => ctx.logger.warn(message, { code, context }))
  pool.adopt(first)

  const maxBatchBytes = Math.max(1024, Math.min(info.maxPacket - STATEMENT_OVERHEAD, 16 * 1024 * 1024))
  const batchSize = Math.max(1, Math.min(opts.batchSize ?? 1000, Math.floor(MAX_PLACEHOLDERS / layout.columns.length)))
  const statement = new BatchStatement(quoteTable(table), layout.columns, layout.idColumn, mode)
  let committedRows = 0

  const recordOf = (row: { text?: string, record?: unknown }): unknown => {
    if (row.record !== undefined) return row.record
    try { return parseExact(row.text ?? 'null') } catch { return row.text }
  }
  const rowContext = (row: { id?: string, line?: number, file?: string }): ErrorContext => ({ ...context, file: row.file, _id: row.id })

  const shared: LaneShared = {
    target,
    pool,
    retrying: 0,
    statement,
    batchSize,
    retryForMs: opts.retry?.forMs ?? 60_000,
    keyOf: info.keyOf,
    context,
    committed: (c: RowCounts) => {
      committedRows += c.inserted + c.updated + c.skipped
      if (c.inserted > 0) ctx.stats.add('inserted', c.inserted)
      if (c.updated > 0) ctx.stats.add('updated', c.updated)
      if (c.skipped > 0) ctx.stats.add('skipped', c.skipped)
    },
    rowFailed: (row: Row, err: unknown) => {
      ctx.failures.fail({ record: recordOf(row), line: row.line, code: sqlCode(err), message: errorMessage(err), context: rowContext(row) })
    },
    warn: (message, details) => ctx.logger.warn(message, details),
    metrics: ctx.metrics,
    signalError: (err: unknown) => {
      if (shared.error !== undefined) return
      if (err instanceof EspipeError) { shared.error = err; return }
      shared.error = new EspipeError(sqlCode(err), `${errorMessage(err)} (MySQL at ${describeTarget(target)}, table ${tableLabel}; ${committedRows} rows committed)`, { context, cause: err })
    },
    committedRows: () => committedRows
  }
  const lanes = Array.from({ length: concurrency }, () => new Lane(shared, batchSize, maxBatchBytes))

  const mappedColumns = layout.mapped.map(([col, path]) => ({ get: compilePath(path), col: info.columns.get(col.toLowerCase()) as ColumnInfo }))
  const checkId = isIntegerColumn(info.idColumn) && opts.allowIdMerge !== true

  /** The row's values after the id, or why the record can't be written. */
  const rowValues = (parsed: ParsedLine | undefined, value: JsonObject): { values: SqlValue[], range?: [number, number] } | { code: string, message: string } => {
    const exact = (): JsonObject => parsed?.exact ?? value
    if (layout.mapped.length === 0) {
      const content = getContent(value)
      if (content === undefined) return { code: 'RECORD_MISSING_CONTENT', message: `record has no content at '${opts.contentField ?? '_source'}'` }
      // The content's text as it came, unless a key in the line is there twice: the table then
      // gets the last one's value written once (MariaDB's JSON functions would read the first).
      const range = rawKey === undefined || parsed === undefined
        ? undefined
        : rawKey === '' ? [0, parsed.text.length] as [number, number] : rawMemberRange(parsed.text, value, rawKey)
      if (range !== undefined && keysMatch((parsed as ParsedLine).text, value)) return { values: [(parsed as ParsedLine).text.slice(range[0], range[1])], range }
      return { values: [stringifyExact(getContent(exact()))] }
    }
    const content = getContent(exact())
    if (!isJsonObject(content)) return { code: 'RECORD_CONTENT_NOT_OBJECT', message: `content at '${opts.contentField ?? '_source'}' is ${jsonKind(content)}, not an object, so columns can't be taken from it` }
    const values: SqlValue[] = []
    for (const { get, col } of mappedColumns) {
      const v = columnValue(get(content), col)
      if (v instanceof Inexact) return { code: 'RECORD_INEXACT_VALUE', message: v.message }
      values.push(v)
    }
    return { values }
  }

  /** A record → its row, or undefined after counting it as failed. */
  const toRow = (chunk: unknown): Row | undefined => {
    const parsed = chunk instanceof ParsedLine ? chunk : undefined
    // A scanned line is cut, not parsed (only a failing one is, for its dead-letter entry).
    const raw = rawIdKey === undefined ? undefined : parsed?.raw
    const value = raw !== undefined ? undefined : parsed?.value ?? chunk
    const fail = (code: string, message: string, id?: string): undefined => {
      ctx.failures.fail({ record: parsed?.exact ?? value, line: parsed?.line, code, message, context: rowContext({ id, file: parsed?.file }) })
      return undefined
    }
    if (raw === undefined && !isJsonObject(value)) return fail('RECORD_NOT_OBJECT', 'record is not a JSON object')
    const id = raw === undefined ? recordId(parsed ?? value as JsonObject, getId) : rawRecordId(raw, rawIdKey as string)
    if (id === undefined) return fail('RECORD_MISSING_ID', `record has no id at '${opts.idField ?? '_id'}'`)
    if (checkId) {
      const problem = integerIdProblem(id, info.idColumn)
      if (problem !== undefined) return fail('RECORD_INEXACT_ID', problem, id)
    }
    let values: SqlValue[]
    let range: [number, number] | undefined
    if (raw !== undefined) {
      // The scan found the line's keys each once: its content's text is the record's content.
      range = rawKey === '' ? [0, raw.text.length] : raw.member(rawKey as string)
      if (range === undefined) return fail('RECORD_MISSING_CONTENT', `record has no content at '${opts.contentField ?? '_source'}'`, id)
      values = [id, raw.text.slice(range[0], range[1])]
    } else {
      const made = rowValues(parsed, value as JsonObject)
      if ('code' in made) return fail(made.code, made.message, id)
      values = made.values
      range = made.range
      values.unshift(id)
    }
    let bytes = 0
    for (const v of values) bytes += valueBytes(v)
    if (bytes > maxBatchBytes) {
      return fail('ER_NET_PACKET_TOO_LARGE', `record is ${bytes} bytes, more than fits in the server's max_allowed_packet (${info.maxPacket} bytes); raise max_allowed_packet on the server to load it`, id)
    }
    return { id, key: info.keyOf(id), values, bytes, line: parsed?.line, file: parsed?.file, text: parsed?.text, record: parsed === undefined ? value : undefined, range }
  }

  /** Hands the row to its lane; a promise only when the lane is backed up (no promise per row). */
  const route = (row: Row): Promise<void> | undefined => {
    const lane = lanes[concurrency === 1 ? 0 : fnv1a(row.key) % concurrency]
    lane.add(row)
    if (shared.error !== undefined) throw shared.error
    // Backpressure: at most one batch waiting behind the one being written, per lane.
    if (lane.pending <= 1) return undefined
    return lane.below(1).then(() => { if (shared.error !== undefined) throw shared.error })
  }
  const drainLanes = async (): Promise<void> => {
    for (const lane of lanes) lane.flush()
    await Promise.all(lanes.map(async (l) => await l.idle()))
    if (shared.error !== undefined) throw shared.error
  }

  const sortIds = opts.sortIds ?? 'auto'
  let sorter: IdSorter | undefined = sortIds === 'always' ? new IdSorter(opts.sortRunBytes, opts.tmpdir) : undefined
  let lastKey: string | undefined
  let seen = 0
  let descents = 0
  const sortSample = 2000

  const closeAll = async (): Promise<void> => {
    await pool.close()
    await sorter?.dispose()
  }

  return new Writable({
    objectMode: true,
    highWaterMark: 64,
    write (chunk: unknown, _enc, done) {
      if (shared.error !== undefined) { done(shared.error as Error); return }
      let row: Row | undefined
      try {
        // Parsed lines were counted by the parser; objects handed in by code are counted here.
        if (!(chunk instanceof ParsedLine)) ctx.stats.add('read')
        row = toRow(chunk)
      } catch (err) {
        done(err as Error)
        return
      }
      if (row === undefined) { done(); return }
      if (sorter === undefined && sortIds === 'auto' && seen < sortSample) {
        // Ids that arrive in order append to the index; ids in random order need sorting
        // first, or every row costs a random page read once the table outgrows the buffer pool.
        if (lastKey !== undefined && row.key < lastKey) descents++
        lastKey = row.key
        if (++seen === sortSample && descents > sortSample / 10) {
          sorter = new IdSorter(opts.sortRunBytes, opts.tmpdir)
          ctx.logger.info(`ids arrive in random order: sorting them by id before writing (temporary files in ${opts.tmpdir ?? 'the temporary directory'})`)
        }
      }
      if (sorter !== undefined) {
        const spilling = sorter.add({ key: row.key, line: row.line, file: row.file, text: row.text ?? stringifyExact(row.record), id: row.id, range: row.text === undefined ? undefined : row.range })
        doneWhen(spilling, done)
        return
      }
      let waiting: Promise<void> | undefined
      try {
        waiting = route(row)
      } catch (err) {
        done(err as Error)
        return
      }
      doneWhen(waiting, done)
    },
    final (done) {
      void (async () => {
        await drainLanes()
        if (sorter !== undefined) {
          for await (const e of sorter.drain()) {
            if (e.range !== undefined && e.id !== undefined) {
              // Checked on the way in: the row is the id and the content's text, no parse needed.
              const values: SqlValue[] = [e.id, e.text.slice(e.range[0], e.range[1])]
              await route({ id: e.id, key: e.key, values, bytes: valueBytes(values[0]) + valueBytes(values[1]), line: e.line, file: e.file, text: e.text })
              continue
            }
            const parsed = JSON.parse(e.text) as JsonObject
            const row = toRow(new ParsedLine(parsed, e.text, e.line ?? 0, e.file))
            if (row !== undefined) await route({ ...row, line: e.line })
          }
          await drainLanes()
        }
      })().then(async () => { await closeAll(); done() }, async (err: unknown) => { await closeAll(); done(err as Error) })
    },
    destroy (err, done) {
      closeAll().then(() => { done(err) }, () => { done(err) })
    }
  })
}
