import t from 'tap'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createContext, fileSink, jsonlWrite } from '../../lib/index.js'
import { lines, runTool, scratchDir } from '../helpers/run.js'
import { countsOf, summaryOf } from '../helpers/summary.js'

const input = [
  '{"_index":"logs","_id":"a","_source":{"n":1,"big":12345678901234567890}}',
  '{"_id":"b","_source":{"n":2,"id":"inner"}}',
  '{"_id":"a","_source":{"n":3}}'
].join('\n') + '\n'

t.test('raw shape passes each line through byte for byte', async (t) => {
  const r = await runTool('jsonl-write', [], { input })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, input, 'big integers keep every digit')
  t.match(r.stderr, /jsonl-write: 3 read, 3 written, 0 skipped, 0 failed/)
})

t.test('envelope and flat shapes, as the original FileSink and JSONLSink wrote them', async (t) => {
  const env = await runTool('jsonl-write', ['--shape', 'envelope'], { input: input.split('\n').slice(1).join('\n') })
  t.equal(env.code, 0, env.stderr)
  t.equal(env.stdout, '{"id":"b","content":{"n":2,"id":"inner"}}\n{"id":"a","content":{"n":3}}\n')
  const flat = await runTool('jsonl-write', ['--shape', 'flat'], { input: '{"_id":"b","_source":{"n":2,"id":"inner"}}\n' })
  t.equal(flat.stdout, '{"id":"b","n":2}\n', "the record's id wins over an id inside the content")
})

t.test('--dedupe keeps the first record of each id and counts the rest as skipped', async (t) => {
  const r = await runTool('jsonl-write', ['--dedupe'], { input })
  t.equal(r.code, 0)
  t.equal(r.stdout, lines(input).slice(0, 2).map((l) => l + '\n').join(''), 'the first a (every digit kept) and b, as they came')
  t.equal(countsOf(r.stderr, 'jsonl-write'), '3 read, 2 written, 1 skipped (duplicate id), 0 failed')
})

t.test('--id-field and --content-field read plain JSON Lines', async (t) => {
  const r = await runTool('jsonl-write', ['--id-field', 'user.id', '--content-field', '.', '--shape', 'envelope'], { input: '{"user":{"id":7},"x":1}\n' })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '{"id":"7","content":{"user":{"id":7},"x":1}}\n', 'the id is the string "7"; the content keeps the number 7')
})

t.test('bad lines are record errors: dead-lettered with line numbers, the rest is written, exit 1', async (t) => {
  const dir = scratchDir(t)
  const errors = join(dir, 'errors.ndjson')
  const bad = '{"_id":"1","_source":{}}\nnot json\n[1,2]\n\n{"_source":{"x":1}}\r\n{"_id":"2","_source":{}}\n'
  const r = await runTool('jsonl-write', ['--shape', 'flat', '--errors', errors], { input: bad })
  t.equal(r.code, 1)
  t.strictSame(lines(r.stdout), ['{"id":"1"}', '{"id":"2"}'])
  const dead = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l))
  t.strictSame(dead.map((d) => [d.record, d.line, d.error.code]), [
    ['not json', 2, 'NDJSON_INVALID_JSON'],
    ['[1,2]', 3, 'NDJSON_NOT_OBJECT'],
    ['{"_source":{"x":1}}', 5, 'RECORD_MISSING_ID']
  ])
  t.strictSame(summaryOf(r.stderr, 'jsonl-write'), { counts: '5 read, 2 written, 0 skipped, 3 failed', extra: ` — failed records in ${errors}` })
})

t.test('without --errors each bad line is one line on stderr; --max-errors stops the run', async (t) => {
  const r = await runTool('jsonl-write', ['--max-errors', '1'], { input: 'x\ny\nz\n{"_id":"1"}\n' })
  t.equal(r.code, 1)
  t.equal(r.stdout, '')
  t.match(r.stderr, /jsonl-write: record error \[NDJSON_INVALID_JSON\] line 1 is not JSON: .* \(line=1\)\n/)
  t.match(r.stderr, /error \[EMAXERRORS\] stopped: more than 1 records failed \(--max-errors 1\)/)
  t.notMatch(r.stderr, /line 3/, 'nothing read after the limit')
})

t.test('-o FILE is written atomically; .gz is gzipped; --append adds', async (t) => {
  const dir = scratchDir(t)
  const out = join(dir, 'out.jsonl')
  const r = await runTool('jsonl-write', ['-o', out], { input })
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(out, 'utf8'), input)
  t.strictSame(readdirSync(dir), ['out.jsonl'], 'no temporary file left behind')

  const again = await runTool('jsonl-write', ['--output_file', out, '--append'], { input: '{"_id":"c"}\n' })
  t.equal(again.code, 0)
  t.equal(readFileSync(out, 'utf8'), input + '{"_id":"c"}\n')

  const gz = join(dir, 'out.jsonl.gz')
  const z = await runTool('jsonl-write', ['-o', gz], { input })
  t.equal(z.code, 0)
  t.equal(gunzipSync(readFileSync(gz)).toString(), input)
  const z2 = await runTool('jsonl-write', ['-o', gz, '--append'], { input: '{"_id":"d"}\n' })
  t.equal(z2.code, 0)
  t.equal(gunzipSync(readFileSync(gz)).toString(), input + '{"_id":"d"}\n', 'appended gzip members read as one stream')
})

t.test('a failed run leaves no half file and keeps the old one', async (t) => {
  const dir = scratchDir(t)
  const out = join(dir, 'keep.jsonl')
  writeFileSync(out, 'old\n')
  const r = await runTool('jsonl-write', ['-o', out, '--max-errors', '0'], { input: '{"_id":"1"}\nbad\n{"_id":"2"}\n' })
  t.equal(r.code, 1)
  t.equal(readFileSync(out, 'utf8'), 'old\n')
  t.strictSame(readdirSync(dir), ['keep.jsonl'])
})

t.test('an output in a missing directory fails with one line naming it', async (t) => {
  const dir = scratchDir(t)
  const r = await runTool('jsonl-write', ['-o', join(dir, 'no', 'such', 'x.jsonl')], { input })
  t.equal(r.code, 1)
  t.match(r.stderr, /error \[ENOENT\] cannot write .*x\.jsonl: /)
  t.equal(r.stderr.split('\n').filter((l) => l.includes('error')).length, 1)
})

t.test('input files are read in order, missing ones refused up front', async (t) => {
  const dir = scratchDir(t)
  writeFileSync(join(dir, '1.ndjson'), '{"_id":"1"}')
  writeFileSync(join(dir, '2.ndjson'), '{"_id":"2"}\n')
  const r = await runTool('jsonl-write', [join(dir, '1.ndjson'), join(dir, '2.ndjson')])
  t.equal(r.stdout, '{"_id":"1"}\n{"_id":"2"}\n', 'a file without a final newline does not merge with the next')
  mkdirSync(join(dir, 'd'))
  const missing = await runTool('jsonl-write', [join(dir, '1.ndjson'), join(dir, 'missing.ndjson')])
  t.equal(missing.code, 1)
  t.equal(missing.stdout, '')
  t.match(missing.stderr, /cannot read .*missing\.ndjson: no such file/)
})

t.test('as a library: records in, JSON Lines into a file sink', async (t) => {
  const dir = scratchDir(t)
  const out = join(dir, 'lib.jsonl')
  const ctx = createContext({ tool: 'test', counters: ['read', 'written', 'skipped'], quiet: true })
  await pipeline(Readable.from([{ _id: 1, _source: { a: 1 } }, { _id: 2, _source: { a: 2 } }]), jsonlWrite({ shape: 'flat', context: ctx }), fileSink(out))
  t.equal(readFileSync(out, 'utf8'), '{"id":"1","a":1}\n{"id":"2","a":2}\n')
  t.equal(ctx.stats.get('written'), 2)
  t.notOk(existsSync(join(dir, `.lib.jsonl.${process.pid}.tmp`)))
})

t.test('-o to a device is written in place, never replaced by a regular file', async (t) => {
  const r = await runTool('jsonl-write', ['-o', '/dev/null'], { input })
  t.equal(r.code, 0, r.stderr)
  t.ok(statSync('/dev/null').isCharacterDevice(), '/dev/null is still a device')
  const full = await runTool('jsonl-write', ['-o', '/dev/full'], { input })
  t.equal(full.code, 1)
  t.match(full.stderr, /error \[ENOSPC\] cannot write \/dev\/full: /)
  t.ok(statSync('/dev/full').isCharacterDevice(), '/dev/full is still a device')
})
