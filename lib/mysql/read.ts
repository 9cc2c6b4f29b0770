import mysql from 'mysql2/promise'
import type { Connection, RowDataPacket } from 'mysql2/promise'
import type { Connection as CoreConnection } from 'mysql2'
import type { Position, ReaderCheckpoint, ReaderPart } from '../core/checkpoint.js'
import type { StageContext } from '../core/context.js'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError, UsageError, errorMessage } from '../core/errors.js'
import type { PageHost, PageSource, ReadOptions, SourceStream } from '../core/paged-source.js'
import { positionMember } from '../core/position.js'
import type { PagedSource } from '../core/paged-source.js'
import { pagedRead } from '../core/paged-source.js'
import type { SliceSpec } from '../core/slice.js'
import { checkSlicing } from '../core/slice.js'
import { ValueError, pageable } from './values.js'
import type { MysqlConnectionSettings, MysqlTarget } from './connection.js'
import { describeTarget, explainConnectFailure, resolveConnection, targetContext } from './connection.js'
import { classifySqlError, sqlCode } from './errors.js'
import type { TableName } from './identifiers.js'
import { parseTableName, quoteServerName } from './identifiers.js'
import type { OrderColumn, PageQuery, SliceRange } from './paging.js'
import { describeRange, pageSql, rangeConditions, sliceRanges } from './paging.js'
import { checkSelect, quotingOf, whereCondition } from './query.js'
import { LineBuffer } from './line-buffer.js'
import { RowFormat } from './rows.js'
import type { ReadSource } from './source.js'
import { describeQuery, describeTable } from './source.js'
import type { TimeFormatter } from './time.js'
import { timeFormatter, zeroDateWarner } from './time.js'
import type { FollowOptions } from '../core/follow.js'
import { DEFAULT_INTERVAL_MS, Rounds, pause } from '../core/follow.js'
import { BinlogSource } from './binlog-read.js'

export const MYSQL_READ_COUNTERS: Array<string | [string, string]> = ['read', 'emitted', 'pages', 'retries']

export interface MysqlReadOptions extends ReadOptions, FollowOptions {
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
  /**
   * Soft deletes: a row whose column is set (a flag not 0, a time not NULL; or that meets
   * `deletedWhen`, an SQL condition) is emitted as `{"_index","_id","_op":"delete"}`, in its place.
   */
  deletedColumn?: string
  deletedWhen?: string
  /** The whole read in one consistent-snapshot transaction. */
  consistent?: boolean
  /** Read N key ranges in parallel, one connection each. */
  slices?: number
  /** Read only key range `id` of `max` (spread a read over processes). */
  slice?: SliceSpec
  /** Rows per page (default 10000). */
  batchSize?: number
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
  /**
   * Change data capture: a consistent snapshot of the tables (`table`: one or more, comma
   * separated; none: every table of the database), then every row change from the binary log
   * (binlog-read.ts).
   */
  binlog?: boolean
  /** With `binlog`: stop at the end the binary log has when the read starts. */
  untilNow?: boolean
  /** With `binlog` and a checkpoint: copy the tables again and stream from the new snapshot. */
  resnapshot?: boolean
  /** With `binlog`: the replica server id the dump connection gives (unique among the server's replicas). */
  serverId?: number
}

/** The callback connection under a promise one: its query() streams rows as events. */
function core (conn: Connection): CoreConnection {
  return (conn as unknown as { connection: CoreConnection }).connection
}

/** mysql2 options every reading connection adds: exact numbers and dates as the server's text, JSON as text. */
const READ_OPTIONS = { supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, jsonStrings: true, decimalNumbers: false }

/** One key range being read, on its own connection. */
class MysqlSlice implements SourceStream {
  conn: Connection | undefined
  /** Cursor ([since, key…]) of the last row handed downstream. */
  after: string[] | undefined
  /** The cursor the page being read starts after, for the message should it not advance. */
  private pageAfter: string[] | undefined
  /** That row's bytes and its cursor values' spans, when its cursor is worked out only when needed (no checkpoint, a key known unique). */
  lastSrc: Buffer | undefined
  readonly lastSpans: Int32Array
  paused = false
  done: boolean
  running = false
  /** The connection failed while idle: the next page must not be sent on it. */
  lost: Error | undefined
  /** Fails the page in flight: mysql2 tells a lost connection to the connection, not to an event-driven query. */
  abort: ((err: Error) => void) | undefined
  /** This slice's lines waiting to go downstream, and the positions of their rows. */
  readonly out = new LineBuffer()
  private positions: Position[] = []
  private flushQueued = false
  private readCount = 0
  /** With --follow: the round read to its end; the next page waits --interval first. */
  private roundOver = false

  constructor (private readonly src: MysqlSource, readonly id: number, readonly range: SliceRange, readonly query: PageQuery, conn: Connection | undefined, after: string[] | undefined) {
    this.conn = conn
    this.after = after
    this.done = range.empty === true
    this.lastSpans = new Int32Array(2 * query.order.length)
  }

  async next (host: PageHost): Promise<void> {
    const src = this.src
    if (this.roundOver) {
      await pause(src.intervalMs, host.signal)
      if (host.stopped) return
      this.roundOver = false
    }
    const limit = Math.min(src.batchSize, src.remaining)
    this.running = true
    let rows: number
    try {
      rows = await host.retry(async () => {
        this.settle()
        this.conn ??= await src.connect()
        this.pageAfter = this.after
        return await this.page(host, src.paged ? pageSql(this.query, this.after, limit) : this.query.select)
      }, (err) => src.retryable(err), (err) => `${errorMessage(err)} (MySQL at ${describeTarget(src.target)}); resuming after the last row read`, () => {
        this.conn?.destroy()
        this.conn = undefined
        this.lost = undefined
        this.paused = false
      })
    } catch (err) {
      if (err instanceof EspipeError || host.stopped) throw err
      throw src.pageFailure(err)
    } finally {
      this.running = false
    }
    this.flush(host)
    src.rounds?.handed(rows, src.sinceMs(this.after))
    if (!src.paged || rows < limit) {
      src.rounds?.ended()
      // Followed, a round's end is not the stream's: each page is a statement of its own, so
      // the next round reads the rows committed since, after the last (since, key) read.
      if (src.follows && !host.stopped) {
        this.roundOver = true
        return
      }
      this.done = true
      host.ended(this.id)
    }
  }

  /** Works out the cursor of the last row handed on, if it was left for later. */
  private settle (): void {
    if (this.lastSrc === undefined) return
    const c = this.src.format.savedCursor(this.lastSrc, this.lastSpans)
    if (c === undefined) throw new EspipeError('ER_NULL_KEY', `a cursor column is NULL in a row of ${this.src.label}: NULLs have no place in the order that pages the read`, { context: this.src.context })
    this.after = c
    this.lastSrc = undefined
  }

  /**
   * Streams one statement's rows downstream; resolves with how many came. Each row packet goes
   * to handleRow as the bytes the server sent (mysql2's row parser is replaced for this query:
   * building a JavaScript value per column, only to write it out again, cost more than all the
   * rest). Should mysql2 stop using the parser it is given, its own rows still arrive, one Buffer
   * per value (typeCast: false), and are handled the same way.
   */
  private async page (host: PageHost, sql: string): Promise<number> {
    const conn = this.conn as Connection
    if (this.lost !== undefined) throw this.lost
    const fmt = this.src.format
    return await new Promise<number>((resolve, reject) => {
      let rows = 0
      let settled = false
      this.abort = (err) => { if (!settled) { settled = true; reject(err) } }
      const row = (buf: Buffer, off: number): void => {
        rows++
        if (!this.handleRow(host, buf, off) && !this.paused && !host.stopped) {
          // Downstream is full: the server waits until it wants more.
          this.countRead(host)
          this.paused = true
          conn.pause()
          void host.wanted().then(() => {
            if (!this.paused) return
            this.paused = false
            if (!host.stopped) conn.resume()
          })
        }
      }
      const parser = { next: (packet: { buffer: Buffer, offset: number }): undefined => { row(packet.buffer, packet.offset) } }
      const q = core(conn).query({ sql, rowsAsArray: true, typeCast: false })
      if (this.src.packetRows) Object.defineProperty(q, '_rowParser', { configurable: true, get: () => parser, set: () => {} })
      q.on('result', (values: Array<Buffer | null> | undefined) => {
        if (values !== undefined) row(fmt.joinValues(values), -1)
      })
      q.on('error', (err: Error) => { if (!settled) { settled = true; reject(err) } })
      q.on('end', () => { if (!settled) { settled = true; resolve(rows) } })
    })
  }

  /** One row (its values' bytes from `off`, or already read into spans if -1): its line downstream, or a failed record; its cursor noted. Returns whether to go on. */
  private handleRow (host: PageHost, buf: Buffer, off: number): boolean {
    const src = this.src
    if (host.stopped || src.remaining <= 0) return false
    const fmt = src.format
    this.readCount++
    if (off >= 0) fmt.readRow(buf, off)
    if (src.paged && !fmt.advanced(buf)) {
      src.fatal(new EspipeError('ER_KEY_NOT_ADVANCING', `the read of ${src.label} stopped advancing: the server sent a row (${(fmt.cursor(buf) ?? []).join(',')}) that is not after the last one read (${(this.pageAfter ?? []).join(',')}), so paging would read the same rows again; stopped`, { context: src.context }))
      return false
    }
    let cursor: string[] = []
    if (src.paged && !src.rowCursors) {
      this.lastSrc = buf
      fmt.saveCursor(this.lastSpans)
    } else if (src.paged) {
      const c = fmt.cursor(buf)
      if (c === undefined) {
        src.fatal(new EspipeError('ER_NULL_KEY', `column ${fmt.nullCursorColumn() ?? ''} is NULL in a row of ${src.label}: NULLs have no place in the order that pages the read; give --id-column naming NOT NULL columns`, { context: src.context }))
        return false
      }
      if (!src.uniqueChecked && this.after !== undefined && c.every((v, i) => v === this.after?.[i])) {
        src.fatal(new EspipeError('ER_KEY_NOT_UNIQUE', `--id-column ${src.idColumnNames} is not unique in ${src.label} (two rows have ${c.join(',')}): paging by it would skip rows; name unique columns`, { context: src.context }))
        return false
      }
      cursor = c
      this.after = c
    }
    const out = this.out
    let more = true
    const member = host.embedsPositions ? positionMember(this.id, host.emitted(this.id) + this.positions.length + 1, JSON.stringify(cursor)) : undefined
    const moved = out.reserve(fmt.maxBytes() + (member === undefined ? 0 : Buffer.byteLength(member)))
    if (moved !== undefined) more = this.deliver(host, moved)
    try {
      fmt.write(out, buf, member)
    } catch (err) {
      out.rollback()
      if (!(err instanceof ValueError)) { src.fatal(err); return false }
      let id: string | undefined
      try { id = fmt.id(buf) } catch {}
      try {
        host.ctx.failures.fail({ record: { ...(src.index === undefined ? {} : { _index: src.index }), ...(id === undefined ? {} : { _id: id }), _source: fmt.plain(buf) }, code: err.code, message: err.message, context: { ...src.context, _id: id, column: err.column } })
      } catch (e) {
        src.fatal(e)
        return false
      }
      // The lines before it go first: its position counts only once they are out.
      if (host.tracksPositions) {
        more = this.flush(host) && more
        host.skipped(this.id, JSON.stringify(cursor))
      }
      return more
    }
    if (host.tracksPositions) this.positions.push(JSON.stringify(cursor))
    src.remaining--
    if (!src.ndjson) {
      more = this.deliver(host, out.takeLine()) && more
    } else if (out.size >= 65_536) {
      more = this.flush(host) && more
    } else if (!this.flushQueued) {
      // The lines of one socket read go out as one chunk, once that read is handled.
      this.flushQueued = true
      queueMicrotask(() => {
        this.flushQueued = false
        this.flush(host)
      })
    }
    if (src.remaining <= 0) {
      this.flush(host)
      return false
    }
    return more
  }

  /** Hands on the lines gathered so far; returns whether downstream wants more. */
  flush (host: PageHost): boolean {
    this.countRead(host)
    const chunk = this.out.take()
    return chunk === undefined ? true : this.deliver(host, chunk)
  }

  /** Rows read from the server so far, counted in bulk (a counter update per row is measurable). */
  private countRead (host: PageHost): void {
    if (this.readCount > 0) host.fetched(this.readCount)
    this.readCount = 0
  }

  /** Every line in `chunk` (all rows whose positions wait) goes downstream. */
  private deliver (host: PageHost, chunk: Buffer | string): boolean {
    const positions = host.tracksPositions ? this.positions : undefined
    if (positions !== undefined) this.positions = []
    const lines = typeof chunk === 'string' ? 1 : countLines(chunk)
    return host.deliver(this.id, chunk, lines, positions)
  }
}

/** A saved position: the key values (after the --since-column value) of the row it names. */
function cursorOf (position: string | undefined): string[] | undefined {
  return position === undefined ? undefined : JSON.parse(position) as string[]
}

function countLines (chunk: Buffer): number {
  let n = 0
  for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) n++
  return n
}

/**
 * The MySQL side of a read: a table or a query, paged by key (or streamed whole when it has
 * none), in key ranges read in parallel, each on its own connection.
 */
class MysqlSource implements PageSource {
  private readonly o: MysqlReadOptions
  private readonly ctx: StageContext
  readonly target: MysqlTarget
  private readonly table: TableName | undefined
  private readonly query: string | undefined
  private readonly time: TimeFormatter
  readonly batchSize: number
  readonly context: ErrorContext
  readonly label: string
  /** One part of one is the whole read. */
  private readonly slice: SliceSpec | undefined
  private readonly sliceCount: number
  private readonly zeroDate = zeroDateWarner((m, d) => { this.ctx.logger.warn(m, d) })
  private source: ReadSource | undefined
  private fmt: RowFormat | undefined
  slices: MysqlSlice[] = []
  remaining: number
  private reached = false
  paged = false
  uniqueChecked = false
  /** Each row's cursor is needed (checkpoint, uniqueness check), not only the page's last. */
  rowCursors = false
  private failure: ((err: unknown) => void) | undefined
  readonly intervalMs: number
  rounds: Rounds | undefined
  /** The since column's kind, once known: a date or time gives the lag. */
  private sinceKind: string | undefined

  constructor (opts: MysqlReadOptions, ctx: StageContext) {
    this.o = opts
    this.ctx = ctx
    if (opts.table !== undefined && opts.query !== undefined) throw new UsageError('--table and --query cannot be combined')
    if (opts.table === undefined && opts.query === undefined) throw new UsageError('missing required option --table (or --query)')
    this.table = opts.table === undefined ? undefined : parseTableName(opts.table)
    this.query = opts.query === undefined ? undefined : checkSelect(opts.query)
    this.batchSize = opts.batchSize ?? 10_000
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new UsageError(`invalid value for --batch-size: ${this.batchSize}`)
    checkSlicing(opts.slices, opts.slice)
    this.slice = opts.slice !== undefined && opts.slice.max > 1 ? opts.slice : undefined
    this.sliceCount = this.slice?.max ?? opts.slices ?? 1
    const sliced = this.sliceCount > 1
    if (opts.consistent === true && sliced) throw new UsageError('--consistent reads through one connection in one snapshot; it cannot be combined with slices (each would see its own snapshot)')
    if (opts.deletedWhen !== undefined && opts.deletedColumn === undefined) throw new UsageError('--deleted-when needs --deleted-column (the column whose rows it judges)')
    if (opts.deletedColumn !== undefined && this.query !== undefined) throw new UsageError('--deleted-column reads a table (--table), not a --query: select the flag in the query and turn it into "_op" downstream')
    if (opts.contentColumn !== undefined && (opts.columns?.length ?? 0) > 0) throw new UsageError('--content-column and --columns cannot be combined (_source is the content column)')
    if (this.query !== undefined && (opts.idColumns?.length ?? 0) === 0) {
      const needs = opts.sinceColumn !== undefined ? '--since-column' : opts.checkpoint !== undefined ? '--checkpoint' : sliced ? 'slicing' : undefined
      if (needs !== undefined) throw new UsageError(`with --query, ${needs} needs --id-column naming the query's unique, NOT NULL key (it orders and resumes the read)`)
    }
    if (opts.follow === true) {
      if (opts.sinceColumn === undefined) throw new UsageError('--follow needs --since-column COL: the column that orders the read (an updated_at, a version), so that each round reads the rows changed since the last')
      if (sliced) throw new UsageError('--follow reads one stream in order of --since-column: drop --slices and --slice')
      if (opts.consistent === true) throw new UsageError('--follow reads round after round, each page its own statement: drop --consistent (it reads one snapshot)')
    }
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS
    if (!(this.intervalMs >= 0)) throw new UsageError(`invalid value for --interval: ${this.intervalMs}`)
    this.time = timeFormatter(opts.timezone ?? 'UTC')
    this.remaining = opts.limit ?? Infinity
    this.target = resolveConnection(opts.connection)
    this.ctx.logger.masker.add(this.target.password)
    this.label = this.table === undefined ? 'query' : this.table.database === undefined ? this.table.table : `${this.table.database}.${this.table.table}`
    this.context = targetContext(this.target, this.table === undefined ? undefined : this.label)
  }

  get format (): RowFormat { return this.fmt as RowFormat }
  get index (): string | undefined { return this.source?.index }
  get ndjson (): boolean { return this.o.ndjson === true }
  get packetRows (): boolean { return this.o.packetRows !== false }
  get idColumnNames (): string { return (this.o.idColumns ?? []).join(',') }
  get follows (): boolean { return this.o.follow === true }

  /** When the row of cursor `after` was stamped (its since value, a DATETIME or TIMESTAMP read in UTC), for the lag. */
  sinceMs (after: readonly string[] | undefined): number | undefined {
    const v = after?.[0]
    if (v === undefined || (this.sinceKind !== 'datetime' && this.sinceKind !== 'timestamp' && this.sinceKind !== 'date')) return undefined
    const ms = Date.parse(`${v.replace(' ', 'T')}${v.length > 10 ? 'Z' : 'T00:00:00Z'}`)
    return Number.isNaN(ms) ? undefined : ms
  }

  /** A failure found while rows stream (a NULL key, a key that is not unique): the page in flight fails with it. */
  fatal (err: unknown): void {
    this.failure?.(err)
  }

  /** A connection set up for reading: UTC session (TIMESTAMP text is UTC), read-only, patient with slow consumers. */
  async connect (): Promise<Connection> {
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
    if (this.closed) {
      // Opened while the read was being closed (a slice's first page, as --limit was reached): no one would close it.
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

  private closed = false

  retryable (err: unknown): boolean {
    return this.paged && this.o.consistent !== true && this.reached && !(err instanceof EspipeError) && classifySqlError(err) === 'retry'
  }

  /** A page that failed for good, as one line that says where and whether a rerun can resume. */
  pageFailure (err: unknown): EspipeError {
    const lost = classifySqlError(err) === 'retry'
    const how = !lost ? '' : !this.paged ? '; a read without a key cannot resume mid-way' : this.o.consistent === true ? '; a --consistent read cannot resume in another snapshot' : ''
    return new EspipeError(sqlCode(err), `${errorMessage(err)} (MySQL at ${describeTarget(this.target)}, ${this.source?.label ?? this.label}${how})`, { context: this.context, cause: err })
  }

  private readKey (source: ReadSource, order: readonly OrderColumn[]): string {
    return JSON.stringify({ source: this.table === undefined ? this.query : source.label, where: this.o.where ?? null, order: order.map((c) => c.name), slices: this.sliceCount, slice: this.slice?.id ?? null })
  }

  async open (host: PageHost, checkpoint: ReaderCheckpoint | undefined): Promise<SourceStream[]> {
    // A failure found while rows stream ends the read through the page in flight.
    this.failure = (err) => { for (const s of this.slices) s.abort?.(err as Error) }
    const first = await this.connect()
    this.slices = [new MysqlSlice(this, 0, {}, { select: '', columns: '', from: '', where: [], order: [] }, first, undefined)]
    const o = this.o
    const sliced = this.sliceCount > 1
    const pageQuery = o.sinceColumn !== undefined || checkpoint !== undefined || sliced
    const deleted = o.deletedColumn === undefined ? undefined : { column: o.deletedColumn, when: o.deletedWhen }
    const describe = { columns: o.columns, idColumns: o.idColumns, sinceColumn: o.sinceColumn, contentColumn: o.contentColumn, pageQuery, filtered: o.where !== undefined, deleted, context: this.context }
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
      const why = o.sinceColumn !== undefined ? '--since-column needs' : checkpoint !== undefined ? '--checkpoint needs' : sliced ? 'slicing needs' : undefined
      if (why !== undefined) throw fatal('ER_NO_KEY', `${why} a key to order and resume the read, and ${source.label} has no primary key or unique index on NOT NULL columns; give --id-column naming columns that are unique and NOT NULL`)
    }
    for (const k of key ?? []) {
      if (!pageable(k.kind)) throw fatal('ER_KEY_TYPE', `${source.label} cannot be paged by ${k.name} (a ${k.kind} column: its ORDER BY and > disagree); give --id-column naming other columns`)
    }
    if (since !== undefined && !pageable(since.kind)) throw fatal('ER_KEY_TYPE', `--since-column ${since.name} is a ${since.kind} column; it must be a number, a date or time, or a string`)
    this.paged = key !== undefined
    if (o.deletedColumn !== undefined && key === undefined) throw fatal('ER_NO_KEY', `--deleted-column needs a key to name the rows it deletes, and ${source.label} has no primary key or unique index on NOT NULL columns; give --id-column naming columns that are unique and NOT NULL`)
    const order: OrderColumn[] = [...(since === undefined ? [] : [{ name: since.name, kind: since.kind }]), ...(key ?? [])]
    // --where is one expression in its own parentheses, read as this session reads quotes.
    const [[mode]] = await first.query<RowDataPacket[]>({ sql: 'SELECT @@SESSION.sql_mode', rowsAsArray: true })
    const condition = o.where === undefined ? undefined : whereCondition(o.where, quotingOf(String((mode as unknown as unknown[])[0])))
    const where: string[] = condition === undefined ? [] : [condition]
    if (condition !== undefined) {
      // A mistake in --where is said as one, before any row.
      try {
        await first.query(`${source.select} WHERE ${condition} LIMIT 0`)
      } catch (err) {
        throw new EspipeError(sqlCode(err), `invalid --where: ${errorMessage(err)}`, { context: this.context, cause: err })
      }
    }
    if (since !== undefined && !since.notNull) {
      where.push(`${quoteServerName(since.name)} IS NOT NULL`)
      await this.warnNullSince(first, source, since.name, condition)
    }
    this.fmt = new RowFormat(source.columns, {
      index: source.index,
      idColumns: o.idColumns !== undefined && o.idColumns.length > 0 ? o.idColumns.map((n) => col(n).name) : source.key,
      contentColumn: o.contentColumn === undefined ? undefined : col(o.contentColumn).name,
      cursorColumns: order.map((c) => c.name),
      deletedColumn: source.deletedFlag,
      guard: this.paged,
      time: this.time,
      zeroDate: this.zeroDate
    })
    if (!this.paged) {
      this.ctx.logger.start(this.table !== undefined
        ? `reading ${source.label} from ${describeTarget(this.target)} as one streamed query: it has no primary key or unique index on NOT NULL columns to page by${(o.idColumns?.length ?? 0) > 0 ? '' : ', so records have no _id (give --id-column to make one)'}`
        : `reading the query from ${describeTarget(this.target)} as one streamed statement${(o.idColumns?.length ?? 0) > 0 ? '' : '; records have no _id (give --id-column to make one)'}`, { ...this.context })
      this.slices = [new MysqlSlice(this, 0, {}, { select: where.length === 0 ? source.select : `${source.select} WHERE ${where.join(' AND ')}`, columns: source.columnsSql, from: source.from, where: [], order: [] }, first, undefined)]
      if (o.consistent === true) await this.beginSnapshot(first)
      return this.slices
    }
    const fromSql = source.from
    const keyCols = key as OrderColumn[]
    let part = checkpoint?.load(this.readKey(source, order), 'source, --where, --since-column, key or slicing')
    let ranges: SliceRange[]
    if (part !== undefined) {
      ranges = part.state.ranges as SliceRange[]
      this.ctx.logger.info(part.complete
        ? `checkpoint ${checkpoint?.file ?? ''}: reading what changed after the last run (${part.emitted} records written before)`
        : `resuming from checkpoint ${checkpoint?.file ?? ''} (${part.emitted} records written before)`)
    } else {
      const all = await sliceRanges(first, fromSql, where, keyCols, this.sliceCount)
      ranges = this.slice === undefined ? all : [all[this.slice.id]]
      part = { tool: 'mysql-read', read: this.readKey(source, order), state: { ranges }, streams: ranges.map((_r, id) => ({ id, done: false })), emitted: 0, complete: false } satisfies ReaderPart
    }
    const resumed = part
    checkpoint?.begin(part)
    const pagedBy = `${o.sinceColumn === undefined ? '' : `${order[0].name} then `}${source.keyFrom ?? 'key'} (${keyCols.map((k) => k.name).join(', ')})`
    this.ctx.logger.start(`reading ${source.label} from ${describeTarget(this.target)}, ${this.batchSize} rows a page, in order of ${pagedBy}`, { ...this.context })
    const names = this.slice !== undefined ? [this.slice.id] : ranges.map((_r, i) => i)
    if (this.sliceCount > 1) ranges.forEach((r, i) => this.ctx.logger.info(`slice ${names[i]}/${this.sliceCount}: ${describeRange(keyCols, r)}`))
    this.slices = ranges.map((range, i) => new MysqlSlice(this, i, range, { select: source.select, columns: source.columnsSql, from: source.from, where: [...where, ...rangeConditions(keyCols, range)], order }, i === 0 ? first : undefined, cursorOf(resumed.streams[i]?.after)))
    this.uniqueChecked = source.keyFrom !== '--id-column'
    // A followed read's lag is worked out from each page's last cursor.
    this.rowCursors = checkpoint !== undefined || !this.uniqueChecked || this.follows
    if (since !== undefined) {
      this.sinceKind = since.kind
      this.rounds = new Rounds(this.ctx.stats, since.name)
    }
    if (o.consistent === true) await this.beginSnapshot(first)
    return this.slices
  }

  private async beginSnapshot (conn: Connection): Promise<void> {
    await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
  }

  /** Rows whose --since-column is NULL have no place in the order and are not read: say how many. */
  private async warnNullSince (conn: Connection, source: ReadSource, since: string, where: string | undefined): Promise<void> {
    const fromSql = source.from
    const [[row]] = await conn.query<RowDataPacket[]>({ sql: `SELECT COUNT(*) FROM ${fromSql} WHERE ${quoteServerName(since)} IS NULL${where === undefined ? '' : ` AND ${where}`}`, rowsAsArray: true })
    const n = Number((row as unknown as unknown[])[0])
    if (n > 0) this.ctx.logger.warn(`${n} rows of ${source.label} have NULL in ${since} and are not read (an incremental read orders rows by ${since}); make it NOT NULL, or read them with --where '${since} IS NULL' without --since-column`, { ...this.context, rows: n })
  }

  /** Closes every connection: politely when idle, at once when a statement is still sending. */
  async close (): Promise<void> {
    this.closed = true
    await Promise.allSettled(this.slices.map(async (s) => {
      const conn = s.conn
      s.conn = undefined
      if (conn === undefined) return
      if (s.running) { conn.destroy(); return }
      if (this.o.consistent === true) await conn.query('COMMIT').catch(() => undefined)
      await conn.end().catch(() => conn.destroy())
    }))
  }
}

/**
 * A table or a query as a stream of NDJSON lines, one per row. Pages are read by key, each as
 * a short statement of its own; rows stream in as the server sends them and the connection is
 * paused whenever downstream is full, so memory stays flat however big the table and however
 * slow the consumer. A lost connection is retried from the last row handed on.
 */
export function mysqlRead (opts: MysqlReadOptions): PagedSource {
  if (opts.binlog === true) return pagedRead('mysql-read', MYSQL_READ_COUNTERS, opts, (ctx) => new BinlogSource(opts, ctx), opts.ndjson === true ? { objectMode: false, highWaterMark: 256 * 1024 } : { objectMode: true, highWaterMark: 1024 })
  for (const [flag, on] of [['--until-now', opts.untilNow], ['--resnapshot', opts.resnapshot], ['--server-id', opts.serverId !== undefined]] as const) {
    if (on === true) throw new UsageError(`${flag} goes with --binlog`)
  }
  return pagedRead('mysql-read', MYSQL_READ_COUNTERS, opts, (ctx) => new MysqlSource(opts, ctx), opts.ndjson === true ? { objectMode: false, highWaterMark: 256 * 1024 } : { objectMode: true, highWaterMark: 1024 })
}
