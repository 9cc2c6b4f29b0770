// es-read, the real binary, against each real engine (OpenSearch 2.19, Elasticsearch 7.17, OpenSearch 3.3) and the project's test server: the
// same scenarios and the same expectations on each (see targets.ts).
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
const POS = /,"_pos":"(?:[^"\\]|\\.)*"\}$/
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
  // In a pipe each record carries its position (_pos, last); the documents are what is compared.
  const both = [...a, ...b.lines]
  t.ok(both.length > 0 && both.every((l) => POS.test(l)), 'each record carries its position')
  t.strictSame(both.map((l) => l.replace(POS, '}')), where(() => true).map(line), 'both runs together: every document once, in order')
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
