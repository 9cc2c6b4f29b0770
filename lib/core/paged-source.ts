import { Readable } from 'node:stream'
import type { Position } from './checkpoint.js'
import { ReaderCheckpoint } from './checkpoint.js'
import type { StageContext } from './context.js'
import { createContext } from './context.js'
import type { RetryPolicy } from './retry.js'
import { DEFAULT_RETRY, withRetry } from './retry.js'

/**
 * The one reader engine: a Readable that drives a connector's streams (the slices of a read)
 * page by page, with backpressure, a --limit, a checkpoint that follows what left the
 * process, the fatal-error path of CONTRACT.md §4 (downstream flushes what it has, then the run
 * fails), and the release of what the server holds on every way out. A connector supplies
 * only its own protocol: how to open the read, how to get a stream's next page, how to close.
 */

/** What the engine offers a connector's streams while they read. */
export interface PageHost {
  readonly ctx: StageContext
  /** Records still wanted (--limit); Infinity without one. */
  readonly remaining: number
  /** Downstream wants more now. */
  readonly demand: boolean
  /** A checkpoint follows each record's position: streams must say them. */
  readonly tracksPositions: boolean
  /**
   * Records carry their positions for a writer downstream to acknowledge: a stream puts
   * `positionMember(stream, n, position)` at the end of each record's object, n being
   * `emitted(stream)` plus the record's place among those not yet delivered.
   */
  readonly embedsPositions: boolean
  /** How many records `stream` has emitted, over all runs of a checkpointed read. */
  emitted: (stream: number) => number
  /**
   * Hands `lines` records of `stream` downstream in one chunk (a Buffer or string of whole
   * lines, or one object/line in object mode), with each one's position when tracked.
   * Returns whether downstream wants more.
   */
  deliver: (stream: number, chunk: unknown, lines: number, positions?: readonly Position[]) => boolean
  /** A record read but not handed on (dead-lettered): the checkpoint still moves past it. */
  skipped: (stream: number, position: Position) => void
  /** `stream` reached its end, after the records already handed on. */
  ended: (stream: number) => void
  /** Records that came from the server, handed on or not (the `read` counter). */
  fetched: (n: number) => void
  /** The read is ending (done, --limit, a signal, a failure): nothing more is handed on. */
  readonly stopped: boolean
  /** Resolves once downstream wants more (a stream that streams rows pauses its server until then). */
  wanted: () => Promise<void>
  /**
   * Runs one request with the read's retry policy: each retry is counted, measured and said
   * in one line (`describe` gives its reason and what happens next).
   */
  retry: <T>(fn: (signal: AbortSignal) => Promise<T>, retryable: (err: unknown) => boolean, describe: (err: unknown) => string, onRetry?: (err: unknown) => void) => Promise<T>
  /** Aborted once the read ends, fails or is destroyed: requests in flight stop. */
  readonly signal: AbortSignal
}

/** One stream of a read: a slice, a key range, a file. */
export interface SourceStream {
  readonly id: number
  /** No page left. */
  readonly done: boolean
  /** Reads its next page into `host.deliver`; resolves when the page has gone downstream. */
  next: (host: PageHost) => Promise<void>
}

/** What a connector implements. */
export interface PageSource {
  /**
   * Opens the read: connects, plans, resumes from the checkpoint when there is one (loading
   * and beginning its part), says what it reads. Returns its streams; none means nothing to read.
   */
  open: (host: PageHost, checkpoint: ReaderCheckpoint | undefined) => Promise<SourceStream[]>
  /**
   * Frees what the server holds (a point in time, a scroll, connections), once.
   * `keep(complete)` says whether the checkpoint still needs it for a rerun.
   */
  close: (complete: boolean, checkpoint: ReaderCheckpoint | undefined) => Promise<void>
}

export interface PagedSourceOptions {
  tool: string
  context: StageContext
  source: PageSource
  /** Stop after this many records. */
  limit?: number
  /** The file behind --checkpoint. */
  checkpoint?: string
  retry?: RetryPolicy
  /** Object mode and buffer size downstream (one page of lines, say). */
  objectMode: boolean
  highWaterMark: number
  /** The source ends its streams by itself when the context's signal aborts (it still hands on what it has). */
  stopsOnSignal?: boolean
  /** Records carry their positions (a library pipeline whose writer acknowledges them); a binary decides by what its output is. */
  positions?: boolean
}

/** What every reader's options have in common. */
export interface ReadOptions {
  /** Stop after this many records. */
  limit?: number
  /** The file behind --checkpoint. */
  checkpoint?: string
  /** With a checkpoint: records carry their positions for a writer downstream to acknowledge. */
  positions?: boolean
  retry?: RetryPolicy
  context?: StageContext
}

/**
 * A reader's stream: its connector's source, made in the run's context (a fresh one when the
 * caller gives none), driven by the engine.
 */
export function pagedRead (tool: string, counters: Array<string | [string, string]>, opts: ReadOptions, source: (ctx: StageContext) => PageSource, buffer: { objectMode: boolean, highWaterMark: number }): PagedSource {
  const ctx = opts.context ?? createContext({ tool, counters })
  return new PagedSource({ tool, context: ctx, source: source(ctx), limit: opts.limit, checkpoint: opts.checkpoint, positions: opts.positions, retry: opts.retry, ...buffer })
}

/** A read driven page by page; see the module comment. */
export class PagedSource extends Readable implements PageHost {
  readonly ctx: StageContext
  readonly checkpoint: ReaderCheckpoint | undefined
  private readonly source: PageSource
  private readonly policy: RetryPolicy
  private readonly stop = new AbortController()
  private streams: SourceStream[] = []
  private readonly running = new Set<SourceStream>()
  private waiters: Array<() => void> = []
  private started = false
  private opened = false
  private ending = false
  private closing: Promise<void> | undefined
  private failure: unknown
  private draining = false
  remaining: number
  demand = false

  constructor (o: PagedSourceOptions) {
    super({ objectMode: o.objectMode, highWaterMark: o.highWaterMark })
    this.ctx = o.context
    this.source = o.source
    this.policy = o.retry ?? DEFAULT_RETRY
    this.remaining = o.limit ?? Infinity
    this.checkpoint = o.checkpoint === undefined ? undefined : new ReaderCheckpoint(o.checkpoint, o.tool, (m) => this.ctx.logger.warn(m))
    if (this.checkpoint !== undefined && o.positions === true) this.checkpoint.embeds = true
    this.ctx.onCleanup(async () => await this.close())
    if (o.stopsOnSignal === true) return
    if (this.ctx.signal.aborted) this.finish()
    else this.ctx.signal.addEventListener('abort', () => this.finish(), { once: true })
  }

  get signal (): AbortSignal { return this.stop.signal }
  get tracksPositions (): boolean { return this.checkpoint?.current !== undefined }
  get embedsPositions (): boolean { return this.checkpoint?.current !== undefined && this.checkpoint.embeds }
  /** Records each stream emitted (resumed counts included), once known. */
  private readonly counts = new Map<number, number>()

  emitted (stream: number): number {
    let n = this.counts.get(stream)
    if (n === undefined) {
      n = this.checkpoint?.emittedIn(stream) ?? 0
      this.counts.set(stream, n)
    }
    return n
  }

  override _read (): void {
    this.demand = true
    for (const w of this.waiters.splice(0)) w()
    if (!this.started) {
      this.started = true
      this.source.open(this, this.checkpoint).then((streams) => {
        this.streams = streams
        this.opened = true
        this.pump()
      }, (err: unknown) => this.fail(err))
      return
    }
    this.pump()
  }

  /** Starts the next page of every stream that may read one now; ends the read when all are done. */
  private pump (): void {
    if (this.ending || !this.opened || this.destroyed) return
    if (this.failure !== undefined) {
      if (this.running.size === 0) this.fail(this.failure)
      return
    }
    if (this.remaining <= 0) return this.finish()
    if (this.streams.every((s) => s.done && !this.running.has(s))) return this.finish()
    if (!this.demand) return
    for (const s of this.streams) {
      if (!s.done && !this.running.has(s)) this.run(s)
    }
  }

  private run (s: SourceStream): void {
    this.running.add(s)
    s.next(this).then(() => {
      this.running.delete(s)
      if (this.ctx.stats.has('pages')) this.ctx.stats.add('pages')
      this.pump()
    }, (err: unknown) => {
      this.running.delete(s)
      if (this.ending) return
      // Said once the other streams' pages in flight are downstream (pump).
      this.failure ??= err
      this.pump()
    })
  }

  get stopped (): boolean { return this.ending }

  deliver (stream: number, chunk: unknown, lines: number, positions?: readonly Position[]): boolean {
    if (this.ending) return false
    this.remaining -= lines
    this.ctx.stats.add('emitted', lines)
    const n = this.emitted(stream) + lines
    this.counts.set(stream, n)
    if (positions !== undefined) this.checkpoint?.handed(stream, positions, n)
    const more = this.push(chunk)
    if (!more) this.demand = false
    // --limit reached: a stream still streaming its page is cut by the close.
    if (this.remaining <= 0) queueMicrotask(() => this.pump())
    return more
  }

  skipped (stream: number, position: Position): void {
    this.checkpoint?.skipped(stream, position, this.emitted(stream))
  }

  fetched (n: number): void {
    this.ctx.stats.add('read', n)
  }

  async wanted (): Promise<void> {
    if (this.demand || this.ending) return
    await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  /** A stream reached its end (its checkpoint position is final). */
  ended (stream: number): void {
    this.checkpoint?.ended(stream)
  }

  async retry<T>(fn: (signal: AbortSignal) => Promise<T>, retryable: (err: unknown) => boolean, describe: (err: unknown) => string, onRetry?: (err: unknown) => void): Promise<T> {
    return await withRetry(async () => await fn(this.stop.signal), this.policy, {
      signal: this.stop.signal,
      retryable: (err) => !this.ending && retryable(err),
      onRetry: (err, attempt, wait) => {
        onRetry?.(err)
        this.ctx.stats.add('retries')
        this.ctx.metrics.retried()
        this.ctx.logger.warn(`${describe(err)}; retry ${attempt}/${this.policy.retries} in ${(wait / 1000).toFixed(1)} s`)
      }
    })
  }

  /**
   * A fatal error. In a binary (endOnFatal) the stream ends cleanly so the stages after it
   * flush and commit what they have, and the runner reports the error (see failSource);
   * otherwise the stream is destroyed with it once the consumer has taken every line before
   * it (destroying drops what is buffered).
   */
  private fail (err: unknown): void {
    if (this.ending) return
    if (this.ctx.endOnFatal) {
      this.ctx.fatal ??= err
      this.finish()
      return
    }
    this.ending = true
    this.stop.abort()
    this.whenDrained(() => { this.close().finally(() => this.destroy(err as Error)) })
  }

  /**
   * Node says nothing when its buffer empties (no _read while a read is outstanding), so its
   * length is looked at: every 10 ms at first, then less often up to every 250 ms, so a
   * consumer stopped for hours (suspended with ^Z) costs this process nothing meanwhile.
   */
  private whenDrained (then: () => void): void {
    if (this.draining) return
    this.draining = true
    let wait = 10
    const check = (): void => {
      if (this.destroyed) return
      if (this.readableLength === 0) return then()
      setTimeout(check, wait)
      wait = Math.min(wait * 2, 250)
    }
    check()
  }

  /** Ends the read cleanly (every stream done, --limit, a signal, a fatal error): close first, then end. */
  private finish (): void {
    if (this.ending) return
    this.ending = true
    for (const w of this.waiters.splice(0)) w()
    // Stopped by --limit, a read is not complete even when its data happened to end there.
    const complete = this.opened && this.ctx.fatal === undefined && this.remaining > 0 && this.streams.every((s) => s.done)
    try {
      this.checkpoint?.finish(complete)
    } catch (err) {
      this.ctx.fatal ??= err
    }
    this.close().finally(() => this.push(null))
  }

  override _destroy (err: Error | null, cb: (err?: Error | null) => void): void {
    this.ending = true
    for (const w of this.waiters.splice(0)) w()
    this.close().finally(() => cb(err))
  }

  /** Frees the server's side of the read, once; requests still out are cut. */
  async close (): Promise<void> {
    this.closing ??= (async () => {
      const complete = this.opened && this.streams.every((s) => s.done)
      try {
        await this.source.close(complete, this.checkpoint)
      } finally {
        this.stop.abort()
      }
    })()
    await this.closing
  }
}
