/**
 * NDJSON lines written as bytes into a chunk, handed over as whole lines. A line is reserved
 * before it is written (its writers then need no bounds checks), and can be rolled back when one
 * of its values turns out not to be writable.
 */
export class LineBuffer {
  buf: Buffer
  pos = 0
  private lineStart = 0

  constructor (private readonly chunk = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(chunk)
  }

  /** Bytes of whole lines waiting. */
  get size (): number {
    return this.lineStart
  }

  /**
   * Makes room for a line of at most `n` bytes (call between lines). Returns the whole lines
   * written so far when they had to move out of the way, for the caller to pass on.
   */
  reserve (n: number): Buffer | undefined {
    if (this.pos + n <= this.buf.length) return undefined
    const done = this.take()
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(this.chunk, n))
    return done
  }

  endLine (): void {
    this.buf[this.pos++] = 0x0a
    this.lineStart = this.pos
  }

  /** Forgets the line being written. */
  rollback (): void {
    this.pos = this.lineStart
  }

  /** The last whole line, as a string without its newline (for a stream of one string per record). */
  takeLine (): string {
    const s = this.buf.toString('utf8', 0, this.lineStart - 1)
    this.pos = this.lineStart = 0
    return s
  }

  /** The whole lines written so far; the buffer starts afresh. */
  take (): Buffer | undefined {
    if (this.lineStart === 0) return undefined
    const done = this.buf.subarray(0, this.lineStart)
    this.buf = Buffer.allocUnsafe(this.chunk)
    this.pos = this.lineStart = 0
    return done
  }
}
