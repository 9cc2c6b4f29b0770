import type { Writable } from 'node:stream'
import { checkStateFileWritable, readStateFile, writeStateFile, writtenLinesOutput } from '../core/checkpoint.js'
import { EspipeError } from '../core/errors.js'

export interface SliceCursor {
  id: number
  /** Raw search_after of the last hit written out; none before the first page. */
  after?: string
  done: boolean
}

/** What `--checkpoint FILE` holds: enough to continue the same read where it stopped. */
export interface CheckpointState {
  version: 1
  /** The read this cursor belongs to (index, query, sort, slicing); a rerun must match it. */
  read: string
  pitId: string
  keepAlive: string
  slices: SliceCursor[]
  /** Hits written out so far, over all runs. */
  emitted: number
  complete: boolean
  updated: string
}

export function loadCheckpoint (file: string): CheckpointState | undefined {
  const state = readStateFile(file) as CheckpointState | undefined
  if (state === undefined) return undefined
  if (state === null || typeof state !== 'object' || state.version !== 1 || !Array.isArray(state.slices) || typeof state.read !== 'string') {
    throw new EspipeError('ECHECKPOINT', `checkpoint ${file} is unreadable (not an es-read checkpoint); delete it to start over`, { context: { file } })
  }
  return state
}

/** Fails now, before any work, when the checkpoint could not be saved (see checkStateFileWritable). */
export const checkCheckpointWritable = checkStateFileWritable

/** Written to a temporary file and renamed over the old one, so a kill never leaves half a file. */
export function saveCheckpoint (file: string, state: CheckpointState): void {
  writeStateFile(file, state)
}

interface Handed { startLine: number, endLine: number, slice: number, sorts: ReadonlyArray<string | undefined>, done: boolean }

/**
 * Decides when a cursor may be saved. A line counts as done only once it is out of the process:
 * when the output is wrapped with `output()`, after the write that carried it returned;
 * otherwise as soon as it is handed downstream. The cursor saved is the sort values of the
 * last line written (not of the last whole page), so a kill -9 mid-page repeats at most the
 * lines written between that write and the save, and loses none.
 */
export class CheckpointTracker {
  private readonly queue: Handed[] = []
  private handedLines = 0
  private tracking = false
  private committedLines = 0
  /** Nothing is saved before a state was loaded or made: a file must always name a real PIT. */
  private active = false
  /** The PIT id the file held after the last save that worked. */
  private savedPit: string | undefined
  private saveFailed = false

  constructor (readonly file: string, private state: CheckpointState, private readonly currentPit: () => string) {}

  get complete (): boolean { return this.state.complete }
  get cursors (): readonly SliceCursor[] { return this.state.slices }

  /** A page's lines (their sort values), or the end of a slice (none, `done`), went downstream. */
  handed (slice: number, sorts: ReadonlyArray<string | undefined>, done: boolean): void {
    const startLine = this.handedLines
    this.handedLines += sorts.length
    this.queue.push({ startLine, endLine: this.handedLines, slice, sorts, done })
    if (!this.tracking) this.commit(Infinity)
  }

  /** Starts from a loaded (or fresh) state; saves it so the file names the PIT at once. */
  reset (state: CheckpointState): void {
    this.state = state
    this.active = true
    this.save()
  }

  /** The PIT was replaced: the saved cursor must name the new one even before the next page. */
  pitChanged (): void {
    this.save()
  }

  /** The stream ended: without an output to watch, everything handed is taken as written. */
  finish (): void {
    if (!this.tracking) this.close()
  }

  private close (): void {
    this.commit(Infinity)
    this.state.complete = this.state.slices.every((s) => s.done)
    this.save()
  }

  private commit (upTo: number): void {
    const from = this.committedLines
    let changed = false
    while (this.queue.length > 0 && (this.queue[0].startLine < upTo || this.queue[0].endLine <= upTo)) {
      const h = this.queue[0]
      const cur = this.state.slices.find((s) => s.id === h.slice)
      const written = Math.min(upTo, h.endLine) - h.startLine
      const after = written > 0 ? h.sorts[written - 1] : undefined
      if (cur !== undefined && after !== undefined) cur.after = after
      changed = true
      if (h.endLine > upTo) {
        // Part of this page is out: the cursor moves to its last written line.
        this.queue[0] = { ...h, startLine: upTo, sorts: h.sorts.slice(written) }
        this.committedLines = upTo
        break
      }
      if (cur !== undefined && h.done) cur.done = true
      this.committedLines = h.endLine
      this.queue.shift()
    }
    if (!changed) return
    this.state.emitted += this.committedLines - from
    this.save()
  }

  save (): void {
    if (!this.active) return
    this.state.pitId = this.currentPit()
    try {
      saveCheckpoint(this.file, this.state)
    } catch (err) {
      this.saveFailed = true
      throw err
    }
    this.savedPit = this.state.pitId
    this.saveFailed = false
  }

  /**
   * Whether the file names this read's point in time, so a rerun can resume with it. After a
   * failed save the file is read back: gone (its directory removed) means no.
   */
  namesPit (): boolean {
    if (this.savedPit === undefined) return false
    if (!this.saveFailed) return true
    try {
      return loadCheckpoint(this.file)?.pitId === this.savedPit
    } catch {
      return false
    }
  }

  /** Wraps the final output (stdout): counts the lines actually written and commits their pages. */
  output (out: NodeJS.WritableStream): Writable {
    this.tracking = true
    return writtenLinesOutput(out, {
      written: (lines) => this.commit(lines),
      end: () => this.close()
    })
  }
}
