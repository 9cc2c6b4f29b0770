import type { ColumnKind, ValueWriter, WriterOptions } from './columns.js'
import { ValueError, cursorText, idText, isJsonObjectText, jsonColumnText, plainValue, quoteJson, valueWriter } from './columns.js'
import type { SourceColumn } from './source.js'

export interface RowFormatOptions extends WriterOptions {
  /** `_index` of every record; none leaves the member out. */
  index?: string
  /** Columns whose values make `_id` (one: its text; several: see idFromParts); none: no `_id`. */
  idColumns?: readonly string[]
  /** Its JSON text is `_source`, as stored. */
  contentColumn?: string
  /** Columns whose values make the cursor, in ORDER BY order (--since-column, then the key). */
  cursorColumns?: readonly string[]
}

/**
 * The `_id` of a composite key: each part's text with `%` written `%25` and `,` written `%2C`,
 * joined by commas. So `1,a%2Cb` is the key (1, 'a,b'), and any id splits back exactly
 * (`split(',').map(decodeURIComponent)`). A one-column key is its text as it is.
 */
export function idFromParts (parts: readonly string[]): string {
  if (parts.length === 1) return parts[0]
  return parts.map((p) => p.includes('%') || p.includes(',') ? p.replace(/%/g, '%25').replace(/,/g, '%2C') : p).join(',')
}

/**
 * Builds each row's NDJSON line, `{"_index":…,"_id":…,"_source":{…}}`, as text: every value is
 * written by its column's writer (exact digits, ISO dates, base64 binary, JSON as stored), so
 * no value passes through a JavaScript number it could lose digits in.
 */
export class RowFormat {
  private readonly head: string
  private readonly source: Array<{ at: number, key: string, write: ValueWriter }>
  private readonly ids: Array<{ at: number, kind: ColumnKind, name: string }>
  private readonly cursorAt: Array<{ at: number, kind: ColumnKind, name: string }>
  private readonly content: { at: number, name: string, trusted: boolean } | undefined
  readonly names: string[]

  constructor (columns: readonly SourceColumn[], opts: RowFormatOptions) {
    this.names = columns.map((c) => c.name)
    const at = (name: string): number => columns.findIndex((c) => c.name === name)
    this.head = opts.index === undefined ? '{' : `{"_index":${quoteJson(opts.index)},`
    this.source = []
    columns.forEach((c, i) => {
      if (!c.inSource || c.name === opts.contentColumn) return
      this.source.push({ at: i, key: (this.source.length === 0 ? '{' : ',') + quoteJson(c.name) + ':', write: valueWriter(c.kind, c.name, opts) })
    })
    this.ids = (opts.idColumns ?? []).map((name) => ({ at: at(name), kind: columns[at(name)].kind, name }))
    this.cursorAt = (opts.cursorColumns ?? []).map((name) => ({ at: at(name), kind: columns[at(name)].kind, name }))
    const ci = opts.contentColumn === undefined ? -1 : at(opts.contentColumn)
    this.content = ci < 0 ? undefined : { at: ci, name: columns[ci].name, trusted: columns[ci].kind === 'json' }
  }

  /** The record's `_id`; throws ValueError when a key part is NULL. */
  id (row: readonly unknown[]): string | undefined {
    if (this.ids.length === 0) return undefined
    const parts = this.ids.map(({ at, kind, name }) => {
      const v = row[at]
      if (v === null || v === undefined) throw new ValueError('ROW_NULL_ID', `id column ${name} is NULL`, name)
      return idText(kind, v)
    })
    return idFromParts(parts)
  }

  /** The line for a row (no newline); throws ValueError for a value JSON cannot carry. */
  line (row: readonly unknown[]): string {
    const id = this.id(row)
    let s = id === undefined ? this.head + '"_source":' : this.head + '"_id":' + quoteJson(id) + ',"_source":'
    if (this.content !== undefined) {
      const v = row[this.content.at]
      if (v === null || v === undefined) throw new ValueError('ROW_NULL_CONTENT', `content column ${this.content.name} is NULL`, this.content.name)
      const text = jsonColumnText(String(v), this.content.name, this.content.trusted)
      if (!isJsonObjectText(text)) throw new ValueError('ROW_CONTENT_NOT_OBJECT', `content column ${this.content.name} holds JSON that is not an object, so it cannot be _source`, this.content.name)
      return s + text + '}'
    }
    const cols = this.source
    if (cols.length === 0) return s + '{}}'
    for (let i = 0; i < cols.length; i++) {
      const c = cols[i]
      const v = row[c.at]
      s += c.key + (v === null ? 'null' : c.write(v))
    }
    return s + '}}'
  }

  /** The row's place in the read: the texts of its cursor columns, or undefined if one is NULL. */
  cursor (row: readonly unknown[]): string[] | undefined {
    const out = new Array<string>(this.cursorAt.length)
    for (let i = 0; i < this.cursorAt.length; i++) {
      const { at, kind } = this.cursorAt[i]
      const v = row[at]
      if (v === null || v === undefined) return undefined
      out[i] = cursorText(kind, v)
    }
    return out
  }

  /** The column that made the cursor NULL, for the message. */
  nullCursorColumn (row: readonly unknown[]): string | undefined {
    return this.cursorAt.find(({ at }) => row[at] === null || row[at] === undefined)?.name
  }

  /** The row as a plain object (binary as base64), for a dead-letter entry. */
  plain (row: readonly unknown[]): Record<string, unknown> {
    const o: Record<string, unknown> = {}
    this.names.forEach((n, i) => { o[n] = plainValue(row[i]) })
    return o
  }
}
