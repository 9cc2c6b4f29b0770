import type { Connection, RowDataPacket } from 'mysql2/promise'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError } from '../core/errors.js'
import type { TableName } from './identifiers.js'
import { quoteIdentifier, quoteTable } from './identifiers.js'

export interface TableInfo {
  /** The server's max_allowed_packet: no statement may be larger. */
  maxPacket: number
  serverVersion: string
  /** Maps an id to the form the key column compares (its collation), for routing and sorting. */
  keyOf: (id: string) => string
}

export interface PrepareTableOptions {
  create: boolean
  idColumn: string
  contentColumn: string
  columns: readonly string[]
}

/**
 * Checks, before any record is read, that the table and every column exist (or makes the
 * default table with --create), and learns what batching and routing need from the server.
 */
export async function prepareTable (conn: Connection, table: TableName, opts: PrepareTableOptions, context: ErrorContext): Promise<TableInfo> {
  const [[server]] = await conn.query<RowDataPacket[]>('SELECT @@max_allowed_packet AS maxPacket, VERSION() AS version, DATABASE() AS db')
  const database = table.database ?? (server.db as string | null) ?? undefined
  const name = database === undefined ? table.table : `${database}.${table.table}`
  if (database === undefined) {
    throw new EspipeError('ER_NO_DB_ERROR', 'no database selected: give --database, a database in --url, or --table database.table', { context })
  }
  if (opts.create) {
    // utf8mb4_bin: Elasticsearch ids are case-sensitive, so 'a' and 'A' are two records.
    await conn.query(`CREATE TABLE IF NOT EXISTS ${quoteTable(table)} (${quoteIdentifier(opts.idColumn)} VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, ${quoteIdentifier(opts.contentColumn)} JSON) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`)
  }
  const [cols] = await conn.query<RowDataPacket[]>('SELECT COLUMN_NAME AS name, COLLATION_NAME AS coll FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [database, table.table])
  if (cols.length === 0) {
    throw new EspipeError('ER_NO_SUCH_TABLE', `table ${name} does not exist (add --create to make it)`, { context })
  }
  const byName = new Map(cols.map((c) => [String(c.name).toLowerCase(), c.coll as string | null]))
  for (const col of opts.columns) {
    if (!byName.has(col.toLowerCase())) throw new EspipeError('ER_BAD_FIELD_ERROR', `table ${name} has no column ${col}`, { context })
  }
  const coll = byName.get(opts.idColumn.toLowerCase()) ?? null
  return { maxPacket: Number(server.maxPacket), serverVersion: String(server.version), keyOf: keyFunction(coll) }
}

/**
 * Two ids the key column holds equal must share a lane (to keep their order), and a sort
 * should follow the index order. PAD SPACE collations ignore trailing spaces; _ci ones
 * ignore case (accent folding is left out: ids are rarely accented).
 */
export function keyFunction (collation: string | null): (id: string) => string {
  if (collation === null) return (id) => id
  const nopad = /nopad/i.test(collation)
  const ci = /_ci$/i.test(collation)
  if (ci) return nopad ? (id) => id.toLowerCase() : (id) => id.toLowerCase().replace(/ +$/, '')
  return nopad ? (id) => id : (id) => id.endsWith(' ') ? id.replace(/ +$/, '') : id
}
