import { EspipeError } from '../core/errors.js'
import type { JsonObject } from '../core/record.js'
import type { EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { typeAt } from './mapping-types.js'
import { rawElements } from './response.js'

/**
 * es-read --since-field F (issue 24): a read in F order that resumes where the last run's
 * committed records ended. Its position is `[V,K,KEY]`: V the record's F as the server sorts by
 * it (epoch millis for a date, nanoseconds for a date_nanos, the number's own digits), K the
 * record's rank among the records read with that same V (its tie group), KEY its `[_index,_id]`.
 * A read resumes at F ≥ V leaving out the first K records of V's group, whose keys the tie log
 * (lib/core/tie-log.ts) holds in the order they went out: Elasticsearch's own tiebreaker
 * (`_shard_doc`) means nothing outside its point in time, and sorting by `_id` is refused by
 * Elasticsearch 8, so the order of ties cannot be asked for again.
 */

/** What F is, as far as reading it back goes. */
export type SinceKind = 'date' | 'date_nanos' | 'number'

export interface SinceField {
  name: string
  kind: SinceKind
  /** The read covers more than one index: a key's `_index` must be asked for too. */
  indices: number
}

const NUMERIC = new Set(['long', 'integer', 'short', 'byte', 'double', 'float', 'half_float', 'scaled_float', 'unsigned_long'])

/** The field's type in every index the read covers (GET INDEX/_mapping): a date or a number, the same everywhere. */
export async function lookupSinceField (conn: EsConnection, where: EsWhere, index: string, field: string, signal?: AbortSignal): Promise<SinceField> {
  const res = await conn.request({ method: 'GET', path: `/${encodeURIComponent(index)}/_mapping` }, where, 'read the mapping', signal)
  const all = JSON.parse(res.text) as Record<string, { mappings?: JsonObject }>
  const kinds = new Map<string, string[]>()
  for (const [name, m] of Object.entries(all)) {
    const type = typeAt(m.mappings ?? {}, field) ?? 'unmapped'
    kinds.set(type, [...(kinds.get(type) ?? []), name])
  }
  const fail = (why: string): never => {
    throw new EspipeError('ES_SINCE_FIELD', `--since-field ${field}: ${why}; it must be a date, date_nanos or numeric field`, { context: { host: where.host, index } })
  }
  if (kinds.size === 0) fail(`${index} matches no index`)
  if (kinds.size > 1) fail(`its type differs between the indices read (${[...kinds].map(([t, names]) => `${t} in ${names.slice(0, 3).join(',')}`).join('; ')})`)
  const [type, names] = [...kinds][0]
  if (type === 'date' || type === 'date_nanos') return { name: field, kind: type, indices: names.length }
  if (NUMERIC.has(type)) return { name: field, kind: 'number', indices: names.length }
  return fail(type === 'unmapped' ? `not mapped in ${names.slice(0, 3).join(',')}` : `a ${type} field in ${names.slice(0, 3).join(',')}`)
}

export interface SincePosition {
  /** V, as JSON text. */
  value: string
  k: number
  /** `[_index,_id]` as JSON text. */
  key: string
}

export function sincePositionText (p: SincePosition): string {
  return `[${p.value},${p.k},${p.key}]`
}

export function parseSincePosition (text: string): SincePosition {
  let parts: string[] = []
  try { parts = rawElements(text) } catch {}
  const k = Number(parts[1])
  if (parts.length !== 3 || !Number.isSafeInteger(k) || k < 1 || !parts[2].startsWith('[')) {
    throw new EspipeError('ECHECKPOINT', `checkpoint position ${text.slice(0, 80)} is not one of es-read --since-field; use another file or delete it`)
  }
  return { value: parts[0], k, key: parts[2] }
}

/** V as a number to compare: integers with every digit, others as doubles. */
function numeric (text: string): bigint | number {
  const t = text.startsWith('"') ? JSON.parse(text) as string : text
  return /^-?\d+$/.test(t) ? BigInt(t) : Number(t)
}

/** Orders two V texts as the read does (ascending). */
export function compareValues (a: string, b: string): number {
  const x = numeric(a)
  const y = numeric(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** When V was, in ms since the epoch (for the lag), if F is a date. */
export function valueMs (kind: SinceKind, value: string): number | undefined {
  if (kind === 'number') return undefined
  const n = numeric(value)
  if (kind === 'date_nanos') return Number(BigInt(n) / 1_000_000n)
  return Number(n)
}

/** V as a range bound that reads back exactly what the server sorts by, with its format. */
function bound (kind: SinceKind, value: string): { v: string, format?: string } {
  if (kind === 'number') {
    // The digits as text: the server parses a string bound into the field's own type, exactly.
    return { v: value.startsWith('"') ? JSON.parse(value) as string : value }
  }
  const n = BigInt(numeric(value))
  return kind === 'date_nanos'
    ? { v: isoNanos(n), format: 'strict_date_optional_time_nanos' }
    : { v: new Date(Number(n)).toISOString(), format: 'strict_date_optional_time' }
}

/** Nanoseconds since the epoch as ISO-8601 with nine fraction digits (what date_nanos keeps). */
export function isoNanos (ns: bigint): string {
  const second = ns >= 0n ? ns / 1_000_000_000n : -((-ns + 999_999_999n) / 1_000_000_000n)
  const frac = ns - second * 1_000_000_000n
  return `${new Date(Number(second) * 1000).toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`
}

/** Where a round starts: at V, leaving out the records of V's group already read (their keys). */
export interface RoundStart {
  value: string
  keys: readonly string[]
}

/**
 * The query of one round: the read's own, F from the start on (the keys of the start's group
 * left out while their F is still V: one updated since has a new F and is read again), and F
 * before `cutoffMs` (now − settle) for a date.
 */
export function roundQuery (base: JsonObject, field: SinceField, start: RoundStart | undefined, cutoffMs: number | undefined): JsonObject {
  // A document without F has no place in the order (it would sort last, as the largest value).
  const filter: JsonObject[] = [base, { exists: { field: field.name } }]
  const range: JsonObject = {}
  let format: string | undefined
  if (start !== undefined) {
    const b = bound(field.kind, start.value)
    range.gte = b.v
    format = b.format
  }
  if (cutoffMs !== undefined && field.kind !== 'number') {
    range.lt = field.kind === 'date_nanos' ? isoNanos(BigInt(Math.floor(cutoffMs)) * 1_000_000n) : new Date(Math.floor(cutoffMs)).toISOString()
    format = field.kind === 'date_nanos' ? 'strict_date_optional_time_nanos' : 'strict_date_optional_time'
  }
  if (Object.keys(range).length > 0) filter.push({ range: { [field.name]: format === undefined ? range : { ...range, format } } })
  const query: JsonObject = { bool: { filter } }
  if (start !== undefined && start.keys.length > 0) {
    const b = bound(field.kind, start.value)
    const at: JsonObject = { range: { [field.name]: b.format === undefined ? { gte: b.v, lte: b.v } : { gte: b.v, lte: b.v, format: b.format } } }
    const byIndex = new Map<string | null, string[]>()
    for (const key of start.keys) {
      const [index, id] = JSON.parse(key) as [string | null, string]
      byIndex.set(index, [...(byIndex.get(index) ?? []), id])
    }
    const mustNot: JsonObject[] = []
    for (const [index, ids] of byIndex) {
      const parts: JsonObject[] = [at, { ids: { values: ids } }]
      // Over one index (the usual read) the ids alone name the documents.
      if (index !== null && field.indices > 1) parts.push({ term: { _index: index } })
      mustNot.push({ bool: { filter: parts } })
    }
    ;(query.bool as JsonObject).must_not = mustNot
  }
  return query
}
