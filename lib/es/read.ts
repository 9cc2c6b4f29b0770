import { Readable } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import { EspipeError, UsageError } from '../core/errors.js'
import type { CheckpointState } from './checkpoint.js'
import { CheckpointTracker, checkCheckpointWritable, loadCheckpoint } from './checkpoint.js'
import type { EsConnectionOptions } from './client.js'
import { EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { EsRequestError, isContextMissing } from './errors.js'
import type { Pager } from './pager.js'
import { PitPager, PitSession } from './pit.js'
import type { PagingPlan } from './paging.js'
import { choosePaging, engineName } from './paging.js'
import type { EsQueryOptions } from './query.js'
import { buildSearchBody, buildSort } from './query.js'
import type { SearchPage } from './response.js'
import type { RetryPolicy } from '../core/retry.js'
import { DEFAULT_RETRY, withRetry } from '../core/retry.js'
import { ScrollPager } from './scroll.js'
import { checkSlicing } from '../core/slice.js'
import type { JsonObject } from '../core/record.js'

export const ES_READ_COUNTERS: Array<string | [string, string]> = ['read', 'emitted', 'pages', 'retries']

export interface EsReadOptions extends EsQueryOptions {
  /** Index, comma list, wildcard or alias. */
  index: string
  /** How to connect, or an open connection to share. */
  connection?: EsConnectionOptions | EsConnection
  /** Hits per request (default 1000). */
  size?: number
  /** Stop after this many hits. */
  limit?: number
  /** How long the server keeps the PIT or scroll between two requests (default 5m). */
  keepAlive?: string
  /** Read N slices of the PIT in parallel in this process. */
  slices?: number
  /** Read only slice `id` of `max` (spread one read over processes). */
  slice?: { id: number, max: number }
  /** Page with the scroll API instead of point in time + search_after. */
  scroll?: boolean
  /** Cursor file: saved after every page, resumed from when it exists. */
  checkpoint?: string
  /**
   * Emit NDJSON bytes (one Buffer of whole lines per page, as read from the response) instead
   * of one string per line: for a binary writing to stdout, a stream step per hit was a tenth
   * of es-read's CPU, and decoding the page and encoding its lines again a third.
   */
  ndjson?: boolean
  retry?: RetryPolicy
  context?: StageContext
}

const KEEP_ALIVE = /^\d+(d|h|m|s|ms|micros|nanos)$/

interface ReadyPage { pager: Pager, page: SearchPage, size: number }

/**
 * An index as a stream of NDJSON lines, one per hit (`_index`, `_id`, `_source`, `fields`),
 * each the hit's own bytes. Each slice asks for its next page as soon as the previous one is
 * handed downstream (with a checkpoint, only when the stream wants more), so the server's
 * time overlaps the writing (and, with a PIT, the parsing: PitPager guesses the cursor), and
 * holds it until the stream wants it: one request at a time
 * and at most one page ahead per slice, so memory stays at a few pages whatever the index
 * size and however slow the consumer. The PIT or scroll is closed before the stream ends, and when
 * it is destroyed or its context's signal aborts.
 */
export class EsReader extends Readable {
  readonly checkpoint: CheckpointTracker | undefined
  private readonly ctx: StageContext
  private readonly conn: EsConnection
  private readonly ownConnection: boolean
  private readonly where: EsWhere
  private readonly o: EsReadOptions
  private readonly size: number
  private readonly keepAlive: string
  private readonly retry: RetryPolicy
  private readonly sort: JsonObject[]
  private readonly body: JsonObject
  private readonly slices: Array<{ id: number, max: number } | undefined>
  private readonly stop = new AbortController()
  private pagers: Pager[] = []
  private session: PitSession | undefined
  private readonly busy = new Set<Pager>()
  private ready: ReadyPage[] = []
  private remaining: number
  private started = false
  private demand = false
  private ending = false
  private reached = false
  private resumedPit = false
  private recovering: Promise<void> | undefined
  private releasing: Promise<void> | undefined
  private checkpointFile: string | undefined
  private plan: PagingPlan = { mode: 'scroll' }
  private readonly inflight = new Set<Promise<SearchPage>>()
  /** A fetch that failed for good, waiting for the pages fetched before it to go downstream. */
  private failure: unknown
  private draining = false
  /** A delivered page's lines are to be pushed on the next turn of the event loop (deliver). */
  private deferred = false

  constructor (opts: EsReadOptions) {
    const size = opts.size ?? 1000
    // Buffered downstream: about a page, as lines or as chunks (a ready page waits in `ready`).
    super({ objectMode: true, highWaterMark: opts.ndjson === true ? 1 : size })
    this.o = opts
    this.ctx = opts.context ?? createContext({ tool: 'es-read', counters: ES_READ_COUNTERS })
    if (opts.index === '') throw new UsageError('missing required option --index')
    if (!Number.isInteger(size) || size < 1 || size > 10_000) throw new UsageError(`invalid value for --size: ${size} (1 to 10000)`)
    this.size = size
    this.keepAlive = opts.keepAlive ?? '5m'
    if (!KEEP_ALIVE.test(this.keepAlive)) throw new UsageError(`invalid value for --keep-alive: '${this.keepAlive}' (use an Elasticsearch time unit, e.g. 30s, 5m, 1h)`)
    this.retry = opts.retry ?? DEFAULT_RETRY
    this.remaining = opts.limit ?? Infinity
    checkSlicing(opts.slices, opts.slice)
    const n = opts.slices ?? 1
    if (opts.slice !== undefined) {
      const { max } = opts.slice
      this.slices = [max > 1 ? opts.slice : undefined]
    } else {
      this.slices = n > 1 ? Array.from({ length: n }, (_v, id) => ({ id, max: n })) : [undefined]
    }
    if (opts.scroll === true && opts.checkpoint !== undefined) throw new UsageError('--checkpoint needs point-in-time paging: a scroll cannot be resumed exactly (drop --scroll)')
    this.sort = buildSort(opts.sort ?? [])
    this.body = buildSearchBody(opts)
    this.ownConnection = !(opts.connection instanceof EsConnection)
    this.conn = opts.connection instanceof EsConnection ? opts.connection : new EsConnection(opts.connection ?? {}, this.ctx)
    this.where = { host: this.conn.host, index: opts.index }
    this.checkpointFile = opts.checkpoint
    if (opts.checkpoint !== undefined) {
      checkCheckpointWritable(opts.checkpoint)
      this.checkpoint = new CheckpointTracker(opts.checkpoint, this.freshState(''), () => this.session?.id ?? '')
    }
    this.ctx.onCleanup(async () => await this.release())
    if (this.ctx.signal.aborted) this.finish()
    else this.ctx.signal.addEventListener('abort', () => this.finish(), { once: true })
  }

  /** What makes two runs the same read, for checking a checkpoint against the options. */
  private readKey (): string {
    return JSON.stringify({ index: this.o.index, body: this.body, sort: this.sort, slices: this.slices })
  }

  private freshState (pitId: string): CheckpointState {
    return {
      version: 1,
      read: this.readKey(),
      pitId,
      keepAlive: this.keepAlive,
      slices: this.slices.map((s) => ({ id: s?.id ?? 0, done: false })),
      emitted: 0,
      complete: false,
      updated: ''
    }
  }

  override _read (): void {
    this.demand = true
    if (!this.started) {
      this.started = true
      this.start().then(() => this.pump(), (err: unknown) => this.fail(err))
      return
    }
    this.pump()
  }

  private async start (): Promise<void> {
    if (this.remaining <= 0) {
      this.ctx.logger.start(`reading ${this.o.index} from ${this.conn.host}`, { host: this.conn.host, index: this.o.index })
      return this.finish()
    }
    const info = await this.call(async (signal) => await this.conn.identify(this.where, signal), () => true)
    this.reached = true
    this.plan = choosePaging(info, { scroll: this.o.scroll === true, sorted: this.sort.length > 0, checkpoint: this.checkpointFile !== undefined })
    const paging = this.plan.mode === 'pit' ? 'point in time' : 'scroll'
    this.ctx.logger.start(`reading ${this.o.index} from ${this.conn.host} (${engineName(info)}, ${paging})`, { host: this.conn.host, index: this.o.index, engine: info.distribution, version: info.version, paging })
    const fields = (this.o.fields?.length ?? 0) > 0
    const plan = this.plan
    if (plan.mode === 'scroll') {
      this.pagers = this.slices.map((slice) => new ScrollPager(this.conn, this.where, { index: this.o.index, body: this.body, sort: this.sort, keepAlive: this.keepAlive, slice, fields }))
      return
    }
    let state: CheckpointState | undefined
    if (this.checkpointFile !== undefined) {
      state = loadCheckpoint(this.checkpointFile)
      if (state !== undefined && state.read !== this.readKey()) {
        throw new EspipeError('ECHECKPOINT', `checkpoint ${this.checkpointFile} belongs to a different read (index, query, sort or slicing differ); use another file or delete it`, { context: { file: this.checkpointFile } })
      }
      if (state?.complete === true) {
        this.ctx.logger.info(`checkpoint ${this.checkpointFile} says this read is complete (${state.emitted} hits); nothing to do (delete it to read again)`)
        this.checkpoint?.reset(state)
        return this.finish()
      }
    }
    if (state !== undefined) {
      this.session = new PitSession(this.conn, this.where, state.pitId, this.keepAlive, plan.api)
      this.resumedPit = true
      this.ctx.logger.info(`resuming from checkpoint ${this.checkpointFile} (${state.emitted} hits written before)`)
    } else {
      this.session = await this.call(async (signal) => await PitSession.open(this.conn, this.where, this.o.index, this.keepAlive, plan.api, signal), () => true)
      state = this.freshState(this.session.id)
    }
    const session = this.session
    if (this.ctx.logger.showsProgress) await this.countExpected()
    this.pagers = this.slices.map((slice, i) => {
      const cur = state?.slices[i]
      const pager = new PitPager(this.conn, session, this.where, { body: this.body, sort: this.sort, tiebreak: plan.tiebreak, slice, after: cur?.after, fields })
      if (cur?.done === true) pager.done = true
      return pager
    })
    this.checkpoint?.reset(state)
  }

  /** The total for the progress line's percentage and ETA; progress simply goes without it if this fails. */
  private async countExpected (): Promise<void> {
    try {
      const res = await this.conn.request({ method: 'POST', path: `/${encodeURIComponent(this.o.index)}/_count`, body: JSON.stringify({ query: this.body.query }) }, this.where, 'count', this.stop.signal)
      const count = (JSON.parse(res.text) as { count?: number }).count
      if (typeof count !== 'number') return
      const share = this.o.slice !== undefined ? Math.ceil(count / this.o.slice.max) : count
      this.ctx.stats.expected = Math.min(share, this.remaining)
    } catch {}
  }

  /** One request with the retry policy; `mayRetry` adds what the pager knows about its cursor. */
  private async call<T>(fn: (signal: AbortSignal) => Promise<T>, mayRetry: (err: EsRequestError) => boolean): Promise<T> {
    return await withRetry(async () => await fn(this.stop.signal), this.retry, {
      signal: this.stop.signal,
      // A host never reached is a configuration error: fail at once rather than back off.
      retryable: (err) => !this.ending && err instanceof EsRequestError && err.stage !== 'final' && (this.reached || err.stage !== 'not-sent') && mayRetry(err),
      onRetry: (err, attempt, wait) => {
        this.ctx.stats.add('retries')
        this.ctx.metrics.retried()
        this.ctx.logger.warn(`${(err as Error).message}; retry ${attempt}/${this.retry.retries} in ${(wait / 1000).toFixed(1)} s`)
      }
    })
  }

  /**
   * Moves pages along. `_read` is the only demand signal (Node calls it before taking a chunk
   * out of the buffer, so the buffer's length says nothing then): pages are pushed, and new
   * ones requested, only while the last push left room.
   */
  private pump (): void {
    // A page whose lines are on their way comes first (deliver); its callback pumps again.
    if (this.ending || !this.started || this.destroyed || this.deferred) return
    // A page that arrives once --limit is reached is not delivered: finish drops it.
    while (this.ready.length > 0 && this.demand && !this.ending && this.remaining > 0) {
      this.demand = this.deliver(this.ready.shift() as ReadyPage)
    }
    if (this.ending || this.deferred) return
    if (this.remaining <= 0 || (this.pagers.every((p) => p.done) && this.busy.size === 0 && this.ready.length === 0)) {
      this.finish()
      return
    }
    if (this.failure !== undefined) {
      // A page that failed after its retries: said once every page before it is downstream.
      if (this.ready.length === 0) this.failWhenDrained()
      return
    }
    if (this.recovering !== undefined) return
    // With --checkpoint, pages come on demand as before: a page fetched ahead keeps the pipe
    // full, and a kill -9 while a write is half in the pipe repeats its lines on resume
    // (the cursor is saved when a write completes), which on-demand paging makes rare.
    if (this.checkpoint !== undefined && !this.demand) return
    // One page ahead per slice, demand or not: the next page is on its way while the stream
    // writes this one, and waits in `ready` (never more than one per slice) until it is wanted.
    for (const pager of this.pagers) if (this.idle(pager)) this.fetch(pager)
  }

  private fetch (pager: Pager): void {
    this.busy.add(pager)
    const size = this.plan.mode === 'scroll' ? this.size : Math.min(this.size, this.remaining)
    const started = performance.now()
    const request = this.call(async (signal) => await pager.fetch(size, signal, () => this.takesAtOnce(size)), (err) => pager.mayRetry(err))
    this.inflight.add(request)
    request.finally(() => this.inflight.delete(request)).catch(() => {})
    request.then((page) => {
      this.reached = true
      this.resumedPit = false
      this.busy.delete(pager)
      this.ctx.metrics.observeBatch((performance.now() - started) / 1000)
      this.ctx.metrics.inFlight(1)
      this.ready.push({ pager, page, size })
      this.pump()
    }, (err: unknown) => {
      this.busy.delete(pager)
      if (this.stop.signal.aborted) return
      if (isContextMissing(err) && this.resumedPit) return this.recoverPit(err)
      if (isContextMissing(err)) this.failure ??= this.expired(err)
      else if (err instanceof EsRequestError && err.stage === 'ambiguous' && this.plan.mode === 'scroll' && !pager.mayRetry(err)) {
        this.failure ??= new EsRequestError(err.code, `${err.message}; the scroll may have moved past a page the failure lost, so es-read stops rather than skip it (point-in-time paging, the default, resumes exactly)`, { status: err.status, type: err.type, stage: 'final', where: this.where })
      } else this.failure ??= err
      this.pump()
    })
  }

  /**
   * Whether a page of `size` hits arriving now goes downstream at once and is not the last, so
   * that the page after it may be asked for already (never with --checkpoint: see pump).
   */
  private takesAtOnce (size: number): boolean {
    return this.checkpoint === undefined && this.demand && !this.deferred && this.ready.length === 0 && !this.ending && this.remaining > size
  }

  /** Hands one page downstream; returns whether the stream wants more. */
  private deliver ({ pager, page }: ReadyPage): boolean {
    const n = Math.min(page.count, this.remaining)
    this.ctx.metrics.inFlight(-1)
    this.ctx.stats.add('pages')
    this.ctx.stats.add('read', page.count)
    if (page.count === 0) {
      pager.accept(page, 0)
      this.checkpoint?.handed(pager.slice, [], true)
      return true
    }
    if (this.checkpoint === undefined) {
      // The cursor moves and the slice's next page is asked for first; the lines follow on the
      // next turn of the event loop. Pushing them now would write them (stdout to a file is
      // written synchronously) before the request leaves, and the server would wait for that.
      this.remaining -= n
      pager.accept(page, n)
      this.fetchAhead(pager)
      this.deferred = true
      setImmediate(() => {
        this.deferred = false
        if (this.ending || this.destroyed) return
        this.demand = this.pushLines(page, n)
        this.pump()
      })
      return false
    }
    const more = this.pushLines(page, n)
    this.remaining -= n
    pager.accept(page, n)
    this.checkpoint.handed(pager.slice, page.sorts.slice(0, n), false)
    return more
  }

  /** The first `n` lines of `page` into the stream; returns whether it wants more. */
  private pushLines (page: SearchPage, n: number): boolean {
    let more = true
    if (this.o.ndjson === true) more = this.push(page.head(n))
    else {
      const lines = page.lines
      for (let i = 0; i < n; i++) more = this.push(lines[i])
    }
    this.ctx.stats.add('emitted', n)
    return more
  }

  /** The next page of a pager whose page is being delivered, when pump would ask for it too. */
  private fetchAhead (pager: Pager): void {
    if (this.remaining > 0 && this.failure === undefined && this.recovering === undefined && this.idle(pager)) this.fetch(pager)
  }

  /** A pager with more to read, no request out and no page waiting: its next page may be asked for. */
  private idle (pager: Pager): boolean {
    return !pager.done && !this.busy.has(pager) && !this.ready.some((r) => r.pager === pager)
  }

  /** A checkpoint outlived its PIT: open a new one when the sort makes resuming exact, else stop. */
  private recoverPit (err: unknown): void {
    const plan = this.plan
    if (plan.mode !== 'pit') return this.fail(err)
    // `_index`,`_id` values name a document in any PIT; a `_shard_doc` tiebreaker only in its own.
    const exact = (this.sort.length > 0 || plan.tiebreak === 'id') && this.slices.length === 1 && this.slices[0] === undefined
    if (!exact) {
      return this.fail(new EspipeError('search_context_missing_exception', `checkpoint ${this.checkpointFile ?? ''}: its point in time has expired at ${this.conn.host}, and without --sort on a unique field (and without slicing) es-read cannot resume exactly; delete the checkpoint to start over, or raise --keep-alive next time`, { context: { host: this.conn.host, index: this.o.index, file: this.checkpointFile }, cause: err }))
    }
    if (this.recovering !== undefined) return
    this.recovering = (async () => {
      const after = plan.tiebreak === 'id' ? 'document written (exact: the order ends with _index,_id)' : `${this.sort.map((s) => Object.keys(s)[0]).join(',')} value written (exact if that sort is unique)`
      this.ctx.logger.warn(`checkpoint's point in time has expired; opening a new one and continuing after the last ${after}`)
      const session = await this.call(async (signal) => await PitSession.open(this.conn, this.where, this.o.index, this.keepAlive, plan.api, signal), () => true)
      this.session = session
      const fields = (this.o.fields?.length ?? 0) > 0
      this.pagers = this.pagers.map((old) => {
        const p = old as PitPager
        const pager = new PitPager(this.conn, session, this.where, { body: this.body, sort: this.sort, tiebreak: plan.tiebreak, after: p.after, fields })
        pager.done = p.done
        pager.rebase()
        return pager
      })
      this.resumedPit = false
      this.checkpoint?.pitChanged()
    })()
    this.recovering.then(() => { this.recovering = undefined; this.pump() }, (e: unknown) => this.fail(e))
  }

  private expired (err: unknown): EspipeError {
    const what = this.plan.mode === 'scroll' ? 'scroll' : 'point in time'
    return new EspipeError('search_context_missing_exception', `the ${what} expired at ${this.conn.host} index ${this.o.index} before the next page was asked for; raise --keep-alive (now ${this.keepAlive}) above the longest pause of the consumer`, { context: { host: this.conn.host, index: this.o.index }, cause: err })
  }

  /**
   * Fails with the pending failure once the consumer has taken every line pushed before it:
   * destroy() would drop the buffered lines. Node says nothing when its buffer empties (no
   * _read while a read is outstanding), so its length is looked at: every 10 ms at first, then
   * less often up to every 250 ms, so that a consumer stopped for hours (a reader suspended
   * with ^Z) costs this process nothing while it waits.
   */
  private failWhenDrained (): void {
    if (this.draining) return
    this.draining = true
    let wait = 10
    const check = (): void => {
      if (this.ending || this.destroyed) return
      if (this.readableLength === 0) return this.fail(this.failure)
      setTimeout(check, wait)
      wait = Math.min(wait * 2, 250)
    }
    check()
  }

  private fail (err: unknown): void {
    if (this.ending) return
    this.ending = true
    this.stop.abort()
    if (!this.ctx.endOnFatal) {
      this.destroy(err as Error)
      return
    }
    // Every line pushed was counted as emitted: end rather than destroy, so the lines already
    // past this stream (in the NDJSON encoder, in stdout's queue behind a slow reader) reach
    // the output before the run fails; destroying dropped them at exit. The runner reports
    // ctx.fatal once the pipeline has flushed (see failSource).
    this.ctx.fatal ??= err
    this.ready = []
    this.release().finally(() => this.push(null))
  }

  /** Ends the stream cleanly (done, --limit, or the context's signal): close first, then end. */
  private finish (): void {
    if (this.ending) return
    this.ending = true
    this.ready = []
    this.checkpoint?.finish()
    // A scroll page still on its way (--limit reached on another slice) may open a context the
    // server keeps until --keep-alive: let it land (a few seconds at most) so release clears it.
    // A PIT is closed as a whole, so its pages are simply cut off.
    const landing = this.plan.mode === 'scroll' && this.inflight.size > 0
      ? Promise.race([Promise.allSettled([...this.inflight]), new Promise((resolve) => setTimeout(resolve, 5000).unref())])
      : Promise.resolve()
    if (this.plan.mode !== 'scroll') this.stop.abort()
    landing.then(async () => {
      this.stop.abort()
      await this.release()
    }).finally(() => this.push(null))
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.ending = true
    this.stop.abort()
    this.release().finally(() => cb(err))
  }

  /**
   * Frees the server's contexts, once. A PIT is kept when a checkpoint still needs it to resume
   * (it then expires after --keep-alive); everything else is always closed.
   */
  async release (): Promise<void> {
    this.releasing ??= (async () => {
      const complete = this.pagers.length > 0 && this.pagers.every((p) => p.done)
      const keep = this.checkpoint !== undefined && !complete && this.session !== undefined && this.checkpoint.namesPit()
      const results = await Promise.allSettled([
        ...this.pagers.map(async (p) => await p.release()),
        keep ? Promise.resolve() : this.session?.close()
      ])
      for (const r of results) {
        if (r.status === 'rejected') this.ctx.logger.warn(`could not free the server's search context: ${(r.reason as Error).message}`)
      }
      if (keep) this.ctx.logger.info(`point in time kept open for resuming from ${this.checkpoint?.file ?? ''} (it expires ${this.keepAlive} after the last page)`)
      if (this.ownConnection) await this.conn.close().catch(() => undefined)
    })()
    await this.releasing
  }
}

/** A readable stream of the index's hits as NDJSON lines (strings); see EsReader. */
export function esRead (opts: EsReadOptions): EsReader {
  return new EsReader(opts)
}
