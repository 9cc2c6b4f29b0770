import { isUtf8 } from 'node:buffer'
import type { StageContext } from '../core/context.js'
import type { Region } from './lines.js'
import { isBlank } from './lines.js'
import type { RecordShape } from './record.js'
import { RecordReader } from './record.js'

export const SIDES = ['SOURCE', 'TARGET'] as const

/**
 * One of the two inputs, read line by line into records: each line's number, its key and its
 * content are in `reader` while `onRecord` runs; a line that is no record is a record error
 * (counted, reported, dead-lettered with --errors) and the reading goes on.
 */
export class InputSide {
  readonly reader: RecordReader
  line = 0
  private readonly ctx: StageContext

  constructor (readonly side: 0 | 1, readonly name: string, shape: RecordShape, ctx: StageContext) {
    this.reader = new RecordReader(shape)
    this.ctx = ctx
  }

  get label (): string {
    return SIDES[this.side]
  }

  /** Reads the region's lines; `onRecord(buf, start, end)` for each record, the reader holding its key and content. */
  lines (region: Region, onRecord: (buf: Buffer, start: number, end: number) => void): number {
    const { buf, end } = region
    let records = 0
    for (let s = region.start; s < end;) {
      let nl = buf.indexOf(0x0a, s)
      if (nl < 0 || nl > end) nl = end
      const next = nl + 1
      this.line++
      let e = nl
      if (e > s && buf[e - 1] === 0x0d) e--
      if (buf[s] !== 0x7b /* { */ && isBlank(buf, s, e)) {
        s = next
        continue
      }
      records++
      if (!region.utf8 && !isUtf8(buf.subarray(s, e))) this.fail(buf, s, e, 'NDJSON_INVALID_UTF8', `line ${this.line} is not UTF-8`)
      else {
        const err = this.reader.read(buf, s, e, this.line)
        if (err === undefined) onRecord(buf, s, e)
        else this.fail(buf, s, e, err.code, err.message)
      }
      s = next
    }
    this.ctx.stats.add('read', records)
    return records
  }

  /** A record error of this input: `SOURCE line 3 is not JSON: …`, with the file and line as context. */
  fail (buf: Buffer, start: number, end: number, code: string, message: string): void {
    this.failLine(buf.toString('utf8', start, end), this.line, code, message)
  }

  failLine (record: string, line: number, code: string, message: string): void {
    this.ctx.failures.fail({ record, line, code, message: `${this.label} ${message}`, context: { file: this.name === '-' ? 'stdin' : this.name } })
  }
}
