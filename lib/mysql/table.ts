import type { Connection, RowDataPacket } from 'mysql2/promise'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError } from '../core/errors.js'
import type { ColumnInfo } from './columns.js'
import { exactKeyCollation, exactKeyFix, isIntegerColumn, keyColumnProblem } from './columns.js'
import type { TableName } from './identifiers.js'
import { quoteIdentifier, quoteTable } from './identifiers.js'
import { columnKind } from './values.js'

export interface TableInfo {
  /** The server's max_allowed_packet: no statement may be larger. */
  maxPacket: number
  serverVersion: string
  /** Maps an id to the form the key column compares (its collation), for routing and sorting. */
  keyOf: (id: string) => string
  /** Every column of the table by lower-case name, with its type. */
  columns: Map<string, ColumnInfo>
  /** The id column's type. */
  idColumn: ColumnInfo
}

export interface PrepareTableOptions {
  create: boolean
  idColumn: string
  contentColumn: string
  columns: readonly string[]
  /** Write even into a key column that would merge distinct ids (--allow-id-merge). */
  allowIdMerge?: boolean
  /** With `create`: the CREATE TABLE of another layout (a table from a mapping), given the id column's type. */
  createSql?: (idType: string) => string
}

/** The id column --create makes: ids compare byte for byte, as Elasticsearch compares them. */
export function exactIdType (collation: string | undefined): string {
  return collation === undefined ? 'VARBINARY(512)' : `VARCHAR(512) CHARACTER SET utf8mb4 COLLATE ${collation}`
}

/** The best exact collation for ids this server has (see exactKeyCollation). */
export async function serverIdCollation (conn: Connection): Promise<string | undefined> {
  const [colls] = await conn.query<RowDataPacket[]>("SELECT COLLATION_NAME AS c FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')")
  return exactKeyCollation(colls.map((c) => String(c.c)))
}

/**
 * Checks, before any record is read, that the table and every column exist (or makes the
 * default table with --create), that its key keeps distinct ids apart, and learns what
 * batching, routing and value checks need from the server.
 */
export async function prepareTable (conn: Connection, table: TableName, opts: PrepareTableOptions, context: ErrorContext): Promise<TableInfo> {
  const [[server]] = await conn.query<RowDataPacket[]>('SELECT @@max_allowed_packet AS maxPacket, VERSION() AS version, DATABASE() AS db')
  const database = table.database ?? (server.db as string | null) ?? undefined
  const name = database === undefined ? table.table : `${database}.${table.table}`
  if (database === undefined) {
    throw new EspipeError('ER_NO_DB_ERROR', 'no database selected: give --database, a database in --url, or --table database.table', { context })
  }
  const exactCollation = await serverIdCollation(conn)
  if (opts.create) {
    // Elasticsearch ids are byte strings of up to 512 bytes, compared exactly: 'a', 'A' and
    // 'a ' are three records. A binary NO PAD collation keeps them apart and reads back as text.
    const idType = exactIdType(exactCollation)
    await conn.query(opts.createSql?.(idType) ?? `CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (${quoteIdentifier(opts.idColumn)} ${idType} NOT NULL PRIMARY KEY, ${quoteIdentifier(opts.contentColumn)} JSON) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`)
  }
  const [cols] = await conn.query<RowDataPacket[]>(`SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, NUMERIC_PRECISION AS p,
    NUMERIC_SCALE AS s, DATETIME_PRECISION AS fsp, COLLATION_NAME AS coll FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, [database, table.table])
  if (cols.length === 0) {
    throw new EspipeError('ER_NO_SUCH_TABLE', `table ${name} does not exist (add --create to make it)`, { context })
  }
  const columns = new Map<string, ColumnInfo>(cols.map((c) => [String(c.name).toLowerCase(), {
    name: String(c.name),
    dataType: String(c.dataType).toLowerCase(),
    columnType: String(c.columnType),
    precision: c.p === null ? undefined : Number(c.p),
    scale: c.s === null ? undefined : Number(c.s),
    collation: c.coll === null ? undefined : String(c.coll),
    fsp: c.fsp === null || c.fsp === undefined ? undefined : Number(c.fsp)
  }]))
  // The kinds mysql-read would read each column as: the same metadata, so a value goes back in the form it came out.
  const [, fields] = await conn.query<RowDataPacket[]>({ sql: `SELECT * FROM ${quoteTable({ database, table: table.table })} LIMIT 0`, rowsAsArray: true })
  for (const f of fields) {
    const col = columns.get(f.name.toLowerCase())
    if (col !== undefined) col.kind = columnKind(f)
  }
  for (const col of opts.columns) {
    if (!columns.has(col.toLowerCase())) throw new EspipeError('ER_BAD_FIELD_ERROR', `table ${name} has no column ${col}`, { context })
  }
  const idColumn = columns.get(opts.idColumn.toLowerCase()) as ColumnInfo
  const prefixKey = await uniquePrefix(conn, database, table.table, idColumn.name)
  const problem = keyColumnProblem(idColumn, prefixKey?.length)
  if (problem !== undefined && opts.allowIdMerge !== true) {
    const fix = exactKeyFix(quoteTable({ database, table: table.table }), idColumn, exactCollation, prefixKey?.index)
    throw new EspipeError('EUNSAFE_ID_COLUMN', `table ${name}: id column ${idColumn.name} would merge distinct ids (${problem}); make it exact with ${fix}, or pass --allow-id-merge to write anyway`, { context })
  }
  return { maxPacket: Number(server.maxPacket), serverVersion: String(server.version), keyOf: keyFunction(idColumn), columns, idColumn }
}

/** The column's unique key and its prefix length, when its unique keys all cover just a prefix. */
async function uniquePrefix (conn: Connection, database: string, table: string, column: string): Promise<{ length: number, index: string } | undefined> {
  const [rows] = await conn.query<RowDataPacket[]>(`SELECT INDEX_NAME AS idx, MAX(SUB_PART) AS sub, COUNT(*) AS n, MAX(COLUMN_NAME = ?) AS hit
    FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 GROUP BY INDEX_NAME`, [column, database, table])
  const keys = rows.filter((r) => Number(r.n) === 1 && Number(r.hit) === 1)
  if (keys.length === 0 || keys.some((k) => k.sub === null)) return undefined
  return { length: Number(keys[0].sub), index: String(keys[0].idx) }
}

/**
 * Two ids the key column holds equal must share a lane (to keep their order), and a sort
 * should follow the index order. PAD SPACE collations ignore trailing spaces; _ci ones
 * ignore case (accent folding is left out: ids are rarely accented); an integer column
 * reads "01" as 1. Only with --allow-id-merge can ids that differ so reach the table.
 */
export function keyFunction (col: ColumnInfo | string | null): (id: string) => string {
  if (col !== null && typeof col === 'object' && isIntegerColumn(col)) {
    return (id) => /^-?\d+$/.test(id) ? BigInt(id).toString() : id
  }
  const collation = col === null ? null : typeof col === 'string' ? col : col.collation ?? null
  if (collation === null) return (id) => id
  const nopad = /nopad|_0900_/i.test(collation)
  const ci = /_ci$/i.test(collation)
  if (ci) return nopad ? (id) => id.toLowerCase() : (id) => id.toLowerCase().replace(/ +$/, '')
  return nopad ? (id) => id : (id) => id.endsWith(' ') ? id.replace(/ +$/, '') : id
}
