import { createReadStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** A record held for sorting: its key, where it came from, and its original line. */
export interface SortEntry {
  key: string
  line?: number
  file?: string
  text: string
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

  constructor (private readonly runBytes = 32 * 1024 * 1024, private readonly baseDir = tmpdir()) {}

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
    this.dir ??= await mkdtemp(join(this.baseDir, 'mysql-write-'))
    const file = join(this.dir, `run-${this.runs.length}.txt`)
    // The header is JSON, so it holds no raw tab; the line after the tab is the record as it came.
    const lines = entries.map((e) => JSON.stringify([e.key, e.line ?? null, e.file ?? null]) + '\t' + e.text)
    await writeFile(file, lines.join('\n') + '\n')
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
    const readers = this.runs.map((f) => createInterface({ input: createReadStream(f, { highWaterMark: 256 * 1024 }), crlfDelay: Infinity })[Symbol.asyncIterator]())
    const heads: Array<SortEntry | undefined> = []
    const next = async (i: number): Promise<void> => {
      const r = await readers[i].next()
      if (r.done === true) { heads[i] = undefined; return }
      const tab = r.value.indexOf('\t')
      const [key, line, file] = JSON.parse(r.value.slice(0, tab)) as [string, number | null, string | null]
      heads[i] = { key, line: line ?? undefined, file: file ?? undefined, text: r.value.slice(tab + 1) }
    }
    for (let i = 0; i < readers.length; i++) await next(i)
    for (;;) {
      // Ties go to the earlier run, which holds the earlier records: the merge is stable.
      let min = -1
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i]
        if (h !== undefined && (min < 0 || h.key < (heads[min] as SortEntry).key)) min = i
      }
      if (min < 0) break
      const e = heads[min] as SortEntry
      await next(min)
      yield e
    }
  }

  async dispose (): Promise<void> {
    this.entries = []
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true })
    this.dir = undefined
  }
}
