// Sort specifications, sort values and search_after, with ES's sentinels for missing values.
// Missing long/date values sort as Long.MAX (asc) / Long.MIN (desc): kept as bigint so they are
// written, compared and read back exactly.

import { illegalArgument, parsingException, shardIllegalArgument, allShardsFailed } from './errors.js'
import { isObject, type Json } from './json.js'
import type { FieldType, IndexData } from './store.js'
import { typedValues, type Entry } from './query.js'

export const LONG_MAX = 9223372036854775807n
export const LONG_MIN = -9223372036854775808n

export type SortKey = number | bigint | string | null

export interface SortField {
  readonly kind: 'field' | '_doc' | '_shard_doc' | '_score'
  readonly field: string
  readonly order: 'asc' | 'desc'
  readonly missing: Json
  /** Whether the request named `missing` (OpenSearch skips segments on search_after only when it did not). */
  readonly missingGiven?: boolean
  readonly unmappedType?: string
  /** Resolved against the searched indices by resolveSort. */
  type?: FieldType
}

const SPECIAL = new Set(['_doc', '_shard_doc', '_score'])

function entry(field: string, opts: Json | undefined): SortField {
  const kind = (SPECIAL.has(field) ? field : 'field') as SortField['kind']
  let order: string = kind === '_score' ? 'desc' : 'asc'
  let missing: Json = '_last'
  let missingGiven = false
  let unmappedType: string | undefined
  if (typeof opts === 'string') order = opts
  else if (isObject(opts)) {
    for (const [k, v] of Object.entries(opts)) {
      if (k === 'order') order = String(v)
      else if (k === 'missing') {
        missing = v
        missingGiven = true
      }
      else if (k === 'unmapped_type') unmappedType = String(v)
      else if (k === 'mode' || k === 'numeric_type' || k === 'format') continue
      else throw parsingException(`[${field}] sort option [${k}] is not supported by the espipe test server`)
    }
  } else if (opts !== undefined) {
    throw parsingException(`[sort] malformed value for [${field}]`)
  }
  if (order !== 'asc' && order !== 'desc') throw illegalArgument(`No enum constant org.elasticsearch.search.sort.SortOrder.${order.toUpperCase()}`)
  return { kind, field, order, missing, missingGiven, unmappedType }
}

/** Parses `sort` from the body (string, object or array) or the `sort=a:asc,b` query parameter. */
export function parseSort(body: Json | undefined, param: string | undefined): SortField[] {
  if (param !== undefined && param !== '') {
    return param.split(',').map((p) => {
      const at = p.lastIndexOf(':')
      return at > 0 ? entry(p.slice(0, at), p.slice(at + 1)) : entry(p, undefined)
    })
  }
  if (body === undefined || body === null) return []
  const items = Array.isArray(body) ? body : [body]
  return items.map((it) => {
    if (typeof it === 'string') return entry(it, undefined)
    if (isObject(it)) {
      const keys = Object.keys(it)
      if (keys.length !== 1) throw parsingException('[sort] an object in the sort array must have exactly one field')
      const k = keys[0] as string
      return entry(k, it[k])
    }
    throw parsingException('[sort] malformed sort entry')
  })
}

/**
 * Gives each field sort its type in the searched indices; refuses what ES refuses. `_index` sorts
 * as a keyword; `_id` too where `idSort` (OpenSearch and Elasticsearch 7 load `_id` field data; Elasticsearch 8 refuses).
 */
export function resolveSort(spec: SortField[], indices: IndexData[], idSort = false): void {
  for (const s of spec) {
    if (s.kind !== 'field') continue
    if (s.field === '_index' || (s.field === '_id' && idSort)) {
      s.type = 'keyword'
      continue
    }
    if (s.field === '_id') {
      throw shardIllegalArgument('Fielddata access on the _id field is disallowed, you can re-enable it by updating the dynamic cluster setting: indices.id_field_data.enabled', indices[0]?.name ?? null)
    }
    const types = indices.map((i) => i.typeOf(s.field)?.type).filter((t): t is FieldType => t !== undefined)
    const first = types[0]
    if (first === undefined) {
      if (s.unmappedType !== undefined) {
        s.type = s.unmappedType === 'keyword' ? 'keyword' : 'long'
        continue
      }
      throw allShardsFailed(400, { type: 'query_shard_exception', reason: `No mapping found for [${s.field}] in order to sort on` }, indices[0]?.name ?? null)
    }
    if (first === 'text') {
      throw shardIllegalArgument(
        `Fielddata is disabled on [${s.field}] in [${indices[0]?.name ?? ''}]. Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead.`,
        indices[0]?.name ?? null,
      )
    }
    if (first === 'object') throw shardIllegalArgument(`can't sort on an object field [${s.field}]`, indices[0]?.name ?? null)
    s.type = first
  }
}

export function shardDoc(e: Entry): number {
  return e.shard * 2 ** 32 + e.doc.seq
}

function numericType(t: FieldType | undefined): boolean {
  return t === 'long' || t === 'date' || t === 'boolean'
}

/** The value of `missing` for this field, or the sentinel ES uses for `_last`/`_first`. */
function missingKey(s: SortField): SortKey {
  const last = s.missing === '_last' || s.missing === undefined
  if (s.missing !== '_last' && s.missing !== '_first') return convertAfter(s.missing, s, '')
  if (s.type === 'keyword') return null
  const high = last === (s.order === 'asc')
  if (s.type === 'float') return high ? Infinity : -Infinity
  return high ? LONG_MAX : LONG_MIN
}

export function sortKeys(e: Entry, spec: SortField[]): SortKey[] {
  return spec.map((s) => {
    if (s.kind === '_score') return 1
    if (s.kind === '_doc' || s.kind === '_shard_doc') return shardDoc(e)
    if (s.field === '_index') return e.index.name
    if (s.field === '_id' && s.type === 'keyword') return e.doc.id
    const vals = typedValues(e, s.field).values
    if (vals.length === 0) return missingKey(s)
    // Multi-valued fields sort by their min (asc) or max (desc), ES's default mode.
    let best = vals[0] as SortKey
    for (const v of vals) {
      const k = typeof v === 'boolean' ? (v ? 1 : 0) : v
      if (best === null || (s.order === 'asc' ? k < best : k > best)) best = k
    }
    return typeof best === 'boolean' ? (best ? 1 : 0) : best
  })
}

export function compareKeys(a: SortKey[], b: SortKey[], spec: SortField[]): number {
  for (let i = 0; i < spec.length; i++) {
    const x = a[i] as SortKey
    const y = b[i] as SortKey
    if (x === y) continue
    const s = spec[i] as SortField
    // A null (missing keyword) stays last, or first, whatever the order.
    if (x === null || y === null) return (x === null) === (s.missing === '_first') ? -1 : 1
    const c = x < y ? -1 : x > y ? 1 : 0
    if (c !== 0) return s.order === 'asc' ? c : -c
  }
  return 0
}

function parseLongText(text: string, field: string, index: string): bigint {
  if (!/^-?\d+$/.test(text)) throw shardIllegalArgument(`Failed to parse search_after value for field [${field}].`, index)
  const n = BigInt(text)
  if (n > LONG_MAX || n < LONG_MIN) throw shardIllegalArgument(`Failed to parse search_after value for field [${field}].`, index)
  return n
}

/**
 * Converts one search_after value the way ES does for the sort's type. An integer literal beyond
 * the long range (what JSON.stringify makes of a rounded sentinel) is refused, as ES refuses it.
 */
export function convertAfter(v: Json, s: SortField, index: string): SortKey {
  if (v === null) return null
  if (s.kind === '_score') return Number(v)
  const long = s.kind !== 'field' || numericType(s.type)
  if (long) {
    let key: SortKey
    if (typeof v === 'number') key = Math.trunc(v)
    else if (typeof v === 'bigint') key = parseLongText(v.toString(), s.field, index)
    else if (typeof v === 'string' && s.type === 'date' && !/^-?\d+$/.test(v)) {
      const d = Date.parse(v)
      if (Number.isNaN(d)) throw shardIllegalArgument(`Failed to parse search_after value for field [${s.field}].`, index)
      key = d
    } else if (typeof v === 'string') key = parseLongText(v, s.field, index)
    else if (typeof v === 'boolean' && s.type === 'boolean') key = v ? 1 : 0
    else throw shardIllegalArgument(`Failed to parse search_after value for field [${s.field}].`, index)
    // Safe integers compare faster as numbers; only the sentinels need to stay bigint.
    if (typeof key === 'bigint' && key >= BigInt(Number.MIN_SAFE_INTEGER) && key <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(key)
    return key
  }
  if (s.type === 'float') {
    const n = typeof v === 'string' && /^-?Infinity$/.test(v) ? Number(v) : Number(v)
    if (Number.isNaN(n)) throw shardIllegalArgument(`Failed to parse search_after value for field [${s.field}].`, index)
    return n
  }
  if (typeof v === 'object') throw shardIllegalArgument(`Failed to parse search_after value for field [${s.field}].`, index)
  return String(v)
}

/** The first position in `list` strictly after `after` (binary search on a sorted list). */
export function positionAfter<T extends { keys: SortKey[] }>(list: T[], after: SortKey[], spec: SortField[]): number {
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (compareKeys((list[mid] as T).keys, after, spec) <= 0) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Sort values as ES writes them: infinities of float fields become strings. */
export function renderKeys(keys: SortKey[]): Json[] {
  return keys.map((k) => (typeof k === 'number' && !Number.isFinite(k) ? (k > 0 ? 'Infinity' : '-Infinity') : k))
}
