import type { Difference, NumberRule } from './equal.js'
import { compareTexts } from './equal.js'
import { HEADER, entryContent, entryHash, entryKeyLength, entryLength, entryLine, entryLineEnd, entryLineStart, sameKey } from './entry.js'
import type { Loaded } from './partitions.js'

/** One record, for the outcomes that need more than a count. */
export interface Rec {
  buf: Buffer
  lineStart: number
  lineEnd: number
  line: number
  /** Where the content is in buf; -1 when the record has none. */
  contentStart: number
  contentEnd: number
  key: Buffer
}

/** What the comparison finds, told as it finds it. */
export interface Outcomes {
  same: (n: number) => void
  missing: (source: Rec) => void
  changed: (source: Rec, target: Rec, difference: Difference) => void
  extra: (target: Rec) => void
  /** An id given twice in one input (side 0: SOURCE): the id is not compared at all. */
  duplicate: (side: number, first: Rec, later: Rec) => void
  /** A promise while the output is full: the comparison waits for it. */
  backlog: () => Promise<void> | undefined
}

export interface CompareRules {
  numbers: NumberRule
  /** What the content is called in a difference's path (`_source`, or `.` for the whole line). */
  contentPath: string
}

/**
 * The first difference between two records' contents; undefined when they are the same.
 * Equal bytes are the same value: only contents whose bytes differ are parsed.
 */
export function contentDifference (s: Rec, t: Rec, rules: CompareRules): Difference | undefined {
  if (s.contentStart < 0 || t.contentStart < 0) {
    if (s.contentStart < 0 && t.contentStart < 0) return undefined
  } else if (s.contentEnd - s.contentStart === t.contentEnd - t.contentStart && s.buf.compare(t.buf, t.contentStart, t.contentEnd, s.contentStart, s.contentEnd) === 0) {
    return undefined
  }
  const text = (r: Rec): string | undefined => r.contentStart < 0 ? undefined : r.buf.toString('utf8', r.contentStart, r.contentEnd)
  return compareTexts(text(s), text(t), rules.numbers, rules.contentPath)
}

export function entryRec (buf: Buffer, at: number): Rec {
  const [contentStart, contentEnd] = entryContent(buf, at)
  return {
    buf,
    lineStart: entryLineStart(buf, at),
    lineEnd: entryLineEnd(buf, at),
    line: entryLine(buf, at),
    contentStart,
    contentEnd,
    key: buf.subarray(at + HEADER, at + HEADER + entryKeyLength(buf, at))
  }
}

/** The first of an id's records in an input that has it more than once. */
const DUPLICATE = 1
/** A TARGET record that a SOURCE record matched. */
const MATCHED = 2

const capacity = (n: number): number => {
  let c = 16
  while (c < 2 * n) c *= 2
  return c
}

/** The bytes the tables take to compare a partition of these many records. */
export function tableBytes (counts: readonly [number, number]): number {
  return 5 * (counts[0] + counts[1]) + 4 * (capacity(counts[0]) + capacity(counts[1]))
}

/** Reused from one partition to the next: each is grown to what a partition needs, never beyond. */
class Side {
  offsets = new Int32Array(0)
  flags = new Uint8Array(0)
  table = new Int32Array(0)
  mask = 0
  count = 0

  reset (count: number): void {
    if (this.offsets.length < count) {
      this.offsets = new Int32Array(count)
      this.flags = new Uint8Array(count)
    } else {
      this.flags.fill(0, 0, count)
    }
    const cap = capacity(count)
    if (this.table.length !== cap) this.table = new Int32Array(cap)
    else this.table.fill(0)
    this.mask = cap - 1
    this.count = 0
  }

  /** Enters the entry at `at`; returns the ordinal of an earlier one with the same key, or -1. */
  add (buf: Buffer, at: number): number {
    const found = this.find(buf, at, buf)
    if (found >= 0) return found
    const ord = this.count++
    this.offsets[ord] = at
    this.table[this.slot] = ord + 1
    return -1
  }

  private slot = 0

  /** The ordinal of the entry with the key of `at` (in `from`), or -1; leaves `slot` at the free slot. */
  find (from: Buffer, at: number, buf: Buffer): number {
    const hash = entryHash(from, at)
    const table = this.table
    const mask = this.mask
    let i = hash & mask
    for (let v = table[i]; v !== 0; v = table[i]) {
      const o = this.offsets[v - 1]
      if (entryHash(buf, o) === hash && sameKey(buf, o, from, at)) return v - 1
      i = (i + 1) & mask
    }
    this.slot = i
    return -1
  }
}

/**
 * Compares one partition: every SOURCE record with the TARGET record of its key. Records come
 * out in SOURCE's order (missing, changed), then TARGET's (extra).
 */
export class PartitionComparer {
  private readonly sides = [new Side(), new Side()]
  private readonly rules: CompareRules
  private readonly out: Outcomes

  constructor (rules: CompareRules, out: Outcomes) {
    this.rules = rules
    this.out = out
  }

  private waitForOutput (): Promise<void> | undefined {
    return this.out.backlog()
  }

  async compare ({ buf, segments, counts }: Loaded): Promise<void> {
    const [s, t] = this.sides
    const later: number[][] = [[], []]
    for (const side of [0, 1]) {
      const x = this.sides[side]
      x.reset(counts[side])
      const seg = segments[side]
      for (let r = 0; r < seg.length; r += 2) {
        for (let at = seg[r]; at < seg[r + 1]; at += entryLength(buf, at)) {
          const first = x.add(buf, at)
          if (first < 0) continue
          x.flags[first] |= DUPLICATE
          later[side].push(at)
          this.out.duplicate(side, entryRec(buf, x.offsets[first]), entryRec(buf, at))
        }
      }
    }
    let same = 0
    for (let i = 0; i < s.count; i++) {
      const at = s.offsets[i]
      const j = t.find(buf, at, buf)
      if (j < 0) {
        if ((s.flags[i] & DUPLICATE) === 0) {
          this.out.missing(entryRec(buf, at))
          await this.waitForOutput()
        }
        continue
      }
      t.flags[j] |= MATCHED
      if (((s.flags[i] | t.flags[j]) & DUPLICATE) !== 0) continue
      const to = t.offsets[j]
      if (sameContent(buf, at, to)) {
        same++
        continue
      }
      const sr = entryRec(buf, at)
      const tr = entryRec(buf, to)
      const d = contentDifference(sr, tr, this.rules)
      if (d === undefined) {
        same++
        continue
      }
      this.out.changed(sr, tr, d)
      await this.waitForOutput()
    }
    // A later duplicate in SOURCE matches its TARGET record too: that one is not extra.
    for (const at of later[0]) {
      const j = t.find(buf, at, buf)
      if (j >= 0) t.flags[j] |= MATCHED
    }
    for (let j = 0; j < t.count; j++) {
      if ((t.flags[j] & (MATCHED | DUPLICATE)) !== 0) continue
      this.out.extra(entryRec(buf, t.offsets[j]))
      await this.waitForOutput()
    }
    this.out.same(same)
  }
}

/** Whether two entries' contents are the same bytes (or both absent): the common case, decided in place. */
function sameContent (buf: Buffer, a: number, b: number): boolean {
  const ra = buf.readInt32LE(a + 22)
  const rb = buf.readInt32LE(b + 22)
  if (ra < 0 || rb < 0) return ra < 0 && rb < 0
  const la = buf.readInt32LE(a + 26) - ra
  if (la !== buf.readInt32LE(b + 26) - rb) return false
  const sa = entryLineStart(buf, a) + ra
  const sb = entryLineStart(buf, b) + rb
  return buf.compare(buf, sb, sb + la, sa, sa + la) === 0
}
