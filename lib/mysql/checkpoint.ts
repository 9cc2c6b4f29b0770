import type { Writable } from 'node:stream'
import { readStateFile, writeStateFile, writtenLinesOutput } from '../core/checkpoint.js'
import { EspipeError } from '../core/errors.js'
import type { SliceRange } from './paging.js'

/** One slice's place: its key range (fixed at the first run) and the cursor of the last row written. */
export interface SliceState {
  range: SliceRange
  /** [since value, key values…] of the last row written out, as the server wrote them (binary as base64). */
  after?: string[]
}

/** What `mysql-read --checkpoint FILE` holds. */
export interface ReadState {
  version: 1
  tool: 'mysql-read'
  /** The read this cursor belongs to (source, --where, since and key columns, slicing); a rerun must match it. */
  read: string
  slices: SliceState[]
  /** Rows written out, over all runs. */
  emitted: number
  /** The last run read to the end (a rerun reads what changed since). */
  complete: boolean
  updated?: string
}

export function loadReadState (file: string): ReadState | undefined {
  const state = readStateFile(file) as ReadState | undefined
  if (state === undefined) return undefined
  if (state === null || typeof state !== 'object' || state.version !== 1 || state.tool !== 'mysql-read' || !Array.isArray(state.slices) || typeof state.read !== 'string') {
    throw new EspipeError('ECHECKPOINT', `checkpoint ${file} is not a mysql-read checkpoint; use another file or delete it`, { context: { file } })
  }
  return state
}

/**
 * Moves the saved cursor as lines leave the process. Every row handed downstream is queued with
 * its slice and cursor (a failed row, dead-lettered, counts for no line); once the output says
 * how many lines were written, the cursors of those rows are committed and the file saved. So
 * the checkpoint never names a row that is still in a buffer: a kill -9 loses nothing, and a
 * rerun repeats at most the lines written since the last save.
 */
export class ReadCheckpoint {
  private slices: number[] = []
  private cursors: string[][] = []
  /** Line count once each queued row is out (equal to the previous for a row with no line). */
  private ends: number[] = []
  private head = 0
  private handedLines = 0
  private committedLines = 0
  private tracking = false
  private reachedEnd = false

  constructor (readonly file: string, private readonly state: ReadState) {}

  get current (): ReadState { return this.state }

  /** A row went downstream as `lines` lines (1, or 0 for a failed row) with this cursor. */
  handed (slice: number, cursor: string[], lines: 0 | 1): void {
    this.handedLines += lines
    if (!this.tracking) {
      this.state.slices[slice].after = cursor
      this.state.emitted += lines
      this.committedLines = this.handedLines
      return
    }
    this.slices.push(slice)
    this.cursors.push(cursor)
    this.ends.push(this.handedLines)
  }

  /** Saves the state as it stands (at the start, so the file exists and names the slices). */
  save (): void {
    writeStateFile(this.file, this.state)
  }

  /**
   * The reader stopped: at the end of the rows (`complete`) or early (--limit, a signal).
   * Without a tracked output everything handed counts as written now; with one, when it ends.
   */
  finish (complete: boolean): void {
    this.reachedEnd = complete
    if (this.tracking) return
    this.state.complete = complete
    this.save()
  }

  /** Cursors of the rows whose lines are all written, up to `written` lines. */
  private commit (written: number): void {
    let moved = false
    while (this.head < this.ends.length && this.ends[this.head] <= written) {
      this.state.slices[this.slices[this.head]].after = this.cursors[this.head]
      this.head++
      moved = true
    }
    if (this.head > 4096 && this.head * 2 > this.ends.length) {
      this.slices = this.slices.slice(this.head)
      this.cursors = this.cursors.slice(this.head)
      this.ends = this.ends.slice(this.head)
      this.head = 0
    }
    if (!moved) return
    this.state.emitted += written - this.committedLines
    this.committedLines = written
    this.save()
  }

  /** Wraps the final output (stdout): the cursor follows the last line actually written there. */
  output (out: NodeJS.WritableStream): Writable {
    this.tracking = true
    return writtenLinesOutput(out, {
      written: (lines) => this.commit(lines),
      end: () => {
        this.commit(this.handedLines)
        this.state.complete = this.reachedEnd
        this.save()
      }
    })
  }
}
