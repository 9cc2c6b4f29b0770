import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { EspipeError } from './errors.js'

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
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot read checkpoint ${file}: ${(err as Error).message}`, { context: { file } })
  }
  try {
    const state = JSON.parse(text) as CheckpointState
    if (state.version !== 1 || !Array.isArray(state.slices) || typeof state.read !== 'string') throw new Error('not an es-read checkpoint')
    return state
  } catch (err) {
    throw new EspipeError('ECHECKPOINT', `checkpoint ${file} is unreadable (${(err as Error).message}); delete it to start over`, { context: { file } })
  }
}

/** Written to a temporary file and renamed over the old one, so a kill never leaves half a file. */
export function saveCheckpoint (file: string, state: CheckpointState): void {
  const tmp = `${file}.tmp-${process.pid}`
  try {
    writeFileSync(tmp, JSON.stringify({ ...state, updated: new Date().toISOString() }) + '\n')
    renameSync(tmp, file)
  } catch (err) {
    throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot write checkpoint ${file}: ${(err as Error).message}`, { context: { file } })
  }
}

interface Handed { endLine: number, slice: number, after?: string, done: boolean }

/**
 * Decides when a page's cursor may be saved. A page counts as done only once its lines are out
 * of the process: when the output is wrapped with `output()`, after the write of its last line
 * returned; otherwise as soon as it is handed downstream. So a kill -9 can at worst repeat the
 * lines written since the last save, never lose any.
 */
export class CheckpointTracker {
  private readonly queue: Handed[] = []
  private handedLines = 0
  private writtenLines = 0
  private tracking = false
  private committedLines = 0
  /** Nothing is saved before a state was loaded or made: a file must always name a real PIT. */
  private active = false

  constructor (readonly file: string, private state: CheckpointState, private readonly currentPit: () => string) {}

  get complete (): boolean { return this.state.complete }
  get cursors (): readonly SliceCursor[] { return this.state.slices }

  /** A page (or the end of a slice, with 0 lines) was handed downstream. */
  handed (slice: number, lines: number, after: string | undefined, done: boolean): void {
    this.handedLines += lines
    this.queue.push({ endLine: this.handedLines, slice, after, done })
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
    let changed = false
    while (this.queue.length > 0 && this.queue[0].endLine <= upTo) {
      const h = this.queue.shift() as Handed
      const cur = this.state.slices.find((s) => s.id === h.slice)
      if (cur === undefined) continue
      if (h.after !== undefined) cur.after = h.after
      if (h.done) cur.done = true
      changed = true
    }
    if (changed) {
      this.state.emitted += Math.min(upTo, this.handedLines) - this.committedLines
      this.committedLines = Math.min(upTo, this.handedLines)
      this.save()
    }
  }

  save (): void {
    if (!this.active) return
    this.state.pitId = this.currentPit()
    saveCheckpoint(this.file, this.state)
  }

  /** Wraps the final output (stdout): counts the lines actually written and commits their pages. */
  output (out: NodeJS.WritableStream): Writable {
    this.tracking = true
    return new Writable({
      write: (chunk: Buffer | string, _enc, done) => {
        out.write(chunk, (err?: Error | null) => {
          if (err != null) return done(err)
          const s = typeof chunk === 'string' ? chunk : chunk.toString('latin1')
          let n = 0
          for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++
          this.writtenLines += n
          try {
            this.commit(this.writtenLines)
          } catch (e) {
            return done(e as Error)
          }
          done()
        })
      },
      final: (done) => {
        try {
          this.close()
          done()
        } catch (e) {
          done(e as Error)
        }
      }
    })
  }
}
