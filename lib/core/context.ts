import { Failures } from './dead-letter.js'
import type { LogFormat } from './events.js'
import { Logger } from './events.js'
import { DEFAULT_MAX_LINE_BYTES } from './line-limit.js'
import { Stats } from './stats.js'
import type { StageMetrics } from './stage-metrics.js'
import { noMetrics } from './stage-metrics.js'

/** What every stage shares for one run: where it logs, what it counts, where bad records go. */
export interface StageContext {
  tool: string
  logger: Logger
  stats: Stats
  failures: Failures
  /** Latency, retries and in-flight work for --metrics-port (no-ops without it). */
  metrics: StageMetrics
  /** Aborted on SIGINT/SIGTERM: sources stop reading and every stage flushes what it has. */
  signal: AbortSignal
  /** Work that must finish before the process exits (closing a PIT, a pool). */
  onCleanup: (fn: () => Promise<void>) => void
  cleanup: () => Promise<void>
  /**
   * How a source reports a fatal error. With `endOnFatal` (what the binaries use) the source
   * ends its output cleanly so downstream stages flush and commit what they already have, and
   * the error is kept in `fatal` for the runner; otherwise the stream is destroyed with it.
   */
  endOnFatal: boolean
  fatal?: unknown
  /** --max-line-bytes: the longest input line (CSV record) a reader takes; longer ones fail. */
  maxLineBytes: number
}

export interface ContextOptions {
  tool: string
  counters: Array<string | [string, string]>
  logFormat?: LogFormat
  quiet?: boolean
  progress?: boolean
  errorsFile?: string
  /** Add to the dead-letter file instead of starting it afresh (a checkpointed run continues one). */
  appendErrors?: boolean
  maxErrors?: number
  signal?: AbortSignal
  logger?: Logger
  endOnFatal?: boolean
  /** Default: DEFAULT_MAX_LINE_BYTES (64 MiB). */
  maxLineBytes?: number
}

export function createContext (opts: ContextOptions): StageContext {
  const logger = opts.logger ?? new Logger({ tool: opts.tool, format: opts.logFormat, quiet: opts.quiet, progress: opts.progress })
  const stats = new Stats(opts.counters)
  const failures = new Failures({ logger, stats, errorsFile: opts.errorsFile, appendErrors: opts.appendErrors, maxErrors: opts.maxErrors })
  const cleanups: Array<() => Promise<void>> = []
  return {
    tool: opts.tool,
    logger,
    stats,
    failures,
    metrics: noMetrics,
    signal: opts.signal ?? new AbortController().signal,
    endOnFatal: opts.endOnFatal ?? false,
    maxLineBytes: opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    onCleanup: (fn) => { cleanups.push(fn) },
    cleanup: async () => {
      const fns = cleanups.splice(0)
      await Promise.allSettled(fns.map(async (fn) => await fn()))
      failures.close()
    }
  }
}

/** Ends `stream` with `err` as CONTRACT.md §4 wants for a source: downstream flushes, then the run fails. */
export function failSource (ctx: StageContext, stream: NodeJS.ReadableStream & { destroy: (err?: Error) => unknown, end?: () => unknown, push?: (chunk: unknown) => boolean }, err: unknown): void {
  if (!ctx.endOnFatal) { stream.destroy(err as Error); return }
  ctx.fatal ??= err
  if (typeof stream.end === 'function') stream.end()
  else stream.push?.(null)
}
