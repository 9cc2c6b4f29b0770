import { EspipeError } from '../core/errors.js'
import type { JsonObject } from '../core/record.js'
import { ColumnTree } from './columns.js'
import type { CsvEncoding } from './dialect.js'
import type { RowFormatter } from './format.js'
import { cellText } from './format.js'
import { uniqueColumns } from './read.js'

/** What a record with keys outside the columns does: fail (not written, dead-lettered) or ignore (written without them). */
export type ExtraKeys = 'fail' | 'ignore'
export const EXTRA_KEYS: readonly ExtraKeys[] = ['fail', 'ignore']

/** A record that can't be a row, with why. */
export interface RowProblem {
  code: string
  message: string
}

export interface RowPlacerOptions {
  /** The columns, the id column among them unless it is false. */
  columns: readonly string[]
  idColumn: string | false
  formatter: RowFormatter
  encoding: CsvEncoding
  extraKeys: ExtraKeys
  warn: (message: string) => void
}

const NEEDS_QUOTES = "which only quotes can hold, and --quote '' turned quoting off"
const hasLoneSurrogate = (s: string): boolean => !(s as unknown as { isWellFormed: () => boolean }).isWellFormed()
const NOT_LATIN1 = /[^\u0000-\u00ff]/

/**
 * Places records' contents in the columns and formats each as one CSV line, refusing what the
 * file could not give back: a column filled twice, an id its content contradicts, keys outside
 * the columns (with --extra-keys fail), text the encoding can't hold, a cell that needs quotes
 * with quoting off.
 */
export class RowPlacer {
  private readonly tree: ColumnTree
  private readonly idIndex: number
  /** Each key outside the columns: how many records had it, and the first of them. */
  private readonly outside = new Map<string, { records: number, first: string }>()

  constructor (private readonly o: RowPlacerOptions) {
    this.tree = new ColumnTree(o.columns)
    this.idIndex = o.idColumn === false ? -1 : this.tree.indexOf(o.idColumn)
  }

  /** The columns, in the order of the header. */
  get columns (): readonly string[] {
    return this.o.columns
  }

  /** Why this text can't be written in the output encoding, or undefined. */
  encodingProblem (text: string): string | undefined {
    if (this.o.encoding === 'latin1') {
      const c = NOT_LATIN1.exec(text)
      if (c !== null) return `holds '${c[0]}', which Latin-1 cannot encode (use --encoding utf8 or utf16le)`
    } else if (this.o.encoding === 'utf8' && hasLoneSurrogate(text)) {
      return 'holds a lone UTF-16 surrogate (an escape like \\ud800 in the JSON), which UTF-8 cannot encode'
    }
    return undefined
  }

  /** The header line (without its line end); throws when a column name can't be written. */
  header (): string {
    const cols = this.o.columns
    const header = this.o.formatter.row(cols)
    const bad = cols.find((c) => this.encodingProblem(c) !== undefined)
    if (bad !== undefined) throw new EspipeError('CSV_UNENCODABLE', `column name '${bad}' ${this.encodingProblem(bad) ?? ''}`)
    const unquotable = this.o.formatter.unquotable(cols)
    if (unquotable !== undefined) throw new EspipeError('CSV_NEEDS_QUOTES', `column name '${cols[unquotable.index]}' ${unquotable.reason}, ${NEEDS_QUOTES}`)
    // Only an empty key ("") can make a name csv-read renames: the columns are distinct paths.
    const { renamed } = uniqueColumns(cols)
    if (renamed.length > 0) this.o.warn(`a column with an empty name (the key ""): csv-read reads it back under another: ${renamed.join(', ')}`)
    return header
  }

  /**
   * One record's line (without its line end), `partial` when keys outside the columns were
   * left out, or why it can't be written. `where` names the record in messages.
   */
  line (content: JsonObject, id: string | undefined, where: string): { text: string, partial: boolean } | RowProblem {
    const { o, tree } = this
    const placed = tree.place(content)
    if (placed.conflict !== undefined) {
      return { code: 'CSV_COLUMN_CONFLICT', message: `${where} fills column '${placed.conflict}' twice (from a nested and a dotted key)` }
    }
    if (this.idIndex >= 0) {
      const own = placed.cells[this.idIndex]
      if (own !== undefined && cellText(own) !== id) {
        return { code: 'CSV_ID_CONFLICT', message: `${where} has id '${id ?? ''}' but its content's '${o.idColumn as string}' is '${cellText(own)}'; name another id column with --id-column, or leave the id out with --no-id` }
      }
      placed.cells[this.idIndex] = id
    }
    if (placed.extra !== undefined) {
      this.countOutside(placed.extra, where)
      if (o.extraKeys === 'fail') {
        return { code: 'CSV_EXTRA_KEYS', message: `${where} has ${placed.extra.length === 1 ? 'a key' : 'keys'} outside the columns: ${placed.extra.join(', ')}; list every column with --columns (or raise --sample), or write such rows without them with --extra-keys ignore` }
      }
    }
    // Only text can hold what the encoding can't: strings, and for Latin-1 the JSON of arrays
    // and objects too (JSON.stringify escapes lone surrogates, but not €).
    const cells = placed.cells
    for (let i = 0; i < cells.length; i++) {
      const v = cells[i]
      const bad = typeof v === 'string' ? this.encodingProblem(v) : o.encoding === 'latin1' && typeof v === 'object' && v !== null ? this.encodingProblem(cellText(v)) : undefined
      if (bad !== undefined) return { code: 'CSV_UNENCODABLE', message: `${where}: column '${tree.columns[i]}' ${bad}` }
    }
    const unquotable = o.formatter.unquotable(cells)
    if (unquotable !== undefined) return { code: 'CSV_NEEDS_QUOTES', message: `${where}: column '${tree.columns[unquotable.index]}' ${unquotable.reason}, ${NEEDS_QUOTES}` }
    return { text: o.formatter.row(cells), partial: placed.extra !== undefined }
  }

  /** The end-of-run line about keys outside the columns, or undefined when there were none. */
  outsideSummary (): string | undefined {
    if (this.outside.size === 0) return undefined
    const list = [...this.outside].map(([key, s]) => `${key} (${s.records} record${s.records === 1 ? '' : 's'}, first at ${s.first})`).join(', ')
    return `${this.o.extraKeys === 'fail' ? 'records not written because of keys' : 'keys left out,'} outside the columns: ${list}; list every column with --columns`
  }

  private countOutside (keys: readonly string[], where: string): void {
    for (const key of keys) {
      const seen = this.outside.get(key)
      if (seen !== undefined) { seen.records++; continue }
      this.outside.set(key, { records: 1, first: where })
      if (this.o.extraKeys === 'ignore') this.o.warn(`key '${key}' (first at ${where}) is not a column: its values are left out (list every column with --columns, or raise --sample)`)
    }
  }
}

export function isRowProblem (v: { text: string } | RowProblem): v is RowProblem {
  return 'code' in v
}
