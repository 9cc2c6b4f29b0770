import { EspipeError } from '../core/errors.js'
import type { CompareRules, Outcomes, Rec } from './compare.js'
import { contentDifference } from './compare.js'
import type { InputSide } from './input.js'
import type { LineReader } from './lines.js'
import { keyText } from './record.js'

/** Byte order of keys: the id's bytes, or with --by-index the index's then the id's. */
export function compareKeys (a: Buffer, b: Buffer, byIndex: boolean): number {
  if (!byIndex) return Buffer.compare(a, b)
  const na = a.readUInt32BE(0)
  const nb = b.readUInt32BE(0)
  return Buffer.compare(a.subarray(4, 4 + na), b.subarray(4, 4 + nb)) || Buffer.compare(a.subarray(4 + na), b.subarray(4 + nb))
}

/** One input's records in its order, with one record read ahead (a duplicate id is the next one). */
class Cursor {
  private queue: Rec[] = []
  private head = 0
  private done = false
  private previous: Rec | undefined

  constructor (readonly input: InputSide, private readonly lines: LineReader, private readonly byIndex: boolean) {}

  /** The next record, reading on when none is waiting; undefined at the end. */
  private async peek (): Promise<Rec | undefined> {
    while (this.head === this.queue.length && !this.done) {
      const region = await this.lines.next()
      if (region === undefined) {
        this.done = true
        break
      }
      this.queue = []
      this.head = 0
      const r = this.input.reader
      this.input.lines(region, (buf, start, end) => {
        this.queue.push({ buf, lineStart: start, lineEnd: end, line: this.input.line, contentStart: r.contentStart, contentEnd: r.contentEnd, key: Buffer.from(r.key.subarray(0, r.keyLength)) })
      })
    }
    return this.head < this.queue.length ? this.queue[this.head] : undefined
  }

  /**
   * The next id's record, and whether the input has it more than once (each later one is a
   * record error naming both lines); undefined at the end. An id that sorts before the one
   * before it stops the run: the input is not sorted.
   */
  async take (out: Outcomes): Promise<{ rec: Rec, duplicate: boolean } | undefined> {
    const rec = await this.peek()
    if (rec === undefined) return undefined
    this.head++
    const prev = this.previous
    if (prev !== undefined && compareKeys(rec.key, prev.key, this.byIndex) < 0) {
      throw new EspipeError('EDIFF_UNSORTED', `--sorted: ${this.input.label} is not sorted by id: line ${rec.line} has ${keyText(rec.key, this.byIndex)}, after ${keyText(prev.key, this.byIndex)} on line ${prev.line} (both inputs must be in byte order of their ids, as LC_ALL=C sort orders them; without --sorted any order will do)`, { context: { file: this.input.name, line: rec.line }, exitCode: 2 })
    }
    this.previous = rec
    let duplicate = false
    let first = rec
    for (let next = await this.peek(); next !== undefined && compareKeys(next.key, first.key, this.byIndex) === 0; next = await this.peek()) {
      this.head++
      // Read on past the duplicates: the first record must outlive the buffers they fill.
      if (!duplicate) first = detached(first)
      duplicate = true
      out.duplicate(this.input.side, first, next)
    }
    return { rec: first, duplicate }
  }
}

function detached (r: Rec): Rec {
  const buf = Buffer.from(r.buf.subarray(r.lineStart, r.lineEnd))
  const shift = (i: number): number => i < 0 ? i : i - r.lineStart
  return { ...r, buf, lineStart: 0, lineEnd: buf.length, contentStart: shift(r.contentStart), contentEnd: shift(r.contentEnd) }
}

type Group = { rec: Rec, duplicate: boolean } | undefined

/**
 * Both inputs already sorted by id, merged as they stream: nothing is held but a chunk of each,
 * and there are no temporary files. Operations come out in id order.
 */
export async function mergeSorted (inputs: [InputSide, InputSide], readers: [LineReader, LineReader], rules: CompareRules & { byIndex: boolean }, out: Outcomes, stop: () => boolean): Promise<void> {
  const cs = new Cursor(inputs[0], readers[0], rules.byIndex)
  const ct = new Cursor(inputs[1], readers[1], rules.byIndex)
  let same = 0
  try {
    let s: Group = await cs.take(out)
    let t: Group = await ct.take(out)
    while ((s !== undefined || t !== undefined) && !stop()) {
      const c = s === undefined ? 1 : t === undefined ? -1 : compareKeys(s.rec.key, t.rec.key, rules.byIndex)
      if (c < 0 && s !== undefined) {
        if (!s.duplicate) out.missing(s.rec)
        s = await cs.take(out)
      } else if (c > 0 && t !== undefined) {
        if (!t.duplicate) out.extra(t.rec)
        t = await ct.take(out)
      } else if (s !== undefined && t !== undefined) {
        if (!s.duplicate && !t.duplicate) {
          const d = contentDifference(s.rec, t.rec, rules)
          if (d === undefined) same++
          else out.changed(s.rec, t.rec, d)
        }
        s = await cs.take(out)
        t = await ct.take(out)
      }
      if (same >= 10000) {
        out.same(same)
        same = 0
      }
      const backlog = out.backlog()
      if (backlog !== undefined) await backlog
    }
  } finally {
    out.same(same)
  }
}
