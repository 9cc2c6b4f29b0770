import type { Connection, RowDataPacket } from 'mysql2/promise'
import { EspipeError, errorMessage } from '../core/errors.js'
import type { ErrorContext } from '../core/errors.js'
import type { MysqlConnectionSettings } from './connection.js'
import { connectOrSay, describeTarget, resolveConnection, targetContext } from './connection.js'
import { sqlCode } from './errors.js'
import type { JsonObject } from '../core/record.js'
import type { TableName } from './identifiers.js'
import { parseTableName, quoteServerName, quoteTable, tableLabel } from './identifiers.js'
import type { ColumnKind } from './values.js'
import { columnKind } from './values.js'

/**
 * A table as an Elasticsearch mapping (mysql-read --schema): each column as the field type that
 * takes the value mysql-read writes for it (man mysql-read, TYPES) and keeps it exact in
 * _source and, where the type can, in the index too. The line is the one es-read --schema
 * prints for an index, so es-write --schema makes the index from it.
 */
export interface TableColumn {
  name: string
  /** DATA_TYPE, lower case. */
  dataType: string
  /** COLUMN_TYPE: `bigint(20) unsigned`, `tinyint(1)`. */
  columnType: string
  precision?: number
  scale?: number
  /** CHARACTER_MAXIMUM_LENGTH: a string column's most characters. */
  chars?: number
  collation?: string
  kind: ColumnKind
  /** A JSON column holds a value that is not an object (a string, an array): no object field with mappings takes it. */
  notObjects?: boolean
}

/** The most characters a keyword may index: Lucene refuses a term of more than 32,766 bytes (4 a character). */
const KEYWORD_CHARS = 8191
const DATE_FORMAT = 'strict_date_optional_time'

/** The field of one column, and a warning when its values are kept exact in _source only. */
export function fieldOfColumn (c: TableColumn): { field: JsonObject, warning?: string } {
  const unsigned = /unsigned/i.test(c.columnType)
  switch (c.kind) {
    case 'int': {
      switch (c.dataType) {
        case 'tinyint': return { field: { type: unsigned ? 'short' : 'byte' } }
        case 'smallint': return { field: { type: unsigned ? 'integer' : 'short' } }
        case 'mediumint': return { field: { type: 'integer' } }
        default: return { field: { type: unsigned ? 'long' : 'integer' } }
      }
    }
    case 'bigint': return { field: { type: unsigned ? 'unsigned_long' : 'long' } }
    case 'year': return { field: { type: 'short' } }
    case 'decimal': {
      const p = c.precision ?? 10
      const s = c.scale ?? 0
      if (s === 0 && p <= 18) return { field: { type: 'long' } }
      // A scaled_float indexes round(double(v) · 10^s) as a long: exact while the digits fit a double's 15.
      if (p <= 15) return { field: { type: 'scaled_float', scaling_factor: 10 ** s } }
      return { field: { type: 'keyword' }, warning: `column ${c.name} ${c.columnType.toUpperCase()} has more digits than a scaled_float indexes exactly: mapped as keyword (its numbers stay exact in _source; searched as text)` }
    }
    case 'float': return { field: { type: c.dataType === 'float' ? 'float' : 'double' } }
    case 'bit': return { field: { type: (c.precision ?? 1) >= 64 ? 'unsigned_long' : 'long' } }
    case 'date': case 'datetime': case 'timestamp': return { field: { type: 'date', format: DATE_FORMAT } }
    case 'time': case 'enum': case 'set': return { field: { type: 'keyword' } }
    // An object field refuses any other value ("tried to parse field as object, but found a
    // concrete value"); a disabled one takes every JSON value and keeps it in _source.
    case 'json': return c.notObjects === true
      ? { field: { type: 'object', enabled: false }, warning: `column ${c.name} (JSON) holds values that are not objects: mapped as an object with enabled: false (kept in _source, not searchable)` }
      : { field: { type: 'object', dynamic: true } }
    case 'geometry': return { field: { type: 'geo_shape' } }
    case 'text': {
      // A TEXT of a binary collation compares exactly, as a keyword does (mysql-write --schema makes keywords so).
      if (c.dataType === 'char' || c.dataType === 'varchar' || /_bin$/i.test(c.collation ?? '')) {
        return { field: (c.chars ?? 0) > KEYWORD_CHARS ? { type: 'keyword', ignore_above: KEYWORD_CHARS } : { type: 'keyword' } }
      }
      return { field: { type: 'text' } }
    }
    case 'binary': case 'other': return { field: { type: 'binary' } }
    case 'null': return { field: { type: 'keyword' }, warning: `column ${c.name} has no type a field can take: mapped as keyword` }
  }
}

/** The columns of a table, in their order, with what mysql-read reads each as. */
export async function tableColumns (conn: Connection, table: TableName, context: ErrorContext): Promise<TableColumn[]> {
  const [cols] = await conn.query<RowDataPacket[]>(`SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, NUMERIC_PRECISION AS p,
    NUMERIC_SCALE AS s, CHARACTER_MAXIMUM_LENGTH AS chars, COLLATION_NAME AS coll FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, [table.database ?? null, table.table])
  if (cols.length === 0) throw new EspipeError('ER_NO_SUCH_TABLE', `table ${table.database === undefined ? '' : `${table.database}.`}${table.table} does not exist`, { context })
  const [, fields] = await conn.query<RowDataPacket[]>({ sql: `SELECT * FROM ${quoteTable(table)} LIMIT 0`, rowsAsArray: true })
  const kinds = new Map(fields.map((f) => [f.name, columnKind(f)]))
  return cols.map((c) => ({
    name: String(c.name),
    dataType: String(c.dataType).toLowerCase(),
    columnType: String(c.columnType),
    precision: c.p === null ? undefined : Number(c.p),
    scale: c.s === null ? undefined : Number(c.s),
    chars: c.chars === null ? undefined : Number(c.chars),
    collation: c.coll === null ? undefined : String(c.coll),
    kind: kinds.get(String(c.name)) ?? 'other'
  }))
}

/** The schema line of a table: `{"_index", "mappings", "settings", "aliases"}`, as es-read --schema prints an index's. */
export function schemaLine (index: string, columns: readonly TableColumn[], warn: (message: string) => void): string {
  const properties: JsonObject = {}
  for (const c of columns) {
    const { field, warning } = fieldOfColumn(c)
    if (warning !== undefined) warn(warning)
    properties[c.name] = field
  }
  return JSON.stringify({ _index: index, mappings: { properties }, settings: {}, aliases: {} })
}

/** mysql-read --schema: the table's schema line (only --columns, when given), warnings through `warn`. */
export async function mysqlTableSchema (opts: { connection: MysqlConnectionSettings, table: string, columns?: readonly string[] }, warn: (message: string) => void): Promise<string> {
  const table = parseTableName(opts.table)
  const target = resolveConnection(opts.connection)
  const context = targetContext(target, tableLabel(table))
  const conn = await connectOrSay(target, context)
  try {
    const all = await tableColumns(conn, table, context)
    const wanted = opts.columns ?? []
    for (const w of wanted) {
      if (!all.some((c) => c.name.toLowerCase() === w.toLowerCase())) throw new EspipeError('ER_BAD_FIELD_ERROR', `table ${tableLabel(table)} has no column ${w}`, { context })
    }
    const columns = wanted.length === 0 ? all : all.filter((c) => wanted.some((w) => w.toLowerCase() === c.name.toLowerCase()))
    for (const c of columns) {
      if (c.kind !== 'json') continue
      const col = quoteServerName(c.name)
      const [hit] = await conn.query<RowDataPacket[]>(`SELECT 1 FROM ${quoteTable(table)} WHERE ${col} IS NOT NULL AND JSON_TYPE(${col}) <> 'OBJECT' LIMIT 1`)
      c.notObjects = hit.length > 0
    }
    return schemaLine(table.table, columns, warn)
  } catch (err) {
    if (err instanceof EspipeError) throw err
    throw new EspipeError(sqlCode(err), `${errorMessage(err)} (MySQL at ${describeTarget(target)}, table ${tableLabel(table)})`, { context, cause: err })
  } finally {
    conn.destroy()
  }
}
