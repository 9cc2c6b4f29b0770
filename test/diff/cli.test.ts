import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { lines, runShell, runTool, scratchDir } from '../helpers/run.js'

const dir = scratchDir(t)
const file = (name: string, text: string | Buffer): string => {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

const source = file('source.ndjson', [
  '{"_index":"logs","_id":"a","_source":{"price":10,"tags":["x"]}}',
  '{"_index":"logs","_id":"b","_source":{"price":10,"name":"b"}}',
  '{"_index":"logs","_id":"c","_source":{"n":1}}',
  ''
].join('\n'))
const target = file('target.ndjson', [
  '{"_index":"logs","_id":"d","_source":{"n":4}}',
  '{"_index":"logs","_id":"b","_source":{"name":"b","price":10.5}}',
  '{"_index":"logs","_id":"a","_source":{"tags":["x"],"price":10.0}}',
  ''
].join('\n'))

t.test('the operations, the summary and the report of a small pair, exactly', async (t) => {
  const report = join(dir, 'report.tsv')
  const r = await runTool('rec-diff', ['--report', report, source, target])
  t.equal(r.code, 1, 'status 1: the inputs differ')
  t.strictSame(lines(r.stdout).sort(), [
    '{"_index":"logs","_id":"d","_op":"delete"}',
    '{"_op":"index","_index":"logs","_id":"b","_source":{"price":10,"name":"b"}}',
    '{"_op":"index","_index":"logs","_id":"c","_source":{"n":1}}'
  ])
  t.match(r.stderr, /^rec-diff: 4 compared: 1 same, 1 missing, 1 changed, 1 extra; 6 records read in \d+\.\d s \([\d,]+\/s\)\n$/)
  t.strictSame(lines(readFileSync(report, 'utf8')).sort(), [
    'changed\t"b"\t_source.price: 10 ≠ 10.5 (SOURCE line 2, TARGET line 2)',
    'extra\t"d"\tTARGET line 1',
    'missing\t"c"\tSOURCE line 3'
  ])
})

t.test('exit status 0 for equal inputs, whatever their order and spacing', async (t) => {
  const shuffled = file('shuffled.ndjson', '\n  {"_source" : {"tags":["x"],"price":10},"_id":"a"}\r\n{"_id":"c","_source":{"n":1.0}}\n{"_id":"b","_source":{"name":"b","price":1e1}}')
  const r = await runTool('rec-diff', [source, shuffled])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '', 'no operation')
  t.match(r.stderr, 'rec-diff: 3 compared: 3 same, 0 missing, 0 changed, 0 extra; 6 records read')
})

t.test('exit status 2: bad usage, an input that cannot be read, a record error', async (t) => {
  const usage = [
    [[source], "rec-diff: two inputs are needed, SOURCE and TARGET (one was given) (see 'rec-diff --help')"],
    [[], "rec-diff: two inputs are needed, SOURCE and TARGET (none was given) (see 'rec-diff --help')"],
    [[source, target, source], "rec-diff: two inputs are needed, SOURCE and TARGET (3 were given) (see 'rec-diff --help')"],
    [['-', '-'], "rec-diff: stdin (-) can be SOURCE or TARGET, not both (see 'rec-diff --help')"],
    [['--numbers', 'exact', source, target], "rec-diff: invalid value for --numbers: 'exact' (choose value, text) (see 'rec-diff --help')"],
    [['--only', 'missing,same', source, target], "rec-diff: invalid value for --only: 'same' (choose from missing, changed, extra) (see 'rec-diff --help')"],
    [['--memory', '100kb', source, target], "rec-diff: invalid value for --memory: '100kb' (at least 1mb) (see 'rec-diff --help')"],
    [['--nope', source, target], "rec-diff: unknown option --nope (see 'rec-diff --help')"]
  ] as const
  for (const [args, message] of usage) {
    const r = await runTool('rec-diff', [...args])
    t.equal(r.code, 2, args.join(' '))
    t.equal(r.stderr, message + '\n')
  }
  const missing = await runTool('rec-diff', [source, join(dir, 'nope.ndjson')])
  t.equal(missing.code, 2)
  t.match(missing.stderr, `rec-diff: error [ENOENT] cannot read ${join(dir, 'nope.ndjson')}: no such file`)
  const isDir = await runTool('rec-diff', [source, dir])
  t.equal(isDir.code, 2)
  t.match(isDir.stderr, `rec-diff: error [EISDIR] cannot read ${dir}: it is a directory`)
  const tmp = await runTool('rec-diff', ['--tmpdir', join(dir, 'no-such-dir'), source, target])
  t.equal(tmp.code, 2)
  t.match(tmp.stderr, /rec-diff: error \[ENOENT\] cannot write temporary files in .*no-such-dir: .* \(--tmpdir picks another place\)/)

  const bad = file('bad.ndjson', Buffer.concat([Buffer.from('{"_id":"a","_source":{"price":10,"tags":["x"]}}\n{"_id":"z","_source":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]))
  const errors = join(dir, 'errors.ndjson')
  const r = await runTool('rec-diff', ['--errors', errors, bad, source])
  t.equal(r.code, 2, 'a record error: the comparison is not complete')
  const dead = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l) as { line: number, error: { code: string, message: string } })
  t.strictSame(dead.map((d) => [d.line, d.error.code, d.error.message]), [[2, 'NDJSON_INVALID_UTF8', 'SOURCE line 2 is not UTF-8: byte 23 begins [c3], which is no character (the record is shown as Latin-1, one character per byte)']])
  t.match(r.stderr, 'rec-diff: 3 compared: 1 same, 0 missing, 0 changed, 2 extra, 1 failed;')
})

t.test('stdin and process substitution as inputs', async (t) => {
  const stdin = await runTool('rec-diff', ['-', target], { input: readFileSync(source) })
  t.equal(stdin.code, 1)
  t.equal(lines(stdin.stdout).length, 3)
  const shell = await runShell(`rec-diff <(cat ${source}) <(cat ${target} | tac) | jq -c ._op | sort | uniq -c | sed 's/^ *//'`)
  t.equal(shell.code, 1, 'pipefail: rec-diff\'s status 1 comes through')
  t.equal(shell.stdout, '1 "delete"\n2 "index"\n')
})

t.test('--id-field and --content-field: plain JSON Lines, the whole line compared', async (t) => {
  const a = file('a.jsonl', '{"id":1,"v":"x","w":[1]}\n{"id":2,"v":"y"}\n{"id":"3","_op":"update","v":"z"}\n')
  const b = file('b.jsonl', '{"v":"x","id":1,"w":[1]}\n{"id":2,"v":"Y"}\n{"id":4,"v":"q"}\n')
  const r = await runTool('rec-diff', ['--id-field', 'id', '--content-field', '.', a, b])
  t.equal(r.code, 1)
  t.strictSame(lines(r.stdout).sort(), [
    '{"_op":"index","id":2,"v":"y"}',
    '{"id":"3","_op":"index","v":"z"}',
    '{"id":4,"_op":"delete"}'
  ], 'the id at its own path in a delete; an _op the line has gets "index" as its value')
  const nested = await runTool('rec-diff', ['--id-field', 'meta.key', file('n1.ndjson', '{"meta":{"key":"k1"},"_source":{"a":1}}\n'), file('n2.ndjson', '{"_index":"i","meta":{"key":"k2"},"_source":{"a":1}}\n')])
  t.strictSame(lines(nested.stdout).sort(), ['{"_index":"i","meta":{"key":"k2"},"_op":"delete"}', '{"_op":"index","meta":{"key":"k1"},"_source":{"a":1}}'])
})

t.test('lines longer than a read buffer, from a file and from a pipe', async (t) => {
  const long = (id: string, n: number): string => `{"_id":"${id}","_source":{"s":"${'é'.repeat(n)}"}}`
  const a = file('long-a.ndjson', [long('x', 1_500_000), long('y', 10), long('z', 2_500_000)].join('\n') + '\n')
  const b = file('long-b.ndjson', [long('z', 2_500_000), long('x', 1_500_001), long('y', 10)].join('\n'))
  const r = await runShell(`rec-diff --report ${join(dir, 'long.tsv')} ${a} <(cat ${b})`)
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, 'rec-diff: 3 compared: 2 same, 0 missing, 1 changed, 0 extra; 6 records read')
  t.equal(lines(r.stdout)[0], `{"_op":"index",${long('x', 1_500_000).slice(1)}`, 'the long line, byte for byte')
  const sorted = await runTool('rec-diff', ['--sorted', '-', b], { input: readFileSync(a) })
  t.match(sorted.stderr, 'rec-diff: error [EDIFF_UNSORTED]', 'and through the sorted merge, from stdin (this TARGET is not sorted)')
  t.match(sorted.stderr, 'TARGET is not sorted by id: line 2 has "x", after "z" on line 1')
})

t.test('--sorted with --by-index: ordered by index, then id; a nested --content-field', async (t) => {
  const a = file('ix-a.ndjson', '{"_index":"a","_id":"2","_source":{"doc":{"v":1},"meta":1}}\n{"_index":"b","_id":"1","_source":{"doc":{"v":1}}}\n{"_index":"b","_id":"3","_source":{"doc":{"v":3}}}\n')
  const b = file('ix-b.ndjson', '{"_index":"a","_id":"2","_source":{"doc":{"v":1.0},"meta":2}}\n{"_index":"b","_id":"3","_source":{"doc":{"v":4}}}\n{"_index":"c","_id":"1","_source":{"doc":{"v":1}}}\n')
  const report = join(dir, 'ix.tsv')
  const r = await runTool('rec-diff', ['--sorted', '--by-index', '--content-field', '_source.doc', '--report', report, a, b])
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, 'rec-diff: 4 compared: 1 same, 1 missing, 1 changed, 1 extra')
  t.strictSame(lines(readFileSync(report, 'utf8')), [
    'missing\t"b"/"1"\tSOURCE line 2',
    'changed\t"b"/"3"\t_source.doc.v: 3 ≠ 4 (SOURCE line 3, TARGET line 2)',
    'extra\t"c"/"1"\tTARGET line 3'
  ], 'in (index, id) order; meta is outside the content compared')
  const swapped = await runTool('rec-diff', ['--sorted', '--by-index', b, a])
  t.equal(swapped.code, 1, 'the pair the other way round: in order too')
  const unsorted = await runTool('rec-diff', ['--sorted', '--by-index', file('ix-c.ndjson', '{"_index":"b","_id":"1"}\n{"_index":"a","_id":"9"}\n'), b])
  t.equal(unsorted.code, 2)
  t.match(unsorted.stderr, 'SOURCE is not sorted by id: line 2 has "a"/"9", after "b"/"1" on line 1', 'the index first, then the id')
  const noIndex = await runTool('rec-diff', ['--by-index', file('noix.ndjson', '{"_id":"1"}\n{"_index":1,"_id":"2"}\n'), b])
  t.equal(noIndex.code, 2)
  t.match(noIndex.stderr, "record error [RECORD_MISSING_INDEX] SOURCE line 1 has no _index (--by-index)")
  t.match(noIndex.stderr, "record error [RECORD_MISSING_INDEX] SOURCE line 2: _index is a number, not an index name (--by-index)")
})

t.test('--log-format json: the summary event carries every counter', async (t) => {
  const r = await runTool('rec-diff', ['-q', '--log-format', 'json', source, target])
  const summary = lines(r.stderr).map((l) => JSON.parse(l) as { event: string, counts: Record<string, number> }).find((e) => e.event === 'summary')
  t.strictSame(summary?.counts === undefined ? undefined : { ...summary.counts, seconds: 0 }, { read: 6, compared: 4, same: 1, missing: 1, changed: 1, extra: 1, failed: 0, seconds: 0 })
})

t.test('a closed stdout ends the run quietly', async (t) => {
  const many = file('many.ndjson', Array.from({ length: 50000 }, (_v, i) => `{"_id":"m${i}","_source":{"i":${i}}}`).join('\n'))
  const r = await runShell(`rec-diff ${many} /dev/null | head -1`)
  t.equal(r.code, 0)
  t.equal(lines(r.stdout).length, 1)
  t.notMatch(r.stderr, /error/)
})
