// es-write applying records that carry their operation (`_op`), the binary over real HTTP into
// the project's Elasticsearch test server; documents checked on the server side against what
// Elasticsearch holds after the same bulk actions (test/helpers/ops.ts).
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runTool, scratchDir } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'
import { canonical, opStream } from '../helpers/ops.js'
import type { OpStream } from '../helpers/ops.js'
import { startEsServer } from '../servers/es/server.js'

const dir = scratchDir(t)
const server = await startEsServer()
t.teardown(async () => { await server.close() })

function stored (index: string): Map<string, string> {
  return new Map([...server.storedSources(index)].map(([id, text]) => [id, canonical(text)]))
}

/** es-write's summary of `s`: an update of a missing id is the engine's refusal (failed), a delete of one not found. */
function wantCounts (s: OpStream): string {
  const c = s.counts
  const notFound = c.notFound - c.updatesMissing
  return `${s.lines.length} read, ${c.created} created, ${c.updated} updated, ${c.deleted} deleted` +
    (notFound > 0 ? `, ${notFound} not found` : '') + `, ${c.skipped} skipped${c.skipped > 0 ? ' (exists)' : ''}, ${c.updatesMissing} failed, 0 retries`
}

t.test('one record of each operation, over --op index: each record picks its bulk action', async (t) => {
  const file = join(dir, 'each.ndjson')
  writeFileSync(file, [
    '{"_index":"each","_id":"a","_op":"index","_source":{"n":1,"big":9007199254740993,"o":{"x":1}}}',
    '{"_index":"each","_id":"b","_op":"create","_source":{"n":2}}',
    '{"_index":"each","_id":"b","_op":"create","_source":{"n":3}}',
    '{"_index":"each","_id":"a","_op":"update","_source":{"o":{"y":2},"f":2.5}}',
    '{"_index":"each","_id":"c","_op":"upsert","_source":{"n":4}}',
    '{"_index":"each","_id":"c","_op":"upsert","_source":{"m":5}}',
    '{"_index":"each","_id":"b","_op":"delete"}',
    '{"_index":"each","_id":"y","_op":"delete"}',
    '{"_index":"each","_id":"d","_source":{"plain":true}}'
  ].join('\n') + '\n')
  const r = await runTool('es-write', ['--url', server.url, '--op', 'index', file])
  t.equal(r.code, 0, r.stderr)
  t.equal(countsOf(r.stderr, 'es-write'), '9 read, 4 created, 2 updated, 1 deleted, 1 not found, 1 skipped (exists), 0 failed, 0 retries')
  t.strictSame(stored('each'), new Map([
    ['a', canonical('{"n":1,"big":9007199254740993,"o":{"x":1,"y":2},"f":2.5}')],
    ['c', canonical('{"n":4,"m":5}')],
    ['d', '{"plain":true}']
  ]))
  t.equal(server.storedSource('each', 'a'), '{"n":1,"big":9007199254740993,"o":{"x":1,"y":2},"f":2.5}', 'every digit, as the engine merges')
})

t.test('mixed operations with repeated ids over small batches in flight at once: what Elasticsearch holds', async (t) => {
  const s = opStream({ n: 3000, ids: 150, seed: 11, index: 'mixed' })
  t.ok(s.counts.deleted > 0 && s.counts.notFound > 0 && s.counts.skipped > 0 && s.want.size > 0, 'the stream has every outcome')
  const file = join(dir, 'mixed.ndjson')
  writeFileSync(file, s.lines.join('\n') + '\n')
  const errors = join(dir, 'mixed-errors.ndjson')
  const r = await runTool('es-write', ['--url', server.url, '--batch-size', '7', '-c', '4', '--errors', errors, file])
  t.ok(s.counts.updatesMissing > 0, 'updates of missing ids')
  t.equal(r.code, 1, 'exit 1: updates of missing ids are refused by the engine')
  t.equal(countsOf(r.stderr, 'es-write'), wantCounts(s))
  const dead = readFileSync(errors, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { error: { code: string } })
  t.strictSame(new Set(dead.map((d) => d.error.code)), new Set(['document_missing_exception']))
  t.equal(dead.length, s.counts.updatesMissing)
  t.strictSame(stored('mixed'), s.want)
})

t.test('a bad _op is a bad record: one line, counted, dead-lettered, exit 1; "_op" never in a document', async (t) => {
  const file = join(dir, 'bad.ndjson')
  const errors = join(dir, 'bad-errors.ndjson')
  writeFileSync(file, [
    '{"_id":"a","_op":"Delete"}',
    '{"_id":"b","_op":["index"],"v":1}',
    '{"_id":"c","_op":"create","_pos":"0:1:1","v":1}',
    '{"_op":"delete","v":1}'
  ].join('\n') + '\n')
  const r = await runTool('es-write', ['--url', server.url, '--index', 'bad', '--content-field', '.', '--errors', errors, file])
  t.equal(r.code, 1)
  t.equal(countsOf(r.stderr, 'es-write'), '4 read, 1 created, 0 updated, 0 deleted, 0 skipped, 3 failed, 0 retries')
  const dead = readFileSync(errors, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { error: { code: string, message: string } })
  t.strictSame(dead.map((d) => [d.error.code, d.error.message]), [
    ['RECORD_BAD_OP', 'its _op is "Delete", not an operation (index, create, update, upsert, delete)'],
    ['RECORD_BAD_OP', 'its _op is an array, not an operation (index, create, update, upsert, delete)'],
    ['RECORD_MISSING_ID', "record has no id at '_id' (its _op delete needs one)"]
  ])
  t.equal(server.storedSource('bad', 'c'), '{"_id":"c","v":1}', 'the whole record is the document, without _op and _pos')
})

t.test('a delete into an index that does not exist has nothing to delete: not found, not failed', async (t) => {
  const r = await runTool('es-write', ['--url', server.url], { input: '{"_index":"never-made","_id":"a","_op":"delete"}\n{"_index":"made","_id":"b","_op":"delete"}\n{"_index":"made","_id":"b","_source":{"v":1}}\n' })
  t.equal(r.code, 0, r.stderr)
  t.equal(countsOf(r.stderr, 'es-write'), '3 read, 1 created, 0 updated, 0 deleted, 2 not found, 0 skipped, 0 failed, 0 retries')
  t.equal(server.storedSources('never-made').size, 0)
  t.strictSame(stored('made'), new Map([['b', '{"v":1}']]))
})
