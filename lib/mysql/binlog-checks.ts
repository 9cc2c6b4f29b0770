import type { Connection, RowDataPacket } from 'mysql2/promise'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError } from '../core/errors.js'
import type { BinlogPlace } from './binlog-position.js'
import { comparePlaces, describePlace } from './binlog-position.js'

/**
 * What --binlog needs of the server, checked before anything is read, each said in one line:
 * a stream that starts without it would read nothing, or rows it cannot make whole records of.
 */
export async function checkBinlogPreconditions (conn: Connection, context: ErrorContext): Promise<void> {
  const [[v]] = await conn.query<RowDataPacket[]>('SELECT @@log_bin AS logBin, @@binlog_format AS format, @@binlog_row_image AS image')
  const fail = (code: string, message: string): EspipeError => new EspipeError(code, message, { context })
  if (Number(v.logBin) !== 1) throw fail('BINLOG_OFF', 'the server has binary logging off (log_bin = 0): --binlog reads the binary log; start the server with --log-bin --binlog-format=ROW --server-id=N')
  if (String(v.format).toUpperCase() !== 'ROW') throw fail('BINLOG_FORMAT', `the server's binlog_format is ${String(v.format)}, not ROW: statements in the binary log do not say which rows changed; set binlog_format=ROW (SET GLOBAL binlog_format = 'ROW', and in the server's configuration)`)
  if (String(v.image).toUpperCase() !== 'FULL') throw fail('BINLOG_ROW_IMAGE', `the server's binlog_row_image is ${String(v.image)}, not FULL: its row events lack the columns a change left alone, so no whole record can be made of them; set binlog_row_image=FULL`)
  const missing = await missingPrivileges(conn)
  if (missing.length > 0) throw fail('BINLOG_PRIVILEGES', `the user lacks ${missing.join(' and ')}, which reading the binary log needs: GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO the user`)
}

/** The replication privileges the current user lacks (REPLICATION CLIENT is BINLOG MONITOR in MariaDB 10.5 and later). */
async function missingPrivileges (conn: Connection): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>("SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')")
  const has = new Set(rows.map((r) => String(r.p).toUpperCase()))
  const out: string[] = []
  if (!has.has('REPLICATION SLAVE')) out.push('REPLICATION SLAVE')
  if (!has.has('REPLICATION CLIENT') && !has.has('BINLOG MONITOR')) out.push('REPLICATION CLIENT')
  return out
}

/** The binary log files the server still has, oldest first. */
async function binlogFiles (conn: Connection): Promise<string[]> {
  const [rows] = await conn.query<RowDataPacket[]>({ sql: 'SHOW BINARY LOGS', rowsAsArray: true })
  return rows.map((r) => String((r as unknown as unknown[])[0]))
}

/** Refuses a place in a file the server has purged: reading on from there would skip changes. */
export async function checkNotPurged (conn: Connection, place: BinlogPlace, file: string, context: ErrorContext): Promise<void> {
  const files = await binlogFiles(conn)
  if (files.includes(place.file)) return
  const oldest = files[0]
  const gone = oldest === undefined || comparePlaces(place, { file: oldest, pos: 4 }) < 0
  const why = gone ? `the server has purged it (its oldest binary log is ${oldest ?? 'none'})` : 'the server has no such binary log'
  throw new EspipeError('BINLOG_PURGED', `checkpoint ${file} resumes the binary log at ${describePlace(place)}, but ${why}: the changes since are lost to this read; rerun with --resnapshot to copy the tables again and stream from now`, { context })
}

/** Where the server's binary log ends now (the next event's place). */
export async function binlogEnd (conn: Connection): Promise<BinlogPlace> {
  const [[row]] = await conn.query<RowDataPacket[]>('SHOW MASTER STATUS')
  if (row === undefined) throw new EspipeError('BINLOG_OFF', 'the server reports no binary log (SHOW MASTER STATUS is empty): start it with --log-bin')
  return { file: String(row.File), pos: Number(row.Position) }
}

/**
 * The binary log place of a consistent snapshot just begun on `conn` (MariaDB's
 * binlog_snapshot_file/position: the binlog place of exactly what the snapshot sees).
 */
export async function snapshotPlace (conn: Connection): Promise<BinlogPlace> {
  const [rows] = await conn.query<RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'")
  const v = new Map(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value)]))
  const file = v.get('binlog_snapshot_file')
  const pos = Number(v.get('binlog_snapshot_position'))
  if (file === undefined || file === '' || !Number.isSafeInteger(pos)) {
    throw new EspipeError('BINLOG_SNAPSHOT', 'the server does not say where in its binary log a consistent snapshot stands (binlog_snapshot_file/position, which MariaDB has): --binlog needs it to start streaming exactly after the snapshot')
  }
  return { file, pos }
}
