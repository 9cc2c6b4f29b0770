import type { Readable } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { failSource } from '../core/context.js'
import { EspipeError, errorCode, errorContext, errorMessage } from '../core/errors.js'
import type { CompareRules, Outcomes, Rec } from './compare.js'
import { PartitionComparer, tableBytes } from './compare.js'
import type { Difference, NumberRule } from './equal.js'
import { hashKey } from './hash.js'
import { InputSide } from './input.js'
import { LineReader } from './lines.js'
import { OpsOutput } from './output.js'
import { PartitionStore, budgetOf } from './partitions.js'
import type { RecordShape } from './record.js'
import { keyText } from './record.js'
import { Report } from './report.js'
import { mergeSorted } from './sorted.js'

export type DiffKind = 'missing' | 'changed' | 'extra'
export const DIFF_KINDS: readonly DiffKind[] = ['missing', 'changed', 'extra']

export interface RecDiffOptions extends RecordShape {
  /** The two inputs: file names, `-` for stdin (one of them at most). */
  source: string
  target: string
  numbers: NumberRule
  /** The kinds of difference written as operations (and that make the run "different"). */
  only: ReadonlySet<DiffKind>
  /** Write no operations: count only. */
  brief: boolean
  /** Both inputs are sorted by id: merge them as they stream. */
  sorted: boolean
  /** Bytes rec-diff may hold (--memory). */
  memory: number
  tmpdir: string
  report?: string
  context: StageContext
}

/** The counters rec-diff keeps, in the summary's order (`read` counts both inputs' records). */
export const REC_DIFF_COUNTERS = ['read', 'compared', 'same', 'missing', 'changed', 'extra']

/**
 * rec-diff as a stream: the operations that make TARGET equal SOURCE, as NDJSON bytes. The
 * counts go to the context's stats; a fatal error (an unreadable input, an unsorted input under
 * --sorted) ends the stream as CONTRACT.md §4 wants a fatal source error to.
 */
export function recDiff (opts: RecDiffOptions): Readable {
  const ctx = opts.context
  const out = new OpsOutput(opts.idField)
  const report = opts.report === undefined ? undefined : new Report(opts.report, opts.byIndex)
  const rules: CompareRules & { byIndex: boolean } = { numbers: opts.numbers, contentPath: opts.contentField === '' ? '.' : opts.contentField, byIndex: opts.byIndex }
  const inputs: [InputSide, InputSide] = [new InputSide(0, opts.source, opts, ctx), new InputSide(1, opts.target, opts, ctx)]
  const stop = (): boolean => ctx.signal.aborted
  const writes = (kind: DiffKind): boolean => !opts.brief && opts.only.has(kind)
  const counted = (kind: DiffKind): void => {
    ctx.stats.add(kind)
    ctx.stats.add('compared')
  }
  const outcomes: Outcomes = {
    same: (n) => {
      ctx.stats.add('same', n)
      ctx.stats.add('compared', n)
    },
    missing: (s) => {
      counted('missing')
      report?.missing(s)
      if (writes('missing')) out.index(s)
    },
    changed: (s: Rec, t: Rec, d: Difference) => {
      counted('changed')
      report?.changed(s, t, d)
      if (writes('changed')) out.index(s)
    },
    extra: (t) => {
      counted('extra')
      report?.extra(t)
      if (writes('extra')) out.delete(t)
    },
    duplicate: (side, first, later) => {
      inputs[side].failLine(later.buf.toString('utf8', later.lineStart, later.lineEnd), later.line, 'RECORD_DUPLICATE_ID',
        `has id ${keyText(later.key, opts.byIndex)} twice: lines ${first.line} and ${later.line} (an id given more than once is not compared)`)
    },
    backlog: () => out.backlog()
  }
  // The sorted merge holds a record across a region's end: it reads with two buffers a side.
  const readers = [opts.source, opts.target].map((name) => new LineReader(name, ctx.signal, opts.sorted ? 2 : 1)) as [LineReader, LineReader]
  const run = async (): Promise<void> => {
    if (opts.sorted) {
      await mergeSorted(inputs, readers, rules, outcomes, stop)
      return
    }
    const budget = budgetOf(opts.memory)
    const store = new PartitionStore({
      budget,
      tmpdir: opts.tmpdir,
      fits: (counts, bytes) => bytes[0] + bytes[1] <= budget.arena && tableBytes(counts) <= budget.tables,
      warn: (message) => ctx.logger.warn(message)
    })
    ctx.onCleanup(async () => store.remove())
    try {
      await Promise.all(inputs.map(async (input, side) => {
        const r = input.reader
        for (let region = await readers[side].next(); region !== undefined; region = await readers[side].next()) {
          await store.ready()
          input.lines(region, (buf, start, end) => {
            store.add(side, hashKey(r.key, 0, r.keyLength, 0), input.line, r.key, r.keyLength, buf, start, end, r.contentStart, r.contentEnd)
          })
        }
      }))
      // Interrupted: what was read is not all there is, so nothing is compared.
      if (stop()) return
      const comparer = new PartitionComparer(rules, outcomes)
      await store.each(async (loaded) => {
        await comparer.compare(loaded)
        out.flush()
      }, stop)
    } finally {
      store.remove()
    }
  }
  run().then(() => {
    report?.close()
    out.end()
  }, (err: unknown) => {
    report?.close()
    for (const r of readers) r.close()
    // What is gathered is not flushed: with an input found unsorted under --sorted, the last
    // operations may be wrong (an id taken for missing is further on, out of order).
    failSource(ctx, out.stream, unreadable(err))
  })
  return out.stream
}

/** diff(1)'s status for trouble: every fatal error of rec-diff's is 2. */
function unreadable (err: unknown): EspipeError {
  if (err instanceof EspipeError && err.exitCode === 2) return err
  return new EspipeError(errorCode(err), errorMessage(err), { context: errorContext(err), cause: err, exitCode: 2 })
}
