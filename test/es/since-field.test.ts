// es-read --since-field F: the field's type decides whether a read can resume by it
// (lib/es/since.ts lookupSinceField). The binary against the ES test server with explicit
// mappings: a field that cannot order a resumable read is refused in one line before any
// document is read; a numeric field inside an object, or one named with a dot, orders the read.
import t from 'tap'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { lines, runTool, scratchDir } from '../helpers/run.js'

const dir = scratchDir(t)

let es: EsTestServer
t.before(async () => { es = await startEsServer() })
t.teardown(async () => await es.close())

async function createIndex (index: string, properties: Record<string, unknown>, docs: Array<Record<string, unknown>>): Promise<void> {
  const made = await fetch(`${es.url}/${index}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mappings: { dynamic: false, properties } }) })
  if (!made.ok) throw new Error(`PUT /${index}: ${made.status} ${await made.text()}`)
  const body = docs.map((d, i) => `{"index":{"_index":"${index}","_id":"${index}-${i}"}}\n${JSON.stringify(d)}\n`).join('')
  const bulk = await fetch(`${es.url}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body })
  if (!bulk.ok) throw new Error(`_bulk: ${bulk.status}`)
}

t.before(async () => {
  await createIndex('kw', { updated: { type: 'keyword' }, n: { type: 'long' } }, [{ updated: 'yesterday', n: 1 }])
  await createIndex('mixed-a', { seq: { type: 'long' } }, [{ seq: 1 }])
  await createIndex('mixed-b', { seq: { type: 'date' } }, [{ seq: '2024-01-01T00:00:00Z' }])
  await createIndex('nanos', { at: { type: 'date_nanos' } }, [{ at: '2024-01-01T00:00:00.123456789Z' }])
  await createIndex('nested', { meta: { properties: { seq: { type: 'long' } } }, 'v.n': { type: 'integer' } },
    [5, 3, 9, 1, 7].map((k) => ({ meta: { seq: k * 1000 }, 'v.n': 10 - k })))
})

t.test('a field that cannot order a resumable read: one line naming it, its type and where, exit 1, nothing read', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['kw', 'updated', /--since-field updated: a keyword field in kw; it must be a date, date_nanos or numeric field/],
    ['kw', 'missing', /--since-field missing: not mapped in kw; it must be a date, date_nanos or numeric field/],
    ['mixed-*', 'seq', /--since-field seq: its type differs between the indices read \((long in mixed-a; date in mixed-b|date in mixed-b; long in mixed-a)\); it must be a date, date_nanos or numeric field/]
  ]
  let k = 0
  for (const [index, field, said] of cases) {
    const r = await runTool('es-read', ['--url', es.url, '--index', index, '--since-field', field, '--checkpoint', join(dir, `refused-${++k}.ckpt`)])
    t.equal(r.code, 1, `${index} ${field}: exit 1`)
    t.equal(r.stdout, '', `${index} ${field}: nothing read`)
    t.match(r.stderr, new RegExp(`^es-read: error \\[ES_SINCE_FIELD\\] ${said.source}`, 'm'), `${index} ${field}`)
    t.equal(es.openPits(), 0, 'no point in time left open')
  }
})

// The test server sorts a date_nanos by its milliseconds, so the rerun's boundary is checked
// only on the real engines (test/engine/since.test.ts).
t.test('a date_nanos field is taken: the read runs and gives the document as written', async (t) => {
  const r = await runTool('es-read', ['-q', '--url', es.url, '--index', 'nanos', '--since-field', 'at', '--checkpoint', join(dir, 'ok-nanos.ckpt')])
  t.equal(r.code, 0, r.stderr)
  t.strictSame(lines(r.stdout).map((l) => (JSON.parse(l) as { _source: unknown })._source), [{ at: '2024-01-01T00:00:00.123456789Z' }], 'the document, its nanoseconds as written')
})

t.test('a numeric field inside an object, or named with a dot, orders the read; a rerun reads nothing again', async (t) => {
  for (const [field, order] of [['meta.seq', [1, 3, 5, 7, 9]], ['v.n', [9, 7, 5, 3, 1]]] as Array<[string, number[]]>) {
    const ckpt = join(dir, `ok-${field}.ckpt`)
    const r = await runTool('es-read', ['-q', '--url', es.url, '--index', 'nested', '--since-field', field, '--checkpoint', ckpt])
    t.equal(r.code, 0, r.stderr)
    const got = lines(r.stdout).map((l) => (JSON.parse(l) as { _source: { meta: { seq: number } } })._source.meta.seq / 1000)
    t.strictSame(got, order, `in order of ${field}`)
    const again = await runTool('es-read', ['-q', '--url', es.url, '--index', 'nested', '--since-field', field, '--checkpoint', ckpt])
    t.equal(again.code, 0, again.stderr)
    t.equal(again.stdout, '', `${field}: the rerun has nothing new`)
  }
})
