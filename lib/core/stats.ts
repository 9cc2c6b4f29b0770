import type { RoundsState } from './follow.js'
import { lagSeconds } from './follow.js'

/**
 * A counter's name for a count of one. Counters are past participles (read, inserted: the same
 * for one) or plural nouns (pages, retries, errors): the nouns lose their plural.
 */
function singular (name: string): string {
  if (name.endsWith('ies')) return name.slice(0, -3) + 'y'
  if (name.endsWith('s') && !name.endsWith('ss')) return name.slice(0, -1)
  return name
}

/**
 * The run's counters, in the order the summary prints them. The first counter is the one
 * the rate is computed on (records read).
 */
export class Stats {
  readonly startedAt = Date.now()
  /** How many records the run expects (es-read knows it from _count): progress then shows an ETA. */
  expected: number | undefined
  /** A read in rounds (--since-field, --since-column, --follow): its rounds and lag, for progress and metrics. */
  follow: RoundsState | undefined
  private readonly counts = new Map<string, number>()
  private readonly notes = new Map<string, string>()
  /** Counters the summary prints only once they count something. */
  private readonly whenCounted = new Set<string>()

  constructor (spec: Array<string | [string, string]>) {
    for (const s of spec) {
      const [name, note] = typeof s === 'string' ? [s, undefined] : s
      this.counts.set(name, 0)
      if (note !== undefined) this.notes.set(name, note)
    }
    if (!this.counts.has('failed')) this.counts.set('failed', 0)
  }

  /** Changes what a counter's note says (`skipped (exists)` for one write mode, `skipped (unchanged)` for another). */
  setNote (name: string, note: string | undefined): void {
    if (note === undefined) this.notes.delete(name)
    else this.notes.set(name, note)
  }

  /**
   * The summary prints these counters only once they are not 0 (in their place): what a
   * writer counts for records that carry an operation (`deleted`, `not found`) stays out of the
   * summaries of runs without one.
   */
  showOnceCounted (...names: string[]): void {
    for (const n of names) this.whenCounted.add(n)
  }

  add (name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n)
  }

  /** Puts a counter right once what it counted is known better (records that reached a closed pipe). */
  set (name: string, n: number): void {
    this.counts.set(name, n)
  }

  /** Whether this run counts `name` (a counter its summary prints). */
  has (name: string): boolean {
    return this.counts.has(name)
  }

  get (name: string): number {
    return this.counts.get(name) ?? 0
  }

  elapsedSeconds (): number {
    return (Date.now() - this.startedAt) / 1000
  }

  toJSON (): Record<string, number> {
    // As in the text: a counter shown once it counts is left out while it is 0.
    const counts = [...this.counts].filter(([name, n]) => n !== 0 || !this.whenCounted.has(name))
    return { ...Object.fromEntries(counts), seconds: Number(this.elapsedSeconds().toFixed(3)) }
  }

  /** The progress line: the summary, plus how far and how long to go when the total is known. */
  describeProgress (): string {
    const line = this.describe() + this.describeRounds()
    const done = this.counts.values().next().value ?? 0
    if (this.expected === undefined || this.expected <= 0) return line
    const secs = this.elapsedSeconds()
    const pct = Math.min(100, (done / this.expected) * 100)
    const eta = done > 0 ? Math.max(0, (this.expected - done) * secs / done) : undefined
    return `${line}, ${pct.toFixed(1)}% of ${this.expected}${eta === undefined ? '' : `, ETA ${eta.toFixed(0)} s`}`
  }

  /** `, lag 1.2 s, 35 records in round 12` (the last round that ended), for a read in rounds. */
  private describeRounds (): string {
    const f = this.follow
    if (f === undefined) return ''
    const lag = lagSeconds(f)
    const parts = [lag === undefined ? undefined : `lag ${lag.toFixed(1)} s`, f.rounds === 0 ? undefined : `${groupDigits(f.lastRound)} ${f.lastRound === 1 ? 'record' : 'records'} in round ${groupDigits(f.rounds)}`]
    const text = parts.filter((p) => p !== undefined).join(', ')
    return text === '' ? '' : `; ${text}`
  }

  /** `1000 read, 990 inserted, 10 skipped (duplicate id), 0 failed in 1.2 s (830/s)` */
  describe (): string {
    const parts = [...this.counts].filter(([name, n]) => n > 0 || !this.whenCounted.has(name)).map(([name, n]) => {
      const note = this.notes.get(name)
      const word = n === 1 ? singular(name) : name
      return note !== undefined && n > 0 ? `${n} ${word} (${note})` : `${n} ${word}`
    })
    const secs = this.elapsedSeconds()
    const first = this.counts.values().next().value ?? 0
    const rate = secs > 0 ? Math.round(first / secs) : first
    return `${parts.join(', ')} in ${secs.toFixed(1)} s (${groupDigits(rate)}/s)`
  }
}

/**
 * 1234567 → "1,234,567", as toLocaleString('en-US') writes it: that loads ICU's locale data,
 * 20 to 80 ms of CPU for the one summary line of a run.
 */
export function groupDigits (n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}
