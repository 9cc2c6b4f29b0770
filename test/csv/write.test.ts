import t from 'tap'
import { parse } from 'csv-parse/sync'
import { chmodSync, lstatSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough, Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { gunzipSync } from 'node:zlib'
import { LosslessNumber, createContext, csvWrite } from '../../lib/index.js'
import { spawn } from 'node:child_process'
import { binPath, collect, lines, runShell, runTool, scratchDir } from '../helpers/run.js'
import { countsOf, summaryOf } from '../helpers/summary.js'
import { waitForOutput } from '../helpers/wait.js'

const ndjson = (records: unknown[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n'
/** The cells of a CSV text, as csv-parse (the library csv-read uses) reads them. */
const cells = (csv: string | Buffer, opts: { delimiter?: string, quote?: string } = {}): string[][] => parse(csv, { bom: true, relax_column_count: true, ...opts })

t.test('records become a header and rows: the id first, nested objects flattened, values as they came', async (t) => {
  const input = [
    '{"_index":"people","_id":"1","_source":{"name":"Ann","age":41,"ok":true,"geo":{"lat":52.5,"lon":-13.4},"tags":["a","b"],"note":null}}',
    '{"_index":"people","_id":"2","_source":{"name":"Bob \\"B\\", jr.","age":9007199254740993,"ok":false,"geo":{"lat":1.0,"lon":-0},"tags":[],"note":"line\\nbreak\\r\\nand cr"}}',
    '{"_id":"3","_source":{"name":"Zoë ☃ 😀","age":1e400,"geo":{"lat":0.1000000000000000055511151231257827}}}'
  ].join('\n') + '\n'
  const r = await runTool('csv-write', [], { input })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, [
    'id,name,age,ok,geo.lat,geo.lon,tags,note',
    '1,Ann,41,true,52.5,-13.4,"[""a"",""b""]",',
    '2,"Bob ""B"", jr.",9007199254740993,false,1.0,-0,[],"line\nbreak\r\nand cr"',
    '3,Zoë ☃ 😀,1e400,,0.1000000000000000055511151231257827,,,'
  ].join('\n') + '\n', 'every digit kept; quotes doubled; null and missing values empty')
  t.match(r.stderr, /^csv-write: 3 read, 3 written, 0 partial, 0 failed in [\d.]+ s/m)
  t.strictSame(cells(r.stdout)[2], ['2', 'Bob "B", jr.', '9007199254740993', 'false', '1.0', '-0', '[]', 'line\nbreak\r\nand cr'], 'a CSV parser reads the cells back')
})

t.test('--columns: dot paths in the order given, objects and arrays as compact JSON, missing values empty', async (t) => {
  const input = ndjson([
    { _id: 'a', _source: { user: { name: 'Ann', langs: ['de', 'fr'], address: { city: 'Oslo', zip: '0150' } }, n: 1 } },
    { _id: 'b', _source: { 'user.name': 'dotted key', n: 2 } },
    { _id: 'c', _source: { user: 'not an object', n: 3 } }
  ])
  const r = await runTool('csv-write', ['--columns', 'n,user.name', '--columns', 'user.address,id', '--extra-keys', 'ignore'], { input })
  t.equal(r.code, 0, r.stderr)
  t.strictSame(cells(r.stdout), [
    ['n', 'user.name', 'user.address', 'id'],
    ['1', 'Ann', '{"city":"Oslo","zip":"0150"}', 'a'],
    ['2', 'dotted key', '', 'b'],
    ['3', '', '', 'c']
  ], 'the id column goes where --columns puts it; a dotted key fills the column of its path')
  t.match(r.stderr, /warning: key 'user\.langs' \(first at line 1\) is not a column: its values are left out \(list every column with --columns, or raise --sample\)/)
  t.match(r.stderr, /warning: key 'user' \(first at line 3\)/)
  t.equal(countsOf(r.stderr, 'csv-write'), '3 read, 3 written, 2 partial (keys outside the columns left out), 0 failed')
})

t.test('--sample: the columns are the keys of the first N records; the held records are written in input order', async (t) => {
  const input = ndjson([
    { _id: '1', _source: { a: 1 } },
    { _id: '2', _source: { b: 2 } },
    { _id: '3', _source: { a: 3, c: 3 } },
    { _id: '4', _source: { a: 4, b: 4 } },
    { _id: '5', _source: { d: 5, e: { f: 5 } } },
    { _id: '6', _source: { a: 6, d: 6 } },
    { _id: '7', _source: { b: 7 } }
  ])
  const dir = scratchDir(t)
  const errors = join(dir, 'errors.ndjson')
  const r = await runTool('csv-write', ['--sample', '3', '--errors', errors], { input })
  t.equal(r.code, 1, 'a record with a key outside the columns is a failed record')
  t.strictSame(cells(r.stdout), [['id', 'a', 'b', 'c'], ['1', '1', '', ''], ['2', '', '2', ''], ['3', '3', '', '3'], ['4', '4', '4', ''], ['7', '', '7', '']])
  const dead = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l))
  t.strictSame(dead.map((d) => [d.line, d.error.code, d.record]), [
    [5, 'CSV_EXTRA_KEYS', JSON.stringify({ _id: '5', _source: { d: 5, e: { f: 5 } } })],
    [6, 'CSV_EXTRA_KEYS', JSON.stringify({ _id: '6', _source: { a: 6, d: 6 } })]
  ], 'dead-lettered whole, to be replayed with --columns')
  t.match(dead[0].error.message, /line 5 has keys outside the columns: d, e\.f; list every column with --columns \(or raise --sample\), or write such rows without them with --extra-keys ignore/)
  t.match(r.stderr, /warning: records not written because of keys outside the columns: d \(2 records, first at line 5\), e\.f \(1 record, first at line 5\); list every column with --columns/)
  t.strictSame(summaryOf(r.stderr, 'csv-write'), { counts: '7 read, 5 written, 0 partial, 2 failed', extra: ` — failed records in ${errors}` })

  const all = await runTool('csv-write', ['--sample', '7'], { input })
  t.equal(all.code, 0, all.stderr)
  t.strictSame(cells(all.stdout)[0], ['id', 'a', 'b', 'c', 'd', 'e.f'], 'a larger sample sees every key')
})

t.test('keys JavaScript would move to the front ("2024") keep the order of the JSON text', async (t) => {
  const input = '{"_index":"x","meta":{"k":[1,{"m":"}"}],"e":{}},"_id":"1","_source":{"b":[1,{"c":"]"}],"2024":{"q":1,"1":2},"a":{},"z":"s\\"q","2023":null}}\n'
  const r = await runTool('csv-write', [], { input })
  t.equal(r.code, 0, r.stderr)
  t.strictSame(cells(r.stdout), [['id', 'b', '2024.q', '2024.1', 'a', 'z', '2023'], ['1', '[1,{"c":"]"}]', '1', '2', '{}', 's"q', '']])
  const whole = await runTool('csv-write', ['--content-field', '.', '--no-id'], { input })
  t.strictSame(cells(whole.stdout)[0], ['_index', 'meta.k', 'meta.e', '_id', '_source.b', '_source.2024.q', '_source.2024.1', '_source.a', '_source.z', '_source.2023'])
})

t.test('held sample records: rows flow once the sample is full, not at the end of input', async (t) => {
  const ctx = createContext({ tool: 'test', counters: ['read', 'written', 'partial'], quiet: true })
  const writer = csvWrite({ sample: 2, context: ctx })
  const source = new PassThrough({ objectMode: true })
  const out: string[] = []
  writer.on('data', (d: Buffer) => out.push(d.toString()))
  const done = pipeline(source, writer)
  source.write({ _id: 'x', _source: { a: 1 } })
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(out.join(''), '', 'nothing yet: the sample is not full')
  source.write({ _id: 'y', _source: { a: 2 } })
  source.write({ _id: 'z', _source: { a: 3 } })
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(out.join(''), 'id,a\nx,1\ny,2\nz,3\n', 'header and rows written before the input ends')
  source.end()
  await done
  t.equal(ctx.stats.get('written'), 3)
  t.equal(ctx.stats.get('read'), 3, 'objects given in code are counted as read')
})

t.test('the id: --id-column, its place in the content, conflicts, --no-id, --id-field and --content-field', async (t) => {
  const csvRows = ndjson([{ _id: '1', _source: { name: 'Ann', id: '1', n: 5 } }, { _id: '2', _source: { name: 'Bob', id: '2', n: 6 } }])
  const same = await runTool('csv-write', [], { input: csvRows })
  t.equal(same.stdout, 'name,id,n\nAnn,1,5\nBob,2,6\n', "the id column keeps its place when the first record's content has it (csv-read's rows)")

  const conflict = await runTool('csv-write', [], { input: ndjson([{ _id: 'abc', _source: { id: 42, x: 1 } }, { _id: '7', _source: { id: 7, x: 2 } }]) })
  t.equal(conflict.code, 1)
  t.equal(conflict.stdout, 'id,x\n7,2\n', 'the number 7 is the id "7"')
  t.match(conflict.stderr, /record error \[CSV_ID_CONFLICT\] line 1 has id 'abc' but its content's 'id' is '42'; name another id column with --id-column, or leave the id out with --no-id/)

  const named = await runTool('csv-write', ['--csv_id_column', '_id'], { input: ndjson([{ _id: 'abc', _source: { id: 42 } }]) })
  t.equal(named.stdout, '_id,id\nabc,42\n')

  const noId = await runTool('csv-write', ['--no-id', '--content-field', '.'], { input: '{"user":"ann","n":1}\n{"user":"bob","n":2}\n' })
  t.equal(noId.code, 0, noId.stderr)
  t.equal(noId.stdout, 'user,n\nann,1\nbob,2\n')

  const field = await runTool('csv-write', ['--id-field', 'key', '--content-field', 'doc'], { input: '{"key":12345678901234567890,"doc":{"a":1}}\n{"doc":{"a":2}}\n' })
  t.equal(field.code, 1)
  t.equal(field.stdout, 'id,a\n12345678901234567890,1\n', 'a numeric id keeps its digits')
  t.match(field.stderr, /record error \[RECORD_MISSING_ID\] line 2 has no id at 'key' \(--no-id writes rows without one\)/)
})

t.test('bad records are counted, dead-lettered with their line, and the rest is written', async (t) => {
  const dir = scratchDir(t)
  const errors = join(dir, 'errors.ndjson')
  const input = '{"_id":"1","_source":{"a":1}}\nnot json\n[1]\n{"_id":"2"}\n{"_id":"3","_source":"text"}\n{"_id":"4","_source":{"a":"\\ud800"}}\n{"_id":"5","_source":{"a":5}}\n'
  const r = await runTool('csv-write', ['--errors', errors], { input })
  t.equal(r.code, 1)
  t.equal(r.stdout, 'id,a\n1,1\n5,5\n')
  const dead = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l))
  t.strictSame(dead.map((d) => [d.line, d.error.code]), [
    [2, 'NDJSON_INVALID_JSON'], [3, 'NDJSON_NOT_OBJECT'], [4, 'RECORD_MISSING_CONTENT'], [5, 'RECORD_CONTENT_NOT_OBJECT'], [6, 'CSV_UNENCODABLE']
  ])
  t.match(dead[4].error.message, /line 6: column 'a' holds a lone UTF-16 surrogate .*which UTF-8 cannot encode/)
  t.equal(countsOf(r.stderr, 'csv-write'), '7 read, 2 written, 0 partial, 5 failed')
})

t.test('a record nested deeper than the stack allows is a failed record, and the run goes on', async (t) => {
  const depth = 20000
  const deep = '{"_id":"2","_source":' + '{"x":'.repeat(depth) + '1' + '}'.repeat(depth) + '}'
  for (const args of [[], ['--columns', 'a', '--extra-keys', 'ignore']]) {
    const r = await runTool('csv-write', args, { input: `{"_id":"1","_source":{"a":1}}\n${deep}\n{"_id":"3","_source":{"a":3}}\n` })
    t.equal(r.code, 1)
    t.equal(r.stdout, 'id,a\n1,1\n3,3\n', args.join(' '))
    t.match(r.stderr, /record error \[RECORD_TOO_DEEP\] line 2 is nested too deeply to be written/)
  }
})

t.test('a dotted key and the same nested path in one record fill one column twice: a record error', async (t) => {
  const r = await runTool('csv-write', ['--columns', 'a.b'], { input: '{"_id":"1","_source":{"a":{"b":1},"a.b":2}}\n' })
  t.equal(r.code, 1)
  t.equal(r.stdout, 'id,a.b\n')
  t.match(r.stderr, /record error \[CSV_COLUMN_CONFLICT\] line 1 fills column 'a\.b' twice/)
})

t.test('dialect: delimiter, quote, tab, CRLF, BOM, no header', async (t) => {
  const input = ndjson([{ _id: '1', _source: { a: 'x;y', b: "it's", c: 'tab\there' } }])
  const semi = await runTool('csv-write', ['-d', ';', '--quote', "'", '--crlf', '--no-header'], { input })
  t.equal(semi.stdout, "1;'x;y';'it''s';tab\there\r\n")
  const tab = await runTool('csv-write', ['-d', '\\t', '--bom'], { input })
  t.equal(tab.stdout, '\uFEFFid\ta\tb\tc\n1\tx;y\tit\'s\t"tab\there"\n')
  t.strictSame(cells(tab.stdout, { delimiter: '\t' }), [['id', 'a', 'b', 'c'], ['1', 'x;y', "it's", 'tab\there']])
  const one = await runTool('csv-write', ['--columns', 'a'], { input: ndjson([{ _id: '1', _source: { a: null } }]) })
  t.equal(one.stdout, 'id,a\n1,\n')
  const single = await runTool('csv-write', ['--no-id', '--columns', 'a'], { input: ndjson([{ _id: '1', _source: { a: '' } }, { _id: '2', _source: { a: 'x' } }]) })
  t.equal(single.stdout, 'a\n""\nx\n', 'a row of one empty cell is written "", or a reader would skip it as a blank line')
})

t.test("--quote '': nothing is quoted; a cell that needs quotes is a record error, in a column name fatal", async (t) => {
  const dir = scratchDir(t)
  const errors = join(dir, 'errors.ndjson')
  const input = ndjson([
    { _id: '1', _source: { a: '5" screen', b: "O'Brien" } },
    { _id: '2', _source: { a: 'x,y', b: 'ok' } },
    { _id: '3', _source: { a: 'two\nlines', b: 'ok' } },
    { _id: '4', _source: { a: '\uFEFFbom', b: 'ok' } },
    { _id: '5', _source: { a: ['p', 'q'], b: { c: 1 } } }
  ])
  const r = await runTool('csv-write', ['--quote', '', '--columns', 'a,b', '--errors', errors], { input })
  t.equal(r.code, 1)
  t.equal(r.stdout, 'id,a,b\n1,5" screen,O\'Brien\n', 'quotes are plain characters, written as they are')
  const dead = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l))
  t.strictSame(dead.map((d) => [d.line, d.error.code, d.error.message]), [
    [2, 'CSV_NEEDS_QUOTES', 'line 2: column \'a\' holds the delimiter (","), which only quotes can hold, and --quote \'\' turned quoting off'],
    [3, 'CSV_NEEDS_QUOTES', 'line 3: column \'a\' holds a line end, which only quotes can hold, and --quote \'\' turned quoting off'],
    [4, 'CSV_NEEDS_QUOTES', 'line 4: column \'a\' starts with a byte order mark, which only quotes can hold, and --quote \'\' turned quoting off'],
    [5, 'CSV_NEEDS_QUOTES', 'line 5: column \'a\' holds the delimiter (","), which only quotes can hold, and --quote \'\' turned quoting off']
  ], 'JSON of an array holds the delimiter too')
  t.equal(countsOf(r.stderr, 'csv-write'), '5 read, 1 written, 0 partial, 4 failed')

  const tab = await runTool('csv-write', ['--quote', '', '-d', '\\t'], { input: ndjson([{ _id: '1', _source: { a: 'x,y "z"', b: [1, 2] } }]) })
  t.equal(tab.code, 0, tab.stderr)
  t.equal(tab.stdout, 'id\ta\tb\n1\tx,y "z"\t[1,2]\n', 'with a tab, commas and quotes need nothing')

  const only = await runTool('csv-write', ['--quote', '', '--no-id', '--columns', 'a'], { input: ndjson([{ _id: '1', _source: { a: '' } }, { _id: '2', _source: { a: 'x' } }]) })
  t.equal(only.stdout, 'a\nx\n')
  t.match(only.stderr, /record error \[CSV_NEEDS_QUOTES\] line 1: column 'a' is the only cell of its row and empty/, 'an empty line would be read as no row')

  const name = await runTool('csv-write', ['--quote', ''], { input: ndjson([{ _id: '1', _source: { 'a,b': 1 } }]) })
  t.equal(name.code, 1)
  t.equal(name.stdout, '')
  t.match(name.stderr, /error \[CSV_NEEDS_QUOTES\] column name 'a,b' holds the delimiter/)
})

t.test('a key "" makes a column with an empty name: written, and a warning says what csv-read will call it', async (t) => {
  const r = await runTool('csv-write', [], { input: ndjson([{ _id: '1', _source: { '': 'x', a: 1 } }]) })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'id,,a\n1,x,1\n')
  t.match(r.stderr, /warning: a column with an empty name \(the key ""\): csv-read reads it back under another: column 2 \(empty\) is column_2/)
})

t.test('--encoding latin1 and utf16le write those bytes; what Latin-1 cannot hold is a record error', async (t) => {
  const input = ndjson([{ _id: '1', _source: { name: 'Zoë' } }, { _id: '2', _source: { name: 'euro €' } }, { _id: '3', _source: { name: { nested: '€' } } }])
  const latin = await runTool('csv-write', ['--encoding', 'latin1', '--columns', 'name'], { input })
  t.equal(latin.code, 1)
  t.match(latin.stderr, /record error \[CSV_UNENCODABLE\] line 2: column 'name' holds '€', which Latin-1 cannot encode \(use --encoding utf8 or utf16le\)/)
  t.match(latin.stderr, /record error \[CSV_UNENCODABLE\] line 3: column 'name' holds '€'/)
  const dir = scratchDir(t)
  const out = join(dir, 'latin1.csv')
  await runTool('csv-write', ['--encoding', 'latin1', '-o', out, '--columns', 'name'], { input })
  t.strictSame(readFileSync(out), Buffer.from('id,name\n1,Zo\xeb\n', 'latin1'))
  const u16 = join(dir, 'u16.csv')
  const r = await runTool('csv-write', ['--encoding', 'utf16le', '--bom', '-o', u16], { input: ndjson([{ _id: '1', _source: { name: 'Zoë 😀' } }]) })
  t.equal(r.code, 0, r.stderr)
  t.strictSame(readFileSync(u16), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\n1,Zoë 😀\n', 'utf16le')]))
  const back = await runTool('csv-read', ['--encoding', 'utf16le', u16])
  t.strictSame(JSON.parse(back.stdout), { _id: '1', _source: { id: '1', name: 'Zoë 😀' } })
})

t.test('--escape-formulas: off by default; on, text cells a spreadsheet would run get a leading quote', async (t) => {
  const input = ndjson([{ _id: '1', _source: { f: '=HYPERLINK("http://x","click")', p: '+1', m: '-2', n: -2, at: '@SUM(A1)', tab: '\tx', ok: 'a=b' } }])
  const plain = await runTool('csv-write', [], { input })
  t.strictSame(cells(plain.stdout)[1], ['1', '=HYPERLINK("http://x","click")', '+1', '-2', '-2', '@SUM(A1)', '\tx', 'a=b'], 'the data is never altered by default')
  const guarded = await runTool('csv-write', ['--escape-formulas'], { input })
  t.strictSame(cells(guarded.stdout)[1], ['1', '\'=HYPERLINK("http://x","click")', "'+1", "'-2", '-2', "'@SUM(A1)", "'\tx", 'a=b'], 'numbers are left alone')
})

t.test('-o FILE: written under a temporary name and renamed; .gz gzipped; a failed run leaves the old file', async (t) => {
  const dir = scratchDir(t)
  const input = ndjson([{ _id: '1', _source: { a: 1 } }])
  const out = join(dir, 'out.csv')
  writeFileSync(out, 'old\n')
  chmodSync(out, 0o640)
  const r = await runTool('csv-write', ['-o', out], { input })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, '')
  t.equal(readFileSync(out, 'utf8'), 'id,a\n1,1\n')
  t.equal(statSync(out).mode & 0o777, 0o640, 'the mode of the file it replaced')
  t.equal(countsOf(r.stderr, 'csv-write'), '1 read, 1 written, 0 partial, 0 failed', 'written once the file is in place')
  t.strictSame(readdirSync(dir), ['out.csv'], 'no temporary file left behind')
  const gz = join(dir, 'out.csv.gz')
  const z = await runTool('csv-write', ['--output_file', gz], { input })
  t.equal(z.code, 0, z.stderr)
  t.equal(gunzipSync(readFileSync(gz)).toString(), 'id,a\n1,1\n')
  const failed = await runTool('csv-write', ['-o', out, '--max-errors', '0'], { input: input + 'bad\n' })
  t.equal(failed.code, 1)
  t.equal(readFileSync(out, 'utf8'), 'id,a\n1,1\n', 'a run stopped by --max-errors leaves the file as it was')
  t.strictSame(readdirSync(dir).sort(), ['out.csv', 'out.csv.gz'])
  t.ok(statSync(out).isFile())
  symlinkSync('out.csv', join(dir, 'link.csv'))
  const linked = await runTool('csv-write', ['-o', join(dir, 'link.csv')], { input: ndjson([{ _id: '2', _source: { b: 2 } }]) })
  t.equal(linked.code, 0, linked.stderr)
  t.ok(lstatSync(join(dir, 'link.csv')).isSymbolicLink(), 'the link is still a link')
  t.equal(readFileSync(out, 'utf8'), 'id,b\n2,2\n', 'its target has the new file')
  t.equal(statSync(out).mode & 0o777, 0o640, 'and keeps its mode')
  const dash = await runTool('csv-write', ['-o', '-'], { input })
  t.equal(dash.stdout, 'id,a\n1,1\n', '-o - is stdout')
})

t.test('--max-errors stops the run on a record csv-write refuses, held or streamed, and leaves -o as it was', async (t) => {
  const dir = scratchDir(t)
  const out = join(dir, 'keep.csv')
  writeFileSync(out, 'old\n')
  const input = ndjson([{ _id: '1', _source: { id: 'other' } }, { _id: '2', _source: { id: '2' } }, { _id: '3', _source: { id: '3' } }])
  for (const args of [[], ['--columns', 'id']]) {
    const r = await runTool('csv-write', ['-o', out, '--max-errors', '0', ...args], { input })
    t.equal(r.code, 1)
    t.match(r.stderr, /record error \[CSV_ID_CONFLICT\] line 1 /)
    t.match(r.stderr, /error \[EMAXERRORS\] stopped: more than 0 records failed \(--max-errors 0\)/)
    t.equal(readFileSync(out, 'utf8'), 'old\n', `${args.join(' ') || 'sampled'}: the file is as it was`)
    t.strictSame(readdirSync(dir), ['keep.csv'], 'no temporary file left')
  }
})

t.test('empty input: no columns to name, so an empty file; with --columns, the header alone', async (t) => {
  const r = await runTool('csv-write', [], { input: '' })
  t.equal(r.code, 0)
  t.equal(r.stdout, '')
  const h = await runTool('csv-write', ['--columns', 'a,b'], { input: '' })
  t.equal(h.stdout, 'id,a,b\n')
})

t.test('usage errors exit 2 with one line', async (t) => {
  for (const [args, message] of [
    [['--sample', '0'], /invalid value for --sample: 0 \(must be at least 1\)/],
    [['--extra-keys', 'drop'], /invalid value for --extra-keys: 'drop' \(choose fail, ignore\)/],
    [['--columns', 'a,b,a'], /--columns names 'a' twice/],
    [['--bom', '--encoding', 'latin1'], /--bom needs --encoding utf8 or utf16le/],
    [['--quote', 'ab'], /invalid value for --quote: it must be one character/],
    [['-d', '"'], /invalid value for --delimiter: it must not contain the quote character/],
    [['--encoding', 'ebcdic'], /invalid value for --encoding: 'ebcdic' \(choose utf8, utf-8, latin1, utf16le\)/]
  ] as const) {
    const r = await runTool('csv-write', [...args], { input: '' })
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, message)
    t.match(r.stderr, /\(see 'csv-write --help'\)\n$/)
    t.equal(r.stderr.split('\n').length, 2, 'one line')
  }
})

t.test('SIGINT while the sample is held: the held records are written, exit 130', async (t) => {
  const dir = scratchDir(t)
  const out = join(dir, 'held.csv')
  const child = spawn(process.execPath, [binPath('csv-write'), '--progress', '-o', out], { stdio: 'pipe' })
  const done = collect(child, null)
  child.stdin.write(ndjson([{ _id: '1', _source: { a: 'x' } }, { _id: '2', _source: { b: 'y' } }]))
  await waitForOutput(child.stderr, (text) => /^csv-write: 2 read, /m.test(text), { what: 'a progress line counting both records' })
  child.kill('SIGINT')
  const r = await done
  t.equal(r.code, 130)
  t.equal(readFileSync(out, 'utf8'), 'id,a,b\n1,x,\n2,,y\n', 'both records, with the columns they had')
  t.strictSame(summaryOf(r.stderr, 'csv-write'), { counts: '2 read, 2 written, 0 partial, 0 failed', extra: ' — interrupted by SIGINT' })
})

t.test('a closed stdout ends the run quietly with status 0', async (t) => {
  const input = ndjson(Array.from({ length: 20000 }, (_, i) => ({ _id: String(i), _source: { n: i, text: 'x'.repeat(50) } })))
  const r = await runShell('csv-write | head -2', { input })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'id,n,text\n0,0,' + 'x'.repeat(50) + '\n')
  t.notMatch(r.stderr, /error|Error/)
  const m = /^csv-write: (\d+) read, (\d+) written/m.exec(r.stderr)
  t.ok(m !== null && Number(m[2]) < 20000, `only what the pipe took counts as written (${m?.[0] ?? r.stderr})`)
})

t.test('as a library: plain objects with exact numbers', async (t) => {
  const ctx = createContext({ tool: 'test', counters: ['read', 'written', 'partial'], quiet: true })
  const out: Buffer[] = []
  await pipeline(Readable.from([{ _id: 1, _source: { big: new LosslessNumber('12345678901234567890.50'), n: 10n ** 20n, nested: { x: new LosslessNumber('1e400') } } }]), csvWrite({ context: ctx }), async function * (src) { for await (const c of src) out.push(Buffer.from(c)) })
  t.equal(Buffer.concat(out).toString(), 'id,big,n,nested.x\n1,12345678901234567890.50,100000000000000000000,1e400\n')
})
