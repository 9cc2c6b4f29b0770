/**
 * Counts records as written only once the sink says their bytes are out (in the file, in the
 * pipe), not when they were handed on: a run whose output fails, or whose reader stops early
 * (`| head`), reports what really got there.
 * The stage that makes the bytes calls `handed`; the sink calls `confirm` (bytes out, in
 * order) or `confirmAll` (an atomic file was renamed into place).
 */
export class WriteLedger {
  /** [end offset in bytes, records that end at or before it], oldest first. */
  private marks: Array<[number, number]> = []
  private head = 0
  private handedBytes = 0
  private confirmedBytes = 0

  constructor (private readonly onWritten: (records: number) => void) {}

  /** `bytes` more bytes were handed on; `records` records end within them. */
  handed (bytes: number, records: number): void {
    this.handedBytes += bytes
    if (records > 0) this.marks.push([this.handedBytes, records])
  }

  /** `bytes` more bytes (in the order handed) are out. */
  confirm (bytes: number): void {
    this.confirmedBytes += bytes
    let n = 0
    while (this.head < this.marks.length && this.marks[this.head][0] <= this.confirmedBytes) n += this.marks[this.head++][1]
    if (this.head > 1024) { this.marks = this.marks.slice(this.head); this.head = 0 }
    if (n > 0) this.onWritten(n)
  }

  /** Everything handed so far is out. */
  confirmAll (): void {
    this.confirm(this.handedBytes - this.confirmedBytes)
  }
}
