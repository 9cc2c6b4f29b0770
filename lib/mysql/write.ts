import { Writable } from 'node:stream'
import { doneWhen } from '../core/callback.js'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import { EspipeError, UsageError, errorMessage } from '../core/errors.js'
import type { SortIds } from '../core/id-sort.js'
import { ParsedLine } from '../core/ndjson.js'
import { WriterCheckpoint } from '../core/checkpoint-writer.js'
import { recordPosition } from '../core/position.js'
import type { JsonObject } from '../core/record.js'
import { MysqlPositions } from './positions.js'
import type { RetryPolicy } from '../core/retry.js'
import { DEFAULT_RETRY } from '../core/retry.js'
import { BatchWriter } from './batch-writer.js'
import type { MysqlConnectionSettings } from './connection.js'
import { connectOrSay, describeTarget, resolveConnection, targetContext } from './connection.js'
import { sqlCode } from './errors.js'
import { parseTableName, quoteTable } from './identifiers.js'
import { mysqlPool } from './pool.js'
import { RowBuilder, isProblem, rowLayout } from './row-builder.js'
import type { Layout } from './row-builder.js'
import type { TablePlan } from './schema-mapping.js'
import { createTableSql, schemaLayout } from './schema-mapping.js'
import { schemaTableProblem } from './schema-rows.js'
import type { WriteMode } from './statement.js'
import { BatchStatement, OpStatements, batchLimits } from './statement.js'
import type { TableInfo } from './table.js'
import { prepareTable } from './table.js'
import { timeParser } from './time.js'
import { MYSQL_WRITE_DEFAULTS } from './write-defaults.js'

export type { SortIds } from '../core/id-sort.js'
export { SORT_IDS } from '../core/id-sort.js'
/** `deleted` and `not found` count records that carry their operation (`_op`): shown once they count one. */
export const MYSQL_WRITE_COUNTERS: Array<string | [string, string]> = ['read', 'inserted', 'updated', 'deleted', 'not found', ['skipped', 'duplicate id']]

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
   * The table is the one made from this mapping (tableFromMapping, of an es-read --schema line):
   * its fields are the columns, checked on the way in so that mysql-read gives each document
   * back (SchemaRows); with `create`, the table is made from it. Not with `columns`; `map` names
   * fields' columns when making the plan, not here.
   */
  schema?: TablePlan
  /**
   * The zone of DATETIME and TIMESTAMP values written without an offset, and the zone whose wall
   * time a DATETIME gets (default UTC), as mysql-read's --timezone: what it wrote reads back.
   */
  timezone?: string
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
  /** A batch that has not filled up is written after this long, so a trickle of input lands (default 1 s; 0: only full batches). */
  flushIntervalMs?: number
  /**
   * Acknowledge what is committed (CONTRACT.md §6): each record's position (put there by a reader
   * given the same file) commits in the same transaction as its row, in a table beside it
   * (MysqlPositions), and is saved to the file after, so a rerun of the pipe resumes after it
   * and passes over what an earlier run committed out of order: exactly once, even in insert mode.
   */
  checkpoint?: string
  context?: StageContext
}

/**
 * Records in, rows in a MySQL/MariaDB table: each record built into a row (RowBuilder) and
 * written in batches (BatchWriter), or dead-lettered with its reason. Connects and checks the
 * table before it returns, so a wrong password or a missing table fails before any input is read.
 */
export async function mysqlWrite (opts: MysqlWriteOptions): Promise<Writable> {
  const ctx = opts.context ?? createContext({ tool: 'mysql-write', counters: MYSQL_WRITE_COUNTERS })
  ctx.stats.showOnceCounted('deleted', 'not found')
  const table = parseTableName(opts.table)
  const layout: Layout = opts.schema === undefined ? rowLayout(opts) : schemaLayout(opts.schema, opts.idColumn ?? MYSQL_WRITE_DEFAULTS.idColumn, opts.columns)
  const time = timeParser(opts.timezone ?? 'UTC')
  const target = resolveConnection(opts.connection)
  ctx.logger.masker.add(target.password)
  const tableLabel = table.database === undefined ? table.table : `${table.database}.${table.table}`
  const where = `MySQL at ${describeTarget(target)}, table ${tableLabel}`
  const context = targetContext(target, tableLabel)
  // Two: one batch is built while the other is written. More connections contend in the
  // server for the same index pages when ids come in order (measured on 2 cores: 4 were 0.6-0.7×
  // the rate of 2), though a server with many cores far away may want more.
  let concurrency = Math.max(1, opts.concurrency ?? MYSQL_WRITE_DEFAULTS.concurrency)
  let sortIds = opts.sortIds ?? MYSQL_WRITE_DEFAULTS.sortIds
  if (opts.checkpoint !== undefined) {
    // Sorting holds every row until the end of input: nothing would commit, nothing be acknowledged.
    if (sortIds === 'always') throw new UsageError('--sort-ids always holds every row until the end of input, so nothing could be acknowledged: it cannot be combined with --checkpoint')
    sortIds = 'never'
  }
  const ack = opts.checkpoint === undefined ? undefined : new WriterCheckpoint(opts.checkpoint, 'mysql-write', `table ${table.database ?? target.database ?? ''}.${table.table} at ${describeTarget(target)}`)

  let info: TableInfo
  const first = await connectOrSay(target, context)
  try {
    const schema = opts.schema
    const createSql = schema === undefined ? undefined : (idType: string) => createTableSql(quoteTable(table), layout.idColumn, idType, schema)
    info = await prepareTable(first, table, { create: opts.create === true, idColumn: layout.idColumn, contentColumn: layout.columns[1], columns: layout.columns, allowIdMerge: opts.allowIdMerge, createSql }, context)
    const mismatch = schema === undefined ? undefined : schemaTableProblem(schema, info.columns, tableLabel)
    if (mismatch !== undefined) throw new EspipeError('ESCHEMA_FIELD', mismatch, { context })
  } catch (err) {
    first.destroy()
    if (err instanceof EspipeError) throw err
    throw new EspipeError(sqlCode(err), `${errorMessage(err)} (${where})`, { context, cause: err })
  }
  let positions: MysqlPositions | undefined
  if (ack !== undefined) {
    positions = new MysqlPositions(ack.current.id, table, context)
    try {
      await positions.load(first, table)
    } catch (err) {
      first.destroy()
      throw err
    }
    // What an earlier run committed is read by its routing: its rows by id over its lanes.
    if (positions.lanes !== undefined && positions.lanes !== concurrency) {
      ctx.logger.info(`--checkpoint ${opts.checkpoint ?? ''}: writing over ${positions.lanes} connections, as the run it continues did (-c ${concurrency} is for a new pipe)`)
      concurrency = positions.lanes
    }
  }
  // The lanes' first batch goes over the connection the table was checked on.
  const pool = mysqlPool(target, concurrency, (message, code) => ctx.logger.warn(message, { code, context }))
  pool.adopt(first)

  const limits = batchLimits(info.maxPacket, layout.columns.length, opts.batchSize ?? MYSQL_WRITE_DEFAULTS.batchSize)
  const builder = new RowBuilder({ layout, table: info, idField: opts.idField, contentField: opts.contentField, allowIdMerge: opts.allowIdMerge, maxBytes: limits.bytes, time, schema: opts.schema })
  const writer = new BatchWriter({
    pool,
    statement: new BatchStatement(quoteTable(table), layout.columns, layout.idColumn, opts.mode ?? MYSQL_WRITE_DEFAULTS.mode),
    ops: new OpStatements(quoteTable(table), layout.columns, layout.idColumn, layout.mapped.length > 0),
    builder,
    maxRows: limits.rows,
    maxBytes: limits.bytes,
    concurrency,
    keyOf: info.keyOf,
    flushIntervalMs: opts.flushIntervalMs ?? MYSQL_WRITE_DEFAULTS.flushIntervalMs,
    retry: opts.retry ?? DEFAULT_RETRY,
    sortIds,
    sortRunBytes: opts.sortRunBytes,
    tmpdir: opts.tmpdir,
    where,
    context,
    ctx,
    checkpoint: ack === undefined || positions === undefined ? undefined : { ack, positions }
  })
  let passedOver = 0

  return new Writable({
    objectMode: true,
    highWaterMark: 64,
    write (chunk: unknown, _enc, done) {
      if (writer.error !== undefined) { done(writer.error as Error); return }
      let waiting: Promise<void> | undefined
      try {
        const parsed = chunk instanceof ParsedLine ? chunk : undefined
        // Parsed lines were counted by the parser; objects handed in by code are counted here.
        if (parsed === undefined) ctx.stats.add('read')
        const pos = ack === undefined ? undefined : recordPosition(parsed?.raw, parsed?.raw === undefined ? (parsed?.value ?? chunk) as JsonObject : undefined)
        const ticket = ack?.take(pos, parsed === undefined ? 'a record' : `line ${parsed.line}`)
        const row = builder.build(chunk)
        if (isProblem(row)) {
          writer.refuse(row, parsed === undefined ? chunk : parsed.exact, parsed?.line, parsed?.file)
          if (ticket !== undefined) ack?.settle(ticket)
        } else if (pos !== undefined && ticket !== undefined && positions?.isCommitted(writer.laneOf(row.key), pos.stream, pos.n) === true) {
          // Committed by the run this one continues, after what the file says (lanes commit out of order).
          passedOver++
          ack?.settle(ticket)
        } else {
          row.pos = pos
          row.ticket = ticket
          waiting = writer.add(row)
        }
      } catch (err) {
        done(err as Error)
        return
      }
      doneWhen(waiting, done)
    },
    final (done) {
      writer.flush().then(async () => {
        if (passedOver > 0) ctx.logger.info(`${passedOver} records committed by the run this one continues were passed over`)
        if (ack?.end() === true) await pool.use(async (conn) => { await positions?.forget(conn) }, () => false).catch(() => undefined)
        await writer.close()
        done()
      }, async (err: unknown) => { await writer.close(); done(err as Error) })
    },
    destroy (err, done) {
      writer.close().then(() => { done(err) }, () => { done(err) })
    }
  })
}
