import type { EsRequestError } from './errors.js'
import type { SearchPage } from './response.js'

/** One slice's cursor through the results: point in time + search_after, or a scroll. */
export interface Pager {
  /** The slice this pager reads (0 when the read is not sliced). */
  readonly slice: number
  /**
   * Fetches the page after the last one accepted; fetching again without `accept` repeats it.
   * `ahead` is asked when the answer is in: true when this page goes downstream at once, so a
   * pager may ask for the page after it already (PitPager does; scroll cannot).
   */
  fetch: (size: number, signal: AbortSignal, ahead?: () => boolean) => Promise<SearchPage>
  /**
   * Moves the cursor past the first `count` hits of `page` (the ones handed downstream), or
   * marks the slice finished when the page is empty.
   */
  accept: (page: SearchPage, count: number) => void
  readonly done: boolean
  /**
   * Whether a failed fetch may be sent again without losing or repeating a hit. A PIT page is a
   * pure function of (PIT, search_after), so any transient failure may be retried; a scroll
   * request moves the server's cursor, so only a request that was never processed may be.
   */
  mayRetry: (err: EsRequestError) => boolean
  /** Frees what the server holds for this pager alone (a scroll context); a PIT is shared. */
  release: () => Promise<void>
}
