import { setTimeout as sleep } from 'node:timers/promises'
import type { StageContext } from '../core/context.js'
import { EspipeError } from '../core/errors.js'
import type { RetryPolicy } from '../core/retry.js'
import { backoffMs, withRetry } from '../core/retry.js'
import { formatBytes } from '../core/size.js'
import type { BulkItem, BulkOp } from './bulk-item.js'
import { exactRecord } from './bulk-item.js'
import type { Outcome, Refusal } from './bulk-result.js'
import { BULK_FILTER_PATH, readBulkResponse } from './bulk-result.js'
import type { EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { EsRequestError } from './errors.js'

export interface BulkWriterOptions {
  conn: EsConnection
  where: EsWhere
  /** Most records in one request. */
  batchSize: number
  /** Most bytes in one request (a single larger record goes alone). */
  batchBytes: number
  /** Requests in flight at once. */
  concurrency: number
  /** A batch that has not filled up is sent after this long (a trickling input still flows). */
  flushIntervalMs: number
  pipeline?: string
  retry: RetryPolicy
  ctx: StageContext
  /** An item is settled: written, skipped or dead-lettered (not while it may still be sent again). */
  settled?: (item: BulkItem) => void
  /** A batch is done with: every item in it settled (a checkpoint saves then). */
  batchDone?: () => void
}

type Retry = Refusal

/** What `skipped` means for each operation: create skips an id that exists, update and upsert a change to nothing. */
export const SKIPPED: Record<BulkOp, string | undefined> = { index: undefined, create: 'exists', update: 'unchanged', upsert: 'unchanged', delete: undefined }

/** Records that go out in one request, and what must have settled before it may go. */
class Batch {
  readonly items: BulkItem[] = []
  bytes = 0
  /** Earlier batches holding a record with the same key: they settle first, so the last write wins. */
  readonly after = new Set<Batch>()
  readonly settled: Promise<void>
  settle: () => void = () => {}

  constructor () {
    this.settled = new Promise((resolve) => { this.settle = resolve })
  }
}

const sameRefusal = (a: EsRequestError, b: EsRequestError): boolean => a.code === b.code && a.message === b.message

/**
 * Sends records to _bulk in batches, `concurrency` requests at a time, and accounts for every
 * one: written (created, updated, deleted), skipped, or failed with the server's reason.
 *
 * - `add` hands a record over; it returns a promise while every request slot is busy, so the
 *   input is read only as fast as the server takes it and memory stays at about
 *   (concurrency + 1) batches whatever the input size.
 * - A request refused as a whole for load (429) or lost (5xx, timeout, reset, unreadable
 *   answer) is sent again: index, create, update and delete by id are safe to repeat.
 * - Items refused alone (429, 5xx) are sent again alone, after an exponential backoff with
 *   jitter; an item out of retries is dead-lettered with its last error.
 * - 413 (request too large) splits the batch in two and lowers the batch size in bytes; a
 *   single record too large is dead-lettered. A whole-request 400 is bisected down to the
 *   record that causes it, unless every part is refused alike (then it is the request).
 * - Two records with the same index, id and routing never travel in concurrent requests.
 */
export class BulkWriter {
  /** The first fatal error; once set nothing more is sent. */
  error: unknown
  /** Indices that took documents, for a refresh at the end. */
  readonly touched = new Set<string>()
  private maxBytes: number
  private filling = new Batch()
  private readonly latest = new Map<string, Batch>()
  private active = 0
  private readonly waiting: Array<() => void> = []
  private readonly running = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private readonly stop = new AbortController()
  private readonly querystring: Record<string, string>

  constructor (private readonly o: BulkWriterOptions) {
    this.maxBytes = o.batchBytes
    this.querystring = { filter_path: BULK_FILTER_PATH }
    if (o.pipeline !== undefined) this.querystring.pipeline = o.pipeline
  }

  /** Takes one record; a returned promise means "wait before the next one" (backpressure). */
  add (item: BulkItem): Promise<void> | undefined {
    if (this.error !== undefined) throw this.error
    const b = this.filling
    if (b.items.length > 0 && b.bytes + item.bytes > this.maxBytes) {
      return this.dispatch().then(() => { return this.add(item) })
    }
    // One request at a time keeps input order by itself: the keys need tracking only beyond that.
    if (item.key !== undefined && this.o.concurrency > 1) {
      const prev = this.latest.get(item.key)
      if (prev !== undefined && prev !== b) b.after.add(prev)
      this.latest.set(item.key, b)
    }
    b.items.push(item)
    b.bytes += item.bytes
    if (b.items.length >= this.o.batchSize || b.bytes >= this.maxBytes) return this.dispatch()
    if (this.timer === undefined && this.o.flushIntervalMs > 0) {
      this.timer = setTimeout(() => { this.timer = undefined; void this.dispatch() }, this.o.flushIntervalMs)
      this.timer.unref()
    }
    return undefined
  }

  /** Sends what has been added and waits until every request has settled. */
  async flush (): Promise<void> {
    await this.dispatch()
    while (this.running.size > 0) await Promise.allSettled([...this.running])
    if (this.error !== undefined) throw this.error
  }

  /** Stops sending (a fatal error elsewhere) and waits for the requests already out. */
  async close (): Promise<void> {
    this.fail(undefined)
    while (this.running.size > 0) await Promise.allSettled([...this.running])
  }

  /** Closes the filling batch; resolves once it has a request slot. */
  private dispatch (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    const b = this.filling
    if (b.items.length === 0) return Promise.resolve()
    this.filling = new Batch()
    const slot = this.acquire()
    const done = slot.then(async () => { await this.run(b) })
    this.running.add(done)
    void done.finally(() => this.running.delete(done))
    return slot
  }

  private async acquire (): Promise<void> {
    if (this.active < this.o.concurrency) {
      this.active++
      return
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  }

  private release (): void {
    const next = this.waiting.shift()
    if (next !== undefined) next()
    else this.active--
  }

  private fail (err: unknown): void {
    if (this.error === undefined && err !== undefined) this.error = err
    this.stop.abort()
    clearTimeout(this.timer)
  }

  private async run (b: Batch): Promise<void> {
    this.o.ctx.metrics.inFlight(1)
    try {
      if (b.after.size > 0) await Promise.all([...b.after].map(async (p) => await p.settled))
      if (this.error === undefined && !this.stop.signal.aborted) {
        await this.send(b.items)
        if (this.error === undefined && !this.stop.signal.aborted) this.o.batchDone?.()
      }
    } catch (err) {
      this.fail(err)
    } finally {
      if (this.latest.size > 0) {
        for (const item of b.items) {
          if (item.key !== undefined && this.latest.get(item.key) === b) this.latest.delete(item.key)
        }
      }
      b.settle()
      this.o.ctx.metrics.inFlight(-1)
      this.release()
    }
  }

  /** Delivers a batch, then retries the items refused alone until each is written or out of retries. */
  private async send (items: BulkItem[]): Promise<void> {
    let pending = items
    for (let round = 0; pending.length > 0; round++) {
      const again = await this.deliver(pending)
      if (again.length === 0 || this.stop.signal.aborted) return
      const next: BulkItem[] = []
      for (const { item, outcome } of again) {
        if (item.attempts >= this.o.retry.retries) {
          this.failItem(item, outcome.code, `${outcome.message} (status ${outcome.status}; still refused after ${item.attempts} retries)`)
        } else {
          item.attempts++
          next.push(item)
        }
      }
      if (next.length === 0) return
      const wait = backoffMs(round, this.o.retry)
      const first = (again[0] as { outcome: Retry }).outcome
      this.o.ctx.stats.add('retries')
      this.o.ctx.metrics.retried()
      this.o.ctx.logger.warn(`${next.length} of ${pending.length} records refused by ${this.o.where.host} (${first.status} ${first.code}); sending them again in ${(wait / 1000).toFixed(1)} s (retry ${round + 1}/${this.o.retry.retries})`)
      await sleep(wait, undefined, { signal: this.stop.signal }).catch(() => undefined)
      if (this.stop.signal.aborted) return
      pending = next
    }
  }

  /**
   * One request for `items` (retried as a whole while it fails for load or is lost), split on
   * 413 and bisected on 400; returns the items to send again alone, with why.
   */
  private async deliver (items: BulkItem[]): Promise<Array<{ item: BulkItem, outcome: Retry }>> {
    let outcomes: Outcome[]
    try {
      outcomes = await this.attempt(items)
    } catch (err) {
      if (err instanceof EsRequestError && err.status === 413) return await this.split(items)
      if (err instanceof EsRequestError && err.status === 400) return await this.bisect(items, err)
      throw err
    }
    return this.account(items, outcomes)
  }

  /** Counts what the server did with each item; returns those to retry. */
  private account (items: BulkItem[], outcomes: Outcome[]): Array<{ item: BulkItem, outcome: Retry }> {
    const again: Array<{ item: BulkItem, outcome: Retry }> = []
    const { stats } = this.o.ctx
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as BulkItem
      const outcome = outcomes[i] as Outcome
      if (outcome.kind === 'retry') again.push({ item, outcome })
      else if (outcome.kind === 'failed') this.failItem(item, outcome.code, `${outcome.message} (status ${outcome.status})`)
      else {
        stats.add(outcome.kind)
        if (outcome.kind === 'skipped') this.skippedAs(item.op)
        this.touched.add(item.index)
        this.o.settled?.(item)
      }
    }
    return again
  }

  /** What `skipped` means in the summary: the kinds of skip seen (an existing id for create, no change for update). */
  private skipNotes = new Set<string>()
  private skippedAs (op: BulkOp): void {
    const note = SKIPPED[op]
    if (note === undefined || this.skipNotes.has(note)) return
    this.skipNotes.add(note)
    this.o.ctx.stats.setNote('skipped', [...this.skipNotes].join(' or '))
  }

  private body (items: readonly BulkItem[]): string {
    let body = ''
    for (const it of items) body += it.doc === undefined ? it.action + '\n' : it.action + '\n' + it.doc + '\n'
    return body
  }

  /** One _bulk request, repeated while it is refused for load or lost (not while it is refused for what it says). */
  private async attempt (items: BulkItem[]): Promise<Outcome[]> {
    const body = this.body(items)
    const { ctx, retry, where } = this.o
    // The server answered before the first batch (esWrite checks it), so a refused connection
    // now is a node restarting: worth waiting for, like a 429 or a lost request.
    const retryable = (err: unknown): boolean => err instanceof EsRequestError && err.stage !== 'final'
    try {
      return await withRetry(async () => {
        const started = performance.now()
        try {
          const res = await this.o.conn.request({ method: 'POST', path: '/_bulk', querystring: this.querystring, body, ndjson: true }, where, 'write a batch')
          return readBulkResponse(res.text, items, where)
        } catch (err) {
          // Sent, and maybe done: a 409 on create or a 404 on delete may then be our own doing.
          if (err instanceof EsRequestError && err.stage === 'ambiguous') for (const it of items) it.ambiguous = true
          throw err
        } finally {
          ctx.metrics.observeBatch((performance.now() - started) / 1000)
        }
      }, retry, {
        signal: this.stop.signal,
        retryable,
        onRetry: (err, n, wait) => {
          ctx.stats.add('retries')
          ctx.metrics.retried()
          ctx.logger.warn(`${(err as Error).message}; sending the batch of ${items.length} again in ${(wait / 1000).toFixed(1)} s (retry ${n}/${retry.retries})`)
        }
      })
    } catch (err) {
      if (retryable(err) && !this.stop.signal.aborted) {
        const e = err as EsRequestError
        throw new EspipeError(e.code, `${e.message}; gave up after ${retry.retries} retries`, { context: e.context, cause: err })
      }
      throw err
    }
  }

  /**
   * 413: the request was larger than the server takes. Later batches are made half as large,
   * and these records go again in parts of that size; a single record too large is dead-lettered.
   */
  private async split (items: BulkItem[]): Promise<Array<{ item: BulkItem, outcome: Retry }>> {
    const bytes = items.reduce((n, it) => n + it.bytes, 0)
    if (items.length === 1) {
      this.failItem(items[0] as BulkItem, 'ES_DOCUMENT_TOO_LARGE', `the record is ${formatBytes(bytes)} as a _bulk item, more than ${this.o.where.host} takes in one request (413 Request Entity Too Large; see http.max_content_length)`)
      return []
    }
    const smaller = Math.max(1024, Math.floor(bytes / 2))
    if (smaller < this.maxBytes) {
      this.maxBytes = smaller
      this.o.ctx.logger.warn(`${this.o.where.host} refused a ${formatBytes(bytes)} request as too large (413); batches are now at most ${formatBytes(smaller)}`)
    }
    const parts: BulkItem[][] = [[]]
    let size = 0
    for (const it of items) {
      const part = parts[parts.length - 1] as BulkItem[]
      if (part.length > 0 && size + it.bytes > this.maxBytes) { parts.push([it]); size = it.bytes } else { part.push(it); size += it.bytes }
    }
    const again: Array<{ item: BulkItem, outcome: Retry }> = []
    for (const part of parts) again.push(...await this.deliver(part))
    return again
  }

  /** A whole-request 400: find the record that causes it, unless the request itself is refused. */
  private async bisect (items: BulkItem[], err: EsRequestError): Promise<Array<{ item: BulkItem, outcome: Retry }>> {
    if (items.length === 1) {
      this.failItem(items[0] as BulkItem, err.code, err.message)
      return []
    }
    const mid = Math.ceil(items.length / 2)
    const halves = [items.slice(0, mid), items.slice(mid)]
    const results: Array<Array<{ item: BulkItem, outcome: Retry }> | EsRequestError> = []
    for (const half of halves) {
      try {
        results.push(this.account(half, await this.attempt(half)))
      } catch (e) {
        if (e instanceof EsRequestError && e.status === 400) results.push(e)
        else if (e instanceof EsRequestError && e.status === 413) results.push(await this.split(half))
        else throw e
      }
    }
    const [a, b] = results as [typeof results[number], typeof results[number]]
    if (a instanceof EsRequestError && b instanceof EsRequestError && sameRefusal(a, b) && sameRefusal(a, err)) {
      throw new EspipeError(err.code, `${err.message} (the server refuses the request itself, whichever records it holds)`, { context: err.context, cause: err })
    }
    const again: Array<{ item: BulkItem, outcome: Retry }> = []
    for (let i = 0; i < 2; i++) {
      const r = results[i] as typeof results[number]
      again.push(...(r instanceof EsRequestError ? await this.bisect(halves[i] as BulkItem[], r) : r))
    }
    return again
  }

  private failItem (item: BulkItem, code: string, message: string): void {
    this.o.ctx.failures.fail({ record: exactRecord(item.record), line: item.line, code, message, context: { host: this.o.where.host, index: item.index, _id: item.id, file: item.file } })
    this.o.settled?.(item)
  }
}
