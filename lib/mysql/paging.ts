import type { Connection, RowDataPacket } from 'mysql2/promise'
import type { ColumnKind } from './values.js'
import { cursorText, sqlLiteral } from './values.js'
import { quoteServerName } from './identifiers.js'

/**
 * Paging by key: each page is `… WHERE (k) > (last) ORDER BY k LIMIT n`, a fresh statement
 * that starts where the last row handed on left off. No OFFSET (which rereads every skipped row
 * and reorders under concurrent writes), no transaction or lock held between pages.
 */

export interface OrderColumn { name: string, kind: ColumnKind }

/** A slice of the key space: [lo, hi), either end open; `empty` when the split left it nothing. */
export interface SliceRange { lo?: string[], hi?: string[], empty?: boolean }

/**
 * `cols` compared with `values` as a row would be, written as the disjunction MariaDB's range
 * optimizer turns into index ranges: it does not for a row constructor `(a, b) > (?, ?)`,
 * which there scans the index from its start on every page. `op` applies to the last column;
 * the earlier ones break ties strictly.
 */
export function compareSql (cols: readonly OrderColumn[], values: readonly string[], op: '>' | '>=' | '<'): string {
  const strict = op === '>=' ? '>' : op
  const lit = cols.map((c, i) => sqlLiteral(c.kind, values[i]))
  const terms: string[] = []
  for (let i = 0; i < cols.length; i++) {
    const eq = cols.slice(0, i).map((c, j) => `${quoteServerName(c.name)} = ${lit[j]}`)
    const last = `${quoteServerName(cols[i].name)} ${i === cols.length - 1 ? op : strict} ${lit[i]}`
    terms.push([...eq, last].join(' AND '))
  }
  return terms.length === 1 ? terms[0] : '(' + terms.map((t) => `(${t})`).join(' OR ') + ')'
}

export interface PageQuery {
  /** `SELECT … FROM …`: the statement of a read that is not paged. */
  select: string
  /** A page's select list and FROM. */
  columns: string
  from: string
  /** Conditions every page carries (--where, the slice's range, NOT NULL of --since-column). */
  where: string[]
  /** The cursor's columns, in ORDER BY order: --since-column first, then the key. */
  order: OrderColumn[]
}

/** The static conditions of one slice: its key range, besides what every slice has. */
export function rangeConditions (key: readonly OrderColumn[], range: SliceRange): string[] {
  const out: string[] = []
  if (range.lo !== undefined) out.push(compareSql(key, range.lo, '>='))
  if (range.hi !== undefined) out.push(compareSql(key, range.hi, '<'))
  return out
}

/**
 * One page's statement: after `after` (the last row's cursor), at most `limit` rows. Its last
 * column says, for each row, whether the server finds it after `after` (1 on the first page):
 * a row where it does not means the read stopped advancing (a condition that escaped its place,
 * an order that disagrees with `>`), and the read stops rather than loop over the same rows.
 */
export function pageSql (q: PageQuery, after: readonly string[] | undefined, limit: number): string {
  const conds = [...q.where]
  const next = after === undefined ? undefined : compareSql(q.order, after, '>')
  if (next !== undefined) conds.push(next)
  const where = conds.length === 0 ? '' : ` WHERE ${conds.join(' AND ')}`
  return `SELECT ${q.columns}, ${next === undefined ? '1' : `(${next})`} FROM ${q.from}${where} ORDER BY ${q.order.map((c) => quoteServerName(c.name)).join(', ')} LIMIT ${limit}`
}

/** Describes a range for the log: `id from 1000 to before 2000`. */
export function describeRange (key: readonly OrderColumn[], r: SliceRange): string {
  if (r.empty === true) return 'nothing (fewer rows than slices)'
  const names = key.map((k) => k.name).join(',')
  const v = (x: string[]): string => x.join(',')
  if (r.lo === undefined && r.hi === undefined) return `all of ${names}`
  if (r.lo === undefined) return `${names} before ${v(r.hi as string[])}`
  if (r.hi === undefined) return `${names} from ${v(r.lo)}`
  return `${names} from ${v(r.lo)} to before ${v(r.hi)}`
}

const INTEGER_KINDS = new Set<ColumnKind>(['int', 'bigint'])

/**
 * Splits the key space into n ranges, computed once from the rows that match: a single integer
 * key is cut into equal widths between its MIN and MAX (two index lookups); any other key at
 * its n-quantiles (a COUNT and n-1 ordered lookups). The first range is open below and the last
 * open above, so every row — one inserted meanwhile too — falls in exactly one.
 */
export async function sliceRanges (conn: Connection, from: string, where: readonly string[], key: readonly OrderColumn[], n: number): Promise<SliceRange[]> {
  if (n <= 1) return [{}]
  const cond = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`
  let bounds: string[][]
  if (key.length === 1 && INTEGER_KINDS.has(key[0].kind)) {
    const k = quoteServerName(key[0].name)
    const [[row]] = await conn.query<RowDataPacket[]>({ sql: `SELECT MIN(${k}), MAX(${k}) FROM ${from}${cond}`, rowsAsArray: true, supportBigNumbers: true, bigNumberStrings: true })
    const [min, max] = row as unknown as [unknown, unknown]
    if (min === null || max === null) return emptySplit(n)
    const lo = BigInt(String(min))
    const span = BigInt(String(max)) - lo + 1n
    bounds = Array.from({ length: n - 1 }, (_v, i) => [(lo + span * BigInt(i + 1) / BigInt(n)).toString()])
  } else {
    const [[countRow]] = await conn.query<RowDataPacket[]>({ sql: `SELECT COUNT(*) FROM ${from}${cond}`, rowsAsArray: true })
    const count = Number((countRow as unknown as [unknown])[0])
    if (count === 0) return emptySplit(n)
    const order = key.map((c) => quoteServerName(c.name)).join(', ')
    bounds = []
    for (let i = 1; i < n; i++) {
      const offset = Math.floor(count * i / n)
      if (offset >= count) { bounds.push(bounds[bounds.length - 1]); continue }
      const [[row]] = await conn.query<RowDataPacket[]>({ sql: `SELECT ${order} FROM ${from}${cond} ORDER BY ${order} LIMIT 1 OFFSET ${offset}`, rowsAsArray: true, supportBigNumbers: true, bigNumberStrings: true })
      bounds.push(key.map((c, j) => cursorText(c.kind, (row as unknown as unknown[])[j])))
    }
  }
  return Array.from({ length: n }, (_v, i) => {
    const lo = i === 0 ? undefined : bounds[i - 1]
    const hi = i === n - 1 ? undefined : bounds[i]
    const empty = lo !== undefined && hi !== undefined && JSON.stringify(lo) === JSON.stringify(hi)
    return empty ? { lo, hi, empty } : { lo, hi }
  })
}

/** No rows yet: the first slice takes the whole key space, the others nothing. */
function emptySplit (n: number): SliceRange[] {
  return Array.from({ length: n }, (_v, i) => i === 0 ? {} : { empty: true })
}
