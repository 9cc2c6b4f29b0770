import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * The inputs of rec-diff's round trips on the engines (diff.test.ts, and diff-deletes.test.ts for the delete half): SOURCE as a file, and the documents of a stale copy,
 * every 10th missing, every 7th changed, and `extra` ones SOURCE lacks.
 */
export const N = 3000

/** Sources as text: 2^53+1, 1.0, -0 and escapes must come back as they went, or rec-diff says so. */
export const source = (i: number, v = 0): string => `{"n":${i},"v":${v},"k":"k${i % 7}","raw":{"big":900719925474099${i % 10},"f":1.0,"z":-0,"s":"é\\u00e9 \\"q\\" 𝄞"}}`
export const MAPPINGS = { properties: { n: { type: 'long' }, v: { type: 'long' }, k: { type: 'keyword' }, raw: { type: 'object', enabled: false } } }

export interface EngineInputs {
  sourceFile: string
  stale: Array<{ _id: string, source: string }>
  missing: number
  changed: number
  extra: number
}

export function engineInputs (t: { teardown: (fn: () => void) => void }, extra = 0): EngineInputs {
  const tmp = mkdtempSync(join(tmpdir(), 'espipe-engine-diff-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const sourceFile = join(tmp, 'source.ndjson')
  writeFileSync(sourceFile, Array.from({ length: N }, (_v, i) => `{"_index":"logs","_id":"d${i}","_source":${source(i)}}`).join('\n') + '\n')
  const kept = Array.from({ length: N }, (_v, i) => i).filter((i) => i % 10 !== 3)
  const more = Array.from({ length: extra }, (_v, k) => N + k)
  return {
    sourceFile,
    stale: [...kept, ...more].map((i) => ({ _id: `d${i}`, source: source(i, i < N && i % 7 === 0 ? 1 : 0) })),
    missing: N - kept.length,
    changed: kept.filter((i) => i % 7 === 0).length,
    extra
  }
}

/** 3000 → `3,000`, as the summary writes counts. */
export const n = (x: number): string => x.toLocaleString('en-US')
