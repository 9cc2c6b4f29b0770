import mysql from 'mysql2/promise'
import type { Connection, RowDataPacket } from 'mysql2/promise'
import type { Connection as CoreConnection } from 'mysql2'
import { Readable } from 'node:stream'
import { checkStateFileWritable } from '../core/checkpoint.js'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError, UsageError, errorMessage } from '../core/errors.js'
import type { RetryPolicy } from '../core/retry.js'
import { DEFAULT_RETRY, withRetry } from '../core/retry.js'
import type { SliceSpec } from '../core/slice.js'
import { checkSlicing } from '../core/slice.js'
import type { ReadState } from './checkpoint.js'
import { ReadCheckpoint, loadReadState } from './checkpoint.js'
import { ValueError, pageable } from './values.js'
import type { MysqlConnectionSettings, MysqlTarget } from './connection.js'
import { describeTarget, explainConnectFailure, resolveConnection, targetContext } from './connection.js'
import { classifySqlError, sqlCode } from './errors.js'
import type { TableName } from './identifiers.js'
import { parseTableName, quoteServerName } from './identifiers.js'
import type { OrderColumn, PageQuery, SliceRange } from './paging.js'
import { describeRange, pageSql, rangeConditions, sliceRanges } from './paging.js'
import { checkSelect } from './query.js'
import { LineBuffer } from './line-buffer.js'
import { RowFormat } from './rows.js'
import type { ReadSource } from './source.js'
import { describeQuery, describeTable } from './source.js'
import type { TimeFormatter } from './time.js'
import { timeFormatter } from './time.js'

export const MYSQL_READ_COUNTERS: Array<string | [string, string]> = ['read', 'emitted', 'pages', 'retries']

export interface MysqlReadOptions {
  connection: MysqlConnectionSettings
  /** `table` or `database.table` (this or `query`). */
  table?: string
  /** One SELECT (this or `table`). */
  query?: string
  /** Only these columns in _source. */
  columns?: readonly string[]
  /** An SQL condition every row must meet. */
  where?: string
  /** The columns that make `_id` (default: the table's key); for a query, also its paging key. */
  idColumns?: readonly string[]
  /** A JSON column whose text is `_source`, as stored (the inverse of mysql-write's layout). */
  contentColumn?: string
  /** Incremental: rows ordered and resumed by (this column, key). */
  sinceColumn?: string
  /** Cursor file: saved as lines are written, resumed from when it exists. */
  checkpoint?: string
  /** The whole read in one consistent-snapshot transaction. */
  consistent?: boolean
  /** Read N key ranges in parallel, one connection each. */
  slices?: number
  /** Read only key range `id` of `max` (spread a read over processes). */
  slice?: SliceSpec
  /** Rows per page (default 10000). */
  batchSize?: number
  /** Stop after this many records. */
  limit?: number
  /** Time zone of DATETIME/TIMESTAMP output (default UTC). */
  timezone?: string
  /**
   * Emit NDJSON text (whole lines, `\n`-ended, in chunks of up to 64 KiB) instead of one string
   * per record: what the binary writes to stdout, without a stream step per record.
   */
  ndjson?: boolean
  /**
   * Read each row from its packet's bytes (the default, and the fast way); false takes mysql2's
   * own rows, one Buffer per value, as happens by itself should mysql2 stop using the row
   * parser it is given.
   */
  packetRows?: boolean
  retry?: RetryPolicy
  context?: StageContext
}

/** One key range being read, on its own connection. */
interface SliceReader {
  index: number
  range: SliceRange
  query: PageQuery
  conn?: Connection
  /** Cursor ([since, key…]) of the last row handed downstream. */
  after?: string[]
  /** That row's bytes and its cursor values' spans, when its cursor is worked out only when needed (no checkpoint, a key known unique). */
  lastSrc?: Buffer
  lastSpans: Int32Array
  running: boolean
  paused: boolean
  done: boolean
  /** The connection failed while idle: the next page must not be sent on it. */
  lost?: Error
  /** Fails the page in flight: mysql2 tells a lost connection to the connection, not to an event-driven query. */
  abort?: (err: Error) => void
}

/** The callback connection under a promise one: its query() streams rows as events. */
function core (conn: Connection): CoreConnection {
  return (conn as unknown as { connection: CoreConnection }).connection
}

/** mysql2 options every reading connection adds: exact numbers and dates as the server's text, JSON as text. */
const READ_OPTIONS = { supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, jsonStrings: true, decimalNumbers: false }

/**
 * A table or a query as a stream of NDJSON lines, one per row. Pages are read by key, each as
 * a short statement of its own; rows stream in as the server sends them and the connection is
 * paused whenever downstream is full, so memory stays flat however big the table and however
 * slow the consumer. A lost connection is retried from the last row handed on.
 */
export class MysqlReader extends Readable {
  readonly checkpoint: ReadCheckpoint | undefined
  private readonly ctx: StageContext
  private readonly o: MysqlReadOptions
  private readonly target: MysqlTarget
  private readonly table: TableName | undefined
  private readonly query: string | undefined
  private readonly time: TimeFormatter
  private readonly batchSize: number
  private readonly retry: RetryPolicy
  private readonly context: ErrorContext
  private readonly label: string
  private readonly zeroDates = new Set<string>()
  private source: ReadSource | undefined
  private format: RowFormat | undefined
  private slices: SliceReader[] = []
  private remaining: number
  private started = false
  private ready = false
  private demand = false
  private ending = false
  private reached = false
  private paged = false
  private uniqueChecked = false
  /** Each row's cursor is needed (checkpoint, uniqueness check), not only the page's last. */
  private rowCursors = false
  private releasing: Promise<void> | undefined
  /** Lines being written: pushed as chunks of whole lines (ndjson) or one by one. */
  private readonly out = new LineBuffer()
  private flushQueued = false
  private eof = false
  /** Counted locally and added to the stats in bulk: a Map update per row is measurable. */
  private readCount = 0
  private emittedCount = 0

  constructor (opts: MysqlReadOptions) {
    super(opts.ndjson === true ? { highWaterMark: 256 * 1024 } : { objectMode: true, highWaterMark: 1024 })
    this.o = opts
    this.ctx = opts.context ?? createContext({ tool: 'mysql-read', counters: MYSQL_READ_COUNTERS })
    if (opts.table !== undefined && opts.query !== undefined) throw new UsageError('--table and --query cannot be combined')
    if (opts.table === undefined && opts.query === undefined) throw new UsageError('missing required option --table (or --query)')
    this.table = opts.table === undefined ? undefined : parseTableName(opts.table)
    this.query = opts.query === undefined ? undefined : checkSelect(opts.query)
    this.batchSize = opts.batchSize ?? 10_000
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new UsageError(`invalid value for --batch-size: ${this.batchSize}`)
    checkSlicing(opts.slices, opts.slice)
    const sliced = (opts.slices ?? 1) > 1 || (opts.slice?.max ?? 1) > 1
    if (opts.consistent === true && sliced) throw new UsageError('--consistent reads through one connection in one snapshot; it cannot be combined with slices (each would see its own snapshot)')
    if (opts.contentColumn !== undefined && (opts.columns?.length ?? 0) > 0) throw new UsageError('--content-column and --columns cannot be combined (_source is the content column)')
    if (this.query !== undefined && (opts.idColumns?.length ?? 0) === 0) {
      const needs = opts.sinceColumn !== undefined ? '--since-column' : opts.checkpoint !== undefined ? '--checkpoint' : sliced ? 'slicing' : undefined
      if (needs !== undefined) throw new UsageError(`with --query, ${needs} needs --id-column naming the query's unique, NOT NULL key (it orders and resumes the read)`)
    }
    this.time = timeFormatter(opts.timezone ?? 'UTC')
    this.retry = opts.retry ?? DEFAULT_RETRY
    this.remaining = opts.limit ?? Infinity
    this.target = resolveConnection(opts.connection)
    this.ctx.logger.masker.add(this.target.password)
    this.label = this.table === undefined ? 'query' : this.table.database === undefined ? this.table.table : `${this.table.database}.${this.table.table}`
    this.context = targetContext(this.target, this.table === undefined ? undefined : this.label)
    if (opts.checkpoint !== undefined) {
      checkStateFileWritable(opts.checkpoint)
      this.checkpoint = new ReadCheckpoint(opts.checkpoint, { version: 1, tool: 'mysql-read', read: '', slices: [], emitted: 0, complete: false })
    }
    this.ctx.onCleanup(async () => await this.release())
    if (this.ctx.signal.aborted) this.finish(false)
    else this.ctx.signal.addEventListener('abort', () => this.finish(false), { once: true })
  }

  override _read (): void {
    this.demand = true
    if (!this.started) {
      this.started = true
      this.start().then(() => { this.ready = true; this.pump() }, (err: unknown) => this.fail(err))
      return
    }
    this.pump()
  }

  /** A connection set up for reading: UTC session (TIMESTAMP text is UTC), read-only, patient with slow consumers. */
  private async connect (): Promise<Connection> {
    let conn: Connection
    try {
      conn = await mysql.createConnection({ ...this.target.options, ...READ_OPTIONS })
    } catch (err) {
      // Reconnecting after a lost connection: the server may be restarting; retried as the loss.
      if (this.reached) throw err
      throw new EspipeError(sqlCode(err), `cannot connect to MySQL at ${describeTarget(this.target)}: ${await explainConnectFailure(err, this.target)}`, { context: this.context, cause: err })
    }
    try {
      // A paused read leaves the server waiting to send; its default net_write_timeout (60 s)
      // would drop the connection under a consumer that stalls for a minute.
      await conn.query("SET time_zone = '+00:00', net_write_timeout = 86400")
      await conn.query('SET SESSION TRANSACTION READ ONLY')
    } catch (err) {
      conn.destroy()
      throw err
    }
    // Opened while the read was being closed (a slice's first page, as --limit was reached): no one would close it.
    if (this.ending) {
      conn.destroy()
      throw new EspipeError('ECLOSED', 'the read was closed while connecting')
    }
    this.reached = true
    // A connection that fails is told so as an event, also when idle or in the middle of an
    // event-driven query (whose own events say nothing then): note it on the slice that owns it.
    core(conn).on('error', (err: Error) => {
      const s = this.slices.find((x) => x.conn === conn)
      if (s === undefined) return
      s.lost = err
      s.abort?.(err)
    })
    return conn
  }

  private readKey (source: ReadSource, order: readonly OrderColumn[], sliceCount: number): string {
    return JSON.stringify({ source: this.table === undefined ? this.query : source.label, where: this.o.where ?? null, order: order.map((c) => c.name), slices: sliceCount, slice: this.o.slice?.id ?? null })
  }

  private async start (): Promise<void> {
    const first = await this.connect()
    this.slices = [{ index: 0, range: {}, query: { select: '', where: [], order: [] }, conn: first, running: false, paused: false, done: false, lastSpans: new Int32Array(0) }]
    const o = this.o
    const sliced = (o.slices ?? 1) > 1 || o.slice !== undefined
    const pageQuery = o.sinceColumn !== undefined || o.checkpoint !== undefined || sliced
    const describe = { columns: o.columns, idColumns: o.idColumns, sinceColumn: o.sinceColumn, contentColumn: o.contentColumn, pageQuery, filtered: o.where !== undefined, context: this.context }
    let source: ReadSource
    try {
      source = this.table !== undefined ? await describeTable(first, this.table, describe) : await describeQuery(first, this.query as string, describe)
    } catch (err) {
      if (err instanceof EspipeError) throw err
      throw new EspipeError(sqlCode(err), `${errorMessage(err)} (MySQL at ${describeTarget(this.target)}, ${this.label})`, { context: this.context, cause: err })
    }
    this.source = source
    for (const f of source.roundedFloats ?? []) {
      this.ctx.logger.warn(`column ${f} is a FLOAT: in a query's result the server rounds it to 6 significant digits; select CAST(${f} AS DOUBLE) (or read the table, which does) to keep every digit`, { column: f })
    }
    const byName = new Map(source.columns.map((c) => [c.name.toLowerCase(), c]))
    const col = (name: string): OrderColumn => { const c = byName.get(name.toLowerCase()); return { name: c?.name ?? name, kind: c?.kind ?? 'other' } }
    const since = o.sinceColumn === undefined ? undefined : byName.get(o.sinceColumn.toLowerCase())
    const key = source.key?.map(col)
    const fatal = (code: string, message: string): EspipeError => new EspipeError(code, message, { context: this.context })
    if (key === undefined) {
      const why = o.sinceColumn !== undefined ? '--since-column needs' : o.checkpoint !== undefined ? '--checkpoint needs' : sliced ? 'slicing needs' : undefined
      if (why !== undefined) throw fatal('ER_NO_KEY', `${why} a key to order and resume the read, and ${source.label} has no primary key or unique index on NOT NULL columns; give --id-column naming columns that are unique and NOT NULL`)
    }
    for (const k of key ?? []) {
      if (!pageable(k.kind)) throw fatal('ER_KEY_TYPE', `${source.label} cannot be paged by ${k.name} (a ${k.kind} column: its ORDER BY and > disagree); give --id-column naming other columns`)
    }
    if (since !== undefined && !pageable(since.kind)) throw fatal('ER_KEY_TYPE', `--since-column ${since.name} is a ${since.kind} column; it must be a number, a date or time, or a string`)
    this.paged = key !== undefined
    const order: OrderColumn[] = [...(since === undefined ? [] : [{ name: since.name, kind: since.kind }]), ...(key ?? [])]
    const where: string[] = o.where === undefined ? [] : [`(${o.where})`]
    if (o.where !== undefined) {
      // A mistake in --where is said as one, before any row.
      try {
        await first.query(`${source.select} WHERE (${o.where}) LIMIT 0`)
      } catch (err) {
        throw new EspipeError(sqlCode(err), `invalid --where: ${errorMessage(err)}`, { context: this.context, cause: err })
      }
    }
    if (since !== undefined && !since.notNull) {
      where.push(`${quoteServerName(since.name)} IS NOT NULL`)
      await this.warnNullSince(first, source, since.name, o.where)
    }
    this.format = new RowFormat(source.columns, {
      index: source.index,
      idColumns: o.idColumns !== undefined && o.idColumns.length > 0 ? o.idColumns.map((n) => col(n).name) : source.key,
      contentColumn: o.contentColumn === undefined ? undefined : col(o.contentColumn).name,
      cursorColumns: order.map((c) => c.name),
      time: this.time,
      zeroDate: (column) => {
        if (this.zeroDates.has(column)) return
        this.zeroDates.add(column)
        this.ctx.logger.warn(`column ${column} holds a zero date (0000-00-00), which ISO-8601 cannot name: written as the server's text`, { column })
      }
    })
    if (!this.paged) {
      this.ctx.logger.start(this.table !== undefined
        ? `reading ${source.label} from ${describeTarget(this.target)} as one streamed query: it has no primary key or unique index on NOT NULL columns to page by${(o.idColumns?.length ?? 0) > 0 ? '' : ', so records have no _id (give --id-column to make one)'}`
        : `reading the query from ${describeTarget(this.target)} as one streamed statement${(o.idColumns?.length ?? 0) > 0 ? '' : '; records have no _id (give --id-column to make one)'}`, { ...this.context })
      this.slices[0].query = { select: where.length === 0 ? source.select : `${source.select} WHERE ${where.join(' AND ')}`, where: [], order: [] }
      if (o.consistent === true) await this.beginSnapshot(first)
      return
    }
    const fromSql = source.select.slice(source.select.indexOf(' FROM ') + 6)
    const keyCols = key as OrderColumn[]
    const sliceCount = o.slice?.max ?? o.slices ?? 1
    const readKey = this.readKey(source, order, sliceCount)
    let state: ReadState | undefined
    if (this.checkpoint !== undefined) {
      state = loadReadState(this.checkpoint.file)
      if (state !== undefined && state.read !== readKey) {
        throw new EspipeError('ECHECKPOINT', `checkpoint ${this.checkpoint.file} belongs to a different read (source, --where, --since-column, key or slicing differ); use another file or delete it`, { context: { file: this.checkpoint.file } })
      }
    }
    let ranges: SliceRange[]
    if (state !== undefined) {
      ranges = state.slices.map((s) => s.range)
      const written = state.emitted
      this.ctx.logger.info(state.complete
        ? `checkpoint ${this.checkpoint?.file ?? ''}: reading what changed after the last run (${written} records written before)`
        : `resuming from checkpoint ${this.checkpoint?.file ?? ''} (${written} records written before)`)
    } else {
      const all = await sliceRanges(first, fromSql, where, keyCols, sliceCount)
      ranges = o.slice === undefined ? all : [all[o.slice.id]]
      state = { version: 1, tool: 'mysql-read', read: readKey, slices: ranges.map((range) => ({ range })), emitted: 0, complete: false }
    }
    state.complete = false
    if (this.checkpoint !== undefined) {
      Object.assign(this.checkpoint.current, state)
      this.checkpoint.save()
    }
    const pagedBy = `${o.sinceColumn === undefined ? '' : `${order[0].name} then `}${source.keyFrom ?? 'key'} (${keyCols.map((k) => k.name).join(', ')})`
    this.ctx.logger.start(`reading ${source.label} from ${describeTarget(this.target)}, ${this.batchSize} rows a page, in order of ${pagedBy}`, { ...this.context })
    const names = o.slice !== undefined ? [o.slice.id] : ranges.map((_r, i) => i)
    if (sliceCount > 1) ranges.forEach((r, i) => this.ctx.logger.info(`slice ${names[i]}/${sliceCount}: ${describeRange(keyCols, r)}`))
    this.slices = ranges.map((range, i) => ({
      index: i,
      range,
      query: { select: source.select, where: [...where, ...rangeConditions(keyCols, range)], order },
      conn: i === 0 ? first : undefined,
      after: state?.slices[i]?.after,
      running: false,
      paused: false,
      done: range.empty === true,
      lastSpans: new Int32Array(2 * order.length)
    }))
    this.uniqueChecked = source.keyFrom !== '--id-column'
    this.rowCursors = this.checkpoint !== undefined || !this.uniqueChecked
    if (o.consistent === true) await this.beginSnapshot(first)
  }

  private async beginSnapshot (conn: Connection): Promise<void> {
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
  }

  /** Rows whose --since-column is NULL have no place in the order and are not read: say how many. */
  private async warnNullSince (conn: Connection, source: ReadSource, since: string, where: string | undefined): Promise<void> {
    const fromSql = source.select.slice(source.select.indexOf(' FROM ') + 6)
    const [[row]] = await conn.query<RowDataPacket[]>({ sql: `SELECT COUNT(*) FROM ${fromSql} WHERE ${quoteServerName(since)} IS NULL${where === undefined ? '' : ` AND (${where})`}`, rowsAsArray: true })
    const n = Number((row as unknown as unknown[])[0])
    if (n > 0) this.ctx.logger.warn(`${n} rows of ${source.label} have NULL in ${since} and are not read (an incremental read orders rows by ${since}); make it NOT NULL, or read them with --where '${since} IS NULL' without --since-column`, { ...this.context, rows: n })
  }

  private pump (): void {
    if (this.ending || !this.ready || this.destroyed) return
    if (this.demand) {
      for (const s of this.slices) {
        if (s.paused) {
          s.paused = false
          s.conn?.resume()
        }
      }
    }
    if (this.ending) return
    if (this.remaining <= 0 || this.slices.every((s) => s.done && !s.running)) {
      this.finish(this.remaining > 0)
      return
    }
    if (!this.demand) return
    for (const s of this.slices) {
      if (!s.done && !s.running) this.runPage(s)
    }
  }

  private retryable (err: unknown): boolean {
    return this.paged && this.o.consistent !== true && this.reached && !(err instanceof EspipeError) && classifySqlError(err) === 'retry'
  }

  private runPage (s: SliceReader): void {
    s.running = true
    const limit = Math.min(this.batchSize, this.remaining)
    withRetry(async () => {
      this.settle(s)
      s.conn ??= await this.connect()
      return await this.page(s, this.paged ? pageSql(s.query, s.after, limit) : s.query.select)
    }, this.retry, {
      signal: this.ctx.signal,
      retryable: (err) => this.retryable(err),
      onRetry: (err, attempt, wait) => {
        s.conn?.destroy()
        s.conn = undefined
        s.lost = undefined
        s.paused = false
        this.ctx.stats.add('retries')
        this.ctx.metrics.retried()
        this.ctx.logger.warn(`${errorMessage(err)} (MySQL at ${describeTarget(this.target)}); resuming after the last row read, retry ${attempt}/${this.retry.retries} in ${(wait / 1000).toFixed(1)} s`, { code: sqlCode(err) })
      }
    }).then((rows) => {
      s.running = false
      if (!this.flush()) this.demand = false
      this.ctx.stats.add('pages')
      if (!this.paged || rows < limit) s.done = true
      this.pump()
    }, (err: unknown) => {
      s.running = false
      if (this.ending) return
      if (err instanceof EspipeError) return this.fail(err)
      const lost = classifySqlError(err) === 'retry'
      const how = !lost ? '' : !this.paged ? '; a read without a key cannot resume mid-way' : this.o.consistent === true ? '; a --consistent read cannot resume in another snapshot' : ''
      this.fail(new EspipeError(sqlCode(err), `${errorMessage(err)} (MySQL at ${describeTarget(this.target)}, ${this.source?.label ?? this.label}${how})`, { context: this.context, cause: err }))
    })
  }

  /** Works out the cursor of the last row handed on, if it was left for later. */
  private settle (s: SliceReader): void {
    if (s.lastSrc === undefined) return
    const c = (this.format as RowFormat).savedCursor(s.lastSrc, s.lastSpans)
    if (c === undefined) throw new EspipeError('ER_NULL_KEY', `a cursor column is NULL in a row of ${this.source?.label ?? this.label}: NULLs have no place in the order that pages the read`, { context: this.context })
    s.after = c
    s.lastSrc = undefined
  }

  /**
   * Streams one statement's rows downstream; resolves with how many came. Each row packet goes
   * to handleRow as the bytes the server sent (mysql2's row parser is replaced for this query:
   * building a JavaScript value per column, only to write it out again, cost more than all the
   * rest). Should mysql2 stop using the parser it is given, its own rows still arrive, one Buffer
   * per value (typeCast: false), and are handled the same way.
   */
  private async page (s: SliceReader, sql: string): Promise<number> {
    const conn = s.conn as Connection
    if (s.lost !== undefined) throw s.lost
    const fmt = this.format as RowFormat
    return await new Promise<number>((resolve, reject) => {
      let rows = 0
      let settled = false
      s.abort = (err) => { if (!settled) { settled = true; reject(err) } }
      const row = (src: Buffer, off: number): void => {
        rows++
        if (!this.handleRow(s, src, off) && !s.paused && !this.ending) {
          this.countRows()
          s.paused = true
          conn.pause()
        }
      }
      const parser = { next: (packet: { buffer: Buffer, offset: number }): undefined => { row(packet.buffer, packet.offset) } }
      const q = core(conn).query({ sql, rowsAsArray: true, typeCast: false })
      if (this.o.packetRows !== false) Object.defineProperty(q, '_rowParser', { configurable: true, get: () => parser, set: () => {} })
      q.on('result', (values: Array<Buffer | null> | undefined) => {
        if (values !== undefined) row(fmt.joinValues(values), -1)
      })
      q.on('error', (err: Error) => { if (!settled) { settled = true; reject(err) } })
      q.on('end', () => { if (!settled) { settled = true; resolve(rows) } })
    })
  }

  /** One row (its values' bytes from `off`, or already read into spans if -1): its line downstream, or a failed record; its cursor noted. Returns whether to go on. */
  private handleRow (s: SliceReader, src: Buffer, off: number): boolean {
    if (this.ending) return false
    const fmt = this.format as RowFormat
    this.readCount++
    if (off >= 0) fmt.readRow(src, off)
    let cursor: string[] = []
    if (this.paged && !this.rowCursors) {
      s.lastSrc = src
      fmt.saveCursor(s.lastSpans)
    } else if (this.paged) {
      const c = fmt.cursor(src)
      if (c === undefined) {
        this.fail(new EspipeError('ER_NULL_KEY', `column ${fmt.nullCursorColumn() ?? ''} is NULL in a row of ${this.source?.label ?? this.label}: NULLs have no place in the order that pages the read; give --id-column naming NOT NULL columns`, { context: this.context }))
        return false
      }
      if (!this.uniqueChecked && s.after !== undefined && c.every((v, i) => v === s.after?.[i])) {
        this.fail(new EspipeError('ER_KEY_NOT_UNIQUE', `--id-column ${(this.o.idColumns ?? []).join(',')} is not unique in ${this.source?.label ?? this.label} (two rows have ${c.join(',')}): paging by it would skip rows; name unique columns`, { context: this.context }))
        return false
      }
      cursor = c
      s.after = c
    }
    const out = this.out
    let more = true
    const moved = out.reserve(fmt.maxBytes())
    if (moved !== undefined && !this.eof) more = this.push(moved)
    let written = true
    try {
      fmt.write(out, src)
    } catch (err) {
      out.rollback()
      if (!(err instanceof ValueError)) { this.fail(err); return false }
      written = false
      let id: string | undefined
      try { id = fmt.id(src) } catch {}
      try {
        this.ctx.failures.fail({ record: { ...(this.source?.index === undefined ? {} : { _index: this.source.index }), ...(id === undefined ? {} : { _id: id }), _source: fmt.plain(src) }, code: err.code, message: err.message, context: { ...this.context, _id: id, column: err.column } })
      } catch (e) {
        this.fail(e)
        return false
      }
    }
    this.checkpoint?.handed(s.index, cursor, written ? 1 : 0)
    if (!written) return more
    this.emittedCount++
    this.remaining--
    if (this.o.ndjson !== true) {
      more = this.push(out.takeLine()) && more
    } else if (out.size >= 65_536) {
      more = this.flush() && more
    } else if (!this.flushQueued) {
      // The lines of one socket read go out as one chunk, once that read is handled.
      this.flushQueued = true
      queueMicrotask(() => {
        this.flushQueued = false
        if (!this.flush()) this.demand = false
      })
    }
    if (this.remaining <= 0) {
      this.finish(false)
      return false
    }
    if (!more) this.demand = false
    return more
  }

  /** Text mode: pushes the lines gathered so far; returns whether the stream wants more. */
  private flush (): boolean {
    this.countRows()
    if (this.eof) return true
    const chunk = this.out.take()
    return chunk === undefined ? true : this.push(chunk)
  }

  private countRows (): void {
    if (this.readCount > 0) this.ctx.stats.add('read', this.readCount)
    if (this.emittedCount > 0) this.ctx.stats.add('emitted', this.emittedCount)
    this.readCount = 0
    this.emittedCount = 0
  }

  private fail (err: unknown): void {
    if (this.ending) return
    if (!this.ctx.endOnFatal) {
      this.ending = true
      this.release().finally(() => this.destroy(err as Error))
      return
    }
    this.ctx.fatal ??= err
    this.finish(false)
  }

  /** Ends the stream cleanly (end of rows, --limit, a signal or a fatal error): close, then end. */
  private finish (complete: boolean): void {
    if (this.ending) return
    this.ending = true
    this.checkpoint?.finish(complete && this.ctx.fatal === undefined)
    this.release().finally(() => {
      this.flush()
      this.eof = true
      this.push(null)
    })
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.ending = true
    this.eof = true
    this.release().finally(() => cb(err))
  }

  /** Closes every connection once: politely when idle, at once when a statement is still sending. */
  async release (): Promise<void> {
    this.releasing ??= (async () => {
      await Promise.allSettled(this.slices.map(async (s) => {
        const conn = s.conn
        s.conn = undefined
        if (conn === undefined) return
        if (s.running) { conn.destroy(); return }
        if (this.o.consistent === true) await conn.query('COMMIT').catch(() => undefined)
        await conn.end().catch(() => conn.destroy())
      }))
    })()
    await this.releasing
  }
}

/** A readable stream of a table's (or a query's) rows as NDJSON lines (strings); see MysqlReader. */
export function mysqlRead (opts: MysqlReadOptions): MysqlReader {
  return new MysqlReader(opts)
}
