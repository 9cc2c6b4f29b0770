// rec-diff against a real OpenSearch node and the project's test server in both dialects (see
// targets.ts): verify a copy, repair it with es-write, verify again. The repair writes the
// `index` operations (missing and changed records); deletes wait for writers that honour "_op".
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runShell } from '../helpers/run.js'
import { call, seed, targets } from './targets.js'

const N = 3000
const INDEX = 'engine-diff-copy'
/** Sources as text: 2^53+1, 1.0, -0 and escapes must come back as they went, or rec-diff says so. */
const source = (i: number, v = 0): string => `{"n":${i},"v":${v},"k":"k${i % 7}","raw":{"big":900719925474099${i % 10},"f":1.0,"z":-0,"s":"é\\u00e9 \\"q\\" 𝄞"}}`
const MAPPINGS = { properties: { n: { type: 'long' }, v: { type: 'long' }, k: { type: 'keyword' }, raw: { type: 'object', enabled: false } } }

const tmp = mkdtempSync(join(tmpdir(), 'espipe-engine-diff-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
const sourceFile = join(tmp, 'source.ndjson')
writeFileSync(sourceFile, Array.from({ length: N }, (_v, i) => `{"_index":"logs","_id":"d${i}","_source":${source(i)}}`).join('\n') + '\n')
/** The stale copy: every 10th document missing, every 7th changed. */
const kept = Array.from({ length: N }, (_v, i) => i).filter((i) => i % 10 !== 3)
const missing = N - kept.length
const changed = kept.filter((i) => i % 7 === 0).length
const n = (x: number): string => x.toLocaleString('en-US')

const all = await targets(t)

for (const target of all) {
  t.test(`${target.name}: rec-diff finds what the copy lacks, es-write repairs it, rec-diff then exits 0`, async (t) => {
    await seed(target, INDEX, MAPPINGS, kept.map((i) => ({ _id: `d${i}`, source: source(i, i % 7 === 0 ? 1 : 0) })))
    const env = { ...process.env, ES_URL: target.url }
    const read = `es-read -q --index ${INDEX} --size 1000`
    const before = await runShell(`rec-diff -q ${sourceFile} <(${read})`, { env })
    t.equal(before.code, 1, 'the copy differs')
    t.match(before.stderr, `rec-diff: ${n(N)} compared: ${n(N - missing - changed)} same, ${missing} missing, ${changed} changed, 0 extra`)

    const repair = await runShell(`rec-diff ${sourceFile} <(${read}) | es-write --index ${INDEX} --refresh; echo "statuses \${PIPESTATUS[*]}"`, { env })
    t.match(repair.stdout, 'statuses 1 0', repair.stderr.slice(-500))
    t.match(repair.stderr, `es-write: ${missing + changed} read, ${missing} created, ${changed} updated, 0 deleted, 0 skipped, 0 failed`, 'es-write takes "_op" for one more member and writes _source')

    const after = await runShell(`rec-diff ${sourceFile} <(${read})`, { env })
    t.equal(after.code, 0, after.stderr.slice(-500))
    t.equal(after.stdout, '')
    t.match(after.stderr, `rec-diff: ${n(N)} compared: ${n(N)} same, 0 missing, 0 changed, 0 extra`)
    const got = await call(target, 'GET', `/${INDEX}/_doc/d3`)
    t.match(got.text, `"_source":${source(3)}`, 'a repaired document: SOURCE\'s bytes')
  })
}
