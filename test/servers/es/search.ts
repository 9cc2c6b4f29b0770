// _search, _search/scroll, _pit, _count: request validation in ES's order and wording, then a
// page cut from a sorted, filtered view. Views of a PIT are computed once per request shape and
// kept with the PIT, so paging with search_after is a binary search plus a slice.

import { Contexts, parseTimeValue, type PitContext, type Ranked } from './contexts.js'
import { allShardsFailed, EsError, parsingException, shardIllegalArgument, validationFailed } from './errors.js'
import { fieldsOption, renderHit, sourceOption, type HitOptions } from './hits.js'
import { isObject, type Json, type Out } from './json.js'
import { compileQuery, type Entry, type Pred } from './query.js'
import { openSearchSkips } from './search-after-skip.js'
import { compareKeys, convertAfter, parseSort, positionAfter, resolveSort, sortKeys, type SortField, type SortKey } from './sort.js'
import type { Doc, IndexData, Store } from './store.js'

export type Params = Record<string, string>

/** What a request may change: faulted requests are served without moving any cursor. */
export interface Effects {
  advance: boolean
  /** false when the response will never reach the client, so a new scroll would only leak. */
  register: boolean
}

// A type alias, not an interface, so it stays assignable to the serializer's Out.
export type SearchResponse = {
  _scroll_id?: string
  pit_id?: string
  took: number
  timed_out: boolean
  _shards: { total: number; successful: number; skipped: number; failed: number; failures?: Out[] }
  hits: { total?: Out; max_score: number | null; hits: Out[] }
}

const MAX_RESULT_WINDOW = 10000
const DEFAULT_TRACK_TOTAL = 10000
const NO_KEYS: SortKey[] = []

const UNSUPPORTED_BODY = new Set([
  'aggs', 'aggregations', 'highlight', 'collapse', 'suggest', 'rescore', 'post_filter', 'script_fields',
  'runtime_mappings', 'knn', 'docvalue_fields', 'min_score', 'terminate_after', 'indices_boost', 'profile', 'rank', 'retriever',
])
const KNOWN_BODY = new Set([
  'query', 'from', 'size', 'sort', '_source', 'fields', 'track_total_hits', 'search_after', 'pit', 'slice',
  'stored_fields', 'version', 'seq_no_primary_term', 'track_scores', 'timeout', 'explain',
])

function tokenName(v: Json): string {
  if (Array.isArray(v)) return 'START_ARRAY'
  if (isObject(v)) return 'START_OBJECT'
  if (typeof v === 'string') return 'VALUE_STRING'
  if (typeof v === 'boolean') return 'VALUE_BOOLEAN'
  if (v === null) return 'VALUE_NULL'
  return 'VALUE_NUMBER'
}

function checkBody(body: { [k: string]: Json }): void {
  for (const [k, v] of Object.entries(body)) {
    if (UNSUPPORTED_BODY.has(k)) throw parsingException(`[${k}] is not supported by the espipe test server`)
    if (!KNOWN_BODY.has(k)) throw parsingException(`Unknown key for a ${tokenName(v)} in [${k}].`)
  }
}

function intParam(v: Json | undefined, name: string): number | undefined {
  if (v === undefined || v === null) return undefined
  const n = typeof v === 'string' ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n)) throw parsingException(`[${name}] must be an integer, got [${String(v)}]`)
  return n
}

function trackTotalHits(v: Json | undefined): number | boolean {
  if (v === undefined) return DEFAULT_TRACK_TOTAL
  if (v === true || v === 'true') return true
  if (v === false || v === 'false') return false
  const n = intParam(v, 'track_total_hits') as number
  if (n < -1) throw validationFailed('[track_total_hits] parameter must be positive or equals to -1, got ' + n)
  return n === -1 ? true : n
}

function totalOf(count: number, track: number | boolean, asInt: boolean): Out {
  if (track === false) return undefined
  const capped = track !== true && count > track
  if (asInt) return count
  return capped ? { value: track as number, relation: 'gte' } : { value: count, relation: 'eq' }
}

function fnv(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

export class SearchService {
  private readonly entryCache = new WeakMap<Doc[], Map<number, Entry[]>>()

  /**
   * `opensearch`: OpenSearch's dialect (PIT ids under `pit_id`, no implicit `_shard_doc`
   * tiebreaker); `shardDoc`: whether `_shard_doc` exists (OpenSearch 3.3+); `idSort`: whether
   * `_id` is sortable (OpenSearch, and Elasticsearch before 8.0, which refuses _id field data).
   */
  constructor(
    readonly store: Store,
    readonly contexts: Contexts,
    readonly flavor: { opensearch: boolean; shardDoc: boolean; idSort?: boolean } = { opensearch: false, shardDoc: true },
  ) {}

  /** The docs of indices as search entries; shard = position in the searched list (one shard each). */
  entries(names: string[]): Entry[] {
    const parts = names.map((name, shard) => {
      const index = this.store.get(name)
      const docs = index.list()
      let byShard = this.entryCache.get(docs)
      if (byShard === undefined) this.entryCache.set(docs, (byShard = new Map()))
      let list = byShard.get(shard)
      if (list === undefined) byShard.set(shard, (list = docs.map((doc) => ({ doc, index, shard }))))
      return list
    })
    return parts.length === 1 ? (parts[0] as Entry[]) : parts.flat()
  }

  private query(body: { [k: string]: Json }, params: Params): { pred: Pred | undefined; key: string } {
    if (params.q !== undefined) {
      const qs = { query_string: { query: params.q, default_field: params.df ?? '*', default_operator: params.default_operator ?? 'OR' } }
      return { pred: compileQuery(qs), key: JSON.stringify(qs) }
    }
    if (body.query === undefined) return { pred: undefined, key: '' }
    const pred = compileQuery(body.query)
    const q = body.query
    const matchAll = isObject(q) && Object.keys(q).length === 1 && q.match_all !== undefined
    return { pred: matchAll ? undefined : pred, key: JSON.stringify(q, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) }
  }

  search(pathIndex: string | undefined, params: Params, rawBody: Json | undefined, fx: Effects): SearchResponse {
    const started = Date.now()
    const body = rawBody ?? {}
    if (!isObject(body)) throw parsingException('request body must be an object')
    checkBody(body)
    const scroll = params.scroll
    const pit = body.pit
    const from = intParam(params.from ?? body.from, 'from') ?? 0
    const size = intParam(params.size ?? body.size, 'size') ?? 10
    const track = trackTotalHits(params.track_total_hits ?? body.track_total_hits)
    const spec = parseSort(body.sort, params.sort)
    const searchAfter = body.search_after
    const slice = body.slice

    if (pit !== undefined && pathIndex !== undefined) {
      throw validationFailed('[indices] cannot be used with point in time. Do not specify any index with point in time.')
    }
    const problems: string[] = []
    if (scroll !== undefined) {
      if (track !== true && track !== DEFAULT_TRACK_TOTAL) problems.push('disabling [track_total_hits] is not allowed in a scroll context')
      if (from > 0) problems.push('using [from] is not allowed in a scroll context')
      if (size === 0) problems.push('[size] cannot be [0] in a scroll context')
      if (pit !== undefined) problems.push('using [point in time] is not allowed in a scroll context')
    }
    if (from < 0) problems.push('[from] parameter cannot be negative')
    if (size < 0) problems.push('[size] parameter cannot be negative, found [' + size + ']')
    if (searchAfter !== undefined && from > 0) problems.push('[from] parameter must be set to 0 when [search_after] is used')
    if (slice !== undefined && scroll === undefined && pit === undefined) {
      problems.push('[slice] can only be used with [scroll] or [point-in-time] requests')
    }
    // Where _shard_doc does not exist (OpenSearch before 3.3) it fails later, as an unmapped field.
    if (pit === undefined && this.flavor.shardDoc && spec.some((s) => s.kind === '_shard_doc')) {
      problems.push(this.flavor.opensearch ? '_shard_doc is only supported with point-in-time (PIT). Add a PIT or remove _shard_doc.' : '[_shard_doc] sort field cannot be used without [point in time]')
    }
    if (problems.length > 0) throw validationFailed(...problems)

    const { pred, key: queryKey } = this.query(body, params)
    const hitOptions: HitOptions = {
      source: sourceOption(body._source, params._source, params._source_includes, params._source_excludes),
      fields: fieldsOption(body.fields),
      version: body.version === true || params.version === 'true',
      seqNoPrimaryTerm: body.seq_no_primary_term === true || params.seq_no_primary_term === 'true',
      scored: spec.length === 0 || spec.some((s) => s.kind === '_score'),
    }
    if (body.stored_fields === '_none_' || params.stored_fields === '_none_') hitOptions.source = null

    let pitCtx: PitContext | undefined
    let entries: Entry[]
    let indexNames: string[]
    if (pit !== undefined) {
      if (!isObject(pit) || typeof pit.id !== 'string') throw parsingException('[pit] requires an [id]')
      pitCtx = this.contexts.getPit(pit.id)
      if (pit.keep_alive !== undefined) pitCtx.keepAliveMs = parseTimeValue(String(pit.keep_alive), 'keep_alive')
      pitCtx.lastUsed = Date.now()
      entries = pitCtx.entries
      indexNames = pitCtx.indices
    } else {
      indexNames = this.store.resolve(pathIndex, params.ignore_unavailable === 'true')
      entries = this.entries(indexNames)
    }
    const firstIndex = indexNames[0] ?? null
    const indices: IndexData[] = pitCtx?.indexData ?? indexNames.map((n) => this.store.get(n))
    if (!this.flavor.shardDoc && spec.some((s) => s.kind === '_shard_doc')) {
      throw allShardsFailed(400, { type: 'query_shard_exception', reason: 'No mapping found for [_shard_doc] in order to sort on' }, firstIndex)
    }
    resolveSort(spec, indices, this.flavor.idSort ?? this.flavor.opensearch)

    // With a PIT, ES appends an implicit _shard_doc tiebreaker that shows in each hit's sort (OpenSearch does not).
    const last = spec[spec.length - 1]
    const visible: SortField[] =
      pit !== undefined && !this.flavor.opensearch && last !== undefined && last.kind !== '_shard_doc'
        ? [...spec, { kind: '_shard_doc', field: '_shard_doc', order: 'asc', missing: '_last' }]
        : spec
    const ordering: SortField[] = visible.length === 0 || ['_shard_doc', '_doc'].includes(visible[visible.length - 1]?.kind ?? '')
      ? visible
      : [...visible, { kind: '_shard_doc', field: '_shard_doc', order: 'asc', missing: '_last' }]

    const sliceFilter = this.sliceFilter(slice, pit !== undefined, firstIndex)
    const viewKey = JSON.stringify([ordering.map((s) => [s.kind, s.field, s.order, s.missing]), queryKey, slice ?? null])
    let view = pitCtx?.views.get(viewKey)
    if (view === undefined) {
      view = this.view(entries, pred, sliceFilter, ordering)
      if (pitCtx !== undefined) {
        if (pitCtx.views.size >= 16) pitCtx.views.delete(pitCtx.views.keys().next().value as string)
        pitCtx.views.set(viewKey, view)
      }
    }

    let start = from
    let shards: SearchResponse['_shards'] = { total: indexNames.length, successful: indexNames.length, skipped: 0, failed: 0 }
    if (searchAfter !== undefined) {
      if (!Array.isArray(searchAfter)) throw parsingException('[search_after] must be an array')
      if (visible.length === 0) throw shardIllegalArgument('Sort must contain at least one field.', firstIndex)
      if (searchAfter.length !== visible.length) {
        throw shardIllegalArgument(`search_after has ${searchAfter.length} value(s) but sort has ${visible.length}.`, firstIndex)
      }
      const after = searchAfter.map((v, i) => convertAfter(v, visible[i] as SortField, firstIndex ?? ''))
      // OpenSearch's own search_after skipping, reproduced so that what it loses on a real node is lost here too.
      const skips = this.flavor.opensearch ? openSearchSkips(entries, indexNames.length, visible[0], after[0] as SortKey, track) : undefined
      if (skips !== undefined) {
        const npe = { type: 'null_pointer_exception', reason: 'Cannot read field "bytes" because "other" is null' }
        if (skips.failed.length === indexNames.length) throw allShardsFailed(500, npe, firstIndex)
        view = view.filter((r) => !skips.skips(r.e))
        shards = {
          total: indexNames.length,
          successful: indexNames.length - skips.failed.length,
          skipped: skips.skippedShards,
          failed: skips.failed.length,
          ...(skips.failed.length > 0 ? { failures: skips.failed.map((i) => ({ shard: 0, index: i.name, node: 'espipe-test-node', reason: npe })) } : {}),
        }
      }
      start = positionAfter(view, after, visible)
    }
    if (scroll === undefined && from + size > MAX_RESULT_WINDOW) {
      throw shardIllegalArgument(
        `Result window is too large, from + size must be less than or equal to: [${MAX_RESULT_WINDOW}] but was [${from + size}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting.`,
        firstIndex,
      )
    }
    if (scroll !== undefined && size > MAX_RESULT_WINDOW) {
      throw shardIllegalArgument(
        `Batch size is too large, size must be less than or equal to: [${MAX_RESULT_WINDOW}] but was [${size}]. Scroll batch sizes cost as much memory as result windows so they are controlled by the [index.max_result_window] index level setting.`,
        firstIndex,
      )
    }

    const sortCount = visible.length
    const render = (page: Ranked[]): Out[] =>
      page.map((r) => renderHit(r.e, hitOptions, sortCount === 0 ? undefined : r.keys.slice(0, sortCount)))
    const page = view.slice(start, start + size)
    const asInt = params.rest_total_hits_as_int === 'true'
    const res: SearchResponse = {
      took: Date.now() - started,
      timed_out: false,
      _shards: shards,
      hits: {
        total: totalOf(view.length, scroll !== undefined ? true : track, asInt),
        max_score: hitOptions.scored && page.length > 0 ? 1 : null,
        hits: render(page),
      },
    }
    if (pitCtx !== undefined) {
      if (fx.advance && ++pitCtx.searches % 3 === 0) pitCtx.generation++
      res.pit_id = this.contexts.pitId(pitCtx)
    }
    if (scroll !== undefined) {
      const ctx = this.contexts.openScroll(
        { hits: view, total: view.length, size, indices: indexNames, pos: fx.advance ? page.length : 0, render, keepAliveMs: parseTimeValue(scroll, 'scroll') },
        fx.register,
      )
      return { _scroll_id: this.contexts.scrollId(ctx), ...res }
    }
    return res
  }

  private sliceFilter(slice: Json | undefined, withPit: boolean, index: string | null): ((e: Entry) => boolean) | undefined {
    if (slice === undefined) return undefined
    if (!isObject(slice)) throw parsingException('[slice] must be an object')
    const id = intParam(slice.id, 'slice.id')
    const max = intParam(slice.max, 'slice.max')
    if (id === undefined || max === undefined) throw parsingException('[slice] requires [id] and [max]')
    if (max <= 1) throw new EsError(400, { type: 'illegal_argument_exception', reason: 'max must be greater than 1' })
    if (id < 0) throw new EsError(400, { type: 'illegal_argument_exception', reason: 'id must be greater than or equal to 0' })
    if (id >= max) throw new EsError(400, { type: 'illegal_argument_exception', reason: 'max must be greater than id' })
    const field = slice.field
    if (withPit && field === '_id') throw shardIllegalArgument('cannot slice on [_id] when using [point-in-time]', index)
    if (field !== undefined && field !== '_id') throw parsingException(`[slice] on field [${String(field)}] is not supported by the espipe test server`)
    // A PIT slices by Lucene doc id; a scroll by a hash of _id: both partition every doc.
    return withPit && field === undefined ? (e) => e.doc.seq % max === id : (e) => fnv(e.doc.id) % max === id
  }

  private view(entries: Entry[], pred: Pred | undefined, slice: ((e: Entry) => boolean) | undefined, ordering: SortField[]): Ranked[] {
    let list = entries
    if (pred !== undefined || slice !== undefined) list = list.filter((e) => (pred === undefined || pred(e)) && (slice === undefined || slice(e)))
    if (ordering.length === 0) return list.map((e) => ({ e, keys: NO_KEYS }))
    const ranked = list.map((e) => ({ e, keys: sortKeys(e, ordering) }))
    ranked.sort((a, b) => compareKeys(a.keys, b.keys, ordering))
    return ranked
  }

  scroll(params: Params, rawBody: Json | undefined, fx: Effects): SearchResponse {
    const started = Date.now()
    const body = isObject(rawBody) ? rawBody : {}
    const id = body.scroll_id ?? params.scroll_id
    if (id === undefined) throw validationFailed('scrollId is missing')
    const keep = body.scroll ?? params.scroll
    const ctx = this.contexts.getScroll(id)
    if (keep !== undefined) ctx.keepAliveMs = parseTimeValue(String(keep), 'scroll')
    ctx.lastUsed = Date.now()
    const page = ctx.hits.slice(ctx.pos, ctx.pos + ctx.size)
    if (fx.advance) ctx.pos += page.length
    return {
      _scroll_id: this.contexts.scrollId(ctx),
      took: Date.now() - started,
      timed_out: false,
      _shards: { total: ctx.indices.length, successful: ctx.indices.length, skipped: 0, failed: 0 },
      hits: { total: { value: ctx.total, relation: 'eq' }, max_score: null, hits: ctx.render(page) as Out[] },
    }
  }

  clearScroll(params: Params, rawBody: Json | undefined, pathId: string | undefined): { status: number; body: Out } {
    const body = isObject(rawBody) ? rawBody : {}
    const raw = body.scroll_id ?? pathId ?? params.scroll_id
    if (raw === undefined) throw validationFailed('no scroll ids specified')
    const ids = (Array.isArray(raw) ? raw : String(raw).split(',')).map((x) => String(x))
    let freed = 0
    if (ids.length === 1 && ids[0] === '_all') {
      freed = this.contexts.scrolls.size
      this.contexts.scrolls.clear()
    } else {
      for (const id of ids) this.contexts.decodeScroll(id)
      for (const id of ids) if (this.contexts.closeScroll(id)) freed++
    }
    return { status: freed === 0 ? 404 : 200, body: { succeeded: true, num_freed: freed } }
  }

  openPit(pathIndex: string, params: Params): Out {
    if (params.keep_alive === undefined) throw validationFailed('[keep_alive] is not specified')
    const keepAlive = parseTimeValue(params.keep_alive, 'keep_alive')
    const names = this.store.resolve(pathIndex, params.ignore_unavailable === 'true')
    // The snapshot is this array: later writes build new index lists, so the PIT never sees them.
    const ctx = this.contexts.openPit(this.entries(names), names, names.map((n) => this.store.get(n)), keepAlive)
    const shards = { total: names.length, successful: names.length, skipped: 0, failed: 0 }
    if (this.flavor.opensearch) return { pit_id: this.contexts.pitId(ctx), _shards: shards, creation_time: Date.now() }
    return { id: this.contexts.pitId(ctx), _shards: shards }
  }

  /** OpenSearch: `DELETE /_search/point_in_time {"pit_id":[…]}`; an id already freed still reports success. */
  closePits(rawBody: Json | undefined): { status: number; body: Out } {
    const ids = isObject(rawBody) ? rawBody.pit_id : undefined
    const list = typeof ids === 'string' ? [ids] : Array.isArray(ids) ? ids : []
    if (list.length === 0 || !list.every((id): id is string => typeof id === 'string' && id !== '')) throw validationFailed('no pit ids specified')
    for (const id of list) this.contexts.closePit(id)
    return { status: 200, body: { pits: list.map((id) => ({ successful: true, pit_id: id })) } }
  }

  closePit(rawBody: Json | undefined): { status: number; body: Out } {
    const id = isObject(rawBody) ? rawBody.id : undefined
    if (typeof id !== 'string' || id === '') throw validationFailed('id is missing')
    const freed = this.contexts.closePit(id)
    return { status: freed ? 200 : 404, body: { succeeded: freed, num_freed: freed ? 1 : 0 } }
  }

  count(pathIndex: string | undefined, params: Params, rawBody: Json | undefined): Out {
    const body = rawBody ?? {}
    if (!isObject(body)) throw parsingException('request body must be an object')
    for (const k of Object.keys(body)) if (k !== 'query') throw parsingException(`request does not support [${k}]`)
    const names = this.store.resolve(pathIndex, params.ignore_unavailable === 'true')
    const { pred } = this.query(body, params)
    const entries = this.entries(names)
    const count = pred === undefined ? entries.length : entries.filter(pred).length
    return { count, _shards: { total: names.length, successful: names.length, skipped: 0, failed: 0 } }
  }
}
