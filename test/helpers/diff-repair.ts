import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { testDatabase } from './mysql.js'
import type { TestDatabase } from './mysql.js'

/**
 * The inputs of rec-diff's repair round trips (test/diff/repair.test.ts, and repair-deletes.test.ts
 * for the delete half): SOURCE, and a stale TARGET with every 10th record missing, every
 * 7th changed, and `extra` records SOURCE lacks.
 */
export const N = 3000

/**
 * A record with the values a copy must keep: 2^53+1, 1.0, -0, escapes, astral characters,
 * nesting; `huge` adds 1e400, which a MySQL JSON column keeps as text and Elasticsearch refuses
 * in a float field.
 */
export const doc = (i: number, v = 0, huge = false): string => `{"_index":"logs","_id":"r${i}","_source":{"n":${i},"v":${v},"big":900719925474099${i % 10},"f":1.0,"z":-0,${huge ? '"e":1e400,' : ''}"s":"é \\"q\\" 𝄞 ${i}","tags":["a","b"],"o":{"d":"2024-01-0${(i % 9) + 1}T00:00:00Z"}}}`

export interface RepairInputs {
  source: string
  stale: string
  missing: number
  changed: number
  extra: number
}

export function repairInputs (dir: string, name: string, opts: { huge?: boolean, extra?: number } = {}): RepairInputs {
  const kept = Array.from({ length: N }, (_v, i) => i).filter((i) => i % 10 !== 3)
  const extra = Array.from({ length: opts.extra ?? 0 }, (_v, k) => N + k)
  const source = join(dir, `${name}-source.ndjson`)
  const stale = join(dir, `${name}-stale.ndjson`)
  writeFileSync(source, Array.from({ length: N }, (_v, i) => doc(i, 0, opts.huge)).join('\n') + '\n')
  writeFileSync(stale, [...kept.map((i) => doc(i, i % 7 === 0 ? 1 : 0, opts.huge)), ...extra.map((i) => doc(i, 0, opts.huge))].join('\n') + '\n')
  return { source, stale, missing: N - kept.length, changed: kept.filter((i) => i % 7 === 0).length, extra: extra.length }
}

/** 3000 → `3,000`, as the summary writes counts. */
export const n = (x: number): string => x.toLocaleString('en-US')

/** The copies' homes: a database of the test file's own and the Elasticsearch test server, both gone at the end. */
export async function copies (t: { teardown: (fn: () => Promise<void> | void) => void }, label: string): Promise<{ db: TestDatabase, es: EsTestServer }> {
  const db = await testDatabase(t, label)
  const es = await startEsServer()
  t.teardown(async () => { await es.close() })
  return { db, es }
}
