import type { Connection, FieldPacket, RowDataPacket } from 'mysql2/promise'
import type { ErrorContext } from '../core/errors.js'
import { EspipeError } from '../core/errors.js'
import type { ColumnKind } from './values.js'
import { columnKind, isFloat32, pageable, zerofilled } from './values.js'
import type { TableName } from './identifiers.js'
import { quoteServerName, quoteTable } from './identifiers.js'

/** One column of what is read, in select-list order. */
export interface SourceColumn {
  name: string
  kind: ColumnKind
  /** In _source (false for a key or since column read only for paging). */
  inSource: boolean
  /** Known NOT NULL (tables only; a query's columns are taken as nullable). */
  notNull: boolean
  /** ZEROFILL: digits come padded with zeros. */
  zerofill?: boolean
  /** A FLOAT, selected as a DOUBLE: the server's text of a FLOAT has 6 digits, too few to tell all its values apart. */
  float32?: boolean
}

/** What is read and how it can be paged, learned from the server before the first row. */
export interface ReadSource {
  /** For messages: `db.table`, or `query`. */
  label: string
  /** `_index` of every record: the table's name; none for a query. */
  index?: string
  /** `SELECT <columns> FROM <table or (query) AS q>`, without WHERE. */
  select: string
  columns: SourceColumn[]
  /** Columns that order the rows uniquely (primary key, unique index, or --id-column); none: one streamed statement. */
  key?: string[]
  /** Where the key comes from, for messages. */
  keyFrom?: string
  /** FLOAT columns of a query run as written: the server sends them rounded to 6 digits. */
  roundedFloats?: string[]
  /** The selected flag (1 or 0) that says a row is deleted (--deleted-column): its column's name. */
  deletedFlag?: string
}

/** The name the deleted flag is selected as: not a column of the table, never in _source. */
export const DELETED_FLAG = 'espipe_deleted'

/**
 * When a row counts as deleted (--deleted-column C): a number (a soft-delete flag, 0 or 1) when
 * it is not 0, anything else (a deleted_at time) when it is not NULL; --deleted-when overrides.
 */
function deletedCondition (column: string, kind: ColumnKind | undefined): string {
  const c = quoteServerName(column)
  return kind === 'int' || kind === 'bigint' || kind === 'decimal' || kind === 'float' || kind === 'bit' ? `${c} IS NOT NULL AND ${c} <> 0` : `${c} IS NOT NULL`
}

export interface DescribeOptions {
  table?: TableName
  query?: string
  /** --columns: only these in _source (the key and since columns are read anyway). */
  columns?: readonly string[]
  /** --id-column: the id, and the paging key when the table has none or for a query. */
  idColumns?: readonly string[]
  sinceColumn?: string
  contentColumn?: string
  /** A query is paged (wrapped as a derived table) only when asked for: --since-column, slices, checkpoint. */
  pageQuery: boolean
  /** --where is given: a query is then wrapped too, to apply it. */
  filtered: boolean
  /** --deleted-column (and --deleted-when): rows that meet it become delete operations (tables only). */
  deleted?: { column: string, when?: string }
  context: ErrorContext
}

function badField (label: string, col: string, context: ErrorContext, what = 'column'): EspipeError {
  return new EspipeError('ER_BAD_FIELD_ERROR', `${label} has no ${what} ${col}`, { context })
}

/** Looks a user-typed column name up among the real ones (MySQL column names ignore case). */
function resolveName (names: readonly string[], wanted: string, label: string, context: ErrorContext, what?: string): string {
  const exact = names.find((n) => n === wanted) ?? names.find((n) => n.toLowerCase() === wanted.toLowerCase())
  if (exact === undefined) throw badField(label, wanted, context, what)
  return exact
}

interface IndexPart { index: string, unique: boolean, column: string, subPart: unknown }

/**
 * The key that pages the table: the primary key, else the unique index of fewest columns that
 * are all NOT NULL (NULLs would fall out of `(k) > (?)`), whole-column and of a type whose
 * ORDER BY agrees with `>`. None when the table has no such index.
 */
function chooseKey (parts: IndexPart[], kinds: Map<string, ColumnKind>, notNull: Set<string>): { key: string[], from: string } | undefined {
  const indexes = new Map<string, IndexPart[]>()
  for (const p of parts) {
    if (!p.unique) continue
    indexes.set(p.index, [...(indexes.get(p.index) ?? []), p])
  }
  const usable = [...indexes.entries()].filter(([, ps]) => ps.every((p) => p.subPart === null && notNull.has(p.column) && pageable(kinds.get(p.column) ?? 'other')))
  usable.sort(([a, pa], [b, pb]) => (a === 'PRIMARY' ? -1 : b === 'PRIMARY' ? 1 : pa.length - pb.length || (a < b ? -1 : 1)))
  const best = usable[0]
  if (best === undefined) return undefined
  return { key: best[1].map((p) => p.column), from: best[0] === 'PRIMARY' ? 'primary key' : `unique index ${best[0]}` }
}

async function probe (conn: Connection, select: string): Promise<FieldPacket[]> {
  const [, fields] = await conn.query<RowDataPacket[]>({ sql: `${select} LIMIT 0`, rowsAsArray: true })
  return fields
}

/** Checks the option columns exist and says which of them the rows need beyond _source. */
function plan (names: readonly string[], opts: DescribeOptions, label: string, context: ErrorContext): { source: string[], extra: string[], ids?: string[], since?: string, content?: string } {
  const source = opts.columns !== undefined && opts.columns.length > 0 ? opts.columns.map((c) => resolveName(names, c, label, context)) : [...names]
  const ids = opts.idColumns !== undefined && opts.idColumns.length > 0 ? opts.idColumns.map((c) => resolveName(names, c, label, context)) : undefined
  const since = opts.sinceColumn === undefined ? undefined : resolveName(names, opts.sinceColumn, label, context)
  const content = opts.contentColumn === undefined ? undefined : resolveName(names, opts.contentColumn, label, context)
  return { source: content !== undefined ? [content] : source, extra: [...(ids ?? []), ...(since === undefined ? [] : [since])], ids, since, content }
}

function dedupe (names: readonly string[]): string[] {
  const seen = new Set<string>()
  return names.filter((n) => { const k = n.toLowerCase(); if (seen.has(k)) return false; seen.add(k); return true })
}

/** Learns the table's columns and key from information_schema, and checks every named column. */
export async function describeTable (conn: Connection, table: TableName, opts: DescribeOptions): Promise<ReadSource> {
  const { context } = opts
  const [[current]] = await conn.query<RowDataPacket[]>('SELECT DATABASE() AS db')
  const database = table.database ?? (current.db as string | null) ?? undefined
  if (database === undefined) throw new EspipeError('ER_NO_DB_ERROR', 'no database selected: give --database, a database in --url, or --table database.table', { context })
  const label = `table ${database}.${table.table}`
  const [cols] = await conn.query<RowDataPacket[]>('SELECT COLUMN_NAME AS name, DATA_TYPE AS type, IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [database, table.table])
  if (cols.length === 0) throw new EspipeError('ER_NO_SUCH_TABLE', `${label} does not exist`, { context })
  const names = cols.map((c) => String(c.name))
  const geometry = new Set(cols.filter((c) => /^(geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection)$/i.test(String(c.type))).map((c) => String(c.name)))
  const notNull = new Set(cols.filter((c) => c.nullable === 'NO').map((c) => String(c.name)))
  const p = plan(names, opts, label, context)
  const [idx] = await conn.query<RowDataPacket[]>('SELECT INDEX_NAME AS idx, NON_UNIQUE AS nonUnique, COLUMN_NAME AS col, SUB_PART AS subPart FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX', [database, table.table])
  const parts: IndexPart[] = idx.map((r) => ({ index: String(r.idx), unique: Number(r.nonUnique) === 0, column: String(r.col), subPart: r.subPart ?? null }))

  // Geometry reads as GeoJSON, which the JSON kind writes as it is.
  const expr = (n: string): string => geometry.has(n) ? `ST_AsGeoJSON(${quoteServerName(n)}) AS ${quoteServerName(n)}` : quoteServerName(n)
  const from = quoteTable({ database: table.database, table: table.table })
  const allKinds = new Map<string, ColumnKind>()
  const zerofill = new Set<string>()
  const float32 = new Set<string>()
  const probeFields = await probe(conn, `SELECT ${names.map(expr).join(', ')} FROM ${from}`)
  probeFields.forEach((f, i) => {
    allKinds.set(names[i], geometry.has(names[i]) ? 'json' : columnKind(f))
    if (zerofilled(f)) zerofill.add(names[i])
    if (isFloat32(f)) float32.add(names[i])
  })
  const select = (n: string): string => float32.has(n) ? `(${quoteServerName(n)} + 0e0) AS ${quoteServerName(n)}` : expr(n)

  let chosen = chooseKey(parts, allKinds, notNull)
  if (chosen === undefined && p.ids !== undefined) chosen = { key: p.ids, from: '--id-column' }
  const selected = dedupe([...p.source, ...p.extra, ...(chosen?.key ?? [])])
  const inSource = new Set(p.source.map((n) => n.toLowerCase()))
  const columns: SourceColumn[] = selected.map((name) => ({ name, kind: allKinds.get(name) ?? 'other', inSource: inSource.has(name.toLowerCase()), notNull: notNull.has(name), zerofill: zerofill.has(name), float32: float32.has(name) }))
  const list = selected.map(select)
  let deletedFlag: string | undefined
  if (opts.deleted !== undefined) {
    const column = resolveName(names, opts.deleted.column, label, context)
    if (names.some((n) => n.toLowerCase() === DELETED_FLAG)) throw new EspipeError('ER_DUP_FIELDNAME', `${label} has a column ${DELETED_FLAG}, the name --deleted-column selects its flag as`, { context })
    // The flag is read with the row, in the same page and order: a delete takes the row's place in the stream.
    list.push(`(${opts.deleted.when ?? deletedCondition(column, allKinds.get(column))}) AS ${quoteServerName(DELETED_FLAG)}`)
    columns.push({ name: DELETED_FLAG, kind: 'int', inSource: false, notNull: false })
    deletedFlag = DELETED_FLAG
  }
  return {
    label,
    index: table.table,
    select: `SELECT ${list.join(', ')} FROM ${from}`,
    columns,
    key: chosen?.key,
    keyFrom: chosen?.from,
    deletedFlag
  }
}

/** A query's columns from its result metadata; its key is --id-column, used only when paging is asked for. */
export async function describeQuery (conn: Connection, query: string, opts: DescribeOptions): Promise<ReadSource> {
  const { context } = opts
  const label = 'query'
  const from = `(${query}) AS espipe_q`
  const fields = await probe(conn, `SELECT * FROM ${from}`)
  const names = fields.map((f) => f.name)
  const p = plan(names, opts, label, context)
  const kinds = new Map(fields.map((f) => [f.name, columnKind(f)]))
  const zerofill = new Set(fields.filter(zerofilled).map((f) => f.name))
  const float32 = new Set(fields.filter(isFloat32).map((f) => f.name))
  const key = opts.pageQuery ? p.ids : undefined
  const selected = dedupe([...p.source, ...p.extra])
  const inSource = new Set(p.source.map((n) => n.toLowerCase()))
  // Unpaged and whole, the query runs as the user wrote it (its own ORDER BY holds).
  const asWritten = !opts.pageQuery && !opts.filtered && selected.length === names.length && selected.every((n, i) => n === names[i])
  if (asWritten) float32.clear()
  const columns = selected.map((name) => ({ name, kind: kinds.get(name) ?? 'other', inSource: inSource.has(name.toLowerCase()), notNull: false, zerofill: zerofill.has(name), float32: float32.has(name) }))
  const select = (n: string): string => float32.has(n) ? `(${quoteServerName(n)} + 0e0) AS ${quoteServerName(n)}` : quoteServerName(n)
  return {
    label,
    select: asWritten ? query : `SELECT ${selected.map(select).join(', ')} FROM ${from}`,
    columns,
    key,
    keyFrom: key === undefined ? undefined : '--id-column',
    roundedFloats: asWritten ? fields.filter(isFloat32).map((f) => f.name) : []
  }
}
