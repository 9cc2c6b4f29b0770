// jsonl-write --apply-ops (issue 24): the file holds the end state of the records' operations,
// as Elasticsearch would hold it (test/helpers/ops.ts), with the ids sorted on disk: a run
// whose input is larger than the heap it is given still ends exact.
import t from 'tap'
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { join } from 'node:path'
import { lines, runTool, scratchDir } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'
import { canonical, opStream } from '../helpers/ops.js'

const dir = scratchDir(t)

t.test('without --apply-ops, _op stays on each record: the file replays', async (t) => {
  const input = '{"_id":"a","_op":"delete"}\n{"_id":"b","_op":"update","_source":{"v":1}}\n'
  const r = await runTool('jsonl-write', [], { input })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, input)
})

t.test('each operation: one record per id left, in id order, updates merged, without _op, every digit kept', async (t) => {
  const input = [
    '{"_index":"i","_id":"b","_op":"index","_source":{"n":1,"big":9007199254740993,"o":{"x":1.0}}}',
    '{"_index":"i","_id":"a","_op":"create","_source":{"n":2}}',
    '{"_index":"i","_id":"a","_op":"create","_source":{"n":3}}',
    '{"_index":"i","_id":"b","_op":"update","_source":{"o":{"y":2}}}',
    '{"_index":"i","_id":"z","_op":"update","_source":{"n":9}}',
    '{"_index":"i","_id":"c","_op":"upsert","_source":{"n":4}}',
    '{"_index":"i","_id":"c","_op":"upsert","_source":{"m":5}}',
    '{"_index":"i","_id":"a","_op":"delete"}',
    '{"_index":"i","_id":"y","_op":"delete"}',
    '{"_index":"i","_id":"d","_source":{"plain":true},"_pos":"0:1:1"}'
  ].join('\n') + '\n'
  const r = await runTool('jsonl-write', ['--apply-ops'], { input })
  t.equal(r.code, 0, r.stderr)
  t.strictSame(lines(r.stdout), [
    '{"_index":"i","_id":"b","_source":{"n":1,"big":9007199254740993,"o":{"x":1.0,"y":2}}}',
    '{"_index":"i","_id":"c","_source":{"n":4,"m":5}}',
    '{"_index":"i","_id":"d","_source":{"plain":true}}'
  ])
  t.equal(countsOf(r.stderr, 'jsonl-write'), '10 read, 3 written, 1 deleted, 2 not found, 1 skipped (duplicate id), 0 failed')
  const flat = await runTool('jsonl-write', ['--apply-ops', '--shape', 'flat'], { input })
  t.strictSame(lines(flat.stdout), ['{"id":"b","n":1,"big":9007199254740993,"o":{"x":1.0,"y":2}}', '{"id":"c","n":4,"m":5}', '{"id":"d","plain":true}'])
})

t.test('a mixed stream with repeated ids ends as Elasticsearch would hold it', async (t) => {
  const s = opStream({ n: 5000, ids: 300, seed: 4 })
  const file = join(dir, 'mixed.ndjson')
  writeFileSync(file, s.lines.join('\n') + '\n')
  const out = join(dir, 'mixed-out.ndjson')
  const r = await runTool('jsonl-write', ['--apply-ops', '-o', out, file])
  t.equal(r.code, 0, r.stderr)
  const got = readFileSync(out, 'utf8').trim().split('\n')
  t.ok(got.length > 0 && got.every((l) => !l.includes('"_op"')), 'no _op in the end state')
  t.strictSame(new Map(got.map((l) => [(JSON.parse(l) as { _id: string })._id, canonical(l.slice(l.indexOf('"_source":') + 10, -1))])), s.want)
  const ids = got.map((l) => (JSON.parse(l) as { _id: string })._id)
  t.strictSame(ids, [...ids].sort(), 'in id order')
})

t.test('bad records and refused combinations', async (t) => {
  const errors = join(dir, 'bad-errors.ndjson')
  const r = await runTool('jsonl-write', ['--apply-ops', '--errors', errors], { input: '{"_id":"a","_op":"Delete"}\n{"_op":"delete"}\n{"_id":"c","_op":"update","_source":[1]}\n{"_id":"d","_source":{"v":1}}\n' })
  t.equal(r.code, 1)
  t.equal(r.stdout, '{"_id":"d","_source":{"v":1}}\n')
  t.strictSame(readFileSync(errors, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { error: { code: string } }).error.code), ['RECORD_BAD_OP', 'RECORD_MISSING_ID', 'RECORD_CONTENT_NOT_OBJECT'])
  const ckpt = await runTool('jsonl-write', ['--apply-ops', '--checkpoint', join(dir, 'c'), '-o', join(dir, 'x.ndjson')], { input: '' })
  t.equal(ckpt.code, 2)
  t.match(ckpt.stderr, '--apply-ops writes the file only once the input has ended')
  const dedupe = await runTool('jsonl-write', ['--apply-ops', '--dedupe'], { input: '' })
  t.equal(dedupe.code, 2)
  t.match(dedupe.stderr, 'it cannot be combined with --dedupe')
})

t.test('an input larger than the heap: the ids are sorted on disk, the end state exact', async (t) => {
  const N = 200_000
  const pad = 'p'.repeat(400)
  const file = join(dir, 'large.ndjson')
  const out = createWriteStream(file)
  for (let i = 0; i < N; i++) {
    if (!out.write(`{"_id":"r${i}","_source":{"n":${i},"big":9007199254740${String(i).padStart(6, '0')},"pad":"${pad}"}}\n`)) await once(out, 'drain')
  }
  for (let i = 0; i < N; i++) {
    const line = i % 3 === 0 ? `{"_id":"r${i}","_op":"delete"}\n` : i % 3 === 1 ? `{"_id":"r${i}","_op":"update","_source":{"u":${i}}}\n` : ''
    if (line !== '' && !out.write(line)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  const outFile = join(dir, 'large-out.ndjson')
  // 40 MB of heap for more than 90 MB of records: holding them, or their ids' records, would not fit.
  const r = await runTool('jsonl-write', ['--apply-ops', '-o', outFile, '--tmpdir', dir, file], { env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=40' } })
  t.equal(r.code, 0, r.stderr)
  const deletes = Math.ceil(N / 3)
  const updates = Math.floor((N + 1) / 3)
  t.equal(countsOf(r.stderr, 'jsonl-write'), `${N + deletes + updates} read, ${N - deletes} written, ${deletes} deleted, 0 skipped, 0 failed`)
  const text = readFileSync(outFile, 'utf8')
  let i = 0
  let exact = 0
  const want = Array.from({ length: N }, (_v, k) => k).filter((k) => k % 3 !== 0).map((k) => `r${k}`).sort()
  for (const l of text.split('\n')) {
    if (l === '') continue
    const id = want[i++]
    const k = Number(id.slice(1))
    const source = `{"n":${k},"big":9007199254740${String(k).padStart(6, '0')},"pad":"${pad}"${k % 3 === 1 ? `,"u":${k}` : ''}}`
    if (l === `{"_id":"${id}","_source":${source}}`) exact++
  }
  t.equal(i, want.length, 'one record per id left')
  t.equal(exact, want.length, 'each the end state, byte for byte, in id order')
})
