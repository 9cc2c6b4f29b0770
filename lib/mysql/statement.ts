import type { ResultSetHeader } from 'mysql2/promise'
import { quoteIdentifier } from './identifiers.js'

export type WriteMode = 'ignore' | 'upsert' | 'replace' | 'insert'
export const WRITE_MODES: readonly WriteMode[] = ['ignore', 'upsert', 'replace', 'insert']

/** A record that could not be applied, found while its batch ran (told once the batch commits). */
export interface RowRefusal {
  /** Its place in the statement's rows. */
  at: number
  code: string
  message: string
}

/** What one statement (or one batch) did with its rows. */
export interface RowCounts {
  inserted: number
  updated: number
  skipped: number
  deleted: number
  /** Updates and deletes of an id the table does not hold. */
  notFound: number
  refused?: RowRefusal[]
}

export function noCounts (): RowCounts {
  return { inserted: 0, updated: 0, skipped: 0, deleted: 0, notFound: 0 }
}

// Statement text, the VALUES groups' parentheses and commas, and the packet header.
const STATEMENT_OVERHEAD = 64 * 1024
const MAX_PLACEHOLDERS = 65_535

/**
 * How large one statement's batch may be: `rows` as asked, fewer when the placeholders would
 * pass 65,535; `bytes` of values under the server's max_allowed_packet (and 16 MiB).
 */
export function batchLimits (maxPacket: number, columns: number, rows: number): { rows: number, bytes: number } {
  return {
    rows: Math.max(1, Math.min(rows, Math.floor(MAX_PLACEHOLDERS / columns))),
    bytes: Math.max(1024, Math.min(maxPacket - STATEMENT_OVERHEAD, 16 * 1024 * 1024))
  }
}

/**
 * The multi-row statement of one mode, and how to read its result back into exact counts.
 * `ignore` is `ON DUPLICATE KEY UPDATE id = id`, not `INSERT IGNORE`: IGNORE would also turn
 * data errors (too long, wrong type) into warnings and silently truncate values.
 */
export class BatchStatement {
  readonly mode: WriteMode
  readonly columns: readonly string[]
  private readonly head: string
  private readonly tail: string
  private readonly group: string
  private readonly cache = new Map<number, string>()
  private readonly existingHead: string

  constructor (table: string, columns: readonly string[], idColumn: string, mode: WriteMode) {
    this.mode = mode
    this.columns = columns
    const cols = columns.map(quoteIdentifier).join(', ')
    this.head = `${mode === 'replace' ? 'REPLACE' : 'INSERT'} INTO ${table} (${cols}) VALUES `
    this.group = '(' + columns.map(() => '?').join(', ') + ')'
    this.existingHead = `SELECT ${quoteIdentifier(idColumn)} AS id FROM ${table} WHERE ${quoteIdentifier(idColumn)} IN `
    const others = columns.filter((c) => c !== idColumn)
    if (mode === 'ignore') this.tail = ` ON DUPLICATE KEY UPDATE ${quoteIdentifier(idColumn)} = ${quoteIdentifier(idColumn)}`
    else if (mode === 'upsert') {
      this.tail = ' ON DUPLICATE KEY UPDATE ' + (others.length === 0
        ? `${quoteIdentifier(idColumn)} = ${quoteIdentifier(idColumn)}`
        : others.map((c) => `${quoteIdentifier(c)} = VALUES(${quoteIdentifier(c)})`).join(', '))
    } else this.tail = ''
  }

  sql (rows: number): string {
    let s = this.cache.get(rows)
    if (s === undefined) {
      s = this.head + new Array<string>(rows).fill(this.group).join(', ') + this.tail
      if (this.cache.size < 8) this.cache.set(rows, s)
    }
    return s
  }

  /**
   * REPLACE of a row by an identical one reports 1 affected row and no duplicate, exactly like
   * an insert, so replace mode asks which ids exist first (in the same transaction, locked).
   */
  get needsExisting (): boolean {
    return this.mode === 'replace'
  }

  existingSql (rows: number): string {
    return this.existingHead + '(' + new Array<string>(rows).fill('?').join(', ') + ') FOR UPDATE'
  }

  /** Replace mode: a row replaces when its key existed before or came earlier in the batch. */
  countReplace (keys: readonly string[], existing: Iterable<string>): RowCounts {
    const seen = new Set(existing)
    let updated = 0
    for (const k of keys) {
      if (seen.has(k)) updated++
      else seen.add(k)
    }
    return { ...noCounts(), inserted: keys.length - updated, updated }
  }

  /**
   * Affected rows per mode (with FOUND_ROWS off): a new row counts 1; an ON DUPLICATE KEY
   * UPDATE that changed the row 2, one that changed nothing 0; a REPLACE of a row 2.
   * Multi-row statements also report "Duplicates: D" (rows that hit an existing key and
   * were updated or replaced); single-row statements don't, but there affected rows alone decide.
   */
  count (result: ResultSetHeader, rows: number): RowCounts {
    const affected = result.affectedRows
    const m = /Duplicates:\s*(\d+)/.exec(result.info ?? '')
    const dups = m === null ? undefined : Number(m[1])
    switch (this.mode) {
      case 'insert':
        return { ...noCounts(), inserted: rows }
      case 'ignore':
        return { ...noCounts(), inserted: affected, skipped: rows - affected }
      case 'upsert': {
        // An upsert that found the same content is still "the last one wins": updated.
        const inserted = dups === undefined ? (rows === 1 && affected === 1 ? 1 : 0) : affected - 2 * dups
        return { ...noCounts(), inserted, updated: rows - inserted }
      }
      case 'replace':
        throw new Error('replace mode counts with countReplace')
    }
  }
}

/**
 * The statements of records that carry their operation (`_op`, see lib/core/operation.ts),
 * beside the mode's own (records without one): index inserts or replaces by id (the mode's
 * statement when it is upsert or replace; an upsert when the mode never replaces, as ignore and
 * insert do, since the record asks for it); create is an insert that never replaces (a
 * duplicate id is skipped, as es-write skips a 409); update and upsert merge by id as
 * Elasticsearch does (into the stored document in the (id, content) layout, the columns given
 * in the column layout; upsert adds a missing id); delete is a DELETE by id.
 */
export class OpStatements {
  readonly create: BatchStatement
  /** What index records go out with when the mode would not replace. */
  readonly upsert: BatchStatement
  private readonly table: string
  private readonly id: string
  /** The content column of the (id, content) layout; undefined with mapped columns. */
  private readonly content: string | undefined
  private readonly columns: readonly string[]

  constructor (table: string, columns: readonly string[], idColumn: string, mapped: boolean) {
    this.create = new BatchStatement(table, columns, idColumn, 'ignore')
    this.upsert = new BatchStatement(table, columns, idColumn, 'upsert')
    this.table = table
    this.id = quoteIdentifier(idColumn)
    this.columns = columns
    this.content = mapped ? undefined : quoteIdentifier(columns[1])
  }

  get mapped (): boolean {
    return this.content === undefined
  }

  private list (n: number): string {
    return '(' + new Array<string>(n).fill('?').join(', ') + ')'
  }

  deleteSql (n: number): string {
    return `DELETE FROM ${this.table} WHERE ${this.id} IN ${this.list(n)}`
  }

  /** The stored documents of the ids an update run merges into, locked until the unit commits. */
  storedSql (n: number): string {
    return `SELECT ${this.id} AS id, CAST(${this.content ?? 'NULL'} AS CHAR) AS content FROM ${this.table} WHERE ${this.id} IN ${this.list(n)} FOR UPDATE`
  }

  /** The content column written for ids, added or replaced (a merged document, or an upsert's new one). */
  putContentSql (n: number): string {
    return `INSERT INTO ${this.table} (${this.id}, ${this.content ?? ''}) VALUES ${new Array<string>(n).fill('(?, ?)').join(', ')} ON DUPLICATE KEY UPDATE ${this.content ?? ''} = VALUES(${this.content ?? ''})`
  }

  /** An upsert of the columns at `present` (after the id): added with them, or those set; affected rows 1 for added, 2 or 0 for updated. */
  upsertColumnsSql (present: readonly boolean[]): string {
    const cols = this.columns.slice(1).filter((_c, i) => present[i]).map(quoteIdentifier)
    const set = cols.length === 0 ? `${this.id} = ${this.id}` : cols.map((c) => `${c} = VALUES(${c})`).join(', ')
    return `INSERT INTO ${this.table} (${[this.id, ...cols].join(', ')}) VALUES (${new Array<string>(cols.length + 1).fill('?').join(', ')}) ON DUPLICATE KEY UPDATE ${set}`
  }

  /** An update of the columns at `present` (after the id); with none, the id alone (to learn whether it exists). */
  updateColumnsSql (present: readonly boolean[]): string {
    const set = this.columns.slice(1).filter((_c, i) => present[i]).map((c) => `${quoteIdentifier(c)} = ?`)
    return `UPDATE ${this.table} SET ${set.length === 0 ? `${this.id} = ${this.id}` : set.join(', ')} WHERE ${this.id} = ?`
  }
}

/** Rows an UPDATE found ("Rows matched: N"), which affected rows do not say when nothing changed. */
export function rowsMatched (result: ResultSetHeader): number {
  const m = /Rows matched:\s*(\d+)/.exec(result.info ?? '')
  return m === null ? result.affectedRows : Number(m[1])
}
