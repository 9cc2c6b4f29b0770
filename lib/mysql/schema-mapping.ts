import { EspipeError, UsageError } from '../core/errors.js'
import { isJsonObject } from '../core/record.js'
import type { JsonObject } from '../core/record.js'
import type { DateForm } from './schema-dates.js'
import { dateForms } from './schema-dates.js'
import { checkIdentifier, quoteIdentifier } from './identifiers.js'
import type { Layout } from './row-builder.js'

/**
 * An Elasticsearch mapping (a line of `es-read --schema`) as a typed table: one column per
 * mapped field, of the type that stores every value the mapping allows exactly (README and man
 * mysql-write, SCHEMA, give the table). What has no exact column is refused here, in one line,
 * before anything is created or written.
 */

/** How a column's values are checked on the way in (schema-rows.ts). */
export type SchemaKind = 'string' | 'integer' | 'float' | 'decimal' | 'boolean' | 'date' | 'json'

export interface SchemaColumn {
  /** The column's name: the field's path with dots made `_`, or the one --map gives it. */
  name: string
  /** The field's path in the document (`user.name`). */
  path: string
  /** The mapping's type (`keyword`, `scaled_float`, …). */
  type: string
  /** The column's SQL type. */
  sql: string
  kind: SchemaKind
  /** A string column's most characters (VARCHAR) or bytes (TEXT). */
  maxChars?: number
  maxBytes?: number
  /** A date column: the forms of value the field's format allows. */
  dates?: DateForm[]
}

export interface TablePlan {
  /** The schema line's `_index`. */
  index: string | undefined
  columns: SchemaColumn[]
  /** Paths of objects flattened into columns: a document's member there must be an object. */
  objects: Set<string>
  /** What was left out, and why (multi-fields, aliases), said once on stderr. */
  notes: string[]
}

export interface PlanOptions {
  /** The id column (the document's _id): no field may take its name. */
  idColumn: string
  /** --map given with --schema: [column, path] pairs that name a field's column. */
  names?: ReadonlyArray<readonly [string, string]>
}

/** The most characters a VARCHAR of utf8mb4 may have and still be a whole index key (3072 bytes). */
export const KEY_CHARS = 768
const STRING = 'CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'
const INTEGERS: Record<string, string> = { long: 'BIGINT', integer: 'INT', short: 'SMALLINT', byte: 'TINYINT', unsigned_long: 'BIGINT UNSIGNED' }
const TEXTS = new Set(['text', 'match_only_text', 'search_as_you_type', 'annotated_text'])
const KEYWORDS = new Set(['keyword', 'constant_keyword', 'wildcard', 'version'])
/** Objects whose members have no columns of their own: the whole value goes into one JSON column. */
const WHOLE_OBJECTS = new Set(['nested', 'flattened', 'flat_object'])

function problem (message: string): EspipeError {
  return new EspipeError('ESCHEMA_FIELD', message)
}

/**
 * The schema line, checked: `{"_index", "mappings": {…}, …}` (a bare mapping is taken too). Of
 * several lines (es-read --index 'logs-*' --schema), the one whose _index is `table`.
 */
export function parseSchemaLine (text: string, from: string, table?: string): { index: string | undefined, mappings: JsonObject } {
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  if (lines.length === 0) throw new EspipeError('ESCHEMA', `${from} is empty: --schema takes a line of es-read --schema`)
  const parsed = lines.map((l, i) => {
    try {
      return JSON.parse(l) as unknown
    } catch (err) {
      throw new EspipeError('ESCHEMA', `${from}${lines.length > 1 ? ` line ${i + 1}` : ''} is not JSON (${(err as Error).message}): --schema takes a line of es-read --schema`)
    }
  })
  let line = parsed[0]
  if (parsed.length > 1) {
    const named = parsed.filter((p) => isJsonObject(p) && p._index === table)
    if (named.length !== 1) {
      throw new EspipeError('ESCHEMA', `${from} holds ${lines.length} lines${named.length === 0 ? `, none of index ${table ?? '?'}` : ''}: --schema takes the line of one index (the one named as --table, or es-read --index NAME --schema)`)
    }
    line = named[0]
  }
  if (!isJsonObject(line)) throw new EspipeError('ESCHEMA', `${from} is not a JSON object: --schema takes a line of es-read --schema`)
  const mappings = 'mappings' in line ? line.mappings : line
  if (!isJsonObject(mappings)) throw new EspipeError('ESCHEMA', `${from} has no "mappings" object: --schema takes a line of es-read --schema`)
  return { index: typeof line._index === 'string' ? line._index : undefined, mappings: typeVersionUnwrapped(mappings) }
}

/** What a mapping holds besides its fields: no type name is one of these. */
const MAPPING_PARAMETERS = new Set(['_source', '_routing', '_meta', '_field_names', '_all', '_size', 'dynamic', 'runtime', 'dynamic_templates', 'date_detection', 'numeric_detection', 'dynamic_date_formats', 'enabled', 'subobjects'])

/** Elasticsearch 6 and older name the mapping's type (`{"_doc": {"properties": …}}`): its one type is the mapping. */
function typeVersionUnwrapped (m: JsonObject): JsonObject {
  if ('properties' in m) return m
  const keys = Object.keys(m).filter((k) => !MAPPING_PARAMETERS.has(k))
  if (keys.length === 1 && isJsonObject(m[keys[0]]) && 'properties' in (m[keys[0]] as JsonObject)) return m[keys[0]] as JsonObject
  return m
}

/** DECIMAL(p, s) for a scaled_float: its values are longs over the factor, so 19 digits, s of them after the point. */
function scaledDecimal (path: string, factor: unknown): string {
  const f = typeof factor === 'number' ? factor : typeof factor === 'string' ? Number(factor) : NaN
  if (!(f > 0) || !Number.isFinite(f)) throw problem(`field ${path}: scaled_float needs a positive scaling_factor (has ${JSON.stringify(factor) ?? 'none'})`)
  // Multiples of 1/f have a finite decimal form only when f is 2^a·5^b (times a power of 10).
  let scale = 0
  let x = f
  while (!Number.isInteger(x) && scale < 30) { x *= 10; scale++ }
  let n = Math.round(x)
  let twos = 0
  let fives = 0
  while (n % 2 === 0) { n /= 2; twos++ }
  while (n % 5 === 0) { n /= 5; fives++ }
  if (n !== 1 || !Number.isInteger(x)) throw problem(`field ${path}: scaled_float with scaling_factor ${f} has values (multiples of 1/${f}) that no DECIMAL holds exactly; make it a double in the schema line`)
  const places = Math.max(twos, fives) - scale
  if (places < 0) return 'DECIMAL(19,0)'
  if (places > 30) throw problem(`field ${path}: scaled_float with scaling_factor ${f} needs ${places} decimal places, more than a DECIMAL's 30`)
  return `DECIMAL(${Math.min(65, 19 + places)},${places})`
}

/** The column of one field (not an object that flattens). */
function fieldColumn (path: string, def: JsonObject): Omit<SchemaColumn, 'name' | 'path'> {
  const type = typeof def.type === 'string' ? def.type : 'object'
  if (INTEGERS[type] !== undefined) return { type, sql: INTEGERS[type], kind: 'integer' }
  switch (type) {
    case 'double': return { type, sql: 'DOUBLE', kind: 'float' }
    // A half_float's values are floats too; _source keeps what was sent, checked against the column.
    case 'float': case 'half_float': return { type, sql: 'FLOAT', kind: 'float' }
    case 'scaled_float': return { type, sql: scaledDecimal(path, def.scaling_factor), kind: 'decimal' }
    case 'boolean': return { type, sql: 'BOOLEAN', kind: 'boolean' }
    case 'date': case 'date_nanos': {
      const forms = dateForms(typeof def.format === 'string' ? def.format : undefined)
      if ('unknown' in forms) throw problem(`field ${path}: date format '${forms.unknown}' has no exact reading into a DATETIME (ISO-8601 and epoch_millis/epoch_second have); make the field a keyword in the schema line to keep its text as it is`)
      return { type, sql: type === 'date' ? 'DATETIME(3)' : 'DATETIME(6)', kind: 'date', dates: forms }
    }
    default: break
  }
  // Full text compares as the table's collation does; its bytes are kept all the same.
  if (TEXTS.has(type)) return { type, sql: 'LONGTEXT CHARACTER SET utf8mb4', kind: 'string' }
  if (KEYWORDS.has(type)) {
    // Values past ignore_above are kept in _source (not indexed): they are longer than the column, and refused.
    const ignoreAbove = typeof def.ignore_above === 'number' ? def.ignore_above : undefined
    if (ignoreAbove !== undefined && ignoreAbove <= KEY_CHARS) return { type, sql: `VARCHAR(${Math.max(1, ignoreAbove)}) ${STRING}`, kind: 'string', maxChars: Math.max(1, ignoreAbove) }
    // Lucene refuses a term of more than 32,766 bytes, which a TEXT holds; past ignore_above anything goes.
    return ignoreAbove === undefined ? { type, sql: `TEXT ${STRING}`, kind: 'string', maxBytes: 65_535 } : { type, sql: `LONGTEXT ${STRING}`, kind: 'string' }
  }
  return { type, sql: 'JSON', kind: 'json' }
}

/** Whether this MariaDB/MySQL name is taken as it is (else why not). */
function nameProblem (name: string): string | undefined {
  if (name.length > 64) return `has ${name.length} characters, more than a column name's 64`
  if (/[\uD800-\uDFFF]/.test(name)) return 'holds a character outside the Basic Multilingual Plane, which MariaDB names cannot'
  if (name.includes('\0')) return 'holds the NUL character'
  if (name.endsWith(' ')) return 'ends with a space'
  return undefined
}

/**
 * The table for a mapping: fields in the mapping's order, objects with `properties` flattened
 * into `a_b` columns, nested/flattened objects and every other type whole into JSON columns.
 * Throws ESCHEMA_FIELD, naming the field, for what no column holds exactly.
 */
export function tableFromMapping (mappings: JsonObject, index: string | undefined, opts: PlanOptions): TablePlan {
  const named = new Map((opts.names ?? []).map(([col, path]) => [path, col]))
  const plan: TablePlan = { index, columns: [], objects: new Set(), notes: [] }
  const multi: string[] = []
  const aliases: string[] = []
  const walk = (props: JsonObject, prefix: string): void => {
    for (const [key, def] of Object.entries(props)) {
      const path = prefix + key
      if (!isJsonObject(def)) throw problem(`field ${path}: its mapping is not an object`)
      const type = typeof def.type === 'string' ? def.type : undefined
      if (type === 'alias') { aliases.push(path); continue }
      const flattens = (type === undefined || type === 'object') && isJsonObject(def.properties) && def.enabled !== false && !named.has(path)
      if (flattens) {
        plan.objects.add(path)
        walk(def.properties as JsonObject, `${path}.`)
        continue
      }
      if (isJsonObject(def.fields)) multi.push(path)
      const column = type === undefined || WHOLE_OBJECTS.has(type) || type === 'object'
        ? { type: type ?? 'object', sql: 'JSON', kind: 'json' as const }
        : fieldColumn(path, def)
      plan.columns.push({ name: named.get(path) ?? path.replace(/\./g, '_'), path, ...column })
    }
  }
  const props = mappings.properties
  if (props !== undefined && !isJsonObject(props)) throw problem('the mapping\'s "properties" is not an object')
  walk((props ?? {}) as JsonObject, '')
  for (const path of named.keys()) {
    if (!plan.columns.some((c) => c.path === path)) throw new EspipeError('ESCHEMA', `--map names the column of ${path}, which is no field of the schema (give the field's path: user.name)`)
  }
  if (plan.columns.length === 0) throw problem('the mapping has no fields: a table needs at least one column besides the id (es-read --schema of an index with documents gives them)')
  const seen = new Map<string, string>([[opts.idColumn.toLowerCase(), '_id']])
  for (const c of plan.columns) {
    const bad = nameProblem(c.name)
    if (bad !== undefined) throw problem(`field ${c.path}: column name ${c.name} ${bad}; name its column with --map NAME=${c.path}`)
    const other = seen.get(c.name.toLowerCase())
    if (other !== undefined) {
      throw problem(other === '_id'
        ? `field ${c.path}: its column ${c.name} is the id column; give the id another with --id-column, or the field another with --map NAME=${c.path}`
        : `fields ${other} and ${c.path} both make column ${c.name} (column names ignore case); name one with --map NAME=${c.path}`)
    }
    seen.set(c.name.toLowerCase(), c.path)
  }
  if (multi.length > 0) plan.notes.push(`multi-fields (fields of ${multi.join(', ')}) are other indexings of the same value: no columns of their own`)
  if (aliases.length > 0) plan.notes.push(`alias fields (${aliases.join(', ')}) hold no value of their own: no columns`)
  if (isJsonObject(mappings.runtime)) plan.notes.push(`runtime fields (${Object.keys(mappings.runtime).join(', ')}) are computed at search time, not stored: no columns`)
  return plan
}

/** The CREATE TABLE of a plan: the id column as --create makes it, then one column per field. */
export function createTableSql (table: string, idColumn: string, idType: string, plan: TablePlan): string {
  const cols = plan.columns.map((c) => `  ${quoteIdentifier(c.name)} ${c.sql}`)
  return `CREATE TABLE IF NOT EXISTS ${table} (\n  ${quoteIdentifier(idColumn)} ${idType} NOT NULL PRIMARY KEY,\n${cols.join(',\n')}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`
}

/** The --map of a plan: `col=path,…`, a column backquoted where it holds `,`, `=` or a backquote. */
export function mapOption (plan: TablePlan): string {
  return plan.columns.map((c) => `${/[,=`]|^\s|^`/.test(c.name) ? quoteIdentifier(c.name) : c.name}=${c.path}`).join(',')
}

/** The columns a write fills from a plan: the id, then each field's column, filled from its path. */
export function schemaLayout (plan: TablePlan, idColumn: string, columns?: readonly string[]): Layout {
  if ((columns ?? []).length > 0) throw new UsageError('--columns and --schema cannot be combined: the schema gives the columns (--map names a field\'s column)')
  const id = checkIdentifier(idColumn, 'column')
  const mapped = plan.columns.map((c) => [c.name, c.path] as const)
  return { idColumn: id, columns: [id, ...mapped.map(([c]) => c)], mapped, named: 0 }
}
