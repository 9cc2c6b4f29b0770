// Per-test fault injection. Rules count the requests whose path matches from the moment they
// are set; the server asks for the action before it touches any state, so a faulted request
// leaves cursors where they were and a client retry sees the same page.

export interface FaultControl {
  /** Added before every response. */
  latencyMs: number
  /** The nth matching request (1-based, from now), and the `times - 1` after it, get this status. */
  failNth(n: number, status: number, opts?: { path?: RegExp; type?: string; times?: number }): void
  /** Destroys the socket on the nth matching request: before any byte, or after headers and part of the body. */
  resetNth(n: number, opts?: { path?: RegExp; midBody?: boolean }): void
  /** The nth matching search answers 200 with one of two shards failed and only part of its hits. */
  shardFailureNth(n: number, opts?: { path?: RegExp }): void
  /** On the nth matching request naming a PIT or scroll, that context has expired. */
  expireNth(n: number, opts?: { path?: RegExp }): void
  /**
   * From now on, each `_bulk` item is refused with a per-item 429 (es_rejected_execution_exception; OpenSearch: rejected_execution_exception)
   * with probability `share` (a seeded sequence, so a run is repeatable), while the others are
   * written: what a full write queue on some shards looks like. `items` caps how many are refused.
   */
  rejectBulkItems(share: number, opts?: { seed?: number; items?: number }): void
  /** Bulk items refused so far by rejectBulkItems. */
  readonly rejectedItems: number
  reset(): void
}

export type FaultAction =
  | { kind: 'fail'; status: number; type?: string }
  | { kind: 'reset'; midBody: boolean }
  | { kind: 'shardFailure' }
  | { kind: 'expire' }

interface Rule {
  readonly action: FaultAction
  readonly path: RegExp | undefined
  readonly nth: number
  readonly times: number
  seen: number
}

/** What the server knows of a request when it asks for a fault. */
export interface FaultProbe {
  /** The URL path as received (still URL-encoded), without the query string. */
  path: string
  isSearch: boolean
  namesContext: boolean
}

export class Faults implements FaultControl {
  latencyMs = 0
  rejectedItems = 0
  private rules: Rule[] = []
  private itemRejection: { share: number; state: number; left: number } | undefined

  private add(action: FaultAction, n: number, path: RegExp | undefined, times = 1): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`)
    this.rules.push({ action, path, nth: n, times, seen: 0 })
  }

  failNth(n: number, status: number, opts: { path?: RegExp; type?: string; times?: number } = {}): void {
    this.add({ kind: 'fail', status, type: opts.type }, n, opts.path, opts.times)
  }

  resetNth(n: number, opts: { path?: RegExp; midBody?: boolean } = {}): void {
    this.add({ kind: 'reset', midBody: opts.midBody === true }, n, opts.path)
  }

  shardFailureNth(n: number, opts: { path?: RegExp } = {}): void {
    this.add({ kind: 'shardFailure' }, n, opts.path)
  }

  expireNth(n: number, opts: { path?: RegExp } = {}): void {
    this.add({ kind: 'expire' }, n, opts.path)
  }

  rejectBulkItems(share: number, opts: { seed?: number; items?: number } = {}): void {
    if (!(share >= 0 && share <= 1)) throw new RangeError(`share must be between 0 and 1, got ${share}`)
    this.itemRejection = { share, state: (opts.seed ?? 1) >>> 0, left: opts.items ?? Infinity }
  }

  /** Asked once per bulk item: whether to refuse it (see rejectBulkItems). */
  rejectItem(): boolean {
    const r = this.itemRejection
    if (r === undefined || r.left <= 0) return false
    // mulberry32: a small seeded generator, so a failing run can be repeated exactly.
    r.state = (r.state + 0x6d2b79f5) >>> 0
    let t = r.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    const x = ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
    if (x >= r.share) return false
    r.left--
    this.rejectedItems++
    return true
  }

  reset(): void {
    this.rules = []
    this.latencyMs = 0
    this.itemRejection = undefined
    this.rejectedItems = 0
  }

  /** Counts this request against every rule it matches; the first rule due wins. */
  take(probe: FaultProbe): FaultAction | undefined {
    let due: FaultAction | undefined
    for (const r of this.rules) {
      if (r.path !== undefined && !r.path.test(probe.path)) continue
      if (r.action.kind === 'shardFailure' && !probe.isSearch) continue
      if (r.action.kind === 'expire' && !probe.namesContext) continue
      r.seen++
      if (due === undefined && r.seen >= r.nth && r.seen < r.nth + r.times) due = r.action
    }
    return due
  }
}
