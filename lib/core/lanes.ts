import { setMaxListeners } from 'node:events'
import type { StageMetrics } from './stage-metrics.js'
import { noMetrics } from './stage-metrics.js'

/** What lanes need of a row: the key it is routed and ordered by, and its size on the wire. */
export interface LaneRow {
  /** The id as the table's key compares it: equal keys are one row to the table. */
  readonly key: string
  readonly bytes: number
}

export interface LanesOptions<R extends LaneRow> {
  /** Batches written at once, one lane each. */
  lanes: number
  /** Most rows in one batch. */
  maxRows: number
  /** Most bytes in one batch (a single larger row goes alone). */
  maxBytes: number
  /** Writes one batch (or part of one) with one statement; throws when it can't (see `rowError`). */
  write: (rows: R[], lane: number) => Promise<void>
  /**
   * Whether the failure means that some row of the batch is bad (too long, wrong type): the
   * batch is then cut to find it, the other rows land and the bad one fails alone. Any other
   * failure is fatal for the run.
   */
  rowError: (err: unknown) => boolean
  /** The 1-based row of the batch a row error names, when it names one: cut there. */
  errorRow?: (err: unknown) => number | undefined
  /** A row refused on its own: dead-letter it. */
  rowFailed: (row: R, err: unknown, lane: number) => void
  /**
   * Runs a whole batch — its statement, and its parts when it is cut for a bad row — as one
   * unit (a transaction that also records what it commits), calling `run` inside it; the
   * default runs it as it is.
   */
  unit?: (rows: R[], lane: number, run: () => Promise<void>) => Promise<void>
  /** The first fatal error as the run reports it (add what was committed, say where). */
  fatal?: (err: unknown) => unknown
  /** A batch that has not filled up is sent after this long (a trickle of input still lands); 0: never. */
  flushIntervalMs?: number
  metrics?: StageMetrics
}

/** 32-bit FNV-1a: spreads keys over lanes, the same key always to the same lane. */
function fnv1a (s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** Whether the rows are already in key order (ids that arrive sorted): cheaper to check than to sort. */
function inKeyOrder (rows: readonly LaneRow[]): boolean {
  for (let i = 1; i < rows.length; i++) if (rows[i].key < rows[i - 1].key) return false
  return true
}

/**
 * Rows written in batches over `lanes` lanes at once, for a SQL writer (any driver: the
 * batch is written by `write`). Rows are routed to lanes by key, so two rows with the same key
 * are always written by the same lane, in input order, whatever the number of lanes; each lane
 * writes its batches one after another. A batch refused for one bad row is cut down to that
 * row. The first fatal error stops every lane.
 *
 * `add` returns a promise only when the row's lane has a batch waiting behind the one being
 * written (backpressure, no promise per row).
 */
export class Lanes<R extends LaneRow> {
  /** The first fatal error; once set, no lane sends anything more. */
  error: unknown
  private readonly stop = new AbortController()
  private readonly lanes: Array<Lane<R>>

  constructor (readonly o: LanesOptions<R>) {
    this.lanes = Array.from({ length: Math.max(1, o.lanes) }, (_v, i) => new Lane(this, i))
    // Each lane waiting to retry listens on the signal: -c 30 is not a leak.
    setMaxListeners(this.lanes.length + 10, this.stop.signal)
  }

  /** Aborted with the first fatal error: a lane waiting to retry gives up at once. */
  get signal (): AbortSignal {
    return this.stop.signal
  }

  get metrics (): StageMetrics {
    return this.o.metrics ?? noMetrics
  }

  /** The lane a key goes to, of `lanes` lanes (this run's number by default). */
  laneOf (key: string, lanes = this.lanes.length): number {
    return lanes === 1 ? 0 : fnv1a(key) % lanes
  }

  private timer: NodeJS.Timeout | undefined

  /** Adds a row to its lane's batch; a promise means "wait before the next one". Throws the fatal error. */
  add (row: R): Promise<void> | undefined {
    const lane = this.lanes[this.laneOf(row.key)]
    lane.add(row)
    if (this.error !== undefined) throw this.error
    const every = this.o.flushIntervalMs ?? 0
    if (every > 0 && this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        for (const l of this.lanes) l.flush()
      }, every)
      this.timer.unref()
    }
    // At most one batch waiting behind the one being written, per lane.
    if (lane.pending <= 1) return undefined
    return lane.below(1).then(() => { if (this.error !== undefined) throw this.error })
  }

  /** Sends every partly filled batch and waits until all are written; throws the fatal error. */
  async drain (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    for (const lane of this.lanes) lane.flush()
    await Promise.all(this.lanes.map(async (l) => await l.idle()))
    if (this.error !== undefined) throw this.error
  }

  /** Keeps the first fatal error. */
  fail (err: unknown): void {
    clearTimeout(this.timer)
    if (this.error !== undefined) return
    this.error = this.o.fatal === undefined ? err : this.o.fatal(err)
    this.stop.abort()
  }
}

/** One lane: batches written one after another, each once the previous one has landed. */
class Lane<R extends LaneRow> {
  private tail: Promise<void> = Promise.resolve()
  private waiters: Array<() => void> = []
  private current: R[] = []
  private currentBytes = 0
  pending = 0

  constructor (private readonly owner: Lanes<R>, private readonly index: number) {}

  /** Adds a row to the batch being filled; sends the batch when it is full. */
  add (row: R): void {
    const { maxBytes, maxRows } = this.owner.o
    if (this.current.length > 0 && this.currentBytes + row.bytes > maxBytes) this.flush()
    this.current.push(row)
    this.currentBytes += row.bytes
    if (this.current.length >= maxRows) this.flush()
  }

  flush (): void {
    if (this.current.length === 0) return
    // Key order inside a batch: lanes then take row locks in the same order (fewer deadlocks)
    // and the index is touched left to right. The sort is stable, so equal ids keep their order.
    const batch = inKeyOrder(this.current) ? this.current : this.current.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
    this.current = []
    this.currentBytes = 0
    this.pending++
    const { owner } = this
    owner.metrics.inFlight(1)
    this.tail = this.tail
      .then(async () => {
        if (owner.error !== undefined) return
        const started = performance.now()
        const { unit } = owner.o
        if (unit === undefined) await this.writeRows(batch)
        else await unit(batch, this.index, async () => await this.writeRows(batch))
        owner.metrics.observeBatch((performance.now() - started) / 1000)
      })
      .catch((err: unknown) => { owner.fail(err) })
      .finally(() => {
        this.pending--
        owner.metrics.inFlight(-1)
        for (const w of this.waiters.splice(0)) w()
      })
  }

  /** Resolves once at most `limit` batches wait or run in this lane. */
  async below (limit: number): Promise<void> {
    while (this.pending > limit) await new Promise<void>((resolve) => this.waiters.push(resolve))
  }

  async idle (): Promise<void> {
    await this.tail
  }

  /** A batch, then its parts when a row in it was refused: good rows land, bad ones fail alone. */
  private async writeRows (rows: R[]): Promise<void> {
    const { o } = this.owner
    if (rows.length === 0 || this.owner.error !== undefined) return
    try {
      await o.write(rows, this.index)
    } catch (err) {
      if (!o.rowError(err)) throw err
      if (rows.length === 1) { o.rowFailed(rows[0], err, this.index); return }
      // The server often names the row ("at row 37"): cut there instead of bisecting blindly.
      const at = o.errorRow?.(err)
      const parts = at !== undefined && at >= 1 && at <= rows.length
        ? [rows.slice(0, at - 1), rows.slice(at - 1, at), rows.slice(at)]
        : [rows.slice(0, rows.length >> 1), rows.slice(rows.length >> 1)]
      // In order: a later row with the same id must still be written after an earlier one.
      for (const part of parts) await this.writeRows(part)
    }
  }
}
