import { Failures } from './dead-letter.js'
import type { LogFormat } from './events.js'
import { Logger } from './events.js'
import { Stats } from './stats.js'

/** What every stage shares for one run: where it logs, what it counts, where bad records go. */
export interface StageContext {
  tool: string
  logger: Logger
  stats: Stats
  failures: Failures
  /** Aborted on SIGINT/SIGTERM: sources stop reading and every stage flushes what it has. */
  signal: AbortSignal
  /** Work that must finish before the process exits (closing a PIT, a pool). */
  onCleanup: (fn: () => Promise<void>) => void
  cleanup: () => Promise<void>
}

export interface ContextOptions {
  tool: string
  counters: Array<string | [string, string]>
  logFormat?: LogFormat
  quiet?: boolean
  progress?: boolean
  errorsFile?: string
  maxErrors?: number
  signal?: AbortSignal
  logger?: Logger
}

export function createContext (opts: ContextOptions): StageContext {
  const logger = opts.logger ?? new Logger({ tool: opts.tool, format: opts.logFormat, quiet: opts.quiet, progress: opts.progress })
  const stats = new Stats(opts.counters)
  const failures = new Failures({ logger, stats, errorsFile: opts.errorsFile, maxErrors: opts.maxErrors })
  const cleanups: Array<() => Promise<void>> = []
  return {
    tool: opts.tool,
    logger,
    stats,
    failures,
    signal: opts.signal ?? new AbortController().signal,
    onCleanup: (fn) => { cleanups.push(fn) },
    cleanup: async () => {
      const fns = cleanups.splice(0)
      await Promise.allSettled(fns.map(async (fn) => await fn()))
      failures.close()
    }
  }
}
