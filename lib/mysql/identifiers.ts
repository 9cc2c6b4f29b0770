import { UsageError } from '../core/errors.js'

/**
 * Only plain identifiers are accepted: names are refused before any connection rather than
 * escaped, so a hostile or mistyped name can never reach the server as SQL.
 */
const PLAIN = /^[A-Za-z_][A-Za-z0-9_$]{0,63}$/

export function checkIdentifier (name: string, what: string): string {
  if (!PLAIN.test(name)) {
    throw new UsageError(`invalid ${what} name '${name}': use letters, digits, _ and $ only (at most 64, not starting with a digit)`)
  }
  return name
}

/** Backquoted; safe because checkIdentifier admits no backquote. */
export function quoteIdentifier (name: string): string {
  return '`' + name + '`'
}

export interface TableName {
  database?: string
  table: string
}

/** `table` or `db.table`, each part a plain identifier. */
export function parseTableName (spec: string): TableName {
  const parts = spec.split('.')
  if (parts.length > 2) throw new UsageError(`invalid table name '${spec}': use table or database.table`)
  if (parts.length === 2) return { database: checkIdentifier(parts[0], 'database'), table: checkIdentifier(parts[1], 'table') }
  return { table: checkIdentifier(parts[0], 'table') }
}

export function quoteTable (t: TableName): string {
  return t.database === undefined ? quoteIdentifier(t.table) : `${quoteIdentifier(t.database)}.${quoteIdentifier(t.table)}`
}

/**
 * Any name the server itself reported (a column of an existing table), backquoted with its
 * backquotes doubled, MySQL's own escape: reading a table must work whatever its columns are
 * called. Names typed by the user reach SQL only after they matched such a name.
 */
export function quoteServerName (name: string): string {
  return '`' + name.replace(/`/g, '``') + '`'
}
