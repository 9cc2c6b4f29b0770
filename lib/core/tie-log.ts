import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { EspipeError } from './errors.js'

/**
 * The records of an ordered read that share one value of what orders it (a tie group), in the
 * order they went downstream. A read ordered by a field that is not unique (a timestamp) resumes
 * after the k-th record of a group, and must then leave out exactly the k records before it in
 * that group, whose order no later read reproduces (Elasticsearch orders ties by `_shard_doc`,
 * which holds only within one point in time). So the keys of a group of two or more records are
 * written to FILE (beside the checkpoint) and synced before any of them goes downstream; a
 * record's position then says only (value, k, its own key), however large its group.
 *
 * A line of FILE is `["VALUE","KEY"]`: the value as its sort value's JSON text, the key as the
 * connector makes it. The current group is also held in memory: the next round leaves it out.
 */
export interface TieAt {
  /** The value of the group, as JSON text. */
  value: string
  /** The record's rank in its group, from 1. */
  k: number
  /** The record's key. */
  key: string
}

/** Lines written since the last compaction after which the file is cut back to what is not committed. */
const COMPACT_LINES = 20_000

export class TieLog {
  private value: string | undefined
  private members: string[] = []
  /** Members of the current group already in the file. */
  private logged = 0
  /** Lines to write before the records noted go downstream. */
  private pending: string[] = []
  private fd: number | undefined
  private grown = 0
  private compactAt = COMPACT_LINES

  /**
   * @param file where groups are kept (none: in memory only, for a read without a checkpoint)
   * @param compare orders two values as the read does (for cutting the file back)
   * @param committed the value of the committed position now (the rerun's start), if known
   */
  constructor (readonly file: string | undefined, private readonly compare: (a: string, b: string) => number, private readonly committed: () => string | undefined = () => undefined) {}

  /**
   * Starts after `at` (undefined: from the beginning of the read) and returns the keys of the
   * first `at.k` records of its group, which the read must leave out. The file is rewritten to
   * hold just them: the group goes on from there.
   */
  resume (at: TieAt | undefined): string[] {
    this.close()
    this.value = at?.value
    this.members = []
    if (at !== undefined) {
      if (at.k <= 1) {
        this.members = [at.key]
      } else {
        const found = this.readGroup(at.value, at.k)
        if (found.length < at.k || found[at.k - 1] !== at.key) {
          throw new EspipeError('ECHECKPOINT_TIES', `${this.file ?? 'the tie log'} does not hold the ${at.k} records that share the checkpoint's last value ${at.value} (it holds ${found.length}${found.length >= at.k ? ', the last another record' : ''}): without them the read cannot tell which of them were written; delete the checkpoint and ${this.file ?? ''} to start over`, { context: { file: this.file } })
        }
        this.members = found.slice(0, at.k)
      }
    }
    this.logged = this.members.length > 1 ? this.members.length : 0
    this.pending = []
    if (this.file !== undefined) {
      this.rewrite(this.logged > 0 ? this.members.map((key) => line(at?.value as string, key)) : [])
      this.fd = openSync(this.file, 'a')
    }
    return [...this.members]
  }

  /** The next record to go downstream, of value `value` with key `key`: its rank in its group. */
  add (value: string, key: string): number {
    if (value !== this.value) {
      this.value = value
      this.members = [key]
      this.logged = 0
      return 1
    }
    this.members.push(key)
    if (this.logged === 0) {
      // The group's first record went out alone: it is written now, with the second.
      this.pending.push(line(value, this.members[0]))
      this.logged = 1
    }
    this.pending.push(line(value, key))
    this.logged++
    return this.members.length
  }

  /** Writes (and syncs) what add() noted: call it before those records go downstream. */
  flush (): void {
    if (this.pending.length === 0) return
    const text = this.pending.join('')
    const n = this.pending.length
    this.pending = []
    if (this.fd === undefined) return
    try {
      writeSync(this.fd, text)
      fsyncSync(this.fd)
    } catch (err) {
      throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot write ${this.file ?? ''}: ${(err as Error).message}`, { context: { file: this.file }, cause: err })
    }
    this.grown += n
    if (this.grown >= this.compactAt) this.compact()
  }

  /** The current group: its value and its records' keys, in order (what the next round leaves out). */
  get group (): { value: string, keys: readonly string[] } | undefined {
    return this.value === undefined ? undefined : { value: this.value, keys: this.members }
  }

  close (): void {
    if (this.fd === undefined) return
    try { closeSync(this.fd) } catch {}
    this.fd = undefined
  }

  /**
   * Cuts the file back to the groups from the committed position's value on (a rerun needs no
   * other); while that is unknown, looks again only after as many lines more.
   */
  private compact (): void {
    const from = this.committed()
    this.grown = 0
    if (from === undefined || this.file === undefined) {
      this.compactAt *= 2
      return
    }
    this.compactAt = COMPACT_LINES
    const keep = this.lines().filter(([value]) => this.compare(value, from) >= 0).map(([value, key]) => line(value, key))
    this.close()
    this.rewrite(keep)
    this.fd = openSync(this.file, 'a')
  }

  /** The first `k` keys of group `value` in the file. */
  private readGroup (value: string, k: number): string[] {
    const out: string[] = []
    for (const [v, key] of this.lines()) {
      if (v !== value) continue
      out.push(key)
      if (out.length === k) break
    }
    return out
  }

  private lines (): Array<[string, string]> {
    if (this.file === undefined) return []
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot read ${this.file}: ${(err as Error).message}`, { context: { file: this.file } })
    }
    const out: Array<[string, string]> = []
    for (const l of text.split('\n')) {
      if (l === '') continue
      let pair: unknown
      try { pair = JSON.parse(l) } catch {}
      // A line cut by a crash mid-write was never synced, so no position names it.
      if (Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string') out.push([pair[0], pair[1]])
    }
    return out
  }

  /** Replaces the file with `lines`, atomically (written beside, synced, renamed). */
  private rewrite (lines: string[]): void {
    const file = this.file as string
    const tmp = `${file}.tmp-${process.pid}`
    try {
      const fd = openSync(tmp, 'w')
      try {
        if (lines.length > 0) writeSync(fd, lines.join(''))
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(tmp, file)
    } catch (err) {
      try { rmSync(tmp, { force: true }) } catch {}
      throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot write ${file}: ${(err as Error).message}`, { context: { file }, cause: err })
    }
  }
}

function line (value: string, key: string): string {
  return JSON.stringify([value, key]) + '\n'
}
