import type { FlagSpecs, Options } from './cli.js'
import type { RetryPolicy } from './retry.js'
import { DEFAULT_RETRY, formatDuration } from './retry.js'

/**
 * The retry options of every binary that retries (es-read, es-write, mysql-read, mysql-write):
 * one model, the same spellings, read by retryPolicy. `what` is what gets retried, for the
 * --retries line; `defaults` changes a default where a binary had its own (mysql-write's 60 s
 * of --retry-for).
 */
export function retryFlags (what: string, defaults: Partial<RetryPolicy> = {}): FlagSpecs {
  const d: RetryPolicy = { ...DEFAULT_RETRY, ...defaults }
  return {
    retries: { type: 'string', value: 'N', default: String(d.retries), help: `retries of ${what}` },
    retryMaxWait: { type: 'string', value: 'T', default: formatDuration(d.maxWaitMs), aliases: ['retry_max_wait'], help: `longest wait between two retries (default: {default}; the first is ${formatDuration(DEFAULT_RETRY.baseWaitMs)}, doubled each time, with jitter)` },
    retryFor: {
      type: 'string',
      value: 'T',
      aliases: ['retry_for'],
      help: 'give up once this long has passed since the first failure, retries left or not' + (d.forMs === undefined ? ' (default: no limit)' : ''),
      default: d.forMs === undefined ? undefined : formatDuration(d.forMs)
    }
  }
}

/** The policy the retry options give (declared with retryFlags). */
export function retryPolicy (opts: Options): RetryPolicy {
  return {
    retries: opts.int('retries', { min: 0 }) ?? DEFAULT_RETRY.retries,
    maxWaitMs: opts.duration('retryMaxWait') ?? DEFAULT_RETRY.maxWaitMs,
    forMs: opts.duration('retryFor')
  }
}
