import type { ResultSetHeader } from 'mysql2/promise'
import { quoteIdentifier } from './identifiers.js'

export type WriteMode = 'ignore' | 'upsert' | 'replace' | 'insert'
export const WRITE_MODES: readonly WriteMode[] = ['ignore', 'upsert', 'replace', 'insert']

export interface RowCounts {
  inserted: number
  updated: number
  skipped: number
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
    return { inserted: keys.length - updated, updated, skipped: 0 }
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
        return { inserted: rows, updated: 0, skipped: 0 }
      case 'ignore':
        return { inserted: affected, updated: 0, skipped: rows - affected }
      case 'upsert': {
        // An upsert that found the same content is still "the last one wins": updated.
        const inserted = dups === undefined ? (rows === 1 && affected === 1 ? 1 : 0) : affected - 2 * dups
        return { inserted, updated: rows - inserted, skipped: 0 }
      }
      case 'replace':
        throw new Error('replace mode counts with countReplace')
    }
  }
}
