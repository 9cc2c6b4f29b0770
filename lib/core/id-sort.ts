import { mkdtemp, open, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StringDecoder } from 'node:string_decoder'

/** When a writer sorts by id: auto once the input proves unordered (see IdOrderWatch), always, or never. */
export type SortIds = 'auto' | 'always' | 'never'
export const SORT_IDS: readonly SortIds[] = ['auto', 'always', 'never']

/** A record held for sorting: its key, where it came from, and its original line. */
export interface SortEntry {
  key: string
  line?: number
  file?: string
  text: string
  /** With `range`: the row can be rebuilt from the line without parsing it again. */
  id?: string
  range?: [number, number]
}

const byKey = (a: SortEntry, b: SortEntry): number => a.key < b.key ? -1 : a.key > b.key ? 1 : 0

/**
 * External merge sort by id: records are gathered in runs of about `runBytes`, each run is
 * sorted (stably, so equal ids keep stream order) and spilled to a temporary file, and the
 * runs are merged back in id order. Memory stays at one run whatever the input size.
 * Why: inserting random ids into a B-tree larger than the buffer pool reads a page per row;
 * inserting them in key order appends.
 */
export class IdSorter {
  private entries: SortEntry[] = []
  private bytes = 0
  private dir: string | undefined
  private runs: string[] = []

  /** `prefix`: the temporary directory's name starts so (the tool's name says whose it is). */
  constructor (private readonly runBytes = 8 * 1024 * 1024, private readonly baseDir = tmpdir(), private readonly prefix = 'espipe-sort-') {}

  get spilled (): number {
    return this.runs.length
  }

  /** Adds an entry; returns a promise when a run is being spilled (wait for it: backpressure). */
  add (e: SortEntry): Promise<void> | undefined {
    this.entries.push(e)
    this.bytes += e.text.length + e.key.length + 32
    return this.bytes >= this.runBytes ? this.spill() : undefined
  }

  private async spill (): Promise<void> {
    const entries = this.entries.sort(byKey)
    this.entries = []
    this.bytes = 0
    this.dir ??= await mkdtemp(join(this.baseDir, this.prefix))
    const file = join(this.dir, `run-${this.runs.length}.txt`)
    const out = await open(file, 'w')
    try {
      // In pieces of about 1 MiB: one string of the whole run would double the run's memory.
      let piece = ''
      for (const e of entries) {
        // The header is JSON, so it holds no raw tab; after the tab is the record as it came.
        const head = e.range === undefined ? [e.key, e.line ?? null, e.file ?? null] : [e.key, e.line ?? null, e.file ?? null, e.id, e.range[0], e.range[1]]
        piece += JSON.stringify(head) + '\t' + e.text + '\n'
        if (piece.length >= 1 << 20) { await out.write(piece); piece = '' }
      }
      if (piece !== '') await out.write(piece)
    } finally {
      await out.close()
    }
    this.runs.push(file)
  }

  /** Every entry in key order (stream order among equal keys). */
  async * drain (): AsyncGenerator<SortEntry> {
    if (this.runs.length === 0) {
      const entries = this.entries.sort(byKey)
      this.entries = []
      yield * entries
      return
    }
    if (this.entries.length > 0) await this.spill()
    const readers = await Promise.all(this.runs.map(async (f) => new RunReader(await open(f, 'r'))))
    const heads: Array<SortEntry | undefined> = []
    const next = async (i: number): Promise<void> => {
      const text = await readers[i].next()
      if (text === undefined) { heads[i] = undefined; return }
      const tab = text.indexOf('\t')
      const [key, line, file, id, start, end] = JSON.parse(text.slice(0, tab)) as [string, number | null, string | null, string?, number?, number?]
      heads[i] = { key, line: line ?? undefined, file: file ?? undefined, text: text.slice(tab + 1), id, range: start === undefined || end === undefined ? undefined : [start, end] }
    }
    try {
      for (let i = 0; i < readers.length; i++) await next(i)
      yield * this.merge(heads, next)
    } finally {
      await Promise.all(readers.map(async (r) => await r.close()))
    }
  }

  /** A k-way merge over a binary heap of run indexes. */
  private async * merge (heads: Array<SortEntry | undefined>, next: (i: number) => Promise<void>): AsyncGenerator<SortEntry> {
    // Ties go to the earlier run, which holds the earlier records: the merge is stable.
    const less = (a: number, b: number): boolean => {
      const ka = (heads[a] as SortEntry).key
      const kb = (heads[b] as SortEntry).key
      return ka < kb || (ka === kb && a < b)
    }
    const heap = heads.map((_h, i) => i).filter((i) => heads[i] !== undefined)
    const down = (at: number): void => {
      for (;;) {
        const l = 2 * at + 1
        const r = l + 1
        let m = at
        if (l < heap.length && less(heap[l], heap[m])) m = l
        if (r < heap.length && less(heap[r], heap[m])) m = r
        if (m === at) return
        const t = heap[at]; heap[at] = heap[m]; heap[m] = t
        at = m
      }
    }
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i)
    while (heap.length > 0) {
      const top = heap[0]
      const e = heads[top] as SortEntry
      await next(top)
      if (heads[top] === undefined) {
        const last = heap.pop() as number
        if (heap.length > 0 && last !== top) heap[0] = last
      }
      down(0)
      yield e
    }
  }

  async dispose (): Promise<void> {
    this.entries = []
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true })
    this.dir = undefined
  }
}

/**
 * Whether ids arrive in order, judged on the first `sample` rows: more than one in ten lower
 * than the one before means unordered. Ids that arrive in order append to the index; ids in
 * random order need sorting first, or every row costs a random page read once the table
 * outgrows the server's buffer pool.
 */
export class IdOrderWatch {
  private last: string | undefined
  private seen = 0
  private descents = 0

  constructor (private readonly sample = 2000) {}

  /** True once: at the row that proves the keys unordered. */
  unordered (key: string): boolean {
    if (this.seen >= this.sample) return false
    if (this.last !== undefined && key < this.last) this.descents++
    this.last = key
    return ++this.seen === this.sample && this.descents > this.sample / 10
  }
}

/**
 * Lines of one run file, read 32 KiB at a time. (readline's iterator queues up to 1024 lines
 * per file ahead of the reader: with dozens of runs open that was tens of MB.)
 */
class RunReader {
  private buf = ''
  private pos = 0
  private eof = false
  private readonly chunk = Buffer.allocUnsafe(32 * 1024)
  private readonly decoder = new StringDecoder('utf8')

  constructor (private readonly fh: FileHandle) {}

  async next (): Promise<string | undefined> {
    for (;;) {
      const nl = this.buf.indexOf('\n', this.pos)
      if (nl >= 0) {
        const line = this.buf.slice(this.pos, nl)
        this.pos = nl + 1
        return line
      }
      if (this.eof) return undefined
      const { bytesRead } = await this.fh.read(this.chunk, 0, this.chunk.length, null)
      if (bytesRead === 0) this.eof = true
      this.buf = this.buf.slice(this.pos) + this.decoder.write(this.chunk.subarray(0, bytesRead))
      this.pos = 0
    }
  }

  async close (): Promise<void> {
    await this.fh.close()
  }
}
