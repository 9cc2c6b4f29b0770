import type { EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { EsRequestError, shardFailureError } from './errors.js'
import type { Pager } from './pager.js'
import type { SearchPage } from './response.js'
import { parseSearchPage, rawElements, skipValue } from './response.js'
import { lastAsValue } from './nanos-sort.js'
import type { JsonObject } from '../core/record.js'

/** Largest long: as a `_shard_doc` tiebreaker in search_after it skips every hit tied on the sort. */
const LONG_MAX = '9223372036854775807'

/**
 * How the order of a PIT read is made total, so that search_after neither skips nor repeats:
 * - `implicit`: Elasticsearch appends a `_shard_doc` tiebreaker itself (hits carry one extra sort value);
 * - `shard_doc`: OpenSearch 3.3+ is given `_shard_doc` explicitly;
 * - `id`: older OpenSearch has no `_shard_doc` ("No mapping found for [_shard_doc]"): `_index` then
 *   `_id` end the sort; their values name a document, so they stay valid in a new PIT too.
 */
export type Tiebreak = 'implicit' | 'shard_doc' | 'id'

/** Where each engine keeps its point-in-time API. */
export type PitApi = 'elasticsearch' | 'opensearch'

/** One point in time shared by all slices of a read. Each response may renew its id. */
export class PitSession {
  id: string
  private closed = false

  constructor (private readonly conn: EsConnection, private readonly where: EsWhere, id: string, readonly keepAlive: string, private readonly api: PitApi = 'elasticsearch') {
    this.id = id
  }

  static async open (conn: EsConnection, where: EsWhere, index: string, keepAlive: string, api: PitApi, signal?: AbortSignal): Promise<PitSession> {
    // OpenSearch (2.4+): POST /<index>/_search/point_in_time answers {"pit_id"}; Elasticsearch: POST /<index>/_pit answers {"id"}.
    const path = `/${encodeURIComponent(index)}/${api === 'opensearch' ? '_search/point_in_time' : '_pit'}`
    const res = await conn.request({ method: 'POST', path, querystring: { keep_alive: keepAlive } }, where, 'open a point in time', signal)
    const body = JSON.parse(res.text) as { id?: string, pit_id?: string, _shards?: { total: number, failed: number } }
    const id = api === 'opensearch' ? body.pit_id : body.id
    if (typeof id !== 'string') throw new EsRequestError('ES_BAD_RESPONSE', `opening a point in time at ${where.host} returned no id`, { stage: 'final', where })
    const session = new PitSession(conn, where, id, keepAlive, api)
    if (body._shards !== undefined && body._shards.failed > 0) {
      await session.close()
      throw shardFailureError(body._shards, where, 'opening a point in time')
    }
    return session
  }

  /** Frees the PIT on the server; safe to call twice. A PIT already gone (404) is not an error. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      const req = this.api === 'opensearch'
        ? { method: 'DELETE', path: '/_search/point_in_time', body: JSON.stringify({ pit_id: [this.id] }) }
        : { method: 'DELETE', path: '/_pit', body: JSON.stringify({ id: this.id }) }
      await this.conn.request(req, this.where, 'close the point in time', AbortSignal.timeout(10_000))
    } catch (err) {
      if (err instanceof EsRequestError && err.status === 404) return
      throw err
    }
  }
}

/** Sorts that are no field and take no `missing` (the engines refuse it: "[_score] unknown field [missing]"). */
const NOT_FIELDS = new Set(['_score', '_doc', '_shard_doc'])

/**
 * Each field of the user's sort with its `missing` spelled out, `_last`, which is also what it
 * is when left out; the order does not change, only what OpenSearch does with the cursor.
 * OpenSearch (2.x and 3.x, SearchService.canMatchSearchAfter) skips, on a search_after page with
 * `track_total_hits: false`, every shard and every Lucene segment whose values of the primary
 * sort field all lie behind the cursor, unless the sort names `missing`: the documents of that
 * segment that lack the field sort after every value, and were never returned (4 documents, 3
 * without the field: 2 read). A null cursor (a missing keyword) made the same comparison fail
 * the shard with a NullPointerException. Naming `missing` turns that skipping off and costs
 * nothing else: the engines build the same Lucene sort. The other remedies cost more: counting
 * hits (track_total_hits: true) makes every page count every match of the query, and a second
 * pass over the documents without the field (must_not exists) reads twice and needs its own
 * place in a checkpoint. A date_nanos field gets the value `_last` stands for instead (see
 * lib/es/nanos-sort.ts): OpenSearch judges shards by it wrongly while `missing` is `_last`.
 */
export function sortWithMissing (sort: JsonObject[], nanos: ReadonlySet<string> = new Set()): JsonObject[] {
  return sort.map((s) => {
    const [field, order] = Object.entries(s)[0] ?? []
    if (field === undefined || NOT_FIELDS.has(field) || typeof order !== 'string') return s
    return { [field]: { order, missing: nanos.has(field) ? lastAsValue(order) : '_last' } }
  })
}

/** The sort sent with every PIT page: the user's, ended by the tiebreaker that makes it total. */
export function totalSort (sort: JsonObject[], tiebreak: Tiebreak, nanos?: ReadonlySet<string>): Array<JsonObject | string> {
  const fields = sortWithMissing(sort, nanos)
  if (tiebreak === 'implicit') return fields.length > 0 ? fields : ['_shard_doc']
  if (tiebreak === 'shard_doc') return [...fields, { _shard_doc: 'asc' }]
  return [...fields, { _index: 'asc' }, { _id: 'asc' }]
}

export interface PitPagerOptions {
  /** The parts of the body that stay the same: query, _source, fields. */
  body: JsonObject
  /** Explicit sort; none means `_shard_doc`, the cheapest order a PIT offers. */
  sort: JsonObject[]
  /** How the sort is made total (default `implicit`, Elasticsearch's). */
  tiebreak?: Tiebreak
  slice?: { id: number, max: number }
  /** Raw search_after to start from (a checkpoint). */
  after?: string
  /** Sort fields mapped as date_nanos, whose `missing` is spelled as a value (lib/es/nanos-sort.ts). */
  nanos?: ReadonlySet<string>
  fields?: boolean
}

/** One slice of a point in time, paged with search_after. */
export class PitPager implements Pager {
  readonly slice: number
  done = false
  after: string | undefined
  private readonly prefix: string
  /** The next page, asked for before this one was parsed (see guess). */
  private guessed: { after: string, size: number, abort: AbortController, bytes: Promise<Buffer> } | undefined

  constructor (private readonly conn: EsConnection, private readonly session: PitSession, private readonly where: EsWhere, private readonly o: PitPagerOptions) {
    this.slice = o.slice?.id ?? 0
    this.after = o.after
    const fixed: JsonObject = { ...o.body, sort: totalSort(o.sort, o.tiebreak ?? 'implicit', o.nanos), track_total_hits: false }
    if (o.slice !== undefined && o.slice.max > 1) fixed.slice = o.slice
    // The body is built as text so search_after goes back byte for byte as the server sent it.
    this.prefix = JSON.stringify(fixed).slice(0, -1)
  }

  async fetch (size: number, signal: AbortSignal, ahead?: () => boolean): Promise<SearchPage> {
    const guessed = this.guessed
    this.guessed = undefined
    let bytes: Buffer
    if (guessed !== undefined && guessed.after === this.after && guessed.size === size && !signal.aborted) {
      bytes = await guessed.bytes
    } else {
      guessed?.abort.abort()
      bytes = (await this.conn.requestBytes({ method: 'POST', path: '/_search', body: this.body(size, this.after) }, this.where, 'search', signal)).bytes
    }
    // The guessed request leaves once this turn of the event loop ends, so parsing waits a turn.
    if (ahead?.() === true && this.guess(bytes, size, signal)) await new Promise((resolve) => setImmediate(resolve))
    const page = parseSearchPage(bytes, { fields: this.o.fields })
    if (page.pitId !== undefined) this.session.id = page.pitId
    if (page.shards !== undefined && page.shards.failed > 0) throw shardFailureError(page.shards, this.where, 'search')
    if (page.timedOut) throw new EsRequestError('ES_TIMED_OUT', `search at ${this.where.host} index ${this.where.index ?? ''} timed out on the server (partial page)`, { stage: 'ambiguous', where: this.where })
    return page
  }

  /**
   * Asks for the page after `bytes` before they are parsed, when this page goes downstream at
   * once (so still one page ahead): the request then travels while this page is read and
   * written, which would otherwise wait for each other. The cursor is guessed
   * from the last `"sort":` in the text (a hit's sort follows its `_source`); a PIT page depends
   * on nothing but its request, so the answer is used only when the next fetch asks for the very
   * same search_after and size, and is dropped otherwise.
   */
  private guess (bytes: Buffer, size: number, signal: AbortSignal): boolean {
    const at = bytes.lastIndexOf('"sort":[')
    if (at < 0) return false
    let after: string
    try {
      const start = at + 7
      after = bytes.toString('utf8', start, skipValue(bytes, start))
    } catch {
      return false
    }
    const abort = new AbortController()
    const next = this.conn.requestBytes({ method: 'POST', path: '/_search', body: this.body(size, after) }, this.where, 'search', AbortSignal.any([signal, abort.signal])).then((res) => res.bytes)
    // Unused guesses are dropped without a word; a used one's failure is the fetch's.
    next.catch(() => {})
    this.guessed = { after, size, abort, bytes: next }
    return true
  }

  private body (size: number, after: string | undefined): string {
    let body = `${this.prefix},"size":${size},"pit":${JSON.stringify({ id: this.session.id, keep_alive: this.session.keepAlive })}`
    if (after !== undefined) body += `,"search_after":${after}`
    return body + '}'
  }

  accept (page: SearchPage, count: number): void {
    if (page.count === 0) { this.done = true; return }
    const sort = page.sorts[count - 1]
    if (sort === undefined) throw new EsRequestError('ES_BAD_RESPONSE', `search at ${this.where.host} returned hits without sort values`, { stage: 'final', where: this.where })
    this.after = sort
  }

  mayRetry (err: EsRequestError): boolean {
    return err.stage !== 'final'
  }

  async release (): Promise<void> {
    this.guessed?.abort.abort()
    this.guessed = undefined
  }

  /**
   * After the PIT was replaced (a checkpoint outlived its PIT), the old `_shard_doc` tiebreaker
   * means nothing: skip every hit tied on the sort values instead, which is exact when the
   * sort is on a unique field.
   */
  rebase (): void {
    if (this.after === undefined || this.o.tiebreak === 'id') return
    const values = rawElements(this.after)
    values[values.length - 1] = LONG_MAX
    this.after = `[${values.join(',')}]`
  }
}
