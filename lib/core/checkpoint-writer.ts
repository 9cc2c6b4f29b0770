import { randomBytes } from 'node:crypto'
import type { StreamPosition, WriterPart } from './checkpoint.js'
import { CheckpointSaver, checkCheckpointWritable, readCheckpointFile } from './checkpoint.js'
import { EspipeError } from './errors.js'
import type { RecordPosition } from './position.js'
import { POSITION_KEY } from './position.js'

/**
 * The last writer's part of a checkpoint (DESIGN §8): the writer takes each record's position
 * (`_pos`, put there by the reader) as it comes in, is told when each record is settled
 * (committed, or dead-lettered with its reason), and after each commit saves, per reader
 * stream, the last position before which every record is settled. Records settle out of order
 * (lanes, concurrent requests): only the contiguous prefix counts. The reader resumes from
 * these positions, so a crash anywhere in the pipe repeats only what was not settled.
 */
export class WriterCheckpoint {
  private readonly part: WriterPart
  private readonly saver: CheckpointSaver
  private readonly streams = new Map<number, StreamPosition>()
  /** Positions of the records taken and not yet in the prefix; null once settled. */
  private window: Array<RecordPosition | null> = []
  /** Settled records waiting for those before them, by sequence number. */
  private settledAhead = new Set<number>()
  private base = 0
  private head = 0
  private moved = false
  /** The positions of the last record of each stream that was taken, to check each stream comes in order. */
  private readonly lastTaken = new Map<number, number>()

  constructor (readonly file: string, readonly tool: string, readonly target: string) {
    checkCheckpointWritable(file)
    const existing = readCheckpointFile(file)?.writer
    if (existing !== undefined && (existing.tool !== tool || existing.target !== target)) {
      throw new EspipeError('ECHECKPOINT', `checkpoint ${file} holds what ${existing.tool} committed to ${existing.target}, not ${tool} to ${target}; use another file or delete it`, { context: { file } })
    }
    this.part = existing ?? { tool, target, id: randomBytes(8).toString('hex'), streams: [], committed: 0, complete: false }
    this.part.complete = false
    for (const s of this.part.streams) this.streams.set(s.id, s)
    this.saver = new CheckpointSaver(file, (f) => { f.writer = this.part })
    // Said at once, before any input: a reader sharing the file knows a writer acknowledges it.
    this.saver.save(true)
  }

  /** This writer's part as it was before the run: its id, and what a file writer kept of its output. */
  get current (): WriterPart { return this.part }

  /** Where `stream` stood when this run began: its count of records settled. */
  settledIn (stream: number): number {
    return this.streams.get(stream)?.n ?? 0
  }

  /**
   * A record came in with `pos` (undefined: it carries none). Returns its ticket for `settle`.
   * A record without a position cannot be acknowledged: the run stops at once, since going on
   * would make a rerun skip it or write it twice.
   */
  take (pos: RecordPosition | undefined, where: string): number {
    if (pos === undefined) {
      throw new EspipeError('RECORD_NO_POSITION', `${where} has no ${POSITION_KEY} member: with --checkpoint, every record must carry the position its reader gave it (the reader needs the same --checkpoint ${this.file}); a jq filter that builds a new object drops it: keep it, as in jq -c '{_id, _source: ._source.doc, ${POSITION_KEY}}'`)
    }
    const last = this.lastTaken.get(pos.stream)
    if (last !== undefined && pos.n <= last) {
      throw new EspipeError('RECORD_POSITION_ORDER', `${where} is record ${pos.n} of stream ${pos.stream}, after record ${last}: records of one reader stream must come in the order they were read (does a stage between them reorder or repeat records?)`)
    }
    this.lastTaken.set(pos.stream, pos.n)
    this.window.push(pos)
    return this.base + this.window.length - 1
  }

  /** The record with this ticket is committed, or dead-lettered: it need not come again. */
  settle (ticket: number): void {
    if (ticket !== this.base + this.head) {
      this.settledAhead.add(ticket)
      return
    }
    this.advance()
    while (this.settledAhead.delete(this.base + this.head)) this.advance()
    if (this.head > 4096 && this.head * 2 > this.window.length) {
      this.window = this.window.slice(this.head)
      this.base += this.head
      this.head = 0
    }
  }

  private advance (): void {
    const pos = this.window[this.head] as RecordPosition
    this.window[this.head] = null
    this.head++
    this.part.committed++
    const cur = this.streams.get(pos.stream)
    if (cur === undefined) {
      const s: StreamPosition = { id: pos.stream, after: pos.after, n: pos.n, done: false }
      this.streams.set(pos.stream, s)
      this.part.streams.push(s)
    } else {
      cur.after = pos.after
      cur.n = pos.n
    }
    this.moved = true
  }

  /** Records taken and not settled yet. */
  get unsettled (): number {
    return this.window.length - this.head
  }

  /**
   * After a commit: saves the streams' positions when they moved, with what a file writer
   * needs to continue its file (`output`).
   */
  save (output?: Record<string, unknown>): void {
    if (output !== undefined) this.part.output = output
    if (!this.moved && output === undefined) return
    this.moved = false
    this.saver.save()
  }

  /**
   * The input ended with every record settled. The pipe is complete when the reader says it
   * wrote every record of its read (it saves that before it closes its output, so before this
   * end of input): an input that ended because the reader died is not the end of the read.
   */
  end (output?: Record<string, unknown>): boolean {
    if (output !== undefined) this.part.output = output
    const reader = readCheckpointFile(this.file)?.reader
    this.part.complete = this.unsettled === 0 && reader?.complete === true
    this.saver.save(true)
    return this.part.complete
  }
}
