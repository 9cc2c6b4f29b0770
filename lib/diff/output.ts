import { Readable } from 'node:stream'
import type { Rec } from './compare.js'
import type { Head } from './scan.js'
import { descend, head, memberRange } from './scan.js'

const CHUNK = 256 * 1024
const OP = head('_op')
const INDEX = head('_index')
const INDEX_OP = Buffer.from('"_op":"index"')
const INDEX_VALUE = Buffer.from('"index"')

function firstNonSpace (buf: Buffer, i: number): number {
  while (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x0d || buf[i] === 0x0a) i++
  return i
}

/**
 * The operations that make TARGET equal SOURCE, as NDJSON on a stream: SOURCE's record with
 * `"_op":"index"` put into its line (the rest of the line byte for byte), and for an id only
 * TARGET has, `{"_index":…,"_id":…,"_op":"delete"}` with the index and id as TARGET wrote them.
 * Lines are gathered into large chunks; `backlog()` is a promise while the reader is behind.
 */
export class OpsOutput {
  readonly stream: Readable
  private chunk = Buffer.allocUnsafe(CHUNK)
  private fill = 0
  private wake: (() => void) | undefined
  private readonly idPath: Head[]
  private readonly idPrefix: string
  private readonly idSuffix: string

  constructor (idField: string) {
    this.stream = new Readable({
      highWaterMark: CHUNK,
      read: () => {
        const wake = this.wake
        this.wake = undefined
        wake?.()
      }
    })
    // A reader gone (stdout closed) will never ask for more: nothing may wait for it.
    this.stream.on('close', () => {
      const wake = this.wake
      this.wake = undefined
      wake?.()
    })
    const keys = idField.replace(/^\./, '').split('.')
    this.idPath = keys.map(head)
    // {"a":{"b": … }} for an id at a.b, so that a writer given the same --id-field finds it.
    this.idPrefix = keys.map((k) => `${JSON.stringify(k)}:`).join('{')
    this.idSuffix = '}'.repeat(keys.length - 1)
  }

  /** SOURCE's line as an `index` operation: `"_op":"index"` first in its object, or as the value of the `_op` it has. */
  index (r: Rec): void {
    const { buf, lineStart, lineEnd } = r
    const open = firstNonSpace(buf, lineStart)
    const op = memberRange(buf, open, OP)
    if (op !== undefined) {
      this.put(buf, lineStart, op[0])
      this.put(INDEX_VALUE, 0, INDEX_VALUE.length)
      this.put(buf, op[1], lineEnd)
    } else {
      this.put(buf, lineStart, open + 1)
      this.put(INDEX_OP, 0, INDEX_OP.length)
      if (buf[firstNonSpace(buf, open + 1)] !== 0x7d /* } */) this.text(',')
      this.put(buf, open + 1, lineEnd)
    }
    this.text('\n')
  }

  /** A `delete` operation for TARGET's record: its `_index` (when it has one) and its id, as written. */
  delete (r: Rec): void {
    const { buf, lineStart } = r
    const open = firstNonSpace(buf, lineStart)
    const index = memberRange(buf, open, INDEX)
    const id = descend(buf, memberRange(buf, open, this.idPath[0]), this.idPath.slice(1)) as [number, number]
    this.text('{')
    if (index !== undefined && this.idPath[0].text !== '_index') {
      this.text('"_index":')
      this.put(buf, index[0], index[1])
      this.text(',')
    }
    this.text(this.idPrefix)
    this.put(buf, id[0], id[1])
    this.text(`${this.idSuffix},"_op":"delete"}\n`)
  }

  private text (s: string): void {
    if (this.fill + s.length * 3 > this.chunk.length) this.room(s.length * 3)
    this.fill += this.chunk.write(s, this.fill)
  }

  private put (buf: Buffer, start: number, end: number): void {
    if (this.fill + end - start > this.chunk.length) this.room(end - start)
    this.fill += buf.copy(this.chunk, this.fill, start, end)
  }

  private room (n: number): void {
    this.flush()
    if (n > this.chunk.length) this.chunk = Buffer.allocUnsafe(n)
  }

  /** Hands what is gathered to the stream. */
  flush (): void {
    if (this.fill === 0) return
    // The chunk is handed on, not copied: the next lines go to a new one.
    this.stream.push(this.chunk.subarray(0, this.fill))
    this.chunk = Buffer.allocUnsafe(CHUNK)
    this.fill = 0
  }

  /** Resolves once the reader wants more, when what was handed on fills the stream's buffer. */
  backlog (): Promise<void> | undefined {
    if (this.fill >= CHUNK / 2) this.flush()
    if (this.stream.readableLength < this.stream.readableHighWaterMark || this.stream.destroyed) return undefined
    return new Promise((resolve) => { this.wake = resolve })
  }

  end (): void {
    this.flush()
    this.stream.push(null)
  }
}
