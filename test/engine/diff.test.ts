// rec-diff against a real OpenSearch node and the project's test server in both dialects (see
// targets.ts): verify a copy, repair it with es-write, verify again. The repair writes the
// `index` operations (missing and changed records); the deletes are diff-deletes.test.ts.
import t from 'tap'
import { runShell } from '../helpers/run.js'
import { call, seed, targets } from './targets.js'
import { MAPPINGS, N, engineInputs, n, source } from './diff-inputs.js'

const { sourceFile, stale, missing, changed } = engineInputs(t)

const INDEX = 'engine-diff-copy'
const all = await targets(t)

for (const target of all) {
  t.test(`${target.name}: rec-diff finds what the copy lacks, es-write repairs it, rec-diff then exits 0`, async (t) => {
    await seed(target, INDEX, MAPPINGS, stale)
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
