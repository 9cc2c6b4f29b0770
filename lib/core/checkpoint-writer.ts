import { randomBytes } from 'node:crypto'
import type { FlagSpecs } from './cli.js'
import type { StreamPosition, WriterPart } from './checkpoint.js'
import { CheckpointSaver, checkCheckpointWritable, readCheckpointFile } from './checkpoint.js'
import { EspipeError } from './errors.js'
import type { RecordPosition } from './position.js'
import { POSITION_KEY, recordPosition } from './position.js'
import type { RawObject } from './raw-json.js'

/**
 * The last writer's part of a checkpoint (CONTRACT.md §6): the writer takes each record's position
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
    // `complete` stays as it is until a record comes: a reader starting beside this writer may
    // be reading it to learn that there is nothing left to do.
    this.part = existing ?? { tool, target, id: randomBytes(8).toString('hex'), streams: [], committed: 0, complete: false }
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
    this.part.complete = false
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
    // A file writer's length and positions are saved together, as they are; a store's positions may lag.
    if (output === undefined) this.saver.soon()
    else this.saver.save()
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

/** A writer's --checkpoint: what it commits, acknowledged to the reader of its pipe. */
export const WRITER_CHECKPOINT_FLAG: FlagSpecs = {
  checkpoint: { type: 'string', value: 'FILE', help: "the reader's --checkpoint FILE: save what is committed, record by record, so that the same pipe run again after a crash anywhere in it resumes after the last committed record (see CHECKPOINT in the man page)" }
}

/**
 * The tickets of a writer whose records are committed in the order they are written out (a
 * file writer): a record written out waits until its bytes are committed (`confirm`), one
 * that is not (dead-lettered, a duplicate skipped) is settled at once.
 */
export class OrderedAcks {
  private queue: number[] = []
  private head = 0

  constructor (readonly ack: WriterCheckpoint) {}

  /** A record came in (a parsed line, or an object given in code): its ticket. */
  take (raw: RawObject | undefined, value: Record<string, unknown> | undefined, where: string): number {
    return this.ack.take(recordPosition(raw, value), where)
  }

  /** Its bytes were handed to the output: settled once they are committed. */
  written (ticket: number): void {
    this.queue.push(ticket)
  }

  /** Not written (failed, skipped): nothing to wait for. */
  done (ticket: number): void {
    this.ack.settle(ticket)
  }

  /** The next `n` records written out are committed. */
  confirm (n: number): void {
    for (let i = 0; i < n && this.head < this.queue.length; i++) this.ack.settle(this.queue[this.head++])
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }
}
