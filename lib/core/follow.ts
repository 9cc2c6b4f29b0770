import { setTimeout as sleep } from 'node:timers/promises'
import type { FlagSpecs } from './cli.js'
import type { Stats } from './stats.js'
import { formatDuration } from './retry.js'

/**
 * Reading in rounds (issue 24): an incremental reader (es-read --since-field, mysql-read
 * --since-column) reads what changed since where the last round ended; with --follow it then
 * waits an interval and reads again, until stopped. What the rounds have in common lives here:
 * the options, the wait that a stop cuts short, and what the progress line and --metrics-port
 * show of them (the records of each round, and how old the last record handed on is).
 */

/** How long a followed read waits between two rounds unless told. */
export const DEFAULT_INTERVAL_MS = 10_000

export interface FollowOptions {
  /** After the end, wait `intervalMs` and read what changed since, until stopped. */
  follow?: boolean
  /** The wait between two rounds (default 10 s). */
  intervalMs?: number
}

/** --follow and --interval, as both incremental readers take them; `needs` names what --follow needs. */
export function followFlags (needs: string): FlagSpecs {
  return {
    follow: { type: 'boolean', help: `after the end, wait --interval and read what changed since, round after round, until SIGINT or SIGTERM (needs ${needs}); each round is its own read` },
    interval: { type: 'string', value: 'T', default: formatDuration(DEFAULT_INTERVAL_MS), help: 'with --follow, the wait between the end of one round and the start of the next (default: {default})' }
  }
}

/** Waits `ms`, or less when `signal` aborts (the read was stopped): never throws. */
export async function pause (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return
  await sleep(ms, undefined, { signal }).catch(() => undefined)
}

/** What the progress line and --metrics-port show of a read in rounds (see Stats.follow). */
export interface RoundsState {
  /** What the read is ordered by (the since field or column): the metrics' label. */
  field: string
  /** Rounds ended. */
  rounds: number
  /** Records of the last round that ended. */
  lastRound: number
  /** Records of the round under way. */
  current: number
  /** When the last record handed on was stamped (its since value as a time, ms since the epoch), when that is a date. */
  lastRecordMs?: number
}

/** Counts a reader's rounds into its run's Stats. */
export class Rounds {
  readonly state: RoundsState

  constructor (stats: Stats, field: string) {
    this.state = { field, rounds: 0, lastRound: 0, current: 0 }
    stats.follow = this.state
  }

  /** `n` records were handed on, the last stamped at `lastMs` (undefined: its since value is no date). */
  handed (n: number, lastMs: number | undefined): void {
    this.state.current += n
    if (lastMs !== undefined && Number.isFinite(lastMs)) this.state.lastRecordMs = lastMs
  }

  /** The round read to its end. */
  ended (): void {
    this.state.rounds++
    this.state.lastRound = this.state.current
    this.state.current = 0
  }
}

/** The age of the last record handed on, in seconds (now − its since value), when known. */
export function lagSeconds (state: RoundsState, now = Date.now()): number | undefined {
  return state.lastRecordMs === undefined ? undefined : Math.max(0, now - state.lastRecordMs) / 1000
}
