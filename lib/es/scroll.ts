import type { EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { EsRequestError, shardFailureError } from './errors.js'
import type { Pager } from './pager.js'
import type { SearchPage } from './response.js'
import { parseSearchPage } from './response.js'
import type { JsonObject } from '../core/record.js'

export interface ScrollPagerOptions {
  index: string
  body: JsonObject
  sort: JsonObject[]
  keepAlive: string
  slice?: { id: number, max: number }
  fields?: boolean
}

/**
 * One slice of a scroll (for clusters or aliases without point in time). The server keeps the
 * cursor: every scroll request moves it, so a request that may have been processed cannot be
 * sent again without skipping a page (the elasticdump bug); see `mayRetry`.
 */
export class ScrollPager implements Pager {
  readonly slice: number
  done = false
  private scrollId: string | undefined
  private pending: string | undefined

  constructor (private readonly conn: EsConnection, private readonly where: EsWhere, private readonly o: ScrollPagerOptions) {
    this.slice = o.slice?.id ?? 0
  }

  async fetch (size: number, signal: AbortSignal): Promise<SearchPage> {
    let bytes: Buffer
    if (this.scrollId === undefined) {
      const body: JsonObject = { ...this.o.body, sort: this.o.sort.length > 0 ? this.o.sort : ['_doc'], size }
      if (this.o.slice !== undefined && this.o.slice.max > 1) body.slice = this.o.slice
      const path = `/${encodeURIComponent(this.o.index)}/_search`
      bytes = (await this.conn.requestBytes({ method: 'POST', path, querystring: { scroll: this.o.keepAlive }, body: JSON.stringify(body) }, this.where, 'search', signal)).bytes
    } else {
      const body = JSON.stringify({ scroll: this.o.keepAlive, scroll_id: this.scrollId })
      bytes = (await this.conn.requestBytes({ method: 'POST', path: '/_search/scroll', body }, this.where, 'scroll', signal)).bytes
    }
    const page = parseSearchPage(bytes, { fields: this.o.fields })
    if (page.scrollId !== undefined) this.pending = page.scrollId
    if (page.shards !== undefined && page.shards.failed > 0) throw shardFailureError(page.shards, this.where, 'scroll')
    if (page.timedOut) throw new EsRequestError('ES_TIMED_OUT', `scroll at ${this.where.host} index ${this.where.index ?? ''} timed out on the server (partial page)`, { stage: 'ambiguous', where: this.where })
    return page
  }

  accept (page: SearchPage): void {
    if (this.pending !== undefined) this.scrollId = this.pending
    if (page.count === 0) this.done = true
  }

  mayRetry (err: EsRequestError): boolean {
    // Before a scroll exists nothing can be skipped (a retried first search at worst leaves a
    // context to expire). Afterwards only a refusal (429) or a request that never left is safe.
    if (err.stage === 'final') return false
    if (this.scrollId === undefined) return true
    return err.stage === 'rejected' || err.stage === 'not-sent'
  }

  async release (): Promise<void> {
    const id = this.pending ?? this.scrollId
    if (id === undefined) return
    this.pending = this.scrollId = undefined
    try {
      await this.conn.request({ method: 'DELETE', path: '/_search/scroll', body: JSON.stringify({ scroll_id: id }) }, this.where, 'clear the scroll', AbortSignal.timeout(10_000))
    } catch (err) {
      if (err instanceof EsRequestError && err.status === 404) return
      throw err
    }
  }
}
