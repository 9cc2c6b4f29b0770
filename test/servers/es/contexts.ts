// Point-in-time and scroll contexts, with keep_alive enforced against the wall clock: a context
// unused for longer than its keep_alive is gone, as ES's reaper would have freed it.

import { EsError, illegalArgument, searchContextMissing } from './errors.js'
import type { Entry } from './query.js'
import type { SortKey } from './sort.js'
import type { IndexData } from './store.js'

export interface Ranked {
  readonly e: Entry
  readonly keys: SortKey[]
}

interface Context {
  readonly id: number
  keepAliveMs: number
  lastUsed: number
}

export interface PitContext extends Context {
  readonly entries: Entry[]
  readonly indices: string[]
  /** The indices as they were at open: a PIT outlives a later delete of its index. */
  readonly indexData: IndexData[]
  generation: number
  searches: number
  /** Sorted and filtered views of the snapshot, by request shape; bounded. */
  readonly views: Map<string, Ranked[]>
}

export interface ScrollContext extends Context {
  readonly hits: Ranked[]
  readonly total: number
  readonly size: number
  readonly indices: string[]
  pos: number
  /** Renders a page of this scroll exactly as the opening search asked for it. */
  readonly render: (page: Ranked[]) => unknown[]
}

const PIT_PREFIX = 'espipe-pit:'
const SCROLL_PREFIX = 'espipe-scroll:'

export function parseTimeValue(v: string, setting: string): number {
  const m = /^(\d+)(nanos|micros|ms|s|m|h|d)$/.exec(v.trim())
  if (m === null) {
    throw new EsError(400, {
      type: 'parse_exception',
      reason: `failed to parse setting [${setting}] with value [${v}] as a time value: unit is missing or unrecognized`,
    })
  }
  const mult: Record<string, number> = { nanos: 1e-6, micros: 1e-3, ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }
  return Number(m[1]) * (mult[m[2] as string] as number)
}

export class Contexts {
  private nextId = 1
  readonly pits = new Map<number, PitContext>()
  readonly scrolls = new Map<number, ScrollContext>()

  private sweep(): void {
    const now = Date.now()
    for (const map of [this.pits, this.scrolls] as Map<number, Context>[]) {
      for (const [id, c] of map) if (now - c.lastUsed > c.keepAliveMs) map.delete(id)
    }
  }

  openPits(): number {
    this.sweep()
    return this.pits.size
  }

  openScrolls(): number {
    this.sweep()
    return this.scrolls.size
  }

  expireAll(): void {
    this.pits.clear()
    this.scrolls.clear()
  }

  openPit(entries: Entry[], indices: string[], indexData: IndexData[], keepAliveMs: number): PitContext {
    const ctx: PitContext = {
      id: this.nextId++, keepAliveMs, lastUsed: Date.now(), entries, indices, indexData, generation: 0, searches: 0, views: new Map(),
    }
    this.pits.set(ctx.id, ctx)
    return ctx
  }

  pitId(ctx: PitContext): string {
    return Buffer.from(`${PIT_PREFIX}${ctx.id}:${ctx.generation}:${ctx.indices.join(',')}`).toString('base64url')
  }

  /** The context number an encoded id names; 400 when it is not an id this server made. */
  decodePit(id: unknown): number {
    const text = typeof id === 'string' ? Buffer.from(id, 'base64url').toString() : ''
    const m = new RegExp(`^${PIT_PREFIX}(\\d+):\\d+:`).exec(text)
    if (m === null) throw illegalArgument(`invalid id: [${String(id)}]`)
    return Number(m[1])
  }

  getPit(id: unknown): PitContext {
    this.sweep()
    const n = this.decodePit(id)
    const ctx = this.pits.get(n)
    if (ctx === undefined) throw searchContextMissing(n)
    return ctx
  }

  closePit(id: unknown): boolean {
    this.sweep()
    return this.pits.delete(this.decodePit(id))
  }

  openScroll(init: Omit<ScrollContext, 'id' | 'lastUsed'>, register: boolean): ScrollContext {
    const ctx: ScrollContext = { ...init, id: this.nextId++, lastUsed: Date.now() }
    if (register) this.scrolls.set(ctx.id, ctx)
    return ctx
  }

  scrollId(ctx: ScrollContext): string {
    return Buffer.from(`${SCROLL_PREFIX}${ctx.id}`).toString('base64url')
  }

  decodeScroll(id: unknown): number {
    const text = typeof id === 'string' ? Buffer.from(id, 'base64url').toString() : ''
    const m = new RegExp(`^${SCROLL_PREFIX}(\\d+)$`).exec(text)
    if (m === null) throw illegalArgument('Cannot parse scroll id')
    return Number(m[1])
  }

  getScroll(id: unknown): ScrollContext {
    this.sweep()
    const n = this.decodeScroll(id)
    const ctx = this.scrolls.get(n)
    if (ctx === undefined) throw searchContextMissing(n)
    return ctx
  }

  closeScroll(id: unknown): boolean {
    this.sweep()
    return this.scrolls.delete(this.decodeScroll(id))
  }

  /** Forgets the context an id names, whatever its kind: what an expired keep_alive does. */
  expire(id: unknown): number | undefined {
    for (const [decode, map] of [
      [(x: unknown) => this.decodePit(x), this.pits],
      [(x: unknown) => this.decodeScroll(x), this.scrolls],
    ] as const) {
      try {
        const n = decode(id)
        map.delete(n)
        return n
      } catch {
        continue
      }
    }
    return undefined
  }
}
