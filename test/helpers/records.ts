/** Deterministic test records in the Elasticsearch hit shape. */
export interface MakeOptions {
  /** Ids in a shuffled order (like Elasticsearch's generated ids) instead of ascending. */
  shuffled?: boolean
  prefix?: string
  start?: number
}

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 2 ** 32
  }
}

export function makeRecords (n: number, opts: MakeOptions = {}): Array<{ _id: string, _source: Record<string, unknown> }> {
  const start = opts.start ?? 0
  const ids = Array.from({ length: n }, (_v, i) => `${opts.prefix ?? 'doc'}-${String(start + i).padStart(9, '0')}`)
  if (opts.shuffled === true) {
    const r = rng(n)
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1))
      const tmp = ids[i]; ids[i] = ids[j]; ids[j] = tmp
    }
  }
  return ids.map((id, i) => ({
    _index: 'test',
    _id: id,
    _source: { n: i, title: `record ${id}`, emoji: '𝄞 😀 ok', nested: { tags: ['a', 'b'], score: i / 7 }, nothing: null }
  }))
}

export function ndjson (records: readonly unknown[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n'
}
