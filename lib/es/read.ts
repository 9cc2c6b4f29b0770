import type { ReaderCheckpoint, ReaderPart } from '../core/checkpoint.js'
import type { StageContext } from '../core/context.js'
import { EspipeError, UsageError } from '../core/errors.js'
import type { PageHost, PageSource, ReadOptions, SourceStream } from '../core/paged-source.js'
import type { PagedSource } from '../core/paged-source.js'
import { pagedRead } from '../core/paged-source.js'
import type { JsonObject } from '../core/record.js'
import type { SliceSpec } from '../core/slice.js'
import { checkSlicing } from '../core/slice.js'
import type { EsConnectionOptions } from './client.js'
import { EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { EsRequestError, isContextMissing } from './errors.js'
import type { Pager } from './pager.js'
import type { PagingPlan } from './paging.js'
import { choosePaging, engineName } from './paging.js'
import { PitPager, PitSession } from './pit.js'
import { positionMember } from '../core/position.js'
import type { EsQueryOptions } from './query.js'
import { buildSearchBody, buildSort } from './query.js'
import type { SearchPage } from './response.js'
import { rawElements } from './response.js'
import { ScrollPager } from './scroll.js'
import type { RoundStart, SinceField } from './since.js'
import { lookupNanosSortFields } from './nanos-sort.js'
import { compareValues, lookupSinceField, parseSincePosition, roundQuery, sincePositionText, valueMs } from './since.js'
import { readCheckpointFile } from '../core/checkpoint.js'
import { DEFAULT_INTERVAL_MS, Rounds, pause } from '../core/follow.js'
import type { TieAt } from '../core/tie-log.js'
import { TieLog } from '../core/tie-log.js'

export const ES_READ_COUNTERS: Array<string | [string, string]> = ['read', 'emitted', 'pages', 'retries']

export interface EsReadOptions extends EsQueryOptions, ReadOptions {
  /** Index, comma list, wildcard or alias. */
  index: string
  /** How to connect, or an open connection to share. */
  connection?: EsConnectionOptions | EsConnection
  /** Hits per request (default 1000). */
  size?: number
  /** How long the server keeps the PIT or scroll between two requests (default 5m). */
  keepAlive?: string
  /** Read N slices of the PIT in parallel in this process. */
  slices?: number
  /** Read only slice `id` of `max` (spread one read over processes). */
  slice?: SliceSpec
  /** Page with the scroll API instead of point in time + search_after. */
  scroll?: boolean
  /**
   * Emit NDJSON bytes (one Buffer of whole lines per page, as read from the response) instead
   * of one string per line: for a binary writing to stdout, a stream step per hit was a tenth
   * of es-read's CPU, and decoding the page and encoding its lines again a third.
   */
  ndjson?: boolean
  /**
   * Read in order of this date or numeric field, from where the last run's committed records
   * ended (with `checkpoint`), in rounds of a point in time each (see since.ts).
   */
  sinceField?: string
  /** A round reads only documents whose since field is before now minus this (default 1 minute; a date field only). */
  settleMs?: number
  /** After the end, wait `intervalMs` and read what came since, round after round, until stopped. */
  follow?: boolean
  /** The wait between two rounds of `follow` (default 10 s). */
  intervalMs?: number
}

/** How long a document's since value must be in the past before a round reads it, unless told. */
export const DEFAULT_SETTLE_MS = 60_000

const KEEP_ALIVE = /^\d+(d|h|m|s|ms|micros|nanos)$/

/** The connector's own part of a checkpoint. */
interface EsState { pitId: string, keepAlive: string }

/**
 * The Elasticsearch side of a read: point in time (or scroll) paging, slices, the point in
 * time kept for a checkpoint or recovered when it expired. The engine (PagedSource) does the rest.
 */
class EsSource implements PageSource {
  private readonly o: EsReadOptions
  private readonly ctx: StageContext
  readonly conn: EsConnection
  private readonly ownConnection: boolean
  readonly where: EsWhere
  readonly size: number
  private readonly keepAlive: string
  private readonly sort: JsonObject[]
  private readonly body: JsonObject
  private readonly slices: Array<SliceSpec | undefined>
  /** Cut by close: the pages in flight (a scroll's are let land first). */
  private readonly cut = new AbortController()
  plan: PagingPlan = { mode: 'scroll' }
  pagers: Pager[] = []
  private session: PitSession | undefined
  /** Sort fields mapped as date_nanos (their `missing` is spelled as a value). */
  private nanos: ReadonlySet<string> = new Set()
  /** The host was reached once: a request that was never sent is a failure worth retrying from then on. */
  reached = false
  /** The PIT came from a checkpoint and has not answered yet: it may have expired meanwhile. */
  resumedPit = false
  private recovering: Promise<void> | undefined
  readonly inflight = new Set<Promise<unknown>>()
  checkpoint: ReaderCheckpoint | undefined
  readonly settleMs: number
  readonly intervalMs: number
  /** With --since-field: the field, what has gone out of its current tie group, where the round starts, the rounds. */
  field: SinceField | undefined
  ties: TieLog | undefined
  start: RoundStart | undefined
  rounds: Rounds | undefined

  constructor (opts: EsReadOptions, ctx: StageContext) {
    this.o = opts
    this.ctx = ctx
    const size = opts.size ?? 1000
    if (opts.index === '') throw new UsageError('missing required option --index')
    if (!Number.isInteger(size) || size < 1 || size > 10_000) throw new UsageError(`invalid value for --size: ${size} (1 to 10000)`)
    this.size = size
    this.keepAlive = opts.keepAlive ?? '5m'
    if (!KEEP_ALIVE.test(this.keepAlive)) throw new UsageError(`invalid value for --keep-alive: '${this.keepAlive}' (use an Elasticsearch time unit, e.g. 30s, 5m, 1h)`)
    checkSlicing(opts.slices, opts.slice)
    const n = opts.slices ?? 1
    // One part of one is the whole read: the same request as no slicing at all.
    if (opts.slice !== undefined) this.slices = [opts.slice.max > 1 ? opts.slice : undefined]
    else this.slices = n > 1 ? Array.from({ length: n }, (_v, id) => ({ id, max: n })) : [undefined]
    if (opts.scroll === true && opts.checkpoint !== undefined) throw new UsageError('--checkpoint needs point-in-time paging: a scroll cannot be resumed exactly (drop --scroll)')
    if (opts.follow === true && opts.sinceField === undefined) throw new UsageError('--follow needs --since-field F: the date or number field that orders the read, so that each round reads what came after the last')
    if (opts.sinceField !== undefined) {
      if (opts.scroll === true) throw new UsageError('--since-field reads in point-in-time rounds: drop --scroll')
      if (opts.slice !== undefined || (opts.slices ?? 1) > 1) throw new UsageError('--since-field reads one stream in order of its field: drop --slices and --slice')
      if ((opts.sort ?? []).length > 0) throw new UsageError('--since-field orders the read by its field: drop --sort')
    }
    this.settleMs = opts.settleMs ?? DEFAULT_SETTLE_MS
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS
    if (!(this.settleMs >= 0)) throw new UsageError(`invalid value for --settle: ${this.settleMs}`)
    if (!(this.intervalMs >= 0)) throw new UsageError(`invalid value for --interval: ${this.intervalMs}`)
    this.sort = buildSort(opts.sort ?? [])
    this.body = buildSearchBody(opts)
    this.ownConnection = !(opts.connection instanceof EsConnection)
    this.conn = opts.connection instanceof EsConnection ? opts.connection : new EsConnection(opts.connection ?? {}, ctx)
    this.where = { host: this.conn.host, index: opts.index }
  }

  get fields (): boolean { return (this.o.fields?.length ?? 0) > 0 }
  get signal (): AbortSignal { return this.cut.signal }

  /** What makes two runs the same read, for checking a checkpoint against the options. */
  private readKey (): string {
    const since = this.o.sinceField === undefined ? {} : { since: this.o.sinceField }
    return JSON.stringify({ index: this.o.index, body: this.body, sort: this.sort, slices: this.slices, ...since })
  }

  get follows (): boolean { return this.o.follow === true }

  private fresh (pitId: string): ReaderPart {
    const state: EsState = { pitId, keepAlive: this.keepAlive }
    return { tool: 'es-read', read: this.readKey(), state: { ...state }, streams: this.slices.map((s) => ({ id: s?.id ?? 0, done: false })), emitted: 0, complete: false }
  }

  async open (host: PageHost, checkpoint: ReaderCheckpoint | undefined): Promise<SourceStream[]> {
    this.checkpoint = checkpoint
    if (host.remaining <= 0) {
      this.ctx.logger.start(`reading ${this.o.index} from ${this.conn.host}`, { host: this.conn.host, index: this.o.index })
      return []
    }
    const info = await this.request(host, async (signal) => await this.conn.identify(this.where, signal), () => true)
    this.reached = true
    if (this.o.sinceField !== undefined) return await this.openSince(host, checkpoint, this.o.sinceField, info)
    this.plan = choosePaging(info, { scroll: this.o.scroll === true, sorted: this.sort.length > 0, checkpoint: checkpoint !== undefined })
    const paging = this.plan.mode === 'pit' ? 'point in time' : 'scroll'
    this.ctx.logger.start(`reading ${this.o.index} from ${this.conn.host} (${engineName(info)}, ${paging})`, { host: this.conn.host, index: this.o.index, engine: info.distribution, version: info.version, paging })
    const plan = this.plan
    if (plan.mode === 'scroll') {
      this.pagers = this.slices.map((slice) => new ScrollPager(this.conn, this.where, { index: this.o.index, body: this.body, sort: this.sort, keepAlive: this.keepAlive, slice, fields: this.fields }))
      return this.streams()
    }
    let part: ReaderPart | undefined
    if (checkpoint !== undefined) {
      part = checkpoint.load(this.readKey(), 'index, query, sort or slicing')
      if (part?.complete === true) {
        this.ctx.logger.info(`checkpoint ${checkpoint.file} says this read is complete (${part.emitted} hits); nothing to do (delete it to read again)`)
        // A point in time kept for a writer that had not committed everything yet is of no more use.
        const kept = (part.state as unknown as EsState).pitId
        if (kept !== '') await new PitSession(this.conn, this.where, kept, this.keepAlive, plan.api).close().catch(() => undefined)
        checkpoint.begin(part)
        return []
      }
    }
    if (part !== undefined) {
      const state = part.state as unknown as EsState
      this.session = new PitSession(this.conn, this.where, state.pitId, this.keepAlive, plan.api)
      this.resumedPit = true
      this.ctx.logger.info(`resuming from checkpoint ${checkpoint?.file ?? ''} (${part.emitted} hits written before)`)
    } else {
      this.session = await this.request(host, async (signal) => await PitSession.open(this.conn, this.where, this.o.index, this.keepAlive, plan.api, signal), () => true)
      part = this.fresh(this.session.id)
    }
    const session = this.session
    if (this.sort.length > 0) this.nanos = await this.request(host, async (signal) => await lookupNanosSortFields(this.conn, this.where, this.o.index, this.sort, signal), () => true)
    if (this.ctx.logger.showsProgress) await this.countExpected(host)
    this.pagers = this.slices.map((slice, i) => {
      const cur = part?.streams[i]
      const pager = new PitPager(this.conn, session, this.where, { body: this.body, sort: this.sort, tiebreak: plan.tiebreak, slice, after: cur?.after as string | undefined, fields: this.fields, nanos: this.nanos })
      if (cur?.done === true) pager.done = true
      return pager
    })
    if (checkpoint !== undefined) {
      // Each page may renew the PIT's id: the file always names the latest.
      checkpoint.liveState = () => ({ pitId: this.session?.id ?? '' })
      checkpoint.begin(part)
    }
    return this.streams()
  }

  /**
   * A read by --since-field: from the committed position's value on, leaving out the records of
   * its tie group that were committed (the tie log says which), then round after round.
   */
  private async openSince (host: PageHost, checkpoint: ReaderCheckpoint | undefined, name: string, info: Parameters<typeof choosePaging>[0]): Promise<SourceStream[]> {
    this.plan = choosePaging(info, { scroll: false, sorted: true, checkpoint: true })
    const field = await this.request(host, async (signal) => await lookupSinceField(this.conn, this.where, this.o.index, name, signal), () => true)
    this.field = field
    let part = checkpoint?.load(this.readKey(), 'index, query or --since-field')
    let at: TieAt | undefined
    const after = part?.streams[0]?.after
    if (after !== undefined) {
      const p = parseSincePosition(after)
      at = { value: p.value, k: p.k, key: p.key }
    }
    part ??= this.fresh('')
    part.state = {}
    part.streams = part.streams.map((s) => ({ ...s, done: false }))
    const file = checkpoint?.file
    // What the writer committed is as far back as a rerun can go: the tie log needs nothing before it.
    const committedValue = (): string | undefined => {
      if (file === undefined) return undefined
      try {
        const f = readCheckpointFile(file)
        const pos = f?.writer?.streams[0]?.after ?? f?.reader?.streams[0]?.after
        return pos === undefined ? undefined : parseSincePosition(pos).value
      } catch {
        return undefined
      }
    }
    this.ties = new TieLog(file === undefined ? undefined : `${file}.ties`, compareValues, committedValue)
    const excluded = this.ties.resume(at)
    this.start = at === undefined ? undefined : { value: at.value, keys: excluded }
    this.rounds = new Rounds(this.ctx.stats, name)
    checkpoint?.begin(part)
    const from = at === undefined ? 'from the start' : `from ${name} ${at.value}${at.k > 0 ? ` after the ${at.k} record${at.k === 1 ? '' : 's'} of that value committed before` : ''}`
    this.ctx.logger.start(`reading ${this.o.index} from ${this.conn.host} (${engineName(info)}) in order of ${name} (${field.kind}), ${from}${this.follows ? `, following every ${this.intervalMs / 1000} s` : ''}`, { host: this.conn.host, index: this.o.index, engine: info.distribution, version: info.version, since: name })
    await this.openRound(host)
    return [new SinceSlice(this)]
  }

  /** A round: its own point in time, reading from where the last ended up to now − settle. */
  async openRound (host: PageHost): Promise<void> {
    const plan = this.plan
    const field = this.field as SinceField
    if (plan.mode !== 'pit') throw new EspipeError('ES_NO_POINT_IN_TIME', '--since-field needs point-in-time paging')
    await this.closeRound()
    const cutoff = field.kind !== 'number' && this.settleMs > 0 ? Date.now() - this.settleMs : undefined
    const body: JsonObject = { ...this.body, query: roundQuery(this.body.query as JsonObject, field, this.start, cutoff) }
    const session = await this.request(host, async (signal) => await PitSession.open(this.conn, this.where, this.o.index, this.keepAlive, plan.api, signal), () => true)
    this.session = session
    this.pagers = [new PitPager(this.conn, session, this.where, { body, sort: [{ [field.name]: 'asc' }], tiebreak: plan.tiebreak, fields: this.fields, nanos: field.kind === 'date_nanos' ? new Set([field.name]) : undefined })]
  }

  /** Frees the round's point in time (not kept between rounds: the next opens its own). */
  async closeRound (): Promise<void> {
    const session = this.session
    this.session = undefined
    if (session !== undefined) await session.close().catch((err: unknown) => this.ctx.logger.warn(`could not free the server's search context: ${(err as Error).message}`))
  }

  private streams (): SourceStream[] {
    return this.pagers.map((_p, i) => new EsSlice(this, i))
  }

  /** The total for the progress line's percentage and ETA; progress simply goes without it if this fails. */
  private async countExpected (host: PageHost): Promise<void> {
    try {
      const res = await this.conn.request({ method: 'POST', path: `/${encodeURIComponent(this.o.index)}/_count`, body: JSON.stringify({ query: this.body.query }) }, this.where, 'count', host.signal)
      const count = (JSON.parse(res.text) as { count?: number }).count
      if (typeof count !== 'number') return
      const share = this.o.slice !== undefined ? Math.ceil(count / this.o.slice.max) : count
      this.ctx.stats.expected = Math.min(share, host.remaining)
    } catch {}
  }

  /** One request with the retry policy; `mayRetry` adds what the pager knows about its cursor. */
  async request<T>(host: PageHost, fn: (signal: AbortSignal) => Promise<T>, mayRetry: (err: EsRequestError) => boolean): Promise<T> {
    return await host.retry(
      async (signal) => await fn(AbortSignal.any([signal, this.cut.signal])),
      // A host never reached is a configuration error: fail at once rather than back off.
      (err) => err instanceof EsRequestError && err.stage !== 'final' && (this.reached || err.stage !== 'not-sent') && mayRetry(err),
      (err) => (err as Error).message
    )
  }

  /** A checkpoint outlived its PIT: open a new one when the sort makes resuming exact, else stop. */
  async recoverPit (host: PageHost, err: unknown): Promise<void> {
    const plan = this.plan
    if (plan.mode !== 'pit') throw err
    // `_index`,`_id` values name a document in any PIT; a `_shard_doc` tiebreaker only in its own.
    const exact = (this.sort.length > 0 || plan.tiebreak === 'id') && this.slices.length === 1 && this.slices[0] === undefined
    if (!exact) {
      throw new EspipeError('search_context_missing_exception', `checkpoint ${this.checkpoint?.file ?? ''}: its point in time has expired at ${this.conn.host}, and without --sort on a unique field (and without slicing) es-read cannot resume exactly; delete the checkpoint to start over, or raise --keep-alive next time`, { context: { host: this.conn.host, index: this.o.index, file: this.checkpoint?.file }, cause: err })
    }
    this.recovering ??= (async () => {
      const after = plan.tiebreak === 'id' ? 'document written (exact: the order ends with _index,_id)' : `${this.sort.map((s) => Object.keys(s)[0]).join(',')} value written (exact if that sort is unique)`
      this.ctx.logger.warn(`checkpoint's point in time has expired; opening a new one and continuing after the last ${after}`)
      const session = await this.request(host, async (signal) => await PitSession.open(this.conn, this.where, this.o.index, this.keepAlive, plan.api, signal), () => true)
      this.session = session
      this.pagers = this.pagers.map((old) => {
        const p = old as PitPager
        const pager = new PitPager(this.conn, session, this.where, { body: this.body, sort: this.sort, tiebreak: plan.tiebreak, after: p.after, fields: this.fields, nanos: this.nanos })
        pager.done = p.done
        pager.rebase()
        return pager
      })
      this.resumedPit = false
      this.checkpoint?.setState({ pitId: session.id })
    })()
    try {
      await this.recovering
    } finally {
      this.recovering = undefined
    }
  }

  /** The server said the read's context expired: there is nothing left to keep or close. */
  private gone = false

  expired (err: unknown): EspipeError {
    this.gone = true
    const what = this.plan.mode === 'scroll' ? 'scroll' : 'point in time'
    return new EspipeError('search_context_missing_exception', `the ${what} expired at ${this.conn.host} index ${this.o.index} before the next page was asked for; raise --keep-alive (now ${this.keepAlive}) above the longest pause of the consumer`, { context: { host: this.conn.host, index: this.o.index }, cause: err })
  }

  get ndjson (): boolean { return this.o.ndjson === true }

  private turn: Promise<void> = Promise.resolve()
  /** Pages waiting for their turn or being handed on. */
  queued = 0

  /** Runs `fn` after every delivery queued before it. */
  async inTurn (fn: () => Promise<void>): Promise<void> {
    this.queued++
    const run = this.turn.then(fn)
    this.turn = run.catch(() => {})
    try {
      await run
    } finally {
      this.queued--
    }
  }

  /**
   * Frees the server's contexts, once. A PIT is kept when a checkpoint still needs it to
   * resume (it then expires after --keep-alive); everything else is always closed. A scroll
   * page still on its way (--limit reached on another slice) may open a context the server
   * keeps until --keep-alive: it is let land (a few seconds at most) so that it is cleared too.
   * A PIT is closed as a whole, so its pages are simply cut off.
   */
  async close (complete: boolean, checkpoint: ReaderCheckpoint | undefined): Promise<void> {
    if (this.plan.mode === 'scroll' && this.inflight.size > 0) {
      await Promise.race([Promise.allSettled([...this.inflight]), new Promise((resolve) => setTimeout(resolve, 5000).unref())])
    }
    this.cut.abort()
    // Read to the end into a pipe whose writer acknowledges it, the records may still be lost
    // downstream: a rerun resumes from what the writer committed, on this point in time (a
    // rerun that finds the pipe complete closes it; else it expires after --keep-alive).
    this.ties?.close()
    const keep = !this.gone && this.field === undefined && checkpoint !== undefined && this.session !== undefined && (!complete || (checkpoint.embeds && checkpoint.acknowledged())) && checkpoint.holdsState()
    const results = await Promise.allSettled([
      ...this.pagers.map(async (p) => await p.release()),
      keep || this.gone ? Promise.resolve() : this.session?.close()
    ])
    for (const r of results) {
      if (r.status === 'rejected') this.ctx.logger.warn(`could not free the server's search context: ${(r.reason as Error).message}`)
    }
    if (keep) this.ctx.logger.info(`point in time kept open for resuming from ${checkpoint.file} (it expires ${this.keepAlive} after the last page)`)
    if (this.ownConnection) await this.conn.close().catch(() => undefined)
  }
}

/**
 * One slice of the read. Its next page is asked for as soon as the previous one is handed
 * downstream (with a checkpoint, only when a page is wanted), so the server's time overlaps the
 * writing (and, with a PIT, the parsing: PitPager guesses the cursor), and the page waits here
 * until the stream wants it: one request at a time and at most one page ahead per slice, so
 * memory stays at a few pages whatever the index size and however slow the consumer.
 */
class EsSlice implements SourceStream {
  private ahead: Promise<SearchPage> | undefined

  constructor (private readonly src: EsSource, private readonly index: number) {}

  get pager (): Pager { return this.src.pagers[this.index] }
  get id (): number { return this.pager.slice }
  get done (): boolean { return this.pager.done && this.ahead === undefined }

  async next (host: PageHost): Promise<void> {
    const pending = this.ahead
    this.ahead = undefined
    const page = await (pending ?? this.fetch(host, this.pager))
    // Slices hand their pages on one at a time: a page waits while another is on its way (its
    // lines follow a turn later), and while downstream is full, and no page is asked for after it.
    await this.src.inTurn(async () => {
      if (!host.demand) await host.wanted()
      if (host.stopped) return
      await this.deliver(host, page)
    })
  }

  private async deliver (host: PageHost, page: SearchPage): Promise<void> {
    const pager = this.pager
    host.fetched(page.count)
    if (page.count === 0) {
      pager.accept(page, 0)
      host.ended(this.id)
      return
    }
    const n = Math.min(page.count, host.remaining)
    pager.accept(page, n)
    if (!host.tracksPositions) {
      // The slice's next page is asked for first and the lines follow on the next turn of the
      // event loop: pushed now, they would be written (stdout to a file is written
      // synchronously) before the request leaves, and the server would wait for that.
      if (host.remaining > n && !pager.done) {
        const ahead = this.fetch(host, pager)
        ahead.catch(() => {})
        this.ahead = ahead
      }
      await new Promise((resolve) => setImmediate(resolve))
      if (host.stopped) return
    }
    const positions = host.tracksPositions ? page.sorts.slice(0, n) as string[] : undefined
    const base = host.emitted(this.id)
    const member = positions !== undefined && host.embedsPositions ? (i: number) => positionMember(this.id, base + i + 1, positions[i]) : undefined
    if (this.src.ndjson) {
      host.deliver(this.id, member === undefined ? page.head(n) : page.headWith(n, member), n, positions)
    } else {
      const lines = page.lines
      for (let i = 0; i < n; i++) {
        const line = member === undefined ? lines[i] : lines[i].slice(0, -1) + member(i) + '}'
        host.deliver(this.id, line, 1, positions === undefined ? undefined : [positions[i]])
      }
    }
  }

  private async fetch (host: PageHost, pager: Pager): Promise<SearchPage> {
    const { src } = this
    const size = src.plan.mode === 'scroll' ? src.size : Math.min(src.size, host.remaining)
    const started = performance.now()
    // Whether this page goes downstream at once (wanted, no other page before it) and is not
    // the last, so that the page after it may be asked for already (never with a checkpoint:
    // pages then come only when wanted).
    const takesAtOnce = (): boolean => !host.tracksPositions && host.demand && src.queued === 0 && !host.stopped && host.remaining > size
    for (;;) {
      const request = src.request(host, async (signal) => await pager.fetch(size, signal, takesAtOnce), (err) => pager.mayRetry(err))
      src.inflight.add(request)
      try {
        const page = await request
        src.reached = true
        src.resumedPit = false
        host.ctx.metrics.observeBatch((performance.now() - started) / 1000)
        return page
      } catch (err) {
        if (isContextMissing(err) && src.resumedPit) {
          await src.recoverPit(host, err)
          pager = this.pager
          continue
        }
        if (isContextMissing(err)) throw src.expired(err)
        if (err instanceof EsRequestError && err.stage === 'ambiguous' && src.plan.mode === 'scroll' && !pager.mayRetry(err)) {
          throw new EsRequestError(err.code, `${err.message}; the scroll may have moved past a page the failure lost, so es-read stops rather than skip it (point-in-time paging, the default, resumes exactly)`, { status: err.status, type: err.type, stage: 'final', where: src.where })
        }
        throw err
      } finally {
        src.inflight.delete(request)
      }
    }
  }
}

/**
 * The one stream of a --since-field read: pages of the round's point in time, in order of the
 * field; each record's keys noted in the tie log (synced) before it goes downstream, its
 * position `[V,K,KEY]`. With --follow a round's end is not the stream's: it waits --interval
 * (cut short by a stop) and opens the next round from the current tie group.
 */
class SinceSlice implements SourceStream {
  readonly id = 0
  private roundOver = false

  constructor (private readonly src: EsSource) {}

  get done (): boolean { return !this.src.follows && (this.src.pagers[0]?.done ?? true) }

  async next (host: PageHost): Promise<void> {
    const src = this.src
    if (this.roundOver) {
      await pause(src.intervalMs, host.signal)
      if (host.stopped) return
      this.roundOver = false
      const group = src.ties?.group
      if (group !== undefined) src.start = { value: group.value, keys: [...group.keys] }
      await src.openRound(host)
    }
    const pager = src.pagers[0]
    const size = Math.min(src.size, host.remaining)
    const started = performance.now()
    let page: SearchPage
    try {
      page = await src.request(host, async (signal) => await pager.fetch(size, signal), (err) => pager.mayRetry(err))
    } catch (err) {
      if (isContextMissing(err)) throw src.expired(err)
      throw err
    }
    host.ctx.metrics.observeBatch((performance.now() - started) / 1000)
    if (!host.demand) await host.wanted()
    if (host.stopped) return
    this.deliver(host, page)
    if (pager.done) {
      src.rounds?.ended()
      if (!src.follows) {
        host.ended(this.id)
        return
      }
      this.roundOver = true
      await src.closeRound()
    }
  }

  private deliver (host: PageHost, page: SearchPage): void {
    const src = this.src
    const pager = src.pagers[0]
    const ties = src.ties as TieLog
    const field = src.field as SinceField
    host.fetched(page.count)
    if (page.count === 0) {
      pager.accept(page, 0)
      return
    }
    const n = Math.min(page.count, host.remaining)
    pager.accept(page, n)
    const positions: string[] = []
    let value = ''
    for (let i = 0; i < n; i++) {
      value = rawElements(page.sorts[i] ?? '[]')[0]
      const key = page.key(i)
      positions.push(sincePositionText({ value, k: ties.add(value, key), key }))
    }
    // Before any of them goes out: a rerun must find every key its positions count.
    ties.flush()
    src.rounds?.handed(n, valueMs(field.kind, value))
    const base = host.emitted(this.id)
    const member = host.embedsPositions ? (i: number) => positionMember(this.id, base + i + 1, positions[i]) : undefined
    const tracked = host.tracksPositions ? positions : undefined
    if (src.ndjson) {
      host.deliver(this.id, member === undefined ? page.head(n) : page.headWith(n, member), n, tracked)
    } else {
      const lines = page.lines
      for (let i = 0; i < n; i++) {
        host.deliver(this.id, member === undefined ? lines[i] : lines[i].slice(0, -1) + member(i) + '}', 1, tracked === undefined ? undefined : [tracked[i]])
      }
    }
  }
}

/**
 * An index as a stream of NDJSON lines, one per hit (`_index`, `_id`, `_source`, `fields`),
 * each the hit's own bytes; the PIT or scroll is closed before the stream ends, and when it is
 * destroyed or its context's signal aborts.
 */
export function esRead (opts: EsReadOptions): PagedSource {
  // Buffered downstream: about a page, as lines or as one chunk.
  return pagedRead('es-read', ES_READ_COUNTERS, opts, (ctx) => new EsSource(opts, ctx), { objectMode: true, highWaterMark: opts.ndjson === true ? 1 : opts.size ?? 1000 })
}
