// es-read, the real binary, against each real engine (OpenSearch 2.19, Elasticsearch 7.17, OpenSearch 3.3) and the project's test server: the
// same scenarios and the same expectations on each (see targets.ts).
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { withoutPosition } from '../../lib/core/position.js'
import { binPath, runTool } from '../helpers/run.js'
import { atLeast, call, seed, targets } from './targets.js'
import type { Target } from './targets.js'

const N = 3000
const INDEX = 'engine-reads'
const HOUR = 3_600_000
const START = Date.UTC(2024, 0, 1)

/** Sources written as text: numbers beyond double precision must come back with every digit. */
const DOCS = Array.from({ length: N }, (_v, i) => ({
  _id: `d${i}`,
  source: `{"n":${i},"group":"g${i % 4}","msg":"event ${i} ${i % 2 === 1 ? 'error' : 'ok'}","@timestamp":"${new Date(START + i * HOUR).toISOString()}","raw":{"big":1234567890123456789012${i % 10},"f":0.1000000000000000055511151231257827,"s":"é\\u00e9\\n"}}`
}))
const MAPPINGS = {
  properties: {
    n: { type: 'long' },
    group: { type: 'keyword' },
    msg: { type: 'text' },
    '@timestamp': { type: 'date' },
    raw: { type: 'object', enabled: false }
  }
}

/** The line es-read writes for document i: the hit's own bytes. */
const line = (i: number): string => `{"_index":"${INDEX}","_id":"d${i}","_source":${DOCS[i].source}}`
const where = (pred: (i: number) => boolean): number[] => DOCS.map((_d, i) => i).filter(pred)

const tmp = mkdtempSync(join(tmpdir(), 'espipe-engine-read-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

const all = await targets(t)
for (const target of all) await seed(target, INDEX, MAPPINGS, DOCS)

async function esRead (target: Target, args: string[]): Promise<{ code: number | null, lines: string[], stderr: string }> {
  const size = args.includes('--size') ? [] : ['--size', '500']
  const r = await runTool('es-read', ['--url', target.url, '--index', INDEX, ...size, ...args])
  return { code: r.code, lines: r.stdout.split('\n').filter((l) => l !== ''), stderr: r.stderr }
}

/** The exact set of lines (any order), each once. */
function sameSet (t: Test, got: string[], want: number[], what: string): void {
  t.equal(got.length, want.length, `${what}: ${want.length} lines`)
  t.equal(new Set(got).size, got.length, `${what}: no line twice`)
  t.same([...got].sort(), want.map(line).sort(), `${what}: the documents, byte for byte`)
}

function eachTarget (name: string, fn: (t: Test, target: Target) => Promise<void>): void {
  t.test(name, async (t) => {
    for (const target of all) await t.test(target.name, async (t) => await fn(t, target))
  })
}

eachTarget('the whole index, every document once, byte for byte', async (t, target) => {
  const r = await esRead(target, [])
  t.equal(r.code, 0, r.stderr)
  sameSet(t, r.lines, where(() => true), 'default paging')
})

eachTarget('slices: in-process, and a sliced scroll', async (t, target) => {
  const sliced = await esRead(target, ['--slices', '3'])
  t.equal(sliced.code, 0, sliced.stderr)
  sameSet(t, sliced.lines, where(() => true), '--slices 3')
  const scroll = await esRead(target, ['--scroll', '--slices', '2'])
  t.equal(scroll.code, 0, scroll.stderr)
  sameSet(t, scroll.lines, where(() => true), '--scroll --slices 2')
  const parts = await Promise.all([0, 1, 2].map(async (i) => await esRead(target, ['--slice', `${i}/3`])))
  sameSet(t, parts.flatMap((p) => p.lines), where(() => true), '--slice I/3 in three processes')
})

eachTarget('--sort: a point in time in that order, every document once', async (t, target) => {
  const r = await esRead(target, ['--sort', 'n:desc', '--size', '128'])
  t.equal(r.code, 0, r.stderr)
  t.same(r.lines, where(() => true).reverse().map(line), 'n descending, each line exact')
  t.match(r.stderr, /point in time/, 'paged with a point in time')
  const two = await esRead(target, ['--sort', 'group', '--sort', 'n:desc', '--slices', '2'])
  sameSet(t, two.lines, where(() => true), '--sort with --slices 2')
})

eachTarget('query DSL, Lucene --q and date math select the same documents', async (t, target) => {
  const term = await esRead(target, ['--query', '{"term":{"group":"g1"}}'])
  sameSet(t, term.lines, where((i) => i % 4 === 1), 'term')
  const range = await esRead(target, ['--query', '{"bool":{"filter":[{"range":{"n":{"gte":100,"lt":200}}}],"must_not":[{"term":{"group":"g0"}}]}}'])
  sameSet(t, range.lines, where((i) => i >= 100 && i < 200 && i % 4 !== 0), 'bool with range and must_not')
  const q = await esRead(target, ['--q', 'group:g2 AND n:[100 TO 199]'])
  sameSet(t, q.lines, where((i) => i % 4 === 2 && i >= 100 && i <= 199), '--q with a range')
  const words = await esRead(target, ['--q', 'msg:error AND NOT group:g1'])
  sameSet(t, words.lines, where((i) => i % 2 === 1 && i % 4 !== 1), '--q on an analyzed text field')
  // lte rounds up to the end of its day, gte down to the start of its own.
  const days = await esRead(target, ['--gte', '2024-01-02T05:00:00Z||/d', '--lte', '2024-01-03||/d'])
  sameSet(t, days.lines, where((i) => i >= 24 && i < 72), 'date math: two whole days')
  const month = await esRead(target, ['--gte', '2024-01-01||+1M', '--lte', '2024-02-01||+1d-1s', '--q', 'group:g3'])
  sameSet(t, month.lines, where((i) => i >= 744 && i < 768 && i % 4 === 3), 'date math with +1M and -1s, and --q')
  // ms is no date-math unit: the engine refuses the whole search, and es-read says so in one line.
  const bad = await esRead(target, ['--lte', '2024-02-01||+1d-1ms'])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /^es-read: error \[search_phase_execution_exception\] search failed at .*: 400 search_phase_execution_exception: all shards failed: operator not supported for date math \[\+1d-1ms\]/m)
})

eachTarget('--checkpoint: stopped by SIGTERM, run again, every document once', async (t, target) => {
  const file = join(tmp, `ckpt-${all.indexOf(target)}.json`)
  const args = ['--url', target.url, '--index', INDEX, '--size', '10', '--sort', 'n', '--checkpoint', file]
  const child = spawn(process.execPath, [binPath('es-read'), ...args])
  let first = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (first === '') child.kill('SIGTERM')
    first += d
  })
  const code = await new Promise((resolve) => child.on('close', resolve))
  t.equal(code, 143, 'interrupted')
  const a = first.split('\n').filter((l) => l !== '')
  t.ok(a.length > 0 && a.length < N, `the first run stopped after ${a.length}`)
  const b = await esRead(target, ['--size', '10', '--sort', 'n', '--checkpoint', file])
  t.equal(b.code, 0, b.stderr)
  t.match(b.stderr, /resuming from checkpoint/)
  // A checkpointed read ends each line with its position (`_pos`, for the writer after it).
  t.same([...a, ...b.lines].map((l) => withoutPosition(l)), where(() => true).map(line), 'both runs together: every document once, in order')
})

/** Document i of the sparse indices: n, f, t and k grow with i; some documents lack one of them, or all. */
function sparseSource (i: number): string {
  const s: Record<string, unknown> = {}
  if (i % 3 !== 0) s.n = i
  if (i % 6 !== 4) s.f = i - 30.5
  if (i % 4 !== 1) s.t = new Date(START + i * 24 * HOUR).toISOString()
  if (i % 5 !== 2) s.k = `k${String(i).padStart(2, '0')}`
  return JSON.stringify(s)
}
const SPARSE = 60
const SPARSE_MAPPINGS = { properties: { n: { type: 'long' }, f: { type: 'double' }, t: { type: 'date' }, k: { type: 'keyword' } } }

/** An index of `shards` shards written in five refreshes: five segments (per shard), each a range of the values. */
async function sparseIndex (target: Target, index: string, shards: number): Promise<void> {
  await call(target, 'DELETE', `/${index}`)
  const created = await call(target, 'PUT', `/${index}`, { settings: { number_of_shards: shards, number_of_replicas: 0 }, mappings: SPARSE_MAPPINGS })
  if (created.status !== 200) throw new Error(`creating ${index} on ${target.name}: ${created.status} ${created.text}`)
  for (let from = 0; from < SPARSE; from += 12) {
    const body = Array.from({ length: 12 }, (_v, j) => `{"index":{"_index":"${index}","_id":"s${from + j}"}}\n${sparseSource(from + j)}\n`).join('')
    const res = await call(target, 'POST', '/_bulk?refresh=true', body)
    if (res.status !== 200 || (res.json as { errors?: boolean }).errors !== false) throw new Error(`seeding ${index} on ${target.name}: ${res.status} ${res.text.slice(0, 500)}`)
  }
}

/** Every sparse document once, byte for byte, in the order of `field`, those without it last. */
function sparseInOrder (t: Test, index: string, got: string[], field: string, order: string, what: string): void {
  t.equal(got.length, SPARSE, `${what}: ${SPARSE} documents`)
  t.strictSame([...got].sort(), Array.from({ length: SPARSE }, (_v, i) => `{"_index":"${index}","_id":"s${i}","_source":${sparseSource(i)}}`).sort(), `${what}: each once, byte for byte`)
  const values = got.map((l) => (JSON.parse(l) as { _source: Record<string, string | number | undefined> })._source[field])
  const present = values.filter((v) => v !== undefined)
  const sorted = [...present].sort((a, b) => (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0)
  t.strictSame(present, order === 'asc' ? sorted : sorted.reverse(), `${what}: in ${field}:${order} order`)
  t.strictSame(values.slice(present.length).filter((v) => v !== undefined), [], `${what}: those without ${field} last`)
}

eachTarget('--sort on fields some documents lack (long, double, date, keyword; asc, desc): every document, at every page boundary', async (t, target) => {
  for (const shards of [1, 2]) {
    const index = `engine-sparse-${shards}`
    await sparseIndex(target, index, shards)
    for (const field of ['n', 'f', 't', 'k']) {
      for (const order of ['asc', 'desc']) {
        const r = await runTool('es-read', ['--url', target.url, '--index', index, '--sort', `${field}:${order}`, '--size', '1'])
        t.equal(r.code, 0, r.stderr)
        t.match(r.stderr, new RegExp(` ${SPARSE} read, ${SPARSE} emitted, .* 0 failed`))
        sparseInOrder(t, index, r.stdout.split('\n').filter((l) => l !== ''), field, order, `${shards} shard(s), --sort ${field}:${order} --size 1`)
      }
    }
    const sliced = await runTool('es-read', ['--url', target.url, '--index', index, '--sort', 'f:desc', '--size', '2', '--slices', '2'])
    t.equal(sliced.code, 0, sliced.stderr)
    t.strictSame(sliced.stdout.split('\n').filter((l) => l !== '').sort(), Array.from({ length: SPARSE }, (_v, i) => `{"_index":"${index}","_id":"s${i}","_source":${sparseSource(i)}}`).sort(), `${shards} shard(s), --slices 2: each once`)
  }
  t.same(await target.open(), { pits: 0, scrolls: 0 }, 'nothing left open')
})

eachTarget('--sort on a sparse field with --checkpoint: stopped among the documents without it, run again, every document once', async (t, target) => {
  const index = 'engine-sparse-1'
  const file = join(tmp, `sparse-ckpt-${all.indexOf(target)}.json`)
  const args = ['--url', target.url, '--index', index, '--size', '1', '--sort', 'n', '--checkpoint', file]
  const child = spawn(process.execPath, [binPath('es-read'), ...args])
  let first = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    first += d
    // 40 documents have n: stop past the first of the 20 without it.
    if (first.split('\n').length > 45) child.kill('SIGTERM')
  })
  await new Promise((resolve) => child.on('close', resolve))
  const a = first.split('\n').filter((l) => l !== '')
  t.ok(a.length > 40 && a.length < SPARSE, `the first run stopped after ${a.length}, among the documents without n`)
  const b = await runTool('es-read', args)
  t.equal(b.code, 0, b.stderr)
  t.match(b.stderr, /resuming from checkpoint/)
  sparseInOrder(t, index, [...a, ...b.stdout.split('\n').filter((l) => l !== '')].map((l) => withoutPosition(l)), 'n', 'asc', 'both runs')
})

eachTarget('search_after past the last value, track_total_hits false: OpenSearch skips the segment unless the sort names `missing`', async (t, target) => {
  // The engine's own behaviour, which es-read's sort (lib/es/pit.ts sortWithMissing) answers: one
  // shard, one segment, one document with n and three without.
  const index = 'engine-sparse-skip'
  await call(target, 'DELETE', `/${index}`)
  await call(target, 'PUT', `/${index}`, { settings: { number_of_shards: 1, number_of_replicas: 0 }, mappings: SPARSE_MAPPINGS })
  await call(target, 'POST', '/_bulk?refresh=true', [`{"index":{"_index":"${index}","_id":"a"}}\n{"n":1}`, ...['b', 'c', 'd'].map((id) => `{"index":{"_index":"${index}","_id":"${id}"}}\n{}`)].join('\n') + '\n')
  const page = async (sort: unknown): Promise<string[]> => {
    const res = await call(target, 'POST', `/${index}/_search`, { sort: [sort, { _id: 'asc' }], size: 10, track_total_hits: false, search_after: ['9223372036854775807', 'b'] })
    t.equal(res.status, 200, res.text)
    return (res.json as { hits: { hits: Array<{ _id: string }> } }).hits.hits.map((h) => h._id)
  }
  // Elasticsearch 8 turned _id field data off: the tiebreaker there is _shard_doc's place, which needs a PIT; the skipping is OpenSearch's.
  if (target.distribution === 'elasticsearch' && atLeast(target, 8)) return
  // After b, a document without n (its sort value is the missing-value sentinel, Long.MAX_VALUE).
  t.strictSame(await page({ n: { order: 'asc', missing: '_last' } }), ['c', 'd'], 'missing named: the documents without n')
  t.strictSame(await page({ n: 'asc' }), target.distribution === 'opensearch' ? [] : ['c', 'd'], target.distribution === 'opensearch' ? 'OpenSearch: none (the segment lies behind the cursor)' : 'Elasticsearch: the documents without n')
})

eachTarget('an unknown index: exit 1, one line naming it', async (t, target) => {
  const r = await runTool('es-read', ['--url', target.url, '--index', 'no-such-index'])
  t.equal(r.code, 1)
  t.match(r.stderr, /es-read: error \[index_not_found_exception\] index not found at http:\/\/127\.0\.0\.1:\d+: no such index \[no-such-index\]/)
  t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
})

eachTarget('a PIT or scroll is never left open on the server', async (t, target) => {
  for (const args of [['--sort', 'n', '--limit', '5'], ['--scroll', '--limit', '5'], ['--slices', '2', '--limit', '700'], []]) {
    const r = await esRead(target, args)
    t.equal(r.code, 0, r.stderr)
    t.same(await target.open(), { pits: 0, scrolls: 0 }, `es-read ${args.join(' ')}: nothing left open`)
  }
})

eachTarget('_shard_doc without a point in time, and a sort on _id: each engine answers as it documents', async (t, target) => {
  interface Failure { status: number, error: { type: string, root_cause: Array<{ type: string, reason: string }> } }
  const shardDoc = await call(target, 'POST', `/${INDEX}/_search`, { sort: ['_shard_doc'], size: 1 })
  t.equal(shardDoc.status, 400, '_shard_doc without a PIT is refused')
  const cause = (shardDoc.json as Failure).error.root_cause[0]
  if (target.distribution === 'opensearch' && !atLeast(target, 3, 3)) {
    // Before 3.3 OpenSearch has no _shard_doc: it is an unmapped field to each shard.
    t.same([(shardDoc.json as Failure).error.type, cause?.type, cause?.reason], ['search_phase_execution_exception', 'query_shard_exception', 'No mapping found for [_shard_doc] in order to sort on'])
  } else {
    const reason = target.distribution === 'opensearch'
      ? 'Validation Failed: 1: _shard_doc is only supported with point-in-time (PIT). Add a PIT or remove _shard_doc.;'
      : 'Validation Failed: 1: [_shard_doc] sort field cannot be used without [point in time];'
    t.same([cause?.type, cause?.reason], ['action_request_validation_exception', reason])
  }
  const byId = await call(target, 'POST', `/${INDEX}/_search`, { sort: [{ _id: 'desc' }], size: 2, _source: false })
  if (target.distribution === 'elasticsearch' && atLeast(target, 8)) {
    // Elasticsearch 8 turned _id field data off (indices.id_field_data.enabled).
    t.equal(byId.status, 400)
    t.match((byId.json as Failure).error.root_cause[0], { type: 'illegal_argument_exception', reason: /^Fielddata access on the _id field is disallowed/ })
  } else {
    t.equal(byId.status, 200, byId.text)
    t.same((byId.json as { hits: { hits: Array<{ _id: string }> } }).hits.hits.map((h) => h._id), ['d999', 'd998'], '_id sorts as a string')
  }
})
