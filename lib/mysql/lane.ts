import mysql from 'mysql2/promise'
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2/promise'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError } from '../core/errors.js'
import type { StageMetrics } from '../core/stage-metrics.js'
import type { MysqlTarget } from './connection.js'
import { classifySqlError, errorRow, sqlCode, sqlErrno } from './errors.js'
import type { ConnectionPool } from './pool.js'
import type { BatchStatement, RowCounts } from './statement.js'

/** What a column gets: mysql2 sends strings and numbers as they are, null as NULL. */
export type SqlValue = string | number | null

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
}

/** What all lanes share: where rows go when they land or fail, and the run's first fatal error. */
export interface LaneShared {
  target: MysqlTarget
  /** The connections all lanes borrow, one per batch. */
  pool: ConnectionPool
  /** Lanes retrying a batch now: the first one says so, the others wait in silence. */
  retrying: number
  statement: BatchStatement
  /** The batch size the statement cache is sized for; other sizes are unprepared after use. */
  batchSize: number
  retryForMs: number
  keyOf: (id: string) => string
  context: ErrorContext
  committed: (counts: RowCounts) => void
  rowFailed: (row: Row, err: unknown) => void
  warn: (message: string, details: Record<string, unknown>) => void
  metrics: StageMetrics
  /** Set by the first fatal error: every lane stops sending. */
  error?: unknown
  signalError: (err: unknown) => void
  /** Rows committed so far, for the message of a fatal error. */
  committedRows: () => number
}

export async function openConnection (target: MysqlTarget): Promise<Connection> {
  const conn = await mysql.createConnection(target.options)
  // Strict mode for this session whatever the server's default: a value that does not
  // fit must be an error (dead-lettered), never a silent truncation.
  await conn.query("SET SESSION sql_mode = IF(@@SESSION.sql_mode = '', 'STRICT_ALL_TABLES', CONCAT(@@SESSION.sql_mode, ',STRICT_ALL_TABLES'))")
  return conn
}

/** Whether the rows are already in key order (ids that arrive sorted): cheaper to check than to sort. */
function inKeyOrder (rows: readonly Row[]): boolean {
  for (let i = 1; i < rows.length; i++) if (rows[i].key < rows[i - 1].key) return false
  return true
}

/**
 * One connection writing its batches one after another. Records are routed to lanes by
 * id, so two records with the same id are always written by the same lane, in stream
 * order, whatever the number of lanes.
 */
export class Lane {
  private tail: Promise<void> = Promise.resolve()
  private waiters: Array<() => void> = []
  private current: Row[] = []
  private currentBytes = 0
  pending = 0

  constructor (private readonly shared: LaneShared, private readonly maxRows: number, private readonly maxBytes: number) {}

  /** Adds a row to the batch being filled; sends the batch when it is full. */
  add (row: Row): void {
    if (this.current.length > 0 && this.currentBytes + row.bytes > this.maxBytes) this.flush()
    this.current.push(row)
    this.currentBytes += row.bytes
    if (this.current.length >= this.maxRows) this.flush()
  }

  flush (): void {
    if (this.current.length === 0) return
    // Key order inside a batch: lanes then take row locks in the same order (fewer deadlocks)
    // and the index is touched left to right. The sort is stable, so equal ids keep their order.
    const batch = inKeyOrder(this.current) ? this.current : this.current.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
    this.current = []
    this.currentBytes = 0
    this.pending++
    this.shared.metrics.inFlight(1)
    this.tail = this.tail
      .then(async () => {
        if (this.shared.error !== undefined) return
        const started = performance.now()
        await this.writeRows(batch)
        this.shared.metrics.observeBatch((performance.now() - started) / 1000)
      })
      .catch((err: unknown) => { this.shared.signalError(err) })
      .finally(() => {
        this.pending--
        this.shared.metrics.inFlight(-1)
        for (const w of this.waiters.splice(0)) w()
      })
  }

  /** Resolves once at most `limit` batches wait or run in this lane. */
  async below (limit: number): Promise<void> {
    while (this.pending > limit) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  async idle (): Promise<void> {
    await this.tail
  }


  /** A batch, then its parts when a row in it was refused: good rows land, bad ones fail alone. */
  private async writeRows (rows: Row[]): Promise<void> {
    if (rows.length === 0 || this.shared.error !== undefined) return
    let counts: RowCounts
    try {
      counts = await this.execute(rows)
    } catch (err) {
      if (classifySqlError(err) !== 'row') throw err
      if (rows.length === 1) { this.shared.rowFailed(rows[0], err); return }
      // MySQL often names the row ("at row 37"): cut there instead of bisecting blindly.
      const at = errorRow(err)
      const parts = at !== undefined && at >= 1 && at <= rows.length
        ? [rows.slice(0, at - 1), rows.slice(at - 1, at), rows.slice(at)]
        : [rows.slice(0, rows.length >> 1), rows.slice(rows.length >> 1)]
      // In order: a later row with the same id must still be written after an earlier one.
      for (const part of parts) await this.writeRows(part)
      return
    }
    this.shared.committed(counts)
  }

  private async replace (conn: Connection, rows: Row[], sql: string, params: SqlValue[]): Promise<RowCounts> {
    const { statement } = this.shared
    await conn.query('START TRANSACTION')
    try {
      const [found] = await conn.query<RowDataPacket[]>(statement.existingSql(rows.length), rows.map((r) => r.id))
      await conn.query(sql, params)
      await conn.query('COMMIT')
      return statement.countReplace(rows.map((r) => r.key), found.map((f) => this.shared.keyOf(String(f.id))))
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => {})
      throw err
    }
  }

  /** One statement (one transaction: autocommit), retried with backoff while the server is away. */
  private async execute (rows: Row[]): Promise<RowCounts> {
    const { statement, retryForMs } = this.shared
    const sql = statement.sql(rows.length)
    const params: SqlValue[] = []
    for (const r of rows) for (const v of r.values) params.push(v)
    const { pool } = this.shared
    let firstFailure: number | undefined
    try {
      for (let attempt = 0; ; attempt++) {
        let conn: Connection | undefined
        try {
          conn = await pool.acquire()
          let counts: RowCounts
          if (statement.needsExisting) {
            counts = await this.replace(conn, rows, sql, params)
          } else {
            const [result] = await conn.execute<ResultSetHeader>(sql, params)
            // Odd sizes (the last batch, split parts) would fill the server's prepared
            // statement limit, which all clients share.
            if (rows.length !== this.shared.batchSize) conn.unprepare(sql)
            counts = statement.count(result, rows.length)
          }
          pool.release(conn)
          return counts
        } catch (err) {
          const retry = classifySqlError(err) === 'retry'
          if (conn !== undefined) {
            if (retry) pool.discard(conn)
            else pool.release(conn)
          }
          if (!retry) throw err
          const now = Date.now()
          const code = sqlCode(err)
          const errno = sqlErrno(err)
          if (firstFailure === undefined) {
            firstFailure = now
            // Deadlocks and lock waits are routine under concurrency; a lost server is worth
            // one line, said by the first lane to meet it, not by every lane.
            if (this.shared.retrying++ === 0 && errno !== 1213 && errno !== 1205) this.shared.warn(`${code}: ${(err as Error).message} — retrying the batch of ${rows.length} rows for up to ${Math.round(retryForMs / 1000)} s`, { code, context: this.shared.context })
          }
          if (now - firstFailure >= retryForMs) {
            throw new EspipeError(code, `gave up after ${Math.round((now - firstFailure) / 1000)} s of retries (--retry-for): ${(err as Error).message}; ${this.shared.committedRows()} rows were committed — rerun the same input to complete the table`, { context: this.shared.context, cause: err })
          }
          const delay = Math.min(100 * 2 ** attempt, 2000) * (0.75 + Math.random() / 2)
          this.shared.metrics.retried()
          await sleep(delay)
          if (this.shared.error !== undefined) throw this.shared.error
        }
      }
    } finally {
      if (firstFailure !== undefined) this.shared.retrying--
    }
  }
}
