import type { JsonObject } from '../core/record.js'
import type { EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { typeAt } from './mapping-types.js'

/**
 * The fields of a sort that are mapped as date_nanos (and as a date or date_nanos wherever else
 * they are mapped), whose `missing` must be spelled as a value rather than `_last`.
 *
 * Why: OpenSearch (seen on 2.19 and 3.3) sends the other shards the bottom sort value of the
 * first shard to answer, and each shard whose values of the primary sort field it judges
 * disjoint from it answers no hits (FieldSortBuilder.isBottomSortShardDisjoint). For a date_nanos
 * field that judgement is wrong: a first page sorted ascending left out a whole shard's smallest
 * values (12 documents a nanosecond apart over two shards, size 3: 9 read, in about half of the
 * indices created). The check is made only while `missing` is `_last` or left out; the value
 * `_last` stands for (the largest long ascending, the smallest descending) sorts exactly the
 * same and turns the check off. Elasticsearch 7.17 and the test server lose nothing either way.
 */
export async function lookupNanosSortFields (conn: EsConnection, where: EsWhere, index: string, sort: readonly JsonObject[], signal?: AbortSignal): Promise<Set<string>> {
  const fields = sort.map((s) => Object.keys(s)[0]).filter((f): f is string => f !== undefined && !f.startsWith('_'))
  if (fields.length === 0) return new Set()
  const res = await conn.request({ method: 'GET', path: `/${encodeURIComponent(index)}/_mapping` }, where, 'read the mapping', signal)
  return nanosFields(JSON.parse(res.text) as Record<string, { mappings?: JsonObject }>, fields)
}

/** Of `fields`, those date_nanos in some index of GET _mapping's answer and a date or date_nanos in every index that maps them. */
export function nanosFields (all: Record<string, { mappings?: JsonObject }>, fields: readonly string[]): Set<string> {
  const out = new Set<string>()
  for (const field of fields) {
    const types = Object.values(all).map((m) => typeAt(m.mappings ?? {}, field)).filter((t) => t !== undefined)
    if (types.includes('date_nanos') && types.every((t) => t === 'date_nanos' || t === 'date')) out.add(field)
  }
  return out
}

/** What `missing: _last` means for a date or date_nanos sort, as a value: where the engine puts documents without it. */
export function lastAsValue (order: string): string {
  return order === 'desc' ? '-9223372036854775808' : '9223372036854775807'
}
