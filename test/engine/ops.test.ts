// Records that carry their operation (`_op`, issue 24) applied by es-write to the real engines
// (and the test server in its dialects): a seeded stream of index, create, update, upsert and
// delete over repeated ids, in small batches several at once. The index must end as the model
// of Elasticsearch's bulk actions says (test/helpers/ops.ts), with the engine's own counts.
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTool } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'
import { canonical, opStream } from '../helpers/ops.js'
import { call, targets } from './targets.js'

const INDEX = 'engine-ops'
const MAPPINGS = { properties: { n: { type: 'long' }, big: { type: 'long' }, v: { type: 'long' }, s: { type: 'keyword' }, o: { properties: { x: { type: 'long' }, y: { type: 'long' } } } } }

const tmp = mkdtempSync(join(tmpdir(), 'espipe-engine-ops-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

const s = opStream({ n: 2000, ids: 120, seed: 24, index: INDEX })
const input = join(tmp, 'ops.ndjson')
writeFileSync(input, s.lines.join('\n') + '\n')

const all = await targets(t)
for (const target of all) {
  t.test(`${target.name}: a mixed stream of operations ends as Elasticsearch's bulk actions say`, async (t) => {
    await call(target, 'DELETE', `/${INDEX}`)
    const created = await call(target, 'PUT', `/${INDEX}`, { settings: { number_of_shards: 2, number_of_replicas: 0 }, mappings: MAPPINGS })
    t.equal(created.status, 200, created.text)
    const errors = join(tmp, `errors-${target.name.replace(/\W+/g, '-')}.ndjson`)
    const r = await runTool('es-write', ['--url', target.url, '--batch-size', '9', '-c', '4', '--refresh', '--errors', errors, input])
    const c = s.counts
    t.ok(c.deleted > 0 && c.notFound > c.updatesMissing && c.skipped > 0 && c.updatesMissing > 0, 'the stream has every outcome')
    // The engine refuses an update of a missing id (document_missing_exception): exit 1, each one dead-lettered.
    t.equal(r.code, 1, r.stderr.slice(-500))
    t.equal(countsOf(r.stderr, 'es-write'), `${s.lines.length} read, ${c.created} created, ${c.updated} updated, ${c.deleted} deleted, ${c.notFound - c.updatesMissing} not found, ${c.skipped} skipped (exists), ${c.updatesMissing} failed, 0 retries`)
    const dead = readFileSync(errors, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { error: { code: string } })
    t.equal(dead.length, c.updatesMissing)
    t.ok(dead.length > 0 && dead.every((d) => d.error.code === 'document_missing_exception'), 'only updates of missing ids fail')

    const read = await runTool('es-read', ['--url', target.url, '--index', INDEX, '--size', '1000'])
    t.equal(read.code, 0, read.stderr)
    const got = new Map<string, string>()
    for (const l of read.stdout.split('\n')) {
      if (l === '') continue
      got.set((JSON.parse(l) as { _id: string })._id, canonical(l.slice(l.indexOf('"_source":') + 10, -1)))
    }
    t.strictSame(got, s.want, 'every id holds what the model says, every digit of "big" kept; deleted ids are gone')
    await call(target, 'DELETE', `/${INDEX}`)
  })
}
