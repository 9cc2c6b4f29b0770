import type { Transform } from 'node:stream'

const CHUNK = 64 * 1024

/**
 * Output text of a Transform, pushed in large chunks: when 64 KB have gathered, or once the
 * input that arrived together has been handled (on the next turn of the event loop). A busy
 * pipe gets few large writes; a trickle still goes out line by line, at once.
 *
 * Text is encoded into one reused buffer as it comes, and copied out when pushed: a string
 * gathered until then keeps every line's pieces alive through young-generation collections,
 * which promotes them and grows the heap.
 */
export class Coalescer {
  private buf = Buffer.allocUnsafe(CHUNK)
  private used = 0
  private scheduled = false
  private readonly later = (): void => { this.scheduled = false; this.flush() }

  constructor (private readonly stream: Transform, private readonly encoding: BufferEncoding = 'utf8') {}

  add (text: string): void {
    // A UTF-16 unit takes at most 3 bytes in any encoding: check the room without counting.
    if (text.length * 3 > CHUNK - this.used) {
      this.flush()
      if (text.length * 3 > CHUNK) { this.stream.push(Buffer.from(text, this.encoding)); return }
    }
    this.used += this.buf.write(text, this.used, this.encoding)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(this.later)
    }
  }

  /** Pushes what has gathered (call it from the Transform's flush, too). */
  flush (): void {
    if (this.used === 0 || this.stream.destroyed) return
    this.stream.push(Buffer.from(this.buf.subarray(0, this.used)))
    this.used = 0
  }
}
