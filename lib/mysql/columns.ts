import Big from 'big.js'
import { quoteIdentifier } from './identifiers.js'
import type { ColumnKind } from './values.js'

/** What information_schema says about a column: enough to know what it stores exactly. */
export interface ColumnInfo {
  name: string
  /** DATA_TYPE, lower case: int, bigint, decimal, varchar, … */
  dataType: string
  /** COLUMN_TYPE as the server prints it: `bigint(20) unsigned`, `varchar(255)`. */
  columnType: string
  precision?: number
  scale?: number
  collation?: string
  /** DATETIME_PRECISION: the fractional digits of seconds a DATETIME, TIMESTAMP or TIME keeps. */
  fsp?: number
  /** What the server's result metadata says the column holds, as mysql-read reads it (bit, binary, json, …). */
  kind?: ColumnKind
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint'])
// As the server reads a number from a string: spaces around it and a + sign are allowed.
const NUMBER = /^\s*\+?(-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*$/

/** Whether values bound to this column are numbers the server would round without an error. */
export function isNumericColumn (col: ColumnInfo): boolean {
  return INTEGER_TYPES.has(col.dataType) || col.dataType === 'decimal' || col.dataType === 'float' || col.dataType === 'double'
}

/**
 * The number a FLOAT holding `double` reads back as: the shortest decimal that is the same
 * single-precision float (16777216, not the FLOAT text's 16777200; 0.1, not 0.10000000149011612).
 * The server stores the float, not its 6-digit text, so 0.1234567 is as exact in a FLOAT as
 * 0.1 is in a DOUBLE; mysql-read writes FLOATs so.
 */
export function float32Text (double: number): string {
  const f = Math.fround(double)
  for (let p = 1; p < 9; p++) {
    const s = f.toPrecision(p)
    if (Math.fround(Number(s)) === f) return String(Number(s))
  }
  return String(Number(f.toPrecision(9)))
}

/**
 * Why the number written as `text` would be stored rounded in `col`, or undefined when it would
 * not. MariaDB's strict mode refuses what is out of range or not a number, but it rounds 1.5
 * into an INT (as a literal or as a string), cuts DECIMAL places with only a note, and
 * FLOAT/DOUBLE keep what they can: those are checked here, before the row is sent.
 */
export function numericProblem (text: string, col: ColumnInfo): string | undefined {
  const m = NUMBER.exec(text)
  if (m === null) return undefined
  const v = new Big(m[1])
  const cannot = `${text} can't be stored exactly in ${col.columnType.toUpperCase()} column ${col.name}`
  if (INTEGER_TYPES.has(col.dataType)) {
    return v.round(0, Big.roundDown).eq(v) ? undefined : `${cannot}: it is not a whole number`
  }
  if (col.dataType === 'decimal') {
    const scale = col.scale ?? 0
    return v.round(scale, Big.roundDown).eq(v) ? undefined : `${cannot}: more than ${scale} decimal places`
  }
  if (col.dataType !== 'float' && col.dataType !== 'double') return undefined
  const n = Number(m[1])
  if (!Number.isFinite(n)) return undefined
  const back = col.dataType === 'float' ? float32Text(n) : String(n)
  return new Big(back).eq(v) ? undefined : `${cannot}: it would read back as ${Number(back)}`
}

/** An id goes into an integer key column only in the one text that number prints as: "01" and "1" would be one row. */
export function integerIdProblem (id: string, col: ColumnInfo): string | undefined {
  if (/^(?:0|-?[1-9]\d*)$/.test(id)) return undefined
  return `id '${id}' is not a whole number written plainly, so it can't be kept apart from others in ${col.columnType.toUpperCase()} key column ${col.name}`
}

export function isIntegerColumn (col: ColumnInfo): boolean {
  return INTEGER_TYPES.has(col.dataType)
}

/** A column of bytes (BINARY, VARBINARY, BLOB, or a string of character set binary). */
export function isBinaryColumn (col: ColumnInfo): boolean {
  return col.kind === 'binary'
}

/** The collations a key column may have: binary comparison with no trailing-space padding. */
export function isExactCollation (collation: string): boolean {
  return /_bin$/i.test(collation) && (/nopad/i.test(collation) || /_0900_bin$/i.test(collation))
}

const BINARY_TYPES = new Set(['varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob'])
const TEXT_TYPES = new Set(['varchar', 'tinytext', 'text', 'mediumtext', 'longtext'])

/**
 * Why two different Elasticsearch ids could land in the same row of this key column, or
 * undefined when they can't. Ids are byte strings compared exactly (ES-NOTES).
 * `prefix`: the unique key on the column covers only its first N characters.
 */
export function keyColumnProblem (col: ColumnInfo, prefix: number | undefined): string | undefined {
  const type = col.columnType.toUpperCase()
  if (prefix !== undefined) return `its unique key covers only the first ${prefix} characters, so ids that share them are one row`
  if (col.dataType === 'char') return `${type} drops trailing spaces, so 'a' and 'a ' are one id`
  if (col.dataType === 'binary') return `${type} pads with zero bytes, so 'a' and 'a\\0' are one id`
  if (BINARY_TYPES.has(col.dataType) || isIntegerColumn(col)) return undefined
  if (!TEXT_TYPES.has(col.dataType)) return `${type} does not hold ids as text`
  const coll = col.collation ?? ''
  if (!/_bin$/i.test(coll)) return `${type} COLLATE ${coll} is not binary, so ids differing only in case (or accents) are one id`
  if (!isExactCollation(coll)) return `${type} COLLATE ${coll} is PAD SPACE, so 'a' and 'a ' are one id`
  return undefined
}

/** The statement that makes a key column exact, for the error that refuses one; `prefixKey`: the key to make whole. */
export function exactKeyFix (table: string, col: ColumnInfo, collation: string | undefined, prefixKey?: string): string {
  const type = collation === undefined ? 'VARBINARY(512)' : `VARCHAR(512) CHARACTER SET utf8mb4 COLLATE ${collation}`
  const name = quoteIdentifier(col.name)
  const key = prefixKey === undefined
    ? ''
    : prefixKey === 'PRIMARY' ? `, DROP PRIMARY KEY, ADD PRIMARY KEY (${name})` : `, DROP INDEX ${quoteIdentifier(prefixKey)}, ADD UNIQUE (${name})`
  return `ALTER TABLE ${table} MODIFY ${name} ${type} NOT NULL${key}`
}

/** The best exact id column type this server offers: text that reads back as a string, else bytes. */
export function exactKeyCollation (available: readonly string[]): string | undefined {
  for (const c of ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin']) if (available.includes(c)) return c
  return undefined
}
