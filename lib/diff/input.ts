import { isUtf8 } from 'node:buffer'
import type { StageContext } from '../core/context.js'
import type { ErrorContext } from '../core/errors.js'
import { invalidUtf8Record } from '../core/utf8.js'
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
  private bomSaid = false

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
      if (buf[s] !== 0x7b /* { */) {
        if (buf[s] === 0xef && e - s >= 3 && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) {
          this.bom()
          s += 3
        }
        if (isBlank(buf, s, e)) {
          s = next
          continue
        }
      }
      records++
      if (!region.utf8 && !isUtf8(buf.subarray(s, e))) {
        // Every byte kept, as every espipe reader shows such a line (see invalidUtf8Record).
        const bad = invalidUtf8Record(buf.subarray(s, e), this.line)
        this.failLine(bad.record, this.line, 'NDJSON_INVALID_UTF8', bad.message, bad.context)
      } else {
        const err = this.reader.read(buf, s, e, this.line)
        if (err === undefined) onRecord(buf, s, e)
        else this.fail(buf, s, e, err.code, err.message)
      }
      s = next
    }
    this.ctx.stats.add('read', records)
    return records
  }

  /** A byte order mark at the start of a line (of the input, or of a file joined to it with cat) is skipped, and said once. */
  private bom (): void {
    if (this.bomSaid) return
    this.bomSaid = true
    const where = `${this.label} (${this.name === '-' ? 'stdin' : this.name})`
    this.ctx.logger.info(this.line === 1 ? `${where} begins with a UTF-8 byte order mark: skipped` : `line ${this.line} of ${where} begins with a UTF-8 byte order mark (inputs joined with cat?): skipped, here and on any later line`)
  }

  /** A record error of this input: `SOURCE line 3 is not JSON: …`, with the file and line as context. */
  fail (buf: Buffer, start: number, end: number, code: string, message: string): void {
    this.failLine(buf.toString('utf8', start, end), this.line, code, message)
  }

  failLine (record: string, line: number, code: string, message: string, context: ErrorContext = {}): void {
    this.ctx.failures.fail({ record, line, code, message: `${this.label} ${message}`, context: { file: this.name === '-' ? 'stdin' : this.name, ...context } })
  }
}
