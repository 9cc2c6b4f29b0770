import { closeSync, fstatSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { Writable } from 'node:stream'
import { EspipeError } from './errors.js'
import { alive } from './alive.js'

/**
 * What every `--checkpoint FILE` shares: one JSON file, replaced atomically (written beside,
 * synced, renamed), read-modified-written under a lock so that the stages of one pipe that
 * share it never undo each other's part. The reader's part says what it reads and where each
 * of its streams (slices) stands; the connector keeps what is its own (a point in time, key
 * ranges) in `state`.
 */

/**
 * A cursor as the connector makes it (sort values, key values, a byte offset), as JSON text:
 * text keeps every digit of a sort value beyond 2^53, and goes on the pipe as it is.
 */
export type Position = string

export interface StreamPosition {
  id: number
  /** The position of the last record done with; none before the first. */
  after?: Position
  /** How many records the stream emitted up to and including that one, over all runs. */
  n?: number
  /** The stream reached its end. */
  done: boolean
}

/** Where the reader's own output stands when it writes to a regular file (`>> out.ndjson`). */
export interface OutputState {
  /** Bytes of the file once the last write announced is in (the streams' positions say where that leaves them). */
  length: number
  /** That write is not known to be in yet: the file's length and the streams' positions without it. */
  before?: { length: number, streams: StreamPosition[], emitted: number }
}

export interface ReaderPart {
  tool: string
  /** What makes two runs the same read (index and query, table and key, slicing): a rerun must match it. */
  read: string
  /** The connector's own: a point in time, key ranges. */
  state: Record<string, unknown>
  /** Where each stream stands by what this reader wrote out (see WriterPart for what was committed). */
  streams: StreamPosition[]
  /** Records written out, over all runs. */
  emitted: number
  /** This run read to the end and wrote every record out. */
  complete: boolean
  output?: OutputState
}

/** The last writer's part: what it committed of each reader stream (see checkpoint-writer.ts). */
export interface WriterPart {
  tool: string
  /** What it writes to (a table, an index, a file): another writer is refused. */
  target: string
  /** Names this pipeline's rows where a writer keeps positions in its destination (mysql-write). */
  id: string
  streams: StreamPosition[]
  /** Records committed (or dead-lettered), over all runs. */
  committed: number
  /** Every record of a complete read is committed: the pipe is done. */
  complete: boolean
  /** What a file writer needs to continue its file (its committed length, its columns). */
  output?: Record<string, unknown>
}

export interface CheckpointFile {
  version: 2
  reader?: ReaderPart
  writer?: WriterPart
  updated?: string
}

function ioError (file: string, verb: string, err: unknown): EspipeError {
  const e = err as NodeJS.ErrnoException
  return new EspipeError(e.code ?? 'EIO', `cannot ${verb} checkpoint ${file}: ${e.message}`, { context: { file } })
}

/**
 * The checkpoints of earlier versions, one per reader, in the new shape: es-read's kept its
 * point in time and per-slice sort values, mysql-read's its key ranges and cursors.
 */
function migrate (v1: Record<string, unknown>, file: string): CheckpointFile {
  const slices = v1.slices as Array<Record<string, unknown>>
  if (v1.tool === 'mysql-read') {
    return {
      version: 2,
      reader: {
        tool: 'mysql-read',
        read: String(v1.read),
        state: { ranges: slices.map((s) => s.range) },
        streams: slices.map((s, id) => ({ id, after: s.after === undefined ? undefined : JSON.stringify(s.after), done: false })),
        emitted: Number(v1.emitted ?? 0),
        complete: v1.complete === true
      }
    }
  }
  if (typeof v1.pitId !== 'string') throw new EspipeError('ECHECKPOINT', `checkpoint ${file} is unreadable (not a checkpoint of espipe); delete it to start over`, { context: { file } })
  return {
    version: 2,
    reader: {
      tool: 'es-read',
      read: String(v1.read),
      state: { pitId: v1.pitId, keepAlive: v1.keepAlive },
      streams: slices.map((s) => ({ id: Number(s.id), after: s.after as string | undefined, done: s.done === true })),
      emitted: Number(v1.emitted ?? 0),
      complete: v1.complete === true
    }
  }
}

/** The parsed file, or undefined when there is none yet: a missing or empty file (`touch`, `mktemp`, `: > file`) means "start fresh". */
export function readCheckpointFile (file: string): CheckpointFile | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw ioError(file, 'read', err)
  }
  if (text.trim() === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new EspipeError('ECHECKPOINT', `checkpoint ${file} is unreadable (${(err as Error).message}); delete it to start over`, { context: { file } })
  }
  const o = parsed as Record<string, unknown> | null
  if (o !== null && typeof o === 'object' && o.version === 2) return o as unknown as CheckpointFile
  if (o !== null && typeof o === 'object' && o.version === 1 && Array.isArray(o.slices) && typeof o.read === 'string') return migrate(o, file)
  throw new EspipeError('ECHECKPOINT', `checkpoint ${file} is unreadable (not a checkpoint of espipe); delete it to start over`, { context: { file } })
}

/**
 * Fails now, before any work, when the checkpoint could not be saved: its directory is missing
 * or not writable, or the name is a directory. Tries what saving does (a temporary file beside
 * it), so permissions, read-only mounts and a full disk show up alike.
 */
export function checkCheckpointWritable (file: string): void {
  const tmp = `${file}.tmp-${process.pid}`
  try {
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory() === true) {
      throw Object.assign(new Error(`EISDIR: ${file} is a directory`), { code: 'EISDIR' })
    }
    closeSync(openSync(tmp, 'w'))
    rmSync(tmp)
  } catch (err) {
    throw ioError(file, 'write', err)
  }
}

const LOCK_WAIT_MS = 10_000
const sleeper = new Int32Array(new SharedArrayBuffer(4))
const SAVE_DELAY_MS = Number(process.env.ESPIPE_TEST_SAVE_DELAY_MS ?? 0)

/**
 * Runs `fn` holding FILE.lock (created exclusively, naming this process), so two stages that
 * share the file never save over each other's part. A lock whose process is gone (kill -9
 * while saving) is taken over. A save holds it for well under a millisecond (a few when it
 * syncs), so another holder is waited for, not failed on.
 */
function withLock<T> (file: string, fn: () => T): T {
  const lock = `${file}.lock`
  // The lock is made whole, then put in place (link fails when it exists): a kill at any
  // moment leaves no lock, or one that names its process.
  const mine = `${file}.lock-${process.pid}`
  try {
    writeFileSync(mine, String(process.pid))
  } catch (err) {
    throw ioError(file, 'write', err)
  }
  const until = Date.now() + LOCK_WAIT_MS
  try {
    for (;;) {
      try {
        linkSync(mine, lock)
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(file, 'write', err)
      }
      let holder = NaN
      try { holder = Number(readFileSync(lock, 'utf8')) } catch {}
      if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
        try { unlinkSync(lock) } catch {}
        continue
      }
      if (Date.now() > until) throw new EspipeError('ECHECKPOINT_LOCKED', `checkpoint ${file} stayed locked by process ${holder} for ${LOCK_WAIT_MS / 1000} s (${lock}); if no espipe stage is running, delete the lock file`, { context: { file } })
      Atomics.wait(sleeper, 0, 0, 1)
    }
  } finally {
    try { unlinkSync(mine) } catch {}
  }
  try {
    return fn()
  } finally {
    try { unlinkSync(lock) } catch {}
  }
}

/**
 * Written beside and renamed over the old one: a kill at any moment leaves the old file or the
 * new one. With `sync`, the new file (and its directory entry) reach the disk first, so a
 * crash of the machine also leaves one or the other.
 */
function replaceFile (file: string, text: string, sync: boolean): void {
  const tmp = `${file}.tmp-${process.pid}`
  try {
    const fd = openSync(tmp, 'w')
    try {
      writeSync(fd, text)
      if (sync) fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    // The tests' way to kill a process in the middle of a save (between write and rename).
    if (SAVE_DELAY_MS > 0) Atomics.wait(sleeper, 0, 0, SAVE_DELAY_MS)
    renameSync(tmp, file)
  } catch (err) {
    try { rmSync(tmp, { force: true }) } catch {}
    throw ioError(file, 'write', err)
  }
  if (!sync) return
  try {
    const dir = openSync(dirname(file), 'r')
    try { fsyncSync(dir) } finally { closeSync(dir) }
  } catch {}
}

/** Reads the file, lets `change` edit it, and saves it, all under the lock. */
export function updateCheckpointFile (file: string, change: (current: CheckpointFile) => void, sync = true): void {
  withLock(file, () => {
    const current = readCheckpointFile(file) ?? { version: 2 }
    change(current)
    current.updated = new Date().toISOString()
    replaceFile(file, JSON.stringify(current) + '\n', sync)
  })
}

/** How often a save also syncs the disk: a crash of the machine loses at most this much progress (records come again, none is lost). */
const SYNC_EVERY_MS = 1000

/**
 * Saves one stage's part of the file each time it changes, at once: after a kill -9 a rerun
 * repeats only what was done since the last change. Syncing the disk takes milliseconds, so a
 * save syncs at most once a second, and the last one always. A save that fails is kept as
 * `failure` and thrown by every later save.
 */
export class CheckpointSaver {
  failure: Error | undefined
  private synced = 0
  private saved = 0
  private pending: NodeJS.Timeout | undefined

  constructor (readonly file: string, private readonly put: (file: CheckpointFile) => void) {}

  save (final = false): void {
    if (this.failure !== undefined) throw this.failure
    if (this.pending !== undefined) {
      clearTimeout(this.pending)
      this.pending = undefined
    }
    const now = Date.now()
    const sync = final || now - this.synced >= SYNC_EVERY_MS
    try {
      updateCheckpointFile(this.file, this.put, sync)
    } catch (err) {
      this.failure = err as Error
      throw err
    }
    this.saved = now
    if (sync) this.synced = now
  }

  /**
   * A save now, or, when the last was under SAVE_EVERY_MS ago, one then (of the state as it
   * is then). Each save is a locked read-modify-rename of the file; saving after every batch
   * cost a fast pipe a quarter of its rate (bench/checkpoint.ts). Only for a part whose every
   * state is a valid place to resume from: a kill then repeats at most that much more, which
   * the writers' idempotence (and mysql-write's espipe_checkpoints) absorbs.
   */
  soon (): void {
    if (this.failure !== undefined) throw this.failure
    const wait = this.saved + SAVE_EVERY_MS - Date.now()
    if (wait <= 0) return this.save()
    if (this.pending !== undefined) return
    this.pending = setTimeout(() => {
      this.pending = undefined
      // Kept as `failure`: the next save of the stage throws it where it can be handled.
      try { this.save() } catch {}
    }, wait)
    this.pending.unref()
  }
}

/** The least time between two saves of a part that may lag (see CheckpointSaver.soon). */
const SAVE_EVERY_MS = 200

interface Handed {
  stream: number
  startLine: number
  endLine: number
  /** One per line, or a single one for a record that went downstream as no line (dead-lettered). */
  positions: readonly Position[]
  /** The stream's count of records emitted after the last of these lines. */
  lastN: number
  done: boolean
}

/** Where a reader's lines go: a pipe (a writer downstream may acknowledge them), a regular file, anything else. */
export type OutputKind = 'pipe' | 'file' | 'other'

/** What fd (standard output) is. */
export function outputKind (fd: number): OutputKind {
  try {
    const st = fstatSync(fd)
    return st.isFIFO() || st.isSocket() ? 'pipe' : st.isFile() ? 'file' : 'other'
  } catch {
    return 'other'
  }
}

/** How long a reader waits for the writer of its pipe to say it is there (it starts at the same time). */
const WRITER_WAIT_MS = 5000

/**
 * A reader's part of the checkpoint, moved as its records leave the process. Every push
 * downstream is queued with its stream and the positions of its records; once the output
 * (wrapped by `output()`) says how many lines were written, the positions of those lines are
 * committed and the file saved. So the part never names a record still in a buffer of this
 * process. When the last stage of the pipe is a writer given the same file, the reader also
 * puts each record's position on the record (`_pos`), the writer saves what it committed, and
 * a rerun resumes from there (CONTRACT.md §6); alone, it resumes from what it wrote. Without a
 * wrapped output (a library pipeline), a record counts as written when it is handed on.
 */
export class ReaderCheckpoint {
  private part: ReaderPart | undefined
  private readonly queue: Handed[] = []
  private head = 0
  private handedLines = 0
  private committedLines = 0
  private tracking = false
  private reachedEnd = false
  private readonly saver: CheckpointSaver
  /** The connector's state as the file held it after the last save that worked. */
  private saved: string | undefined
  /** State that changes by itself (a point in time renewed by each page): read at each save. */
  liveState: (() => Record<string, unknown>) | undefined
  /** Records carry their positions (`_pos`) for a writer downstream to acknowledge. */
  embeds = false
  private kind: OutputKind = 'other'
  /** A file on standard output: its size when the run began. */
  private startSize = 0
  private writerSeen = false
  private readonly started = Date.now()
  /** The writer's part when the run resumed from it. */
  private resumedFrom: WriterPart | undefined
  private readonly warn: (message: string) => void

  constructor (readonly file: string, readonly tool: string, warn: (message: string) => void = () => {}) {
    checkCheckpointWritable(file)
    this.warn = warn
    this.saver = new CheckpointSaver(file, (f) => {
      const part = this.part
      if (part !== undefined && this.liveState !== undefined) part.state = { ...part.state, ...this.liveState() }
      f.reader = part
      this.saved = JSON.stringify(part?.state)
    })
  }

  /**
   * Where to resume this read, or undefined to start fresh. A part of another tool or another
   * read is refused: resuming it would read something else. When a writer acknowledged records
   * of this read, its positions win over the reader's own (a crash after the reader wrote lines
   * but before the writer committed them must not skip them), and the pipe is complete only
   * when the writer says so.
   */
  load (read: string, differ: string): ReaderPart | undefined {
    let f = readCheckpointFile(this.file)
    const part = f?.reader
    if (part === undefined) {
      if (f?.writer !== undefined && f.writer.streams.length > 0) throw new EspipeError('ECHECKPOINT', `checkpoint ${this.file} holds what ${f.writer.tool} committed but no read of ${this.tool}; use another file or delete it`, { context: { file: this.file } })
      this.checkOutput(undefined)
      return undefined
    }
    if (part.tool !== this.tool) {
      throw new EspipeError('ECHECKPOINT', `checkpoint ${this.file} is ${part.tool}'s, not ${this.tool}'s; use another file or delete it`, { context: { file: this.file } })
    }
    if (part.read !== read) {
      throw new EspipeError('ECHECKPOINT', `checkpoint ${this.file} belongs to a different read (${differ} differ); use another file or delete it`, { context: { file: this.file } })
    }
    // Into a pipe, what this reader wrote says nothing of what the stage after it committed:
    // a writer given the same file says that, and starts as the reader does. Until it has had
    // time to say it is there (a writer killed before it could is still the writer of the
    // pipe), the reader's own positions are not used.
    if (f?.writer === undefined && this.kind === 'pipe' && part.streams.some((s) => s.after !== undefined)) {
      const until = Date.now() + WRITER_WAIT_MS
      while (f?.writer === undefined && Date.now() < until) {
        Atomics.wait(sleeper, 0, 0, 50)
        f = readCheckpointFile(this.file)
      }
    }
    const writer = f?.writer
    if (writer !== undefined) {
      this.resumedFrom = writer
      this.writerSeen = true
      const acked = new Map(writer.streams.map((s) => [s.id, s]))
      // The writer calls the pipe complete when its input ended after the reader had written
      // everything; but a stage between them that died (a killed jq) ends that input too, with
      // records still in it. Complete is believed only when the writer committed up to the
      // last record of each stream: else the rerun reads again after what it committed.
      const covered = part.streams.every((s) => (s.n ?? 0) <= (acked.get(s.id)?.n ?? 0))
      return {
        ...part,
        streams: part.streams.map((s) => {
          const w = acked.get(s.id)
          return w === undefined ? { id: s.id, done: false } : { id: s.id, after: w.after, n: w.n, done: false }
        }),
        emitted: writer.committed,
        complete: writer.complete && covered
      }
    }
    if (this.kind === 'pipe' && part.streams.some((s) => s.after !== undefined)) {
      this.writerSeen = true
      this.warn(`checkpoint ${this.file}: no writer acknowledges this read, so it resumes after what it wrote into the pipe: records a stage after it had not committed when it stopped are skipped; give the last writer the same --checkpoint ${this.file} (… | mysql-write --checkpoint ${this.file})`)
    }
    this.checkOutput(part)
    return part
  }

  /** Whether a writer acknowledges this read (its part is in the file). */
  acknowledged (): boolean {
    if (this.resumedFrom !== undefined) return true
    try {
      return readCheckpointFile(this.file)?.writer !== undefined
    } catch {
      return false
    }
  }

  /** The writer whose positions this run resumed from, if any. */
  get acknowledgedBy (): WriterPart | undefined { return this.resumedFrom }

  /**
   * A regular file on standard output is appended to: it must hold exactly what the checkpoint
   * says was written to it (`>` instead of `>>` empties it; a write cut by a kill leaves part
   * of it), or a rerun would leave records out or write them twice.
   */
  private checkOutput (part: ReaderPart | undefined): void {
    if (this.kind !== 'file' || part?.output === undefined) return
    const out = part.output
    const size = this.startSize
    const before = out.before
    if (size === out.length) return
    if (before !== undefined && size === before.length) {
      // Killed between announcing a write and making it: the write never happened.
      part.streams = before.streams
      part.emitted = before.emitted
      return
    }
    if (size < (before?.length ?? out.length)) {
      throw new EspipeError('ECHECKPOINT_OUTPUT', `standard output holds ${size} bytes, but checkpoint ${this.file} counts ${out.length} written to it: it was emptied or replaced (to continue a read into a file, append with >>), or delete the checkpoint to start over`, { context: { file: this.file } })
    }
    throw new EspipeError('ECHECKPOINT_OUTPUT', `standard output holds ${size} bytes, more than the ${out.length} checkpoint ${this.file} counts: a write was cut; cut the file back to ${out.length} bytes (truncate -s ${out.length} FILE) and run again`, { context: { file: this.file } })
  }

  /** Starts from a loaded (or fresh) part and saves it, so the file names the read (and its point in time) before any record goes out. */
  begin (part: ReaderPart): void {
    this.part = part
    part.complete = false
    if (this.kind === 'file') part.output = { length: this.startSize }
    else delete part.output
    this.saver.save(true)
  }

  get current (): ReaderPart | undefined { return this.part }

  /** Where `stream` resumes: its count of records emitted so far. */
  emittedIn (stream: number): number {
    return this.part?.streams.find((s) => s.id === stream)?.n ?? 0
  }

  /**
   * Lines of `stream` went downstream, one position each (the last is where the stream then
   * stands), the last of them the stream's record number `lastN`; `done`: the stream ended.
   */
  handed (stream: number, positions: readonly Position[], lastN: number, done = false): void {
    this.enqueue(stream, positions, positions.length, lastN, done)
  }

  /** A record of `stream` was done with but went downstream as no line (dead-lettered): its position counts once every line before it is out. */
  skipped (stream: number, position: Position, lastN: number): void {
    this.enqueue(stream, [position], 0, lastN, false)
  }

  /** The stream ended (after the lines already handed). */
  ended (stream: number): void {
    this.enqueue(stream, [], 0, -1, true)
  }

  private enqueue (stream: number, positions: readonly Position[], lines: number, lastN: number, done: boolean): void {
    if (this.part === undefined) return
    const startLine = this.handedLines
    this.handedLines += lines
    this.queue.push({ stream, startLine, endLine: this.handedLines, positions, lastN, done })
    if (!this.tracking) this.commit(Infinity)
  }

  /** Connector state that changed (a new point in time): saved at once, so the file never names a dead one. */
  setState (state: Record<string, unknown>): void {
    if (this.part === undefined) return
    this.part.state = { ...this.part.state, ...state }
    this.saver.save(true)
  }

  /**
   * The read stopped: at the end of every stream (`complete`) or early (--limit, a signal, a
   * failure). Without a wrapped output everything handed counts as written now and is saved;
   * with one, the output's end saves it.
   */
  finish (complete: boolean): void {
    this.reachedEnd = complete
    if (!this.tracking) this.close()
  }

  private close (): void {
    if (this.part === undefined) return
    this.commit(Infinity, false)
    this.part.complete = this.reachedEnd
    this.saver.save(true)
  }

  private commit (upTo: number, save = true): void {
    const part = this.part
    if (part === undefined) return
    const from = this.committedLines
    let changed = false
    for (; this.head < this.queue.length; this.head++) {
      const h = this.queue[this.head]
      // Nothing of it is out yet (a record with no line counts once everything before it is).
      if (!(h.startLine < upTo || h.endLine <= upTo)) break
      const cur = part.streams.find((s) => s.id === h.stream)
      changed = true
      if (h.endLine > upTo) {
        // Part of this push is out: the stream moves to its last written line.
        const written = upTo - h.startLine
        if (cur !== undefined) {
          cur.after = h.positions[written - 1]
          cur.n = h.lastN - (h.endLine - upTo)
        }
        this.queue[this.head] = { ...h, startLine: upTo, positions: h.positions.slice(written) }
        this.committedLines = upTo
        break
      }
      if (cur !== undefined) {
        const last = h.positions[h.positions.length - 1]
        if (last !== undefined) {
          cur.after = last
          cur.n = h.lastN
        }
        if (h.done) cur.done = true
      }
      this.committedLines = h.endLine
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head)
      this.head = 0
    }
    if (!changed) return
    part.emitted += this.committedLines - from
    if (save) this.saver.soon()
  }

  /**
   * Whether the file holds the connector state as last saved (so a rerun can use, say, its
   * point in time). After a failed save the file is read back: gone (its directory removed)
   * means no.
   */
  holdsState (): boolean {
    if (this.saved === undefined) return false
    if (this.saver.failure === undefined) return true
    try {
      return JSON.stringify(readCheckpointFile(this.file)?.reader?.state) === this.saved
    } catch {
      return false
    }
  }

  /**
   * Whether a writer has its part in the file. Looked at once the first lines are out and a
   * writer started at the same time had time to say so, and at the end (waiting a little for a
   * writer that started late): without one, nothing acknowledges what this reader sends, and a
   * crash downstream loses the lines in flight, which a rerun would not read again.
   */
  private lookForWriter (final: boolean): void {
    if (this.writerSeen || !this.embeds || this.part === undefined || this.handedLines === 0) return
    const has = (): boolean => {
      try { return readCheckpointFile(this.file)?.writer !== undefined } catch { return false }
    }
    if (!final && Date.now() - this.started < 1000) return
    let seen = has()
    if (!seen && final) {
      // A writer that started with this reader has had the whole read to say it is there.
      const until = Date.now() + 1000
      while (!seen && Date.now() < until) {
        Atomics.wait(sleeper, 0, 0, 50)
        seen = has()
      }
    }
    this.writerSeen = true
    if (!seen) this.warn(`no writer acknowledges what it commits to checkpoint ${this.file}: if a stage after this one fails or is killed, the records in flight are not read again; give the last writer the same --checkpoint ${this.file} (… | mysql-write --checkpoint ${this.file})`)
  }

  /**
   * Wraps the final output (standard output, file descriptor `fd`): each chunk is passed on,
   * and once its write has returned, the lines it carried count as written and their
   * positions are committed. Into a pipe, records carry their positions; into a regular file,
   * each write is announced in the checkpoint before it is made, so that a rerun can tell a
   * write that happened from one that did not.
   */
  output (out: NodeJS.WritableStream, fd?: number): Writable {
    this.tracking = true
    this.kind = fd === undefined ? 'other' : outputKind(fd)
    if (this.kind === 'file') this.startSize = fstatSync(fd as number).size
    this.embeds = this.kind === 'pipe'
    let lines = 0
    let length = this.startSize
    return new Writable({
      write: (chunk: Buffer | string, _enc, done) => {
        const s = typeof chunk === 'string' ? chunk : chunk.toString('latin1')
        let k = 0
        for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) k++
        const bytes = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
        try {
          if (this.kind === 'file' && this.part !== undefined) {
            const before = { length, streams: this.part.streams.map((x) => ({ ...x })), emitted: this.part.emitted }
            this.commit(lines + k, false)
            this.part.output = { length: length + bytes, before }
            this.saver.save()
          }
        } catch (e) {
          return done(e as Error)
        }
        out.write(chunk, (err?: Error | null) => {
          if (err != null) return done(err)
          lines += k
          length += bytes
          try {
            if (this.kind === 'file' && this.part !== undefined) {
              this.part.output = { length }
              this.saver.save()
            } else {
              this.commit(lines)
              this.lookForWriter(false)
            }
          } catch (e) {
            return done(e as Error)
          }
          done()
        })
      },
      final: (done) => {
        try {
          this.close()
          this.lookForWriter(true)
          done()
        } catch (e) {
          done(e as Error)
        }
      }
    })
  }
}
