import { numberText } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject, jsonKind } from '../core/record.js'
import type { ColumnInfo } from './columns.js'
import type { SqlValue } from './column-values.js'
import { Inexact, columnValue } from './column-values.js'
import { dateValue } from './schema-dates.js'
import type { SchemaColumn, SchemaKind, TablePlan } from './schema-mapping.js'
import type { ColumnKind } from './values.js'
import type { TimeParser } from './time.js'

/** An object of members (an exact number, parsed as an object that keeps its digits, is none). */
function isMembers (v: unknown): v is JsonObject {
  return isJsonObject(v) && numberText(v) === undefined
}

/**
 * A document into the columns of a table made from its mapping (--schema). Stricter than
 * --map: each member must be one the table has a column for, of the JSON type the column
 * reads back as, so that mysql-read gives the document back (a date as its instant in UTC). A
 * member no column holds, an array in a one-value column, a string in a number column, a keyword
 * longer than its column: the record fails (RECORD_INEXACT_VALUE), never a row that lost it.
 */
export class SchemaRows {
  private readonly byPath = new Map<string, number>()

  constructor (private readonly plan: TablePlan, private readonly infos: readonly ColumnInfo[], private readonly time: TimeParser) {
    plan.columns.forEach((c, i) => this.byPath.set(c.path, i))
  }

  /** The values of the columns, in the plan's order (undefined: the member is missing), or why there are none. */
  values (content: JsonObject): { values: SqlValue[], present: boolean[] } | Inexact {
    const got: unknown[] = new Array(this.plan.columns.length)
    const problem = this.gather(content, '', got)
    if (problem !== undefined) return new Inexact(problem)
    const values: SqlValue[] = []
    const present: boolean[] = []
    for (let i = 0; i < got.length; i++) {
      const v = this.value(got[i], this.plan.columns[i], this.infos[i])
      if (v instanceof Inexact) return v
      values.push(v)
      present.push(got[i] !== undefined)
    }
    return { values, present }
  }

  /** Puts each member of an object at `prefix` where its column is; says what no column can hold. */
  private gather (obj: JsonObject, prefix: string, got: unknown[]): string | undefined {
    for (const [key, v] of Object.entries(obj)) {
      const path = prefix + key
      const at = this.byPath.get(path)
      if (at !== undefined) {
        if (got[at] !== undefined) return `field ${path} is given twice (as a dotted name and inside its object)`
        got[at] = v
        continue
      }
      if (this.plan.objects.has(path)) {
        if (v === null) continue
        if (!isMembers(v)) return `field ${path} is ${jsonKind(v)}, but the mapping makes it an object whose fields are columns (${Array.isArray(v) ? 'an array of objects has no row of columns; map it nested' : 'one value has no column'})`
        const problem = this.gather(v, `${path}.`, got)
        if (problem !== undefined) return problem
        continue
      }
      return `field ${path} is not in the schema, so no column holds it (es-read --schema again after the mapping took it, or drop it with jq)`
    }
    return undefined
  }

  private value (v: unknown, c: SchemaColumn, col: ColumnInfo): SqlValue | Inexact {
    if (v === undefined || v === null || c.kind === 'json') return columnValue(v, col, this.time)
    const where = `field ${c.path} (${c.type}, column ${c.name} ${c.sql.replace(/ CHARACTER SET.*/, '')})`
    if (Array.isArray(v)) return new Inexact(`${where}: an array does not fit a column of one value (make the field's column JSON with a nested or flattened type in the schema line)`)
    if (isMembers(v)) return new Inexact(`${where}: an object does not fit it`)
    switch (c.kind) {
      case 'string': {
        if (typeof v !== 'string') return new Inexact(`${where}: ${jsonKind(v)} would read back as a string`)
        if (c.maxChars !== undefined && v.length > c.maxChars && [...v].length > c.maxChars) return new Inexact(`${where}: ${[...v].length} characters are more than the column's ${c.maxChars}`)
        if (c.maxBytes !== undefined && v.length * 3 > c.maxBytes && Buffer.byteLength(v) > c.maxBytes) return new Inexact(`${where}: ${Buffer.byteLength(v)} bytes are more than the column's ${c.maxBytes}`)
        break
      }
      case 'integer': case 'float': case 'decimal':
        if (numberText(v) === undefined) return new Inexact(`${where}: ${jsonKind(v)} ${typeof v === 'string' ? `${JSON.stringify(v)} ` : ''}would read back as a number`)
        break
      case 'boolean':
        if (typeof v !== 'boolean') return new Inexact(`${where}: ${jsonKind(v)} is not true or false`)
        break
      case 'date': {
        const iso = dateValue(v, c.dates ?? ['iso'])
        if (typeof iso !== 'string') return new Inexact(`${where}: ${iso.problem}`)
        return columnValue(iso, col, this.time)
      }
    }
    return columnValue(v, col, this.time)
  }
}

/** What each kind of schema column reads back as, by mysql-read's kinds: another would change the value's JSON type. */
const KINDS: Record<SchemaKind, readonly ColumnKind[]> = {
  string: ['text'], integer: ['int', 'bigint'], boolean: ['int'], float: ['float'], decimal: ['decimal'], date: ['datetime', 'timestamp'], json: ['json']
}

/**
 * A table that exists already (CREATE TABLE IF NOT EXISTS left it as it was) must have, for each
 * field, a column that reads back as the field's values do: "12" into an INT would come back as
 * the number 12. Why not, naming the first column that differs; undefined when it does.
 */
export function schemaTableProblem (plan: TablePlan, columns: ReadonlyMap<string, ColumnInfo>, table: string): string | undefined {
  for (const c of plan.columns) {
    const col = columns.get(c.name.toLowerCase())
    if (col === undefined || col.kind === undefined || KINDS[c.kind].includes(col.kind)) continue
    return `table ${table} exists, and its column ${col.name} ${col.columnType.toUpperCase()} does not read back as the values of field ${c.path} (${c.type}, made ${c.sql.replace(/ CHARACTER SET.*/, '')} by --schema); load into a new table, or drop this one`
  }
  return undefined
}
