import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import type { StageContext } from '../core/context.js'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError, errorMessage } from '../core/errors.js'
import type { SortIds } from '../core/id-sort.js'
import { IdOrderWatch, IdSorter } from '../core/id-sort.js'
import { parseExact, stringifyExact } from '../core/json.js'
import { mergeDocument } from '../core/merge.js'
import type { RecordOp } from '../core/operation.js'
import { isJsonObject } from '../core/record.js'
import { Lanes } from '../core/lanes.js'
import type { ConnectionPool } from '../core/pool.js'
import type { RetriesSpent, RetryPolicy } from '../core/retry.js'
import { withRetry } from '../core/retry.js'
import { classifySqlError, errorRow, sqlCode, sqlErrno } from './errors.js'
import type { RecordProblem, Row, RowBuilder, SqlValue } from './row-builder.js'
import { isProblem } from './row-builder.js'
import type { LaneCommitted, MysqlPositions } from './positions.js'
import type { WriterCheckpoint } from '../core/checkpoint-writer.js'
import type { BatchStatement, OpStatements, RowCounts } from './statement.js'
import { noCounts, rowsMatched } from './statement.js'

export interface BatchWriterOptions {
  pool: ConnectionPool<Connection>
  statement: BatchStatement
  /** The statements of records that carry their operation (`_op`). */
  ops: OpStatements
  /** Builds rows again from the id sorter's entries. */
  builder: RowBuilder
  /** Rows per batch: the size the statement cache is prepared for (others are unprepared after use). */
  maxRows: number
  maxBytes: number
  /** Batches written at once (lanes). */
  concurrency: number
  keyOf: (id: string) => string
  /** A batch that has not filled up is sent after this long (0: only full batches, and the last at the end). */
  flushIntervalMs?: number
  retry: RetryPolicy
  sortIds: SortIds
  /** Bytes of records per sort run, and where runs are spilled (see IdSorter). */
  sortRunBytes?: number
  tmpdir?: string
  /** `MySQL at host:port, table name`: what a fatal error says it was writing to. */
  where: string
  context: ErrorContext
  ctx: StageContext
  /**
   * Acknowledging records (--checkpoint): each batch becomes one transaction that also writes
   * its lane's row of `positions`, and its records are settled with `ack` once it commits.
   */
  checkpoint?: { ack: WriterCheckpoint, positions: MysqlPositions }
}

/** A batch being written as one transaction: its connection, and what it did, told once it commits. */
interface Unit {
  conn: Connection
  counts: RowCounts
  fails: Array<{ row: Row, err: unknown }>
}

/**
 * A row error met in one run of a batch of operations: the row the server names is counted
 * from the run's first row, and the batch is cut at `offset` plus it.
 */
class RunRowError extends Error {
  constructor (readonly error: unknown, readonly offset: number) {
    super(errorMessage(error))
  }
}

const unwrap = (err: unknown): unknown => err instanceof RunRowError ? err.error : err

/** The statement a record of a batch of operations goes out with: its mode's (no `_op`), or its operation's. */
type RunKind = 'plain' | 'replace' | Exclude<RecordOp, 'index'>
const runKind = (row: Row): RunKind => row.op === undefined ? 'plain' : row.op === 'index' ? 'replace' : row.op

const retryable = (err: unknown): boolean => classifySqlError(err) === 'retry'
// Deadlocks and lock waits are routine under concurrency: retried without a word.
const routine = (err: unknown): boolean => sqlErrno(err) === 1213 || sqlErrno(err) === 1205

/**
 * Writes rows into one table over a pool of connections, and accounts for every one:
 * inserted, updated, skipped (counted from each committed statement) or failed alone.
 *
 * - Rows go to core's Lanes: routed by id, batches in key order, a batch refused for a bad row
 *   cut down to that row, at most one batch waiting per lane (`add` returns a promise then).
 * - With --sort-ids (or once `auto` sees ids arrive unordered) rows go through the IdSorter
 *   instead and are written in id order at the end of input.
 * - A batch that failed for the server or the network (lost connection, deadlock, lock wait)
 *   is sent again under the retry policy: the statement is idempotent by id. The first lane to
 *   meet a lost server says so, once; the others wait in silence.
 * - The first fatal error stops every lane and names how many rows were committed.
 */
export class BatchWriter {
  private readonly lanes: Lanes<Row>
  private readonly watch: IdOrderWatch | undefined
  private sorter: IdSorter | undefined
  /** Batches being retried now: the first one says so. */
  private retrying = 0
  private committedRows = 0

  /** Per lane: the batch being written as a transaction (with --checkpoint). */
  private readonly units: Array<Unit | undefined> = []
  /** Per lane: the last record of each stream it committed (with --checkpoint). */
  private readonly laneCommitted: LaneCommitted[] = []

  constructor (private readonly o: BatchWriterOptions) {
    const cp = o.checkpoint
    this.lanes = new Lanes<Row>({
      lanes: o.concurrency,
      maxRows: o.maxRows,
      maxBytes: o.maxBytes,
      write: async (rows, lane) => {
        const unit = this.units[lane]
        const withOps = rows.some((r) => r.op !== undefined)
        if (unit === undefined) return this.committed(await (withOps ? this.executeOps(rows) : this.execute(rows)))
        addCounts(unit.counts, withOps
          ? await this.savepointed(unit.conn, async () => await this.applyOps(unit.conn, rows))
          : await this.run(unit.conn, rows, this.o.statement.sql(rows.length), params(rows), true))
      },
      rowError: (err) => classifySqlError(unwrap(err)) === 'row',
      errorRow: (err) => {
        if (!(err instanceof RunRowError)) return errorRow(err)
        const at = errorRow(err.error)
        return at === undefined ? undefined : err.offset + at
      },
      rowFailed: (row, wrapped, lane) => {
        const err = unwrap(wrapped)
        // In a transaction, a row's failure is told once the transaction commits (it may be retried whole).
        const unit = this.units[lane]
        if (unit !== undefined) unit.fails.push({ row, err })
        else this.refuse({ code: sqlCode(err), message: errorMessage(err), id: row.id }, recordOf(row), row.line, row.file)
      },
      unit: cp === undefined ? undefined : async (rows, lane, run) => { await this.unit(rows, lane, run, cp) },
      flushIntervalMs: o.flushIntervalMs,
      fatal: (err) => err instanceof EspipeError
        ? err
        : new EspipeError(sqlCode(err), `${errorMessage(err)} (${o.where}; ${this.committedRows} rows committed)`, { context: o.context, cause: err }),
      metrics: o.ctx.metrics
    })
    if (cp !== undefined) {
      for (let i = 0; i < o.concurrency; i++) this.laneCommitted.push(new Map(cp.positions.committed.get(i)))
      return
    }
    if (o.sortIds === 'always') this.sorter = this.newSorter()
    else if (o.sortIds === 'auto') this.watch = new IdOrderWatch()
  }

  /** The lane a row goes to. */
  laneOf (key: string): number {
    return this.lanes.laneOf(key)
  }

  /** The first fatal error; once set nothing more is sent. */
  get error (): unknown {
    return this.lanes.error
  }

  /** Takes one row; a returned promise means "wait before the next one" (backpressure). Throws the fatal error. */
  add (row: Row): Promise<void> | undefined {
    if (this.watch?.unordered(row.key) === true && this.sorter === undefined) {
      this.sorter = this.newSorter()
      this.o.ctx.logger.info(`ids arrive in random order: sorting them by id before writing (temporary files in ${this.o.tmpdir ?? 'the temporary directory'})`)
    }
    if (this.sorter !== undefined) return this.sorter.add(this.o.builder.sortEntry(row))
    return this.lanes.add(row)
  }

  /** A record that is not written: counted and dead-lettered with its problem. */
  refuse (problem: RecordProblem, record: unknown, line?: number, file?: string): void {
    this.o.ctx.failures.fail({ record, line, code: problem.code, message: problem.message, context: { ...this.o.context, file, _id: problem.id } })
  }

  /** Writes what is held (the sorted rows last) and waits until all is committed; throws the fatal error. */
  async flush (): Promise<void> {
    await this.lanes.drain()
    if (this.sorter === undefined) return
    for await (const e of this.sorter.drain()) {
      const row = this.o.builder.fromSorted(e)
      if (isProblem(row)) this.refuse(row, recordOf({ text: e.text }), e.line, e.file)
      else await this.lanes.add(row)
    }
    await this.lanes.drain()
  }

  async close (): Promise<void> {
    await this.o.pool.close()
    await this.sorter?.dispose()
  }

  private newSorter (): IdSorter {
    return new IdSorter(this.o.sortRunBytes, this.o.tmpdir, 'mysql-write-')
  }

  private committed (c: RowCounts): void {
    const { stats } = this.o.ctx
    this.committedRows += c.inserted + c.updated + c.skipped + c.deleted + c.notFound
    if (c.inserted > 0) stats.add('inserted', c.inserted)
    if (c.updated > 0) stats.add('updated', c.updated)
    if (c.deleted > 0) stats.add('deleted', c.deleted)
    if (c.notFound > 0) stats.add('not found', c.notFound)
    if (c.skipped > 0) stats.add('skipped', c.skipped)
  }

  /** A batch of operations without --checkpoint: its runs in one transaction, sent again whole under the retry policy. */
  private async executeOps (rows: Row[]): Promise<RowCounts> {
    return await this.retried(rows, async () => await this.o.pool.use(async (conn) => {
      await conn.query('START TRANSACTION')
      try {
        const counts = await this.applyOps(conn, rows)
        await conn.query('COMMIT')
        return counts
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => {})
        throw err
      }
    }, retryable))
  }

  /**
   * A batch of operations inside its unit's transaction: undone to the savepoint when a row in
   * it is refused, so that the parts it is cut into do not apply its first runs twice.
   */
  private async savepointed (conn: Connection, fn: () => Promise<RowCounts>): Promise<RowCounts> {
    await conn.query('SAVEPOINT espipe_ops')
    try {
      return await fn()
    } catch (err) {
      await conn.query('ROLLBACK TO SAVEPOINT espipe_ops').catch(() => {})
      throw err
    }
  }

  /**
   * A batch whose records carry operations: consecutive records of one kind go out as one
   * statement (or one run), the runs in batch order, so a record never overtakes an earlier
   * one for its id. Lanes sort a batch by key stably: each id keeps its own order.
   */
  private async applyOps (conn: Connection, rows: Row[]): Promise<RowCounts> {
    const counts = noCounts()
    let start = 0
    while (start < rows.length) {
      const kind = runKind(rows[start])
      let end = start + 1
      while (end < rows.length && runKind(rows[end]) === kind) end++
      const run = rows.slice(start, end)
      try {
        addCounts(counts, await this.applyRun(conn, kind, run))
      } catch (err) {
        throw classifySqlError(err) === 'row' ? new RunRowError(err, start) : err
      }
      start = end
    }
    return counts
  }

  private async applyRun (conn: Connection, kind: RunKind, rows: Row[]): Promise<RowCounts> {
    const { ops, statement } = this.o
    switch (kind) {
      case 'plain':
        return await this.run(conn, rows, statement.sql(rows.length), params(rows), true)
      case 'replace': {
        if (statement.mode === 'upsert' || statement.mode === 'replace') return await this.run(conn, rows, statement.sql(rows.length), params(rows), true)
        const [result] = await conn.query<ResultSetHeader>(ops.upsert.sql(rows.length), params(rows))
        return ops.upsert.count(result, rows.length)
      }
      case 'create': {
        const [result] = await conn.query<ResultSetHeader>(ops.create.sql(rows.length), params(rows))
        return ops.create.count(result, rows.length)
      }
      case 'delete': {
        // An id given twice is deleted once: the second is not found, as Elasticsearch says.
        const [result] = await conn.query<ResultSetHeader>(ops.deleteSql(rows.length), rows.map((r) => r.id))
        return { ...noCounts(), deleted: result.affectedRows, notFound: rows.length - result.affectedRows }
      }
      case 'update':
      case 'upsert':
        return ops.mapped ? await this.updateColumns(conn, rows, kind === 'upsert') : await this.updateDocuments(conn, rows, kind === 'upsert')
    }
  }

  /**
   * Updates (or upserts) into mapped columns: the columns each partial document gives, one
   * statement per record; an upsert of a missing id adds it with those columns.
   */
  private async updateColumns (conn: Connection, rows: Row[], upsert: boolean): Promise<RowCounts> {
    const counts = noCounts()
    for (const r of rows) {
      const present = r.present ?? r.values.slice(1).map(() => true)
      const given = r.values.slice(1).filter((_v, i) => present[i])
      if (upsert) {
        const [result] = await conn.query<ResultSetHeader>(this.o.ops.upsertColumnsSql(present), [r.id, ...given])
        if (result.affectedRows === 1) counts.inserted++
        else counts.updated++
        continue
      }
      const [result] = await conn.query<ResultSetHeader>(this.o.ops.updateColumnsSql(present), [...given, r.id])
      if (rowsMatched(result) > 0) counts.updated++
      else counts.notFound++
    }
    return counts
  }

  /**
   * Updates into the content column: each partial document merged into the stored one as
   * Elasticsearch merges an update's doc (lib/core/merge.ts), exactly (parsed and written
   * again without a digit lost), the stored rows locked until the batch commits.
   */
  private async updateDocuments (conn: Connection, rows: Row[], upsert: boolean): Promise<RowCounts> {
    const { ops, keyOf } = this.o
    const [found] = await conn.query<RowDataPacket[]>(ops.storedSql(rows.length), rows.map((r) => r.id))
    const stored = new Map<string, string | null>()
    for (const f of found) stored.set(keyOf(String(f.id)), contentText(f.content))
    const changed = new Map<string, { id: string, text: string }>()
    const counts = noCounts()
    for (const r of rows) {
      if (!stored.has(r.key)) {
        if (!upsert) { counts.notFound++; continue }
        // An upsert of an id the table lacks adds its document as it came.
        const text = String(r.values[1])
        stored.set(r.key, text)
        changed.set(r.key, { id: r.id, text })
        counts.inserted++
        continue
      }
      const before = stored.get(r.key) ?? null
      const partial = parseExact(String(r.values[1]))
      const old = before === null ? undefined : parseExact(before)
      const text = isJsonObject(old) && isJsonObject(partial) ? stringifyExact(mergeDocument(old, partial)) : String(r.values[1])
      stored.set(r.key, text)
      changed.set(r.key, { id: changed.get(r.key)?.id ?? r.id, text })
      counts.updated++
    }
    if (changed.size > 0) await conn.query(ops.putContentSql(changed.size), [...changed.values()].flatMap(({ id, text }) => [id, text]))
    return counts
  }

  /** One statement (one transaction), sent again under the retry policy while the server is away. */
  private async execute (rows: Row[]): Promise<RowCounts> {
    const { pool, statement } = this.o
    const sql = statement.sql(rows.length)
    const values = params(rows)
    return await this.retried(rows, async () => await pool.use(async (conn) => await this.run(conn, rows, sql, values, false), retryable))
  }

  /**
   * A batch with --checkpoint: its statement (and its parts, when it is cut for a bad row) and
   * its lane's positions in one transaction, sent again whole under the retry policy; what it
   * did is counted, its bad rows dead-lettered and its records settled once it has committed.
   */
  private async unit (rows: Row[], lane: number, run: () => Promise<void>, cp: NonNullable<BatchWriterOptions['checkpoint']>): Promise<void> {
    const next = new Map(this.laneCommitted[lane])
    for (const r of rows) if (r.pos !== undefined && r.pos.n > (next.get(r.pos.stream) ?? 0)) next.set(r.pos.stream, r.pos.n)
    const done = await this.retried(rows, async () => await this.o.pool.use(async (conn) => {
      const unit: Unit = { conn, counts: noCounts(), fails: [] }
      this.units[lane] = unit
      await conn.query('START TRANSACTION')
      try {
        await run()
        await cp.positions.record(conn, lane, this.o.concurrency, next)
        await conn.query('COMMIT')
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        this.units[lane] = undefined
      }
      return unit
    }, retryable))
    this.laneCommitted[lane] = next
    this.committed(done.counts)
    for (const { row, err } of done.fails) this.refuse({ code: sqlCode(err), message: errorMessage(err), id: row.id }, recordOf(row), row.line, row.file)
    for (const r of rows) if (r.ticket !== undefined) cp.ack.settle(r.ticket)
    cp.ack.save()
  }

  /** `fn` under the retry policy: the first lane to meet a lost server says so, once. */
  private async retried<T> (rows: Row[], fn: () => Promise<T>): Promise<T> {
    const { retry, ctx } = this.o
    let retrying = false
    try {
      return await withRetry(fn, retry, {
        signal: this.lanes.signal,
        retryable,
        onRetry: (err, attempt) => {
          ctx.metrics.retried()
          if (attempt > 1) return
          retrying = true
          // A lost server is worth one line, said by the first lane to meet it, not by every lane.
          if (this.retrying++ === 0 && !routine(err)) ctx.logger.warn(`${sqlCode(err)}: ${errorMessage(err)} — retrying the batch of ${rows.length} rows ${limits(retry)}`, { code: sqlCode(err), context: this.o.context })
        },
        giveUp: (err, spent) => new EspipeError(sqlCode(err), `${gaveUp(spent)}: ${errorMessage(err)}; ${this.committedRows} rows were committed — rerun the same input to complete the table`, { context: this.o.context, cause: err })
      })
    } finally {
      if (retrying) this.retrying--
    }
  }

  private async run (conn: Connection, rows: Row[], sql: string, params: SqlValue[], inTransaction: boolean): Promise<RowCounts> {
    const { statement } = this.o
    if (statement.needsExisting) return await this.replace(conn, rows, sql, params, inTransaction)
    const [result] = await conn.execute<ResultSetHeader>(sql, params)
    // Odd sizes (the last batch, split parts) would fill the server's prepared statement
    // limit, which all clients share.
    if (rows.length !== this.o.maxRows) conn.unprepare(sql)
    return statement.count(result, rows.length)
  }

  private async replace (conn: Connection, rows: Row[], sql: string, params: SqlValue[], inTransaction: boolean): Promise<RowCounts> {
    const { statement, keyOf } = this.o
    const count = async (): Promise<RowCounts> => {
      const [found] = await conn.query<RowDataPacket[]>(statement.existingSql(rows.length), rows.map((r) => r.id))
      await conn.query(sql, params)
      return statement.countReplace(rows.map((r) => r.key), found.map((f) => keyOf(String(f.id))))
    }
    // Inside a batch's transaction (--checkpoint) the lookup and the REPLACE are part of it.
    if (inTransaction) return await count()
    await conn.query('START TRANSACTION')
    try {
      const counts = await count()
      await conn.query('COMMIT')
      return counts
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => {})
      throw err
    }
  }
}

/** A batch's values, row after row, for its statement's placeholders. */
function params (rows: readonly Row[]): SqlValue[] {
  const out: SqlValue[] = []
  for (const r of rows) for (const v of r.values) out.push(v)
  return out
}

function addCounts (into: RowCounts, c: RowCounts): void {
  into.inserted += c.inserted
  into.updated += c.updated
  into.skipped += c.skipped
  into.deleted += c.deleted
  into.notFound += c.notFound
}

/** A stored JSON document as text (MariaDB's JSON is text; a driver may hand a Buffer). */
function contentText (v: unknown): string | null {
  if (v === null || v === undefined) return null
  return Buffer.isBuffer(v) ? v.toString('utf8') : String(v)
}

/** A failed row's record for the dead-letter file: the object given, else its line parsed exactly. */
function recordOf (row: { text?: string, record?: unknown }): unknown {
  if (row.record !== undefined) return row.record
  try { return parseExact(row.text ?? 'null') } catch { return row.text }
}

/** How long a batch is retried, as the first retry announces it. */
function limits (policy: RetryPolicy): string {
  const times = `up to ${policy.retries} time${policy.retries === 1 ? '' : 's'}`
  return policy.forMs === undefined ? `(${times})` : `(${times}, for at most ${Math.round(policy.forMs / 1000)} s)`
}

/** What ran out: the time (--retry-for) or the count (--retries). */
function gaveUp (spent: RetriesSpent): string {
  const seconds = Math.round(spent.elapsedMs / 1000)
  return spent.by === 'time'
    ? `gave up after ${seconds} s of retries (--retry-for)`
    : `gave up after ${spent.retries} retr${spent.retries === 1 ? 'y' : 'ies'} in ${seconds} s (--retries)`
}
