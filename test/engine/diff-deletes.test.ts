// The delete half of rec-diff's repair round trip against the real engines (and the test
// server in both dialects), with an es-write that honours the "_op" member (issue 24): the copy
// holds documents SOURCE lacks, rec-diff writes {"_index","_id","_op":"delete"} for them,
// es-write deletes them, and rec-diff again exits 0.
import t from 'tap'
import { runShell } from '../helpers/run.js'
import { call, seed, targets } from './targets.js'
import { MAPPINGS, N, engineInputs, n } from './diff-inputs.js'

const { sourceFile, stale, missing, changed, extra } = engineInputs(t, 150)

const INDEX = 'engine-diff-deletes'
const all = await targets(t)

for (const target of all) {
  t.test(`${target.name}: the deletes apply, and rec-diff then exits 0`, async (t) => {
    await seed(target, INDEX, MAPPINGS, stale)
    const env = { ...process.env, ES_URL: target.url }
    const read = `es-read -q --index ${INDEX} --size 1000`
    const before = await runShell(`rec-diff -q ${sourceFile} <(${read})`, { env })
    t.equal(before.code, 1, 'the copy differs')
    t.match(before.stderr, `rec-diff: ${n(N + extra)} compared: ${n(N - missing - changed)} same, ${missing} missing, ${changed} changed, ${extra} extra`)

    const repair = await runShell(`rec-diff ${sourceFile} <(${read}) | es-write --index ${INDEX} --refresh; echo "statuses \${PIPESTATUS[*]}"`, { env })
    t.match(repair.stdout, 'statuses 1 0', repair.stderr.slice(-500))
    t.match(repair.stderr, `es-write: ${missing + changed + extra} read, ${missing} created, ${changed} updated, ${extra} deleted, 0 skipped, 0 failed`)
    t.equal(((await call(target, 'GET', `/${INDEX}/_count`)).json as { count: number }).count, N, 'the extra documents are gone')

    const after = await runShell(`rec-diff ${sourceFile} <(${read})`, { env })
    t.equal(after.code, 0, after.stderr.slice(-500))
    t.equal(after.stdout, '')
    t.match(after.stderr, `rec-diff: ${n(N)} compared: ${n(N)} same, 0 missing, 0 changed, 0 extra`)
  })
}
