import { UsageError } from '../core/errors.js'

/**
 * Names of databases, tables and columns. MySQL allows any character but NUL in a backquoted
 * name (MariaDB: only those of the Basic Multilingual Plane), a leading digit too; a name may
 * not end with a space, and has at most 64 characters. Every name is accepted that the server
 * would accept, and every name reaches SQL backquoted with its backquotes doubled (MySQL's own
 * escape), so no name can be anything but a name there.
 */
export function checkIdentifier (name: string, what: string): string {
  const problem = identifierProblem(name)
  if (problem !== undefined) throw new UsageError(`invalid ${what} name '${name}': ${problem}`)
  return name
}

function identifierProblem (name: string): string | undefined {
  if (name === '') return 'a name cannot be empty'
  if (name.includes('\0')) return 'a name cannot hold the NUL character'
  if (/[\uD800-\uDFFF]/.test(name)) return 'MySQL names hold characters of the Basic Multilingual Plane only (no emoji)'
  if (name.length > 64) return `a name has at most 64 characters (this one has ${name.length})`
  if (name.endsWith(' ')) return 'a name cannot end with a space'
  return undefined
}

/** Backquoted, its backquotes doubled: safe for any name. */
export function quoteIdentifier (name: string): string {
  return '`' + name.replace(/`/g, '``') + '`'
}

/**
 * Any name the server itself reported (a column of an existing table), quoted the same way:
 * reading a table must work whatever its columns are called. Names typed by the user reach SQL
 * only after they matched such a name.
 */
export const quoteServerName = quoteIdentifier

export interface TableName {
  database?: string
  table: string
}

/**
 * `text` cut at each `sep` outside backquotes, the parts as typed. A backquote quotes only where
 * a part starts with it (after spaces): inside a name as typed (a`b) it is a character.
 */
export function splitOutsideQuotes (text: string, sep: string): string[] {
  const parts: string[] = []
  let from = 0
  let i = 0
  while (i <= text.length) {
    while (text[i] === ' ') i++
    if (text[i] === '`') {
      // To the closing backquote, `` being one inside the name.
      i++
      while (i < text.length && !(text[i] === '`' && text[i + 1] !== '`')) i += text[i] === '`' ? 2 : 1
      i++
    }
    while (i < text.length && text[i] !== sep) i++
    parts.push(text.slice(from, i))
    from = ++i
  }
  return parts
}

/** A part as typed: one backquoted name (its doubled backquotes made one), or the text trimmed when `trim`. */
function unquote (part: string, trim: boolean, what: string): string {
  const t = part.trim()
  if (!t.startsWith('`')) return trim ? t : part
  const m = /^`((?:[^`]|``)*)`$/.exec(t)
  if (m === null) throw new UsageError(`invalid ${what} '${part}': a backquoted name must be closed, and nothing may follow it`)
  return m[1].replace(/``/g, '`')
}

/**
 * A name as typed in an option: as it is, or backquoted (`` `my col` ``, which is how a name
 * with a comma, a dot or a leading space is given).
 */
export function parseName (text: string, what: string): string {
  return checkIdentifier(unquote(text, false, `${what} name`), what)
}

/** An optional column name (--content-column, …), as parseName reads it. */
export function optionalName (text: string | undefined): string | undefined {
  return text === undefined ? undefined : parseName(text, 'column')
}

/**
 * A list of names, as --columns a,b,c takes it (each option given once or more): split at
 * commas, each part trimmed, or backquoted to hold anything (`` `a,b`,c ``).
 */
export function parseNameList (values: readonly string[], what: string): string[] {
  return values.flatMap((v) => splitOutsideQuotes(v, ',')).filter((p) => p.trim() !== '').map((p) => checkIdentifier(unquote(p, true, `${what} name`), what))
}

/**
 * `col=path`, the column backquoted if it holds `=`: [column, path]. Undefined when there is
 * no `=` with something on either side.
 */
export function parseColumnMapping (text: string): readonly [string, string] | undefined {
  let eq = text.indexOf('=')
  if (/^\s*`/.test(text)) {
    // The column's closing backquote is the first one not doubled.
    const close = /^\s*`(?:[^`]|``)*`/.exec(text)
    if (close === null) throw new UsageError(`invalid --map '${text}': a backquote is not closed`)
    eq = text.indexOf('=', close[0].length)
    if (text.slice(close[0].length, eq < 0 ? undefined : eq).trim() !== '') return undefined
  }
  if (eq <= 0 || eq === text.length - 1) return undefined
  return [parseName(text.slice(0, eq), 'column'), text.slice(eq + 1)]
}

/**
 * `table` or `database.table`, each part as it is or backquoted: `` `my.db`.`t` `` for names
 * that hold a dot. A name with a leading digit, spaces or other characters needs no quotes
 * unless it holds a dot or a backquote.
 */
export function parseTableName (spec: string): TableName {
  const parts = splitOutsideQuotes(spec, '.').map((p) => unquote(p, false, 'table name'))
  if (parts.length > 2) throw new UsageError(`invalid table name '${spec}': use table or database.table (backquote a name that holds a dot: \`my.db\`.\`t\`)`)
  if (parts.length === 2) return { database: checkIdentifier(parts[0], 'database'), table: checkIdentifier(parts[1], 'table') }
  return { table: checkIdentifier(parts[0], 'table') }
}

export function quoteTable (t: TableName): string {
  return t.database === undefined ? quoteIdentifier(t.table) : `${quoteIdentifier(t.database)}.${quoteIdentifier(t.table)}`
}

/** A table's name for messages: `db.table`, as typed names are shown. */
export function tableLabel (t: TableName): string {
  return t.database === undefined ? t.table : `${t.database}.${t.table}`
}
