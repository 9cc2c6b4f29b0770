import { close, closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, write, writeSync } from 'node:fs'
import { join } from 'node:path'
import { EspipeError } from '../core/errors.js'
import { formatBytes } from '../core/size.js'
import { HEADER, entryKeyLength, entryLength, writeEntry } from './entry.js'
import { hashKey } from './hash.js'

/** Partitions per split: 64, picked by a key hash's top 6 bits. */
export const FANOUT = 64
const SHIFT = 26
/** How many times a partition too large for memory is split again before it is held anyway. */
const MAX_LEVEL = 4
/**
 * Write buffers beyond one per partition: a full buffer is written in the background (the
 * system's page cache takes writes far slower than rec-diff reads and scans: 120–220 MB/s on
 * the machine of the benchmark) while the partition fills a spare one.
 */
const SPARE = 32
/** Background writes under way at once: libuv has 4 threads, and the inputs' reads need theirs. */
const WRITERS = 2

/**
 * How rec-diff spends --memory: the arena holds records (both inputs, partitioned, while they
 * fit; the files' write buffers once they don't; then one partition at a time), the tables
 * index one partition's records, and the rest is left to Node (its heap, the input streams,
 * the output queue) and to the garbage collector's lag.
 */
export interface Budget { arena: number, tables: number }

export function budgetOf (memory: number): Budget {
  return { arena: Math.min(Math.floor(memory * 0.4), 1.5 * 2 ** 30), tables: Math.floor(memory * 0.2) }
}

/** The records of one partition, both sides, in one buffer: side s's entries fill the ranges segments[s]. */
export interface Loaded {
  buf: Buffer
  segments: [number[], number[]]
  counts: [number, number]
}

interface FilePart {
  paths: [string, string]
  counts: [number, number]
  bytes: [number, number]
  level: number
}

/**
 * Both inputs' records, partitioned by a hash of their key. They stay in memory while they fit
 * in the arena; past that, every partition goes to two files (one per side) in a temporary
 * directory, written through one fixed buffer each, and is read back one at a time; a
 * partition too large for the arena is split again the same way. The directory is removed
 * when the store is closed, and at exit whatever happens.
 */
export class PartitionStore {
  private readonly arena: Buffer
  private readonly parent: string
  private readonly fits: (counts: [number, number], bytes: [number, number]) => boolean
  private readonly warn: (message: string) => void
  /** Per side and partition (side × FANOUT + p): the ranges of the arena it holds (memory) … */
  private readonly segments: number[][] = []
  private readonly chunkStart: number[] = []
  private readonly chunkFill: number[] = []
  private readonly chunkEnd: number[] = []
  private readonly counts: number[] = []
  private readonly bytes: number[] = []
  /** … or its file, the arena's write buffer it fills (chunkStart…chunkEnd), where its file ends (files). */
  private readonly fds: number[] = []
  private readonly ends: number[] = []
  private size = 0
  private free: number[] = []
  private inFlight = 0
  private idle: Array<() => void> = []
  private failure: unknown
  private closing = false
  private readonly queued: Array<() => void> = []
  private writing = 0
  private dir: string | undefined
  private top = 0
  private readonly chunk: number
  private readonly removeAtExit = (): void => this.remove()

  constructor (opts: { budget: Budget, tmpdir: string, fits: (counts: [number, number], bytes: [number, number]) => boolean, warn: (message: string) => void }) {
    this.parent = opts.tmpdir
    this.fits = opts.fits
    this.warn = opts.warn
    // Pages are taken from the system as they are first written, not here.
    this.arena = Buffer.allocUnsafeSlow(opts.budget.arena)
    this.chunk = Math.max(1024, Math.min(64 * 1024, Math.floor(opts.budget.arena / (8 * FANOUT))))
    for (let k = 0; k < 2 * FANOUT; k++) {
      this.segments.push([])
      this.chunkStart.push(0)
      this.chunkFill.push(0)
      this.chunkEnd.push(0)
      this.counts.push(0)
      this.bytes.push(0)
      this.fds.push(-1)
      this.ends.push(0)
    }
  }

  /** The temporary directory, once records went to files. */
  get directory (): string | undefined {
    return this.dir
  }

  add (side: number, hash: number, line: number, key: Buffer, keyLength: number, from: Buffer, start: number, end: number, contentStart: number, contentEnd: number): void {
    const k = side * FANOUT + (hash >>> SHIFT)
    const need = HEADER + keyLength + end - start
    this.counts[k]++
    this.bytes[k] += need
    if (this.chunkFill[k] + need > this.chunkEnd[k]) {
      if (this.dir === undefined) this.newChunk(k, need)
      else this.flush(k)
      if (need > this.chunkEnd[k] - this.chunkFill[k]) {
        // Larger than its partition's write buffer: straight to the file.
        const entry = Buffer.allocUnsafe(need)
        writeEntry(entry, 0, hash, line, key, keyLength, from, start, end, contentStart, contentEnd)
        this.writeBehind(k, entry, 0, need, -1)
        return
      }
    }
    this.chunkFill[k] += writeEntry(this.arena, this.chunkFill[k], hash, line, key, keyLength, from, start, end, contentStart, contentEnd)
  }

  /** A new chunk of the arena for partition k, or the switch to files when the arena is full. */
  private newChunk (k: number, need: number): void {
    const size = Math.max(this.chunk, need)
    if (this.top + size > this.arena.length) {
      this.spill()
      return
    }
    if (this.chunkFill[k] > this.chunkStart[k]) this.segments[k].push(this.chunkStart[k], this.chunkFill[k])
    this.chunkStart[k] = this.chunkFill[k] = this.top
    this.chunkEnd[k] = this.top += size
  }

  /** Every partition's records so far to its file; the arena becomes the files' write buffers. */
  private spill (): void {
    this.dir = mkdtempSync(join(this.parent, 'rec-diff-'))
    process.on('exit', this.removeAtExit)
    for (let k = 0; k < 2 * FANOUT; k++) {
      const seg = this.segments[k]
      if (this.chunkFill[k] > this.chunkStart[k]) seg.push(this.chunkStart[k], this.chunkFill[k])
      for (let i = 0; i < seg.length; i += 2) this.writeNow(k, this.arena, seg[i], seg[i + 1] - seg[i])
      this.segments[k] = []
    }
    this.size = Math.floor(this.arena.length / (2 * FANOUT + SPARE))
    for (let k = 0; k < 2 * FANOUT; k++) this.use(k, k)
    this.free = Array.from({ length: SPARE }, (_v, i) => 2 * FANOUT + i)
  }

  /** Partition k fills write buffer `slot` from now on. */
  private use (k: number, slot: number): void {
    this.chunkStart[k] = this.chunkFill[k] = slot * this.size
    this.chunkEnd[k] = (slot + 1) * this.size
  }

  private path (k: number): string {
    return join(this.dir as string, `${k < FANOUT ? 's' : 't'}${k % FANOUT}`)
  }

  private fd (k: number): number {
    if (this.fds[k] < 0) this.fds[k] = openTmp(this.path(k), 'w')
    return this.fds[k]
  }

  /** Appends to partition k's file, waiting for the system to take the bytes. */
  private writeNow (k: number, buf: Buffer, start: number, length: number): void {
    writeAll(this.fd(k), buf, start, length, this.ends[k], this.path(k))
    this.ends[k] += length
  }

  /** Appends to partition k's file in the background; `slot`, the write buffer it came from, is free again after. */
  private writeBehind (k: number, buf: Buffer, start: number, length: number, slot: number): void {
    const fd = this.fd(k)
    const path = this.path(k)
    let at = this.ends[k]
    this.ends[k] += length
    this.inFlight++
    const done = (err: unknown): void => {
      this.failure ??= err === undefined ? undefined : tmpError(err, path, 'write')
      if (slot >= 0) this.free.push(slot)
      if (--this.inFlight === 0 && this.closing) this.closeFiles()
      for (const wake of this.idle.splice(0)) wake()
    }
    const next = (): void => {
      write(fd, buf, start, length, at, (err, n) => {
        if (err !== null || length === n) {
          this.writing--
          this.queued.shift()?.()
          done(err ?? undefined)
          return
        }
        start += n
        at += n
        length -= n
        next()
      })
    }
    const begin = (): void => {
      this.writing++
      next()
    }
    if (this.writing < WRITERS) begin()
    else this.queued.push(begin)
  }

  /** Partition k's full write buffer to its file: in the background while a spare buffer is free. */
  private flush (k: number): void {
    const length = this.chunkFill[k] - this.chunkStart[k]
    if (length === 0) return
    const slot = this.free.pop()
    if (slot === undefined) {
      this.writeNow(k, this.arena, this.chunkStart[k], length)
      this.chunkFill[k] = this.chunkStart[k]
      return
    }
    this.writeBehind(k, this.arena, this.chunkStart[k], length, this.chunkStart[k] / this.size)
    this.use(k, slot)
  }

  /**
   * Resolves when half the spare write buffers are free (at once while records are in memory):
   * called before each chunk of input, so that its records rarely wait for a write. Throws the
   * first failed background write.
   */
  async ready (): Promise<void> {
    while (this.dir !== undefined && this.inFlight > 0 && this.free.length < SPARE / 2) await new Promise<void>((resolve) => this.idle.push(resolve))
    if (this.failure !== undefined) throw this.failure
  }

  private async drained (): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve))
    if (this.failure !== undefined) throw this.failure
  }

  /**
   * Calls `compare` with each partition's records, one partition at a time, in partition order;
   * stops early when `stop()` says so. The files are removed as they are read.
   */
  async each (compare: (loaded: Loaded) => Promise<void>, stop: () => boolean): Promise<void> {
    if (this.dir === undefined) {
      for (let p = 0; p < FANOUT && !stop(); p++) {
        const seg: [number[], number[]] = [[], []]
        for (const side of [0, 1]) {
          const k = side * FANOUT + p
          seg[side] = [...this.segments[k], ...(this.chunkFill[k] > this.chunkStart[k] ? [this.chunkStart[k], this.chunkFill[k]] : [])]
        }
        if (this.counts[p] + this.counts[FANOUT + p] > 0) await compare({ buf: this.arena, segments: seg, counts: [this.counts[p], this.counts[FANOUT + p]] })
      }
      return
    }
    for (let k = 0; k < 2 * FANOUT; k++) this.flush(k)
    await this.drained()
    this.closeFiles()
    for (let p = 0; p < FANOUT && !stop(); p++) {
      await this.eachOf({ paths: [this.path(p), this.path(FANOUT + p)], counts: [this.counts[p], this.counts[FANOUT + p]], bytes: [this.bytes[p], this.bytes[FANOUT + p]], level: 0 }, compare, stop)
    }
  }

  private async eachOf (part: FilePart, compare: (loaded: Loaded) => Promise<void>, stop: () => boolean): Promise<void> {
    const total = part.bytes[0] + part.bytes[1]
    if (total === 0 || stop()) return
    if (this.fits(part.counts, part.bytes)) {
      this.load(part, this.arena)
      await compare({ buf: this.arena, segments: [[0, part.bytes[0]], [part.bytes[0], total]], counts: part.counts })
      return
    }
    if (part.level < MAX_LEVEL) {
      for (const child of this.split(part)) await this.eachOf(child, compare, stop)
      return
    }
    // Split MAX_LEVEL times and still too large: the records share a few keys (a key given
    // many times in one input); each is a record error, but they must be read to say so.
    this.warn(`a partition of ${part.counts[0] + part.counts[1]} records (${formatBytes(total)}) is larger than --memory allows, and splitting it again does not help: it is compared in memory all the same`)
    const buf = Buffer.allocUnsafe(total)
    this.load(part, buf)
    await compare({ buf, segments: [[0, part.bytes[0]], [part.bytes[0], total]], counts: part.counts })
  }

  private load (part: FilePart, buf: Buffer): void {
    let at = 0
    for (const side of [0, 1]) {
      if (part.bytes[side] === 0) continue
      const fd = openTmp(part.paths[side], 'r')
      try {
        readAll(fd, buf, at, part.bytes[side], part.paths[side])
      } finally {
        closeSync(fd)
      }
      unlinkSync(part.paths[side])
      at += part.bytes[side]
    }
  }

  /** Splits a partition's two files into FANOUT parts each, by the next level's hash. */
  private split (part: FilePart): FilePart[] {
    const level = part.level + 1
    const children: FilePart[] = Array.from({ length: FANOUT }, (_v, q) => ({
      paths: [`${part.paths[0]}.${q}`, `${part.paths[1]}.${q}`], counts: [0, 0], bytes: [0, 0], level
    }))
    const arena = this.arena
    const readSize = Math.floor(arena.length / 4)
    const size = Math.floor((arena.length - readSize) / FANOUT)
    for (const side of [0, 1]) {
      if (part.bytes[side] === 0) continue
      const fds = new Array<number>(FANOUT).fill(-1)
      const written = new Array<number>(FANOUT).fill(0)
      const fill = Array.from({ length: FANOUT }, (_v, q) => readSize + q * size)
      const out = (q: number, buf: Buffer, start: number, length: number): void => {
        const path = children[q].paths[side]
        if (fds[q] < 0) fds[q] = openTmp(path, 'w')
        writeAll(fds[q], buf, start, length, written[q], path)
        written[q] += length
      }
      const flush = (q: number): void => {
        const start = readSize + q * size
        if (fill[q] > start) out(q, arena, start, fill[q] - start)
        fill[q] = start
      }
      const fd = openTmp(part.paths[side], 'r')
      try {
        let left = part.bytes[side]
        let have = 0
        while (left > 0 || have > 0) {
          const n = Math.min(left, readSize - have)
          readAll(fd, arena, have, n, part.paths[side])
          left -= n
          have += n
          let at = 0
          while (at + HEADER <= have && at + entryLength(arena, at) <= have) {
            const length = entryLength(arena, at)
            const q = hashKey(arena, at + HEADER, at + HEADER + entryKeyLength(arena, at), level) >>> SHIFT
            children[q].counts[side]++
            children[q].bytes[side] += length
            if (fill[q] + length > readSize + (q + 1) * size) flush(q)
            if (length > size) out(q, arena, at, length)
            else {
              arena.copy(arena, fill[q], at, at + length)
              fill[q] += length
            }
            at += length
          }
          if (at === 0 && have > 0 && (have === readSize || left === 0)) {
            // One entry larger than the read buffer: read the rest of it on its own.
            const length = entryLength(arena, 0)
            const entry = Buffer.allocUnsafe(length)
            arena.copy(entry, 0, 0, have)
            readAll(fd, entry, have, length - have, part.paths[side])
            left -= length - have
            const q = hashKey(entry, HEADER, HEADER + entryKeyLength(entry, 0), level) >>> SHIFT
            children[q].counts[side]++
            children[q].bytes[side] += length
            flush(q)
            out(q, entry, 0, length)
            have = 0
            continue
          }
          arena.copy(arena, 0, at, have)
          have -= at
        }
        for (let q = 0; q < FANOUT; q++) flush(q)
      } finally {
        closeSync(fd)
        for (const f of fds) if (f >= 0) closeSync(f)
      }
      unlinkSync(part.paths[side])
    }
    return children
  }

  private closeFiles (): void {
    for (let k = 0; k < this.fds.length; k++) {
      if (this.fds[k] >= 0) close(this.fds[k], () => {})
      this.fds[k] = -1
    }
  }

  /** Removes the temporary directory and everything in it (the files of writes still under way are closed once they end). */
  remove (): void {
    if (this.inFlight === 0) this.closeFiles()
    else this.closing = true
    if (this.dir === undefined) return
    rmSync(this.dir, { recursive: true, force: true })
    process.removeListener('exit', this.removeAtExit)
  }
}

function tmpError (err: unknown, path: string, what: string): EspipeError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO'
  return new EspipeError(code, `cannot ${what} the temporary file ${path}: ${(err as Error).message} (--tmpdir picks another place)`, { context: { file: path }, cause: err, exitCode: 2 })
}

function openTmp (path: string, flags: 'r' | 'w'): number {
  try {
    return openSync(path, flags, 0o600)
  } catch (err) {
    throw tmpError(err, path, flags === 'r' ? 'read' : 'write')
  }
}

function writeAll (fd: number, buf: Buffer, start: number, length: number, at: number, path: string): void {
  try {
    while (length > 0) {
      const n = writeSync(fd, buf, start, length, at)
      start += n
      at += n
      length -= n
    }
  } catch (err) {
    throw tmpError(err, path, 'write')
  }
}

function readAll (fd: number, buf: Buffer, at: number, length: number, path: string): void {
  try {
    while (length > 0) {
      const n = readSync(fd, buf, at, length, null)
      if (n === 0) throw new Error('the file is shorter than what was written to it')
      at += n
      length -= n
    }
  } catch (err) {
    throw tmpError(err, path, 'read')
  }
}
