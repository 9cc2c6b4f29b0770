import { numberText, stringifyExact } from '../core/json.js'
import type { CsvDialect } from './dialect.js'

export interface RowFormatOptions extends Pick<CsvDialect, 'delimiter' | 'quote'> {
  /** Prefix text cells that a spreadsheet would run as a formula with `'` (changes the data). */
  escapeFormulas?: boolean
}

/**
 * What spreadsheets take for a formula: = + - @, a tab or CR (some apps strip them first),
 * and the full-width forms Apple Numbers folds into them (the OWASP "CSV injection" list).
 */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/

const escapeRegExp = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|-]/g, '\\$&')

/**
 * The text of one value in a cell: strings as they are, numbers with every digit they came
 * with, booleans as true/false, null (and a missing value) as nothing, arrays and objects as
 * compact JSON.
 */
export function cellText (value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return ''
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  return numberText(value) ?? stringifyExact(value)
}

/**
 * Rows to RFC 4180 lines: a cell is quoted when it holds the delimiter, the quote, CR or LF
 * (and when it starts with a BOM, which a reader would strip from the start of the file),
 * with quotes inside doubled. A row of one empty cell is written `""`, since an empty line is
 * read as no row at all.
 *
 * A delimiter of several characters can also be made by a cell's end and the delimiter after
 * it: with `aa`, the cell `a` then `aa` reads as `aaa`, whose first `aa` a reader (which looks
 * for the delimiter from the left) takes for the delimiter. So a cell is quoted when the
 * delimiter occurs in the cell followed by all but the last character of the delimiter: any
 * match that starts inside the cell. Then the delimiter after each unquoted cell is the first
 * match a reader finds, whatever the next cell holds.
 *
 * With an empty quote (quoting off, as csv-read --quote '' reads), nothing is quoted: ask
 * `unquotable` first, since a cell that needs quotes would be read back as other cells.
 */
export class RowFormatter {
  private readonly delimiter: string
  private readonly quote: string
  private readonly doubled: string
  private readonly needsQuotes: RegExp
  /** All but the last character of a delimiter of several; '' for one character. */
  private readonly delimiterHead: string
  private readonly escapeFormulas: boolean
  /** False with an empty quote: then no cell is quoted. */
  readonly quoting: boolean

  constructor (opts: RowFormatOptions) {
    this.delimiter = opts.delimiter
    this.quote = opts.quote
    this.doubled = opts.quote + opts.quote
    this.quoting = opts.quote !== ''
    const quoteChar = this.quoting ? escapeRegExp(opts.quote) : ''
    this.needsQuotes = new RegExp(`${escapeRegExp(opts.delimiter)}|[${quoteChar}\\r\\n]|^\\uFEFF`)
    this.delimiterHead = [...opts.delimiter].slice(0, -1).join('')
    this.escapeFormulas = opts.escapeFormulas === true
  }

  private text (value: unknown): string {
    const text = cellText(value)
    return this.escapeFormulas && typeof value === 'string' && FORMULA_START.test(text) ? "'" + text : text
  }

  /** Whether `text` can't be written as it is: see the class's comment. */
  private needsQuoting (text: string): boolean {
    return this.needsQuotes.test(text) || (this.delimiterHead !== '' && (text + this.delimiterHead).includes(this.delimiter))
  }

  cell (value: unknown): string {
    const text = this.text(value)
    if (!this.quoting || !this.needsQuoting(text)) return text
    return this.quote + text.replaceAll(this.quote, this.doubled) + this.quote
  }

  /**
   * With quoting off, the first cell that can't be written unquoted, and why (it holds the
   * delimiter or a line end, starts with a BOM, ends in the start of the delimiter, or is the
   * only cell of its row and empty).
   * With quoting on, undefined.
   */
  unquotable (cells: readonly unknown[]): { index: number, reason: string } | undefined {
    if (this.quoting) return undefined
    for (let index = 0; index < cells.length; index++) {
      const text = this.text(cells[index])
      if (!this.needsQuoting(text)) continue
      const reason = text.includes(this.delimiter)
        ? `holds the delimiter (${JSON.stringify(this.delimiter)})`
        : /[\r\n]/.test(text) ? 'holds a line end' : text.charCodeAt(0) === 0xfeff ? 'starts with a byte order mark' : `ends so that the delimiter after it (${JSON.stringify(this.delimiter)}) would be read one or more characters early`
      return { index, reason }
    }
    return cells.length === 1 && this.text(cells[0]) === '' ? { index: 0, reason: 'is the only cell of its row and empty' } : undefined
  }

  /** One line, without its line end. `cells` may have holes (missing values). */
  row (cells: readonly unknown[]): string {
    const n = cells.length
    if (n === 1) {
      const only = this.cell(cells[0])
      return only === '' ? this.doubled : only
    }
    let line = n === 0 ? '' : this.cell(cells[0])
    for (let i = 1; i < n; i++) line += this.delimiter + this.cell(cells[i])
    return line
  }
}
