// OpenSearch's search_after skipping, reproduced so that a reader that loses documents to it on a
// real node loses them here too (test/servers/es-search-after-skip.test.ts).
//
// OpenSearch 2.x and 3.x (SearchService.canMatchSearchAfter, called by the can_match phase for a
// whole shard and by ContextIndexSearcher for each Lucene segment) leave out every shard and
// segment whose values of the primary sort field all lie behind the search_after cursor (asc:
// max < cursor; desc: min > cursor). The documents of that segment that lack the field sort
// after every value, so they are never returned: a sort over a sparse field silently loses them.
// It does so only when track_total_hits is false and the primary sort names no `missing`; a null
// cursor (the sort value of a missing keyword) makes the comparison throw a NullPointerException,
// which fails the shard. A segment without any value of the field has no range and is searched.
// Here a shard is an index and a segment is what one refresh of it closed (store.ts).

import type { Entry } from './query.js'
import { typedValues } from './query.js'
import type { SortField, SortKey } from './sort.js'
import type { IndexData } from './store.js'

interface Range { min: SortKey; max: SortKey }

/** a < b for two values of one field (strings, or numbers and bigints, which compare exactly). */
const lt = (a: SortKey, b: SortKey): boolean => (a as number) < (b as number)

export interface Skips {
  /** Whether the search leaves this entry out (its segment lies behind the cursor). */
  skips: (e: Entry) => boolean
  /** Shards (indices) that failed with the NullPointerException of a null cursor. */
  failed: IndexData[]
  /** Shards the can_match phase skipped whole (counted in `_shards.skipped`). */
  skippedShards: number
}

/** Types whose segments carry a min and max OpenSearch compares the cursor with. */
const RANGED = new Set(['long', 'float', 'date', 'keyword'])

const rangeCache = new WeakMap<Entry[], Map<string, Map<IndexData, Map<number, Range>>>>()

/** Per index and segment, the least and greatest value of `field` (segments without one are absent). */
function segmentRanges(entries: Entry[], field: string): Map<IndexData, Map<number, Range>> {
  let byField = rangeCache.get(entries)
  if (byField === undefined) rangeCache.set(entries, (byField = new Map()))
  const cached = byField.get(field)
  if (cached !== undefined) return cached
  const ranges = new Map<IndexData, Map<number, Range>>()
  for (const e of entries) {
    for (const raw of typedValues(e, field).values) {
      const v = typeof raw === 'boolean' ? (raw ? 1 : 0) : raw
      let segments = ranges.get(e.index)
      if (segments === undefined) ranges.set(e.index, (segments = new Map()))
      const r = segments.get(e.doc.segment)
      if (r === undefined) segments.set(e.doc.segment, { min: v, max: v })
      else {
        if (lt(v, r.min)) r.min = v
        if (lt(r.max, v)) r.max = v
      }
    }
  }
  byField.set(field, ranges)
  return ranges
}

/** Whether a segment of this range lies wholly behind the cursor. */
function behind(r: Range, order: 'asc' | 'desc', after: Exclude<SortKey, null>): boolean {
  return order === 'asc' ? lt(r.max, after) : lt(after, r.min)
}

/**
 * What OpenSearch leaves out of a search_after page, or undefined when it leaves nothing out:
 * `entries` are all the documents the search sees (the point in time), whatever the query, in
 * `shards` shards. The can_match phase runs only when more than one shard is searched; a shard it
 * skips loses all its documents, also those of its segments that have no value of the field.
 */
export function openSearchSkips(entries: Entry[], shards: number, primary: SortField | undefined, after: SortKey, trackTotalHits: number | boolean): Skips | undefined {
  if (trackTotalHits !== false || primary === undefined || primary.kind !== 'field' || primary.missingGiven === true) return undefined
  if (primary.type === undefined || !RANGED.has(primary.type) || primary.field === '_index' || primary.field === '_id') return undefined
  const ranges = segmentRanges(entries, primary.field)
  if (after === null) {
    const failed = [...ranges.keys()]
    return failed.length === 0 ? undefined : { skips: (e) => ranges.has(e.index), failed, skippedShards: 0 }
  }
  const segmentsGone = new Map<IndexData, Set<number>>()
  const shardsGone = new Set<IndexData>()
  for (const [index, segments] of ranges) {
    const gone = new Set<number>()
    let min: SortKey = null
    let max: SortKey = null
    for (const [segment, r] of segments) {
      if (behind(r, primary.order, after)) gone.add(segment)
      if (min === null || lt(r.min, min)) min = r.min
      if (max === null || lt(max, r.max)) max = r.max
    }
    if (gone.size > 0) segmentsGone.set(index, gone)
    if (shards > 1 && behind({ min, max }, primary.order, after)) shardsGone.add(index)
  }
  if (segmentsGone.size === 0) return undefined
  return {
    skips: (e) => shardsGone.has(e.index) || segmentsGone.get(e.index)?.has(e.doc.segment) === true,
    failed: [],
    skippedShards: shardsGone.size,
  }
}
