import { setTimeout as sleep } from 'node:timers/promises'
import { UsageError } from './errors.js'

export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number
  /** Cap on one wait, in milliseconds. */
  maxWaitMs: number
  /** First wait, doubled on each attempt (before jitter). */
  baseWaitMs?: number
  /**
   * Give up once this long has passed since the operation first failed, whatever retries remain
   * (the last wait is cut short to try once more at that moment).
   */
  forMs?: number
}

export const DEFAULT_RETRY: Required<Omit<RetryPolicy, 'forMs'>> = { retries: 8, maxWaitMs: 30_000, baseWaitMs: 250 }

/** `500ms`, `2s`, `1m`, `1h`, or a plain number of seconds → milliseconds. */
export function parseDuration (text: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (m === null) throw new UsageError(`invalid value for --${option}: '${text}' (use e.g. 500ms, 30s, 2m)`)
  const n = Number(m[1])
  const unit = m[2] ?? 's'
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000))
}

/** Milliseconds as parseDuration reads them back: `250ms`, `30s`, `60s`, `2m`, `1h`. */
export function formatDuration (ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`
  const s = ms / 1000
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600}h`
  if (s >= 120 && s % 60 === 0) return `${s / 60}m`
  return `${s}s`
}

/**
 * Exponential backoff with "equal jitter": half the capped exponential wait, plus a random
 * share of the other half, so concurrent slices that failed together do not retry together.
 */
export function backoffMs (attempt: number, policy: RetryPolicy): number {
  const base = Math.min(policy.baseWaitMs ?? DEFAULT_RETRY.baseWaitMs, policy.maxWaitMs)
  const cap = Math.min(policy.maxWaitMs, base * 2 ** attempt)
  return cap / 2 + Math.random() * cap / 2
}

/** Why a retryable failure was not tried again. */
export interface RetriesSpent {
  /** `retries`: the policy's count; `time`: its `forMs`. */
  by: 'retries' | 'time'
  /** Retries made. */
  retries: number
  /** Since the first failure. */
  elapsedMs: number
}

export interface RetryHooks {
  /** Whether this failure may be retried; anything else is rethrown at once. */
  retryable: (err: unknown) => boolean
  /** Called before each wait (log it, count it). */
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void
  /** The error to throw when the retries or the time are spent (default: the last failure). */
  giveUp?: (err: unknown, spent: RetriesSpent) => unknown
  signal?: AbortSignal
}

/**
 * Runs `fn` until it succeeds, a failure is not retryable, or the retries are spent (the last
 * error is thrown). The single place where es-read decides to try again: the client itself is
 * configured not to retry, so a request is never repeated behind our back.
 */
export async function withRetry<T> (fn: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks): Promise<T> {
  const aborted = (): boolean => hooks.signal?.aborted === true
  let firstFailure: number | undefined
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (err) {
      if (aborted() || !hooks.retryable(err)) throw err
      const now = Date.now()
      firstFailure ??= now
      const elapsedMs = now - firstFailure
      const left = policy.forMs === undefined ? Infinity : policy.forMs - elapsedMs
      if (attempt >= policy.retries || left <= 0) {
        throw hooks.giveUp === undefined ? err : hooks.giveUp(err, { by: attempt >= policy.retries ? 'retries' : 'time', retries: attempt, elapsedMs })
      }
      const wait = Math.min(backoffMs(attempt, policy), left)
      hooks.onRetry?.(err, attempt + 1, wait)
      await sleep(wait, undefined, { signal: hooks.signal }).catch(() => undefined)
      if (aborted()) throw err
    }
  }
}
