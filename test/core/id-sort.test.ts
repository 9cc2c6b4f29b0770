import t from 'tap'
import { readdirSync } from 'node:fs'
import type { SortEntry } from '../../lib/core/id-sort.js'
import { IdOrderWatch, IdSorter } from '../../lib/core/id-sort.js'
import { scratchDir } from '../helpers/run.js'

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 2 ** 32
  }
}

/** 6000 entries over 2000 keys (each key three times, `n` in stream order), shuffled. */
function entries (): SortEntry[] {
  const r = rng(7)
  const out: SortEntry[] = []
  const seen = new Map<string, number>()
  for (let i = 0; i < 6000; i++) {
    const key = `k${Math.floor(r() * 2000)}`
    const n = (seen.get(key) ?? 0) + 1
    seen.set(key, n)
    const text = JSON.stringify({ _id: key, _source: { n, note: 'tab\there, é 😀' } })
    out.push(i % 2 === 0
      ? { key, line: i + 1, file: 'in.ndjson', text, id: key, range: [text.indexOf('{"n"'), text.length - 1] }
      : { key, line: i + 1, text })
  }
  return out
}

const inOrder = (got: SortEntry[], want: SortEntry[]): boolean => {
  // Key order, and stream order (line) among equal keys.
  const expected = [...want].sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : (a.line ?? 0) - (b.line ?? 0))
  return got.length === expected.length && got.every((e, i) => e.key === expected[i].key && e.line === expected[i].line)
}

t.test('runs spilled to temporary files merge back in id order, equal ids in stream order, entries whole', async (t) => {
  const base = scratchDir(t)
  const sorter = new IdSorter(64 * 1024, base, 'id-sort-test-')
  const all = entries()
  for (const e of all) await sorter.add(e)
  t.ok(sorter.spilled > 1, `spilled ${sorter.spilled} runs`)
  t.strictSame(readdirSync(base).filter((n) => n.startsWith('id-sort-test-')).length, 1, 'one temporary directory, with the prefix')
  const got: SortEntry[] = []
  for await (const e of sorter.drain()) got.push(e)
  t.ok(inOrder(got, all), 'key order, stable')
  const byLine = new Map(all.map((e) => [e.line, e]))
  t.strictSame(got.find((e) => !(JSON.stringify(e) === JSON.stringify(byLine.get(e.line)))), undefined, 'text, file, id and range as added')
  await sorter.dispose()
  t.strictSame(readdirSync(base), [], 'the temporary directory is removed')
})

t.test('a run that fits in memory is sorted without a file', async (t) => {
  const base = scratchDir(t)
  const sorter = new IdSorter(64 * 1024 * 1024, base)
  const all = entries()
  const spills = all.map((e) => sorter.add(e)).filter((p) => p !== undefined)
  t.equal(spills.length, 0, 'no add had to wait for a spill')
  const got: SortEntry[] = []
  for await (const e of sorter.drain()) got.push(e)
  t.equal(sorter.spilled, 0)
  t.ok(inOrder(got, all))
  t.strictSame(readdirSync(base), [], 'nothing written')
  await sorter.dispose()
})

t.test('IdOrderWatch: ordered ids never call for sorting; shuffled ones once, at the end of the sample', async (t) => {
  const ordered = new IdOrderWatch(100)
  const calls = Array.from({ length: 500 }, (_v, i) => ordered.unordered(`doc-${String(i).padStart(5, '0')}`))
  t.equal(calls.filter(Boolean).length, 0)

  const r = rng(3)
  const shuffled = new IdOrderWatch(100)
  const hits = Array.from({ length: 500 }, () => shuffled.unordered(`doc-${Math.floor(r() * 1e6)}`)).flatMap((v, i) => v ? [i] : [])
  t.strictSame(hits, [99], 'true once, at the 100th id')

  // A few descents (under one in ten) are not disorder: ids arriving in order with late stragglers.
  const mostly = new IdOrderWatch(100)
  const few = Array.from({ length: 200 }, (_v, i) => mostly.unordered(i % 20 === 19 ? 'a' : `doc-${String(i).padStart(5, '0')}`))
  t.equal(few.filter(Boolean).length, 0)
})
