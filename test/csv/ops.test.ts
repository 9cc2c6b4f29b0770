// csv-write and records that carry their operation (`_op`, issue 24): kept as a column so the
// file replays, or applied with --apply-ops so the file is the end state.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runShell, runTool, scratchDir } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'
import { opStream } from '../helpers/ops.js'

const dir = scratchDir(t)

const INPUT = [
  '{"_id":"b","_op":"index","_source":{"n":1,"big":9007199254740993}}',
  '{"_id":"a","_op":"create","_source":{"n":2}}',
  '{"_id":"a","_op":"create","_source":{"n":3}}',
  '{"_id":"b","_op":"update","_source":{"m":1.0}}',
  '{"_id":"z","_op":"update","_source":{"n":9}}',
  '{"_id":"a","_op":"delete"}',
  '{"_id":"c","_source":{"n":4}}'
].join('\n') + '\n'

t.test('without --apply-ops, _op is a column: every record a row, a delete its id and _op alone', async (t) => {
  const r = await runTool('csv-write', [], { input: INPUT })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'id,_op,n,big,m\nb,index,1,9007199254740993,\na,create,2,,\na,create,3,,\nb,update,,,1.0\nz,update,9,,\na,delete,,,\nc,,4,,\n')
  t.equal(countsOf(r.stderr, 'csv-write'), '7 read, 7 written, 0 partial, 0 failed')
})

t.test('--apply-ops: one row per id left, in id order, updates merged, every digit kept', async (t) => {
  const r = await runTool('csv-write', ['--apply-ops'], { input: INPUT })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'id,n,big,m\nb,1,9007199254740993,1.0\nc,4,,\n')
  t.equal(countsOf(r.stderr, 'csv-write'), '7 read, 2 written, 0 partial, 1 deleted, 1 not found, 1 skipped (duplicate id), 0 failed')
})

t.test('--apply-ops over a mixed stream: the rows read back are the end state Elasticsearch would hold', async (t) => {
  const s = opStream({ n: 3000, ids: 200, seed: 9 })
  const file = join(dir, 'mixed.ndjson')
  writeFileSync(file, s.lines.join('\n') + '\n')
  const out = join(dir, 'mixed.csv')
  const r = await runTool('csv-write', ['--apply-ops', '--columns', 'n,s,big,o.x,o.y,v', '-o', out, file])
  t.equal(r.code, 0, r.stderr)
  const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1)
  const want = [...s.want].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0).map(([id, text]) => {
    const big = /"big":(\d+)/.exec(text)?.[1] ?? ''
    const d = JSON.parse(text) as { n: number, s: string, o: { x: number, y: number }, v: number }
    return `${id},${d.n},${d.s},${big},${d.o.x},${d.o.y},${d.v}`
  })
  t.ok(want.length > 0)
  t.strictSame(rows, want)
})

t.test('a bad _op is a bad record; --apply-ops with --checkpoint is refused', async (t) => {
  const errors = join(dir, 'bad.ndjson')
  for (const args of [[], ['--apply-ops']]) {
    const r = await runTool('csv-write', ['--errors', errors, ...args], { input: '{"_id":"a","_op":"remove"}\n{"_id":"b","_source":{"v":1}}\n' })
    t.equal(r.code, 1)
    t.equal(r.stdout, 'id,v\nb,1\n')
    t.match(readFileSync(errors, 'utf8'), /"code":"RECORD_BAD_OP","message":"its _op is \\"remove\\", not an operation/)
  }
  const ckpt = await runShell(`csv-write --apply-ops --checkpoint ${join(dir, 'c')} -o ${join(dir, 'x.csv')} < /dev/null`)
  t.equal(ckpt.code, 2)
  t.match(ckpt.stderr, '--apply-ops writes the file only once the input has ended')
})
