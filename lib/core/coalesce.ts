import type { WriteLedger } from './ledger.js'

const CHUNK = 64 * 1024

/**
 * Output text of a stream, pushed in large chunks: when 64 KiB have gathered, or once the
 * input that arrived together has been handled (on the next turn of the event loop). A busy
 * pipe gets few large writes; a trickle (`tail -f |`) still goes out line by line, at once.
 *
 * Text is encoded into one reused buffer as it comes, and copied out when pushed: a string
 * gathered until then keeps every line's pieces alive through young-generation collections,
 * which promotes them and grows the heap. With a ledger, each chunk is entered there with the
 * records that end in it, for the sink to confirm.
 */
/** Where a Coalescer's chunks go: a Readable's (or a Transform's) push side. */
export interface ChunkTarget {
  push: (chunk: Buffer) => boolean
  readonly destroyed: boolean
}

export class Coalescer {
  private readonly buf = Buffer.allocUnsafe(CHUNK)
  private used = 0
  private records = 0
  private later: NodeJS.Immediate | undefined
  private readonly onLater = (): void => { this.later = undefined; this.flush() }

  constructor (private readonly stream: ChunkTarget, private readonly encoding: BufferEncoding = 'utf8', private readonly ledger?: WriteLedger) {}

  /** Adds text in which `records` records end. */
  add (text: string, records = 0): void {
    // A UTF-16 unit takes at most 3 bytes in any encoding: check the room without counting.
    if (text.length * 3 > CHUNK - this.used) {
      this.flush()
      if (text.length * 3 > CHUNK) {
        this.emit(Buffer.from(text, this.encoding), records)
        return
      }
    }
    this.used += this.buf.write(text, this.used, this.encoding)
    this.records += records
    this.later ??= setImmediate(this.onLater)
  }

  /** Pushes what has gathered (call it from the Transform's flush, too). */
  flush (): void {
    this.cancel()
    if (this.used === 0) return
    const bytes = Buffer.from(this.buf.subarray(0, this.used))
    const records = this.records
    this.used = 0
    this.records = 0
    this.emit(bytes, records)
  }

  /** Drops the pending push (call it from the Transform's destroy). */
  cancel (): void {
    if (this.later !== undefined) clearImmediate(this.later)
    this.later = undefined
  }

  private emit (bytes: Buffer, records: number): void {
    if (this.stream.destroyed) return
    this.ledger?.handed(bytes.length, records)
    this.stream.push(bytes)
  }
}
