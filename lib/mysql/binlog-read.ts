import mysql from 'mysql2/promise'
import type { Connection, RowDataPacket } from 'mysql2/promise'
import ZongJi from '@vlasky/zongji'
import type { AnyBinlogEvent, ColumnSchema, RowData, TableMapEntry } from '@vlasky/zongji'
import type { Position, ReaderCheckpoint, ReaderPart } from '../core/checkpoint.js'
import type { StageContext } from '../core/context.js'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError, UsageError, errorMessage } from '../core/errors.js'
import type { PageHost, PageSource, SourceStream } from '../core/paged-source.js'
import { positionMember } from '../core/position.js'
import type { BinlogCursor, BinlogPlace } from './binlog-position.js'
import { comparePlaces, cursorText, describePlace, parseCursor } from './binlog-position.js'
import { binlogEnd, checkBinlogPreconditions, checkNotPurged, snapshotPlace } from './binlog-checks.js'
import { binlogTextOf, enumValues } from './binlog-values.js'
import type { MysqlTarget } from './connection.js'
import { connectOrSay, describeTarget, resolveConnection, targetContext } from './connection.js'
import { sqlCode } from './errors.js'
import { checkIdentifier, quoteServerName } from './identifiers.js'
import { LineBuffer } from './line-buffer.js'
import type { OrderColumn } from './paging.js'
import { pageSql } from './paging.js'
import type { MysqlReadOptions } from './read.js'
import { RowFormat } from './rows.js'
import type { ReadSource, SourceColumn } from './source.js'
import { describeTable } from './source.js'
import { timeFormatter, zeroDateWarner } from './time.js'
import type { TimeFormatter } from './time.js'
import { ValueError, quoteJson } from './values.js'

/**
 * mysql-read --binlog: change data capture. A consistent snapshot of the tables first (read as
 * mysql-read reads a table, by key, in the snapshot's one transaction), with the binary log
 * place of exactly that snapshot; then every row event from that place on, one record per
 * changed row: `"_op":"index"` with the row after the change, or `"_op":"delete"` with its id.
 *
 * Positions (what the last writer acknowledges): a snapshot record carries the table and key
 * it reached; a change record carries its transaction's cursor (binlog-position.ts): where the
 * transaction begins, and how many records the stream had emitted before its first. Every
 * record of one transaction carries the same cursor, so an acknowledged prefix that ends inside
 * a transaction is resumed by reading that transaction again from its start and passing over
 * the records the writer already has (their count is its n less the cursor's n0): a
 * transaction is never half applied after a rerun, and no record of it comes twice.
 */

/**
 * What a snapshot record's position holds: the table (its index in the read's list) and the key
 * reached; `end` on the snapshot's last record, so that once a writer has it a rerun streams.
 */
interface SnapshotCursor { snap: true, t: number, key: string[], end?: true }

function parseAfter (text: string, file: string): SnapshotCursor | BinlogCursor {
  const o = JSON.parse(text) as Partial<SnapshotCursor>
  if (o !== null && typeof o === 'object' && o.snap === true && Number.isSafeInteger(o.t) && Array.isArray(o.key)) return o as SnapshotCursor
  return parseCursor(text, file)
}

/** One table of the read, as its rows are written, snapshot and binlog alike. */
interface TableRead {
  name: string
  source: ReadSource
  fmt: RowFormat
  columns: SourceColumn[]
  /** Each column's decoded binlog value as the server's text of it. */
  texts: Array<(v: unknown) => Buffer | null>
  key: OrderColumn[]
  /** Ended by a DROP or RENAME: no more records. */
  gone: boolean
}

/** One row change, before it has its position: its values as the server's text, in its table's shape then. */
interface Change { table: TableRead, fmt: RowFormat, op: 'index' | 'delete', values: Array<Buffer | null> }

/** A committed transaction's changes, with where it began. */
interface Txn { start: BinlogPlace, end: BinlogPlace, gtid?: string, changes: Change[] }

const READ_OPTIONS = { supportBigNumbers: true, bigNumberStrings: true, dateStrings: true, jsonStrings: true, decimalNumbers: false }
/** Transactions' records held in memory while downstream is slow: then the server waits. */
const QUEUE_HIGH = 20_000
const QUEUE_LOW = 5_000

export class BinlogSource implements PageSource, SourceStream {
  readonly id = 0
  done = false
  private readonly ctx: StageContext
  private readonly o: MysqlReadOptions
  readonly target: MysqlTarget
  private readonly context: ErrorContext
  private readonly time: TimeFormatter
  private readonly batchSize: number
  private database = ''
  private tables: TableRead[] = []
  private conn: Connection | undefined
  /** The snapshot's own connection, in its transaction, while the snapshot is read. */
  private snap: Connection | undefined
  private phase: 'snapshot' | 'stream' = 'snapshot'
  private snapTable = 0
  private lastTable = -1
  private snapAfter: string[] | undefined
  /** Where streaming begins: the snapshot's place, or a resumed transaction's start. */
  private start: BinlogPlace = { file: '', pos: 4 }
  /** Records of the first transaction to pass over (a writer has them). */
  private skip = 0
  private skipN0 = 0
  private until: BinlogPlace | undefined
  private untilReached = false
  private zongji: ZongJi | undefined
  private readonly queue: Txn[] = []
  private queued = 0
  private paused = false
  private wake: (() => void) | undefined
  private failure: Error | undefined
  private readonly out = new LineBuffer()
  private readonly zeroDate = zeroDateWarner((m, d) => { this.ctx.logger.warn(m, d) })
  /** The file being read, and where the last whole transaction (or standalone event) ended. */
  private file = ''
  private lastEnd: BinlogPlace = { file: '', pos: 4 }
  private txn: Txn | undefined
  private closed = false

  constructor (opts: MysqlReadOptions, ctx: StageContext) {
    this.o = opts
    this.ctx = ctx
    if (opts.query !== undefined) throw new UsageError('--binlog reads tables, not a --query')
    for (const [flag, v] of [['--since-column', opts.sinceColumn], ['--deleted-column', opts.deletedColumn], ['--where', opts.where], ['--content-column', opts.contentColumn], ['--slices', opts.slices], ['--slice', opts.slice], ['--columns', (opts.columns?.length ?? 0) > 0 ? opts.columns : undefined], ['--id-column', (opts.idColumns?.length ?? 0) > 0 ? opts.idColumns : undefined]] as const) {
      if (v !== undefined) throw new UsageError(`--binlog cannot be combined with ${flag} (each change is the whole row, by its key)`)
    }
    if (opts.follow === true) throw new UsageError('--binlog already follows the log as it grows (--until-now stops at its end): drop --follow')
    if (opts.resnapshot === true && opts.checkpoint === undefined) throw new UsageError('--resnapshot starts a checkpointed --binlog read over: it needs --checkpoint')
    this.time = timeFormatter(opts.timezone ?? 'UTC')
    this.batchSize = opts.batchSize ?? 10_000
    this.target = resolveConnection(opts.connection)
    this.ctx.logger.masker.add(this.target.password)
    this.context = targetContext(this.target, opts.table)
  }

  private async connect (): Promise<Connection> {
    const conn = await connectOrSay(this.target, this.context, async () => await mysql.createConnection({ ...this.target.options, ...READ_OPTIONS }))
    await conn.query("SET time_zone = '+00:00', net_write_timeout = 86400")
    return conn
  }

  /** The tables named (-t a,b or db.a), or every base table of the database. */
  private async tableNames (conn: Connection): Promise<string[]> {
    const [[cur]] = await conn.query<RowDataPacket[]>('SELECT DATABASE() AS db')
    const named = (this.o.table ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
    const dbs = new Set(named.filter((n) => n.includes('.')).map((n) => n.slice(0, n.indexOf('.'))))
    if (dbs.size > 1) throw new UsageError('--binlog reads tables of one database: name them all in it')
    const db = [...dbs][0] ?? (cur.db as string | null) ?? undefined
    if (db === undefined) throw new EspipeError('ER_NO_DB_ERROR', 'no database selected: give --database, a database in --url, or --table database.table', { context: this.context })
    checkIdentifier(db, 'database')
    this.database = db
    if (named.length > 0) return named.map((n) => n.includes('.') ? n.slice(n.indexOf('.') + 1) : n)
    const [rows] = await conn.query<RowDataPacket[]>("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", [db])
    if (rows.length === 0) throw new EspipeError('ER_NO_SUCH_TABLE', `database ${db} has no tables to read`, { context: this.context })
    return rows.map((r) => String(r.t))
  }

  private async describe (conn: Connection, name: string): Promise<TableRead> {
    const source = await describeTable(conn, { database: this.database, table: name }, { pageQuery: true, filtered: false, context: this.context })
    if (source.key === undefined || source.keyFrom === '--id-column') throw new EspipeError('ER_NO_KEY', `${source.label} has no primary key or unique index on NOT NULL columns: --binlog names each changed row by its key`, { context: this.context })
    const geometry = source.columns.find((c) => c.kind === 'json' && /ST_AsGeoJSON\(`?/.test(source.select) && source.select.includes(`ST_AsGeoJSON(${quoteServerName(c.name)})`))
    if (geometry !== undefined) throw new EspipeError('ER_BINLOG_TYPE', `${source.label} has a spatial column (${geometry.name}): --binlog does not read spatial values`, { context: this.context })
    const fmt = new RowFormat(source.columns, {
      index: source.index,
      idColumns: source.key,
      cursorColumns: source.key,
      time: this.time,
      zeroDate: this.zeroDate
    })
    const byName = new Map(source.columns.map((c) => [c.name, c]))
    return {
      name,
      source,
      fmt,
      columns: source.columns,
      texts: source.columns.map((c) => binlogTextOf(c.kind, c.float32 === true)),
      key: source.key.map((k) => ({ name: k, kind: byName.get(k)?.kind ?? 'other' })),
      gone: false
    }
  }

  private readKey (): string {
    return JSON.stringify({ binlog: this.database, tables: this.tables.map((t) => t.name) })
  }

  async open (host: PageHost, checkpoint: ReaderCheckpoint | undefined): Promise<SourceStream[]> {
    const conn = await this.connect()
    this.conn = conn
    try {
      await checkBinlogPreconditions(conn, this.context)
      const names = await this.tableNames(conn)
      for (const n of names) this.tables.push(await this.describe(conn, n))
    } catch (err) {
      if (err instanceof EspipeError || err instanceof UsageError) throw err
      throw new EspipeError(sqlCode(err), `${errorMessage(err)} (MySQL at ${describeTarget(this.target)})`, { context: this.context, cause: err })
    }
    const loaded = checkpoint?.load(this.readKey(), 'database or tables')
    let part: ReaderPart
    const fresh = loaded === undefined || this.o.resnapshot === true
    if (!fresh) {
      part = loaded
      const state = part.state as { start?: BinlogPlace }
      if (state.start === undefined) throw new EspipeError('ECHECKPOINT', `checkpoint ${checkpoint?.file ?? ''} holds no binary log place; delete it, or rerun with --resnapshot`, { context: this.context })
      const after = part.streams[0]?.after
      const cur = after === undefined ? undefined : parseAfter(after, checkpoint?.file ?? '')
      if ((part.complete && (cur === undefined || 'snap' in cur)) || (cur !== undefined && 'snap' in cur && cur.end === true)) {
        // An earlier run read the whole snapshot, and the log to its end then (no change came).
        this.start = state.start
        this.phase = 'stream'
      } else if (cur === undefined || 'snap' in cur) {
        // Killed during the snapshot: the rest of it is read now (a later snapshot), then the
        // stream replays every change since the first snapshot's place, which brings the rows
        // copied earlier up to date: each change carries its whole row.
        this.start = state.start
        this.snapTable = cur?.t ?? 0
        this.snapAfter = cur?.key
        this.phase = 'snapshot'
      } else {
        this.start = { file: cur.file, pos: cur.pos }
        this.skipN0 = cur.n0
        this.skip = Math.max(0, (part.streams[0]?.n ?? 0) - cur.n0)
        this.phase = 'stream'
      }
      await checkNotPurged(conn, this.start, checkpoint?.file ?? '', this.context)
      this.ctx.logger.info(`resuming from checkpoint ${checkpoint?.file ?? ''} (${part.emitted} records written before), ${this.phase === 'snapshot' ? `the snapshot at table ${this.tables[this.snapTable]?.name ?? ''}` : `the binary log at ${describePlace(this.start)}`}`)
    } else {
      this.phase = 'snapshot'
      this.snapTable = 0
      part = { tool: 'mysql-read', read: this.readKey(), state: {}, streams: [{ id: 0, n: loaded?.streams[0]?.n, done: false }], emitted: loaded?.emitted ?? 0, complete: false }
      if (loaded !== undefined) this.ctx.logger.info(`--resnapshot: copying ${this.tables.map((t) => t.name).join(', ')} again, then streaming from the new snapshot's place`)
    }
    if (this.phase === 'snapshot') {
      this.snap = await this.connect()
      await this.snap.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ')
      await this.snap.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
      if (fresh) {
        this.start = await snapshotPlace(this.snap)
        part.state = { start: this.start }
      }
      // The last table with rows in the snapshot: its last row ends the snapshot.
      for (let i = this.tables.length - 1; i >= this.snapTable; i--) {
        const [[row]] = await this.snap.query<RowDataPacket[]>({ sql: `SELECT EXISTS (SELECT 1 FROM ${quoteServerName(this.database)}.${quoteServerName(this.tables[i].name)}) AS x`, rowsAsArray: true })
        if (Number((row as unknown as unknown[])[0]) === 1) { this.lastTable = i; break }
      }
    }
    if (this.o.untilNow === true) this.until = await binlogEnd(conn)
    checkpoint?.begin(part)
    this.ctx.logger.start(`reading ${this.tables.map((t) => t.name).join(', ')} of ${this.database} from ${describeTarget(this.target)}: ${this.phase === 'snapshot' ? 'a consistent snapshot, then ' : ''}the binary log from ${describePlace(this.start)}${this.until === undefined ? ', following it' : ` to ${describePlace(this.until)} (--until-now)`}`, { ...this.context })
    return [this]
  }

  async next (host: PageHost): Promise<void> {
    if (this.phase === 'snapshot') return await this.snapshotPage(host)
    if (this.zongji === undefined && !this.untilReached) {
      if (this.until !== undefined && comparePlaces(this.start, this.until) >= 0) this.untilReached = true
      else this.startStream()
    }
    while (this.queue.length === 0 && !this.untilReached && this.failure === undefined && !host.stopped) {
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve()
        this.wake = () => { host.signal.removeEventListener('abort', stop); resolve() }
        host.signal.addEventListener('abort', stop, { once: true })
      })
      this.wake = undefined
    }
    if (this.failure !== undefined) throw this.failure
    if (host.stopped) return
    while (this.queue.length > 0) {
      const txn = this.queue.shift() as Txn
      this.queued -= txn.changes.length
      if (!this.deliverTxn(host, txn)) break
    }
    if (this.paused && this.queued < QUEUE_LOW) {
      this.paused = false
      this.zongji?.connection?.resume()
    }
    if (this.queue.length === 0 && this.untilReached) {
      this.done = true
      host.ended(0)
    }
  }

  /** One page of the snapshot's current table; the next table, or the stream, when it ends. */
  private async snapshotPage (host: PageHost): Promise<void> {
    const table = this.tables[this.snapTable]
    if (table === undefined) {
      await this.snap?.query('COMMIT')
      await this.snap?.end()
      this.snap = undefined
      this.phase = 'stream'
      this.ctx.logger.info(`snapshot read; streaming the binary log from ${describePlace(this.start)}`)
      return
    }
    const conn = this.snap as Connection
    // One row more than a page: whether the table ends with this page.
    const sql = pageSql({ select: table.source.select, columns: table.source.columnsSql, from: table.source.from, where: [], order: table.key }, this.snapAfter, this.batchSize + 1)
    const [fetched] = await conn.query<RowDataPacket[]>({ sql, rowsAsArray: true, typeCast: false })
    const ends = fetched.length <= this.batchSize
    const rows = ends ? fetched : fetched.slice(0, this.batchSize)
    host.fetched(rows.length)
    const positions: Position[] = []
    let lines = 0
    let n = host.emitted(0)
    for (const [i, r] of rows.entries()) {
      // --limit: not one record more.
      if (this.linesPending >= host.remaining) break
      // pageSql's last column is its guard (whether the row is past the cursor), not the table's.
      const values = (r as unknown as Array<Buffer | null>).slice(0, -1)
      const key = table.fmt.cursor(table.fmt.joinValues(values)) as string[]
      const last = ends && i === rows.length - 1 && this.snapTable === this.lastTable
      const after = JSON.stringify({ snap: true, t: this.snapTable, key, ...(last ? { end: true } : {}) } satisfies SnapshotCursor)
      if (this.writeChange(host, { table, fmt: table.fmt, op: 'index', values }, n + 1, after, positions)) { n++; lines++ }
      this.snapAfter = key
    }
    this.flushLines(host, lines, positions)
    if (ends) {
      this.snapTable++
      this.snapAfter = undefined
    }
  }

  /** Writes one record into the line buffer; false when it was dead-lettered instead. */
  private writeChange (host: PageHost, c: Change, n: number, after: string, positions: Position[]): boolean {
    const fmt = c.fmt
    const src = fmt.joinValues(c.values)
    const pos = host.embedsPositions ? positionMember(0, n, after) : ''
    const moved = this.out.reserve(fmt.maxBytes() + pos.length * 3 + 64)
    if (moved !== undefined) this.pending.push(moved)
    try {
      if (c.op === 'index') {
        fmt.write(this.out, src, ',"_op":"index"' + pos)
      } else {
        const line = `{"_index":${quoteJson(c.table.name)},"_id":${quoteJson(fmt.id(src) as string)},"_op":"delete"${pos}}`
        this.out.pos += this.out.buf.write(line, this.out.pos, 'utf8')
        this.out.endLine()
      }
    } catch (err) {
      this.out.rollback()
      if (!(err instanceof ValueError)) throw err
      let id: string | undefined
      try { id = fmt.id(src) } catch {}
      host.ctx.failures.fail({ record: { _index: c.table.name, ...(id === undefined ? {} : { _id: id }), _source: fmt.plain(src) }, code: err.code, message: err.message, context: { ...this.context, _id: id, column: err.column } })
      if (host.tracksPositions) {
        this.flushLines(host, this.linesPending, positions)
        host.skipped(0, after)
      }
      return false
    }
    if (host.tracksPositions) positions.push(after)
    this.linesPending++
    return true
  }

  private readonly pending: Buffer[] = []
  private linesPending = 0

  /** Hands on every line written (and the positions of those that were tracked). */
  private flushLines (host: PageHost, _lines: number, positions: Position[]): boolean {
    const last = this.out.take()
    if (last !== undefined) this.pending.push(last)
    const lines = this.linesPending
    this.linesPending = 0
    if (lines === 0) { this.pending.length = 0; return true }
    const chunk = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending)
    this.pending.length = 0
    const ps = host.tracksPositions ? positions.splice(0) : undefined
    if (this.o.ndjson === true) return host.deliver(0, chunk, lines, ps)
    let more = true
    const text = chunk.toString('utf8')
    let i = 0
    let k = 0
    for (let j = text.indexOf('\n'); j >= 0; j = text.indexOf('\n', i)) {
      more = host.deliver(0, text.slice(i, j), 1, ps === undefined ? undefined : [ps[k++]]) && more
      i = j + 1
    }
    return more
  }

  /** A transaction's records, every one with the transaction's cursor; the ones a writer has are passed over. */
  private deliverTxn (host: PageHost, txn: Txn): boolean {
    const changes = txn.changes.filter((c) => !c.table.gone)
    host.fetched(changes.length)
    let from = 0
    let n0 = host.emitted(0)
    if (this.skip > 0 || this.skipN0 > 0) {
      // The transaction the checkpoint resumes inside: its first records are committed.
      from = Math.min(this.skip, changes.length)
      n0 = this.skipN0
      this.skip = 0
      this.skipN0 = 0
    }
    const cursor: BinlogCursor = { file: txn.start.file, pos: txn.start.pos, n0, ...(txn.gtid === undefined ? {} : { gtid: txn.gtid }) }
    const after = cursorText(cursor)
    const positions: Position[] = []
    for (let i = from; i < changes.length && this.linesPending < host.remaining; i++) this.writeChange(host, changes[i], n0 + i + 1, after, positions)
    return this.flushLines(host, 0, positions)
  }

  /** Starts the binary log dump at this.start. */
  private startStream (): void {
    const t = this.target
    const zongji = new ZongJi({ host: t.host, port: t.port, user: t.user, password: t.password, socketPath: t.socket, charset: 'utf8mb4', dateStrings: true, timezone: '+00:00', supportBigNumbers: true, bigNumberStrings: true, jsonStrings: true })
    this.zongji = zongji
    this.file = this.start.file
    this.lastEnd = { ...this.start }
    zongji.on('binlog', (e: AnyBinlogEvent) => {
      try {
        this.onEvent(e)
      } catch (err) {
        this.fail(err as Error)
      }
    })
    zongji.on('error', (err: Error) => this.fail(new EspipeError(sqlCode(err), `binary log stream from MySQL at ${describeTarget(t)}: ${errorMessage(err)}`, { context: this.context, cause: err })))
    const serverId = this.o.serverId ?? 0x10000000 + ((process.pid * 7919 + Date.now()) % 0x0fffffff)
    zongji.start({
      serverId,
      filename: this.start.file,
      position: this.start.pos,
      includeEvents: ['rotate', 'mariadbgtid', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query'],
      includeSchema: { [this.database]: true }
    })
  }

  private fail (err: Error): void {
    this.failure ??= err
    this.wake?.()
  }

  private tableOf (schema: string, name: string): TableRead | undefined {
    if (schema !== this.database) return undefined
    return this.tables.find((t) => t.name === name && !t.gone)
  }

  private onEvent (e: AnyBinlogEvent): void {
    if (this.closed || this.untilReached) return
    // Events after a change of shape wait until the table is described again (the library
    // has decoded them already; only the record's shape waits).
    if (this.backlog !== undefined) { this.backlog.push(e); return }
    switch (e.getTypeName()) {
      case 'Rotate': {
        const r = e as Extract<AnyBinlogEvent, { getTypeName: () => 'Rotate' }>
        this.file = r.binlogName
        if (this.txn === undefined && comparePlaces({ file: r.binlogName, pos: r.position }, this.lastEnd) > 0) this.lastEnd = { file: r.binlogName, pos: r.position }
        return
      }
      case 'MariadbGtid': {
        const g = e as Extract<AnyBinlogEvent, { getTypeName: () => 'MariadbGtid' }>
        this.txn = { start: { ...this.lastEnd }, end: this.lastEnd, gtid: g.gtid, changes: [] }
        return
      }
      case 'TableMap': {
        const m = e as Extract<AnyBinlogEvent, { getTypeName: () => 'TableMap' }>
        const table = this.tableOf(m.schemaName, m.tableName)
        const entry = m.tableMap[m.tableId] as TableMapEntry | undefined
        if (table === undefined || entry === undefined) return
        for (const c of entry.columnSchemas) fixEnumSet(c)
        const drift = typeDrift(m.columnTypes, entry.columnSchemas)
        if (drift !== undefined) {
          throw new EspipeError('BINLOG_SCHEMA_CHANGED', `a row event of ${this.database}.${table.name} was written before its columns changed (column ${drift} now differs): the binary log does not carry the old columns, so its rows cannot be read; rerun with --resnapshot (a change of columns is followed when the read is not behind)`, { context: this.context })
        }
        this.followShape(table, entry)
        return
      }
      case 'WriteRows': case 'UpdateRows': case 'DeleteRows': {
        const r = e as Extract<AnyBinlogEvent, { getTypeName: () => 'WriteRows' | 'UpdateRows' | 'DeleteRows' }>
        const entry = r.tableMap[r.tableId]
        if (entry === undefined) return
        const table = this.tableOf(entry.parentSchema, entry.tableName)
        if (table === undefined) return
        this.txn ??= { start: { ...this.lastEnd }, end: this.lastEnd, changes: [] }
        const changes = this.txn.changes
        // A column the image leaves out comes from the library as NULL: its bitmap tells them apart.
        const bitmaps = r as unknown as { columns_present_bitmap?: Buffer, columns_present_bitmap2?: Buffer }
        const names = (entry.columns ?? []).map((c) => c.name)
        const keyOnly = new Set(table.source.key ?? [])
        if (r.getTypeName() === 'UpdateRows') {
          this.checkImage(table, names, bitmaps.columns_present_bitmap, keyOnly)
          this.checkImage(table, names, bitmaps.columns_present_bitmap2, undefined)
          for (const row of (r as Extract<AnyBinlogEvent, { getTypeName: () => 'UpdateRows' }>).rows) {
            const before = this.rowValues(table, row.before)
            const after = this.rowValues(table, row.after)
            const fmt = table.fmt
            // A key that changed: the old id goes, the new one comes.
            if (fmt.id(fmt.joinValues(before)) !== fmt.id(fmt.joinValues(after))) changes.push({ table, fmt, op: 'delete', values: before })
            changes.push({ table, fmt, op: 'index', values: after })
          }
        } else {
          const op = r.getTypeName() === 'WriteRows' ? 'index' : 'delete'
          // A delete needs only the key.
          this.checkImage(table, names, bitmaps.columns_present_bitmap, op === 'delete' ? keyOnly : undefined)
          for (const row of (r as Extract<AnyBinlogEvent, { getTypeName: () => 'WriteRows' }>).rows) changes.push({ table, fmt: table.fmt, op, values: this.rowValues(table, row) })
        }
        return
      }
      case 'Xid':
        return this.commit({ file: this.file, pos: e.nextPosition })
      case 'Query': {
        const q = e as Extract<AnyBinlogEvent, { getTypeName: () => 'Query' }>
        const sql = q.query.trim()
        if (/^BEGIN\b/i.test(sql)) return
        if (/^(COMMIT|XA\s+COMMIT)\b/i.test(sql)) return this.commit({ file: this.file, pos: e.nextPosition })
        this.statement(q.schema, sql)
        // A standalone event (DDL): it ends where it ends.
        if (e.nextPosition > 0) return this.commit({ file: this.file, pos: e.nextPosition })
      }
    }
  }

  /** A statement in the log: DDL on a table read is followed, DML written as a statement cannot be. */
  private statement (schema: string, sql: string): void {
    const dropped = /^(DROP\s+TABLE|RENAME\s+TABLE|ALTER\s+TABLE\s+\S+\s+RENAME\b)/i.test(sql)
    const truncated = /^TRUNCATE\b/i.test(sql)
    const dml = /^(INSERT|UPDATE|DELETE|REPLACE|LOAD\s+DATA)\b/i.test(sql)
    for (const t of this.tables) {
      if (t.gone || !mentions(sql, schema, this.database, t.name)) continue
      if (dropped) {
        t.gone = true
        this.ctx.logger.warn(`table ${this.database}.${t.name} was dropped or renamed (${oneLine(sql)}): its stream ends here; the others go on`, { ...this.context, table: t.name })
      } else if (truncated) {
        this.ctx.logger.warn(`table ${this.database}.${t.name} was truncated: the binary log names no rows for a TRUNCATE, so the copy still holds them; rerun with --resnapshot to copy the table again`, { ...this.context, table: t.name })
      } else if (dml) {
        throw new EspipeError('BINLOG_STATEMENT', `the binary log holds a change to ${this.database}.${t.name} as a statement (${oneLine(sql)}), not as rows: its session wrote binlog_format=STATEMENT or MIXED, and which rows it changed cannot be read; keep binlog_format=ROW in every session, then rerun with --resnapshot`, { context: this.context })
      }
    }
    if (this.tables.every((t) => t.gone)) {
      this.ctx.logger.warn('every table read was dropped or renamed: the read ends')
      this.untilReached = true
      this.wake?.()
    }
  }

  /** A transaction (or a standalone event) ended at `end`. */
  private commit (end: BinlogPlace): void {
    const txn = this.txn
    this.txn = undefined
    if (txn !== undefined && txn.changes.length > 0) {
      txn.end = end
      this.queue.push(txn)
      this.queued += txn.changes.length
    }
    if (end.pos > 0) this.lastEnd = end
    if (this.until !== undefined && comparePlaces(this.lastEnd, this.until) >= 0) {
      this.untilReached = true
      this.zongji?.stop()
    }
    if (this.queued > QUEUE_HIGH && !this.paused) {
      this.paused = true
      this.zongji?.connection?.pause()
    }
    this.wake?.()
  }

  /** The table's columns changed (ALTER TABLE): the next records have the new shape. */
  private followShape (table: TableRead, entry: TableMapEntry): void {
    const names = entry.columnSchemas.map((c) => c.COLUMN_NAME)
    if (names.length === table.columns.length && names.every((n, i) => n === table.columns[i].name)) return
    this.backlog = []
    const conn = this.conn as Connection
    this.describe(conn, table.name).then((fresh) => {
      Object.assign(table, { ...fresh, gone: table.gone })
      this.ctx.logger.info(`table ${this.database}.${table.name} now has columns ${fresh.columns.map((c) => c.name).join(', ')}: the next records have them`)
      const waiting = this.backlog ?? []
      this.backlog = undefined
      for (const e of waiting) {
        if (this.failure !== undefined) return
        try { this.onEvent(e) } catch (err) { this.fail(err as Error) }
      }
    }, (err: unknown) => this.fail(err as Error))
  }

  /** Events that came while a table was being described again. */
  private backlog: AnyBinlogEvent[] | undefined

  /** Refuses a row image without a column the record needs (`needed`; all when undefined). */
  private checkImage (table: TableRead, names: readonly string[], bitmap: Buffer | undefined, needed: Set<string> | undefined): void {
    if (bitmap === undefined) return
    for (let i = 0; i < names.length; i++) {
      if ((bitmap[i >> 3] & (1 << (i & 7))) !== 0 || (needed !== undefined && !needed.has(names[i]))) continue
      throw new EspipeError('BINLOG_ROW_IMAGE', `a row event of ${this.database}.${table.name} lacks column ${names[i]}: its session wrote binlog_row_image=MINIMAL or NOBLOB, and no whole record can be made of it; keep binlog_row_image=FULL in every session, then rerun with --resnapshot`, { context: this.context })
    }
  }

  /** A row image as mysql-read's RowFormat takes it: each value as the server's text of it. */
  private rowValues (table: TableRead, row: RowData): Array<Buffer | null> {
    return table.columns.map((c, i) => table.texts[i](row[c.name]))
  }

  async close (): Promise<void> {
    this.closed = true
    const z = this.zongji
    this.zongji = undefined
    if (z !== undefined) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000)
        z.once('stopped', () => { clearTimeout(timer); resolve() })
        try { z.stop() } catch { clearTimeout(timer); resolve() }
      })
    }
    const snap = this.snap
    this.snap = undefined
    if (snap !== undefined) snap.destroy()
    const conn = this.conn
    this.conn = undefined
    await conn?.end().catch(() => conn.destroy())
  }
}

/** ENUM and SET value lists as the server keeps them (the library splits at every comma, quotes doubled). */
function fixEnumSet (c: ColumnSchema): void {
  const type = c.COLUMN_TYPE
  if (/^enum\(/i.test(type) && c.ENUM_VALUES === undefined) c.ENUM_VALUES = enumValues(type)
  if (/^set\(/i.test(type) && c.SET_VALUES === undefined) c.SET_VALUES = enumValues(type)
}

/** The binary log's type codes a column of this COLUMN_TYPE is written with; undefined: not checked. */
function binlogTypes (columnType: string): readonly number[] | undefined {
  const base = /^[a-z]+/i.exec(columnType)?.[0].toLowerCase() ?? ''
  switch (base) {
    case 'tinyint': return [1]
    case 'smallint': return [2]
    case 'mediumint': return [9]
    case 'int': case 'integer': return [3]
    case 'bigint': return [8]
    case 'float': return [4]
    case 'double': case 'real': return [5]
    case 'decimal': case 'numeric': return [0, 246]
    case 'date': return [10, 14]
    case 'datetime': return [12, 18]
    case 'timestamp': return [7, 17]
    case 'time': return [11, 19]
    case 'year': return [13]
    case 'bit': return [16]
    case 'char': case 'varchar': case 'binary': case 'varbinary': return [15, 253, 254]
    case 'enum': case 'set': return [247, 248, 254]
    case 'tinytext': case 'text': case 'mediumtext': case 'longtext': case 'tinyblob': case 'blob': case 'mediumblob': case 'longblob': case 'json': return [245, 249, 250, 251, 252]
    default: return undefined
  }
}

/**
 * The library decodes a row event with the columns the table has now: the first column whose
 * type in the event is not what its column now is (the table was altered after the event was
 * written), or undefined when they agree.
 */
function typeDrift (eventTypes: readonly number[], schemas: readonly ColumnSchema[]): string | undefined {
  if (schemas.length < eventTypes.length) return schemas[eventTypes.length - 1]?.COLUMN_NAME ?? `#${eventTypes.length}`
  for (let i = 0; i < eventTypes.length; i++) {
    const ok = binlogTypes(schemas[i].COLUMN_TYPE)
    if (ok !== undefined && !ok.includes(eventTypes[i])) return schemas[i].COLUMN_NAME
  }
  return undefined
}

/** Whether a statement names the table (in this database), as `t`, `db`.`t` or db.t. */
function mentions (sql: string, schema: string, database: string, table: string): boolean {
  const esc = table.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const dbEsc = database.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const qualified = new RegExp(`\`?${dbEsc}\`?\\s*\\.\\s*\`?${esc}\`?(?![\\w$])`, 'i')
  if (qualified.test(sql)) return true
  if (schema !== database) return false
  return new RegExp(`(^|[\\s,(\`])${esc}\`?(?![\\w$.])`, 'i').test(sql)
}

function oneLine (sql: string): string {
  const s = sql.replace(/\s+/g, ' ')
  return s.length > 80 ? s.slice(0, 80) + '…' : s
}
