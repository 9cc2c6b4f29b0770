// Round trips through real shell pipes: csv-read | csv-write gives back the file's cells, and
// es-read | csv-write, read back by csv-read, gives back the documents as flat records.
import t from 'tap'
import { parse } from 'csv-parse/sync'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { lines, runShell, scratchDir } from '../helpers/run.js'

/** Cells as csv-parse (csv-read's parser is held to it: test/csv/parse.test.ts) reads them. */
const cells = (csv: string | Buffer, opts: { delimiter?: string, encoding?: BufferEncoding, relax?: boolean } = {}): string[][] => parse(csv, { bom: true, delimiter: opts.delimiter, encoding: opts.encoding, relax_column_count: opts.relax })

// Files csv-read reads whole (no header names it would rename: repeated or empty ones).
const corpus: Array<{ name: string, content: string | Buffer, options?: string, encoding?: BufferEncoding, delimiter?: string }> = [
  { name: 'plain.csv', content: 'id,name,age\n1,Ann,41\n2,Bob,7\n' },
  { name: 'bom-crlf.csv', content: '\uFEFFid,name\r\n1,Zoë\r\n2,"multi\r\nline"\r\n' },
  { name: 'quoted-newlines.csv', content: 'id,text\n1,"a\nb\nc"\n2,"\n"\n3,"cr\ronly"\n' },
  { name: 'quotes-delimiters.csv', content: 'id,q,note\n1,"say ""hi""","a,b,c"\n2,"""",","\n3,"x""y","""quoted"" start"\n' },
  { name: 'unicode.csv', content: 'id,text\n1,Zoë ☃ 😀 e\u0301\n2,\u2028\u2029 \u0000 nul\n3,\u00a0nbsp\u00a0\n' },
  { name: 'empty-cells.csv', content: 'id,a,b,c\n1,,,\n2,x,,\n3,,,z\n' },
  { name: 'numbers.csv', content: 'id,big,dec,exp,neg,zip\n1,9007199254740993,1.50,1e400,-0,007\n2,123456789012345678901234567890,0.1000000000000000055511151231257827,1E-7,-0.0,0001\n' },
  { name: 'header-names.csv', content: 'name,id,2024,2023,a.b,a,1\nAnn,1,x,y,dotted,plain,one\n', options: '' },
  { name: 'semicolon.csv', content: 'id;text;n\n1;"a;b";1,5\n2;plain;2,75\n', options: '-d ";"', delimiter: ';' },
  { name: 'latin1.csv', content: Buffer.from('id,name\n1,Zöe\n2,Müller ß\n', 'latin1'), options: '--encoding latin1', encoding: 'latin1' },
  { name: 'utf16.csv', content: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\n1,Zoë 😀\n', 'utf16le')]), options: '--encoding utf16le', encoding: 'utf16le' },
  { name: 'big-field.csv', content: `id,blob\n1,"${'x'.repeat(10 * 1024 * 1024)}"\n2,small\n` }
]

t.test('csv-read x.csv | csv-write gives back the cells of x.csv', async (t) => {
  const dir = scratchDir(t)
  for (const f of corpus) {
    const src = join(dir, f.name)
    const out = join(dir, `out-${f.name}`)
    writeFileSync(src, f.content)
    const opts = f.options ?? ''
    const r = await runShell(`csv-read ${opts} ${src} | csv-write ${opts} -o ${out}`)
    t.equal(r.code, 0, `${f.name}: ${r.stderr}`)
    const decode = (b: Buffer): string => f.encoding === undefined ? b.toString('utf8') : b.toString(f.encoding)
    t.strictSame(cells(decode(readFileSync(out)), { delimiter: f.delimiter }), cells(decode(readFileSync(src)), { delimiter: f.delimiter }), f.name)
  }
  const plain = join(dir, 'plain.csv')
  t.equal(readFileSync(join(dir, 'out-plain.csv'), 'utf8'), readFileSync(plain, 'utf8'), 'a file written the plain way comes back byte for byte')
})

t.test("csv-read's rules show in the round trip: repeated or empty header names come back renamed, the cells the same", async (t) => {
  const dir = scratchDir(t)
  const src = join(dir, 'names.csv')
  writeFileSync(src, 'id,name,name,,\n1,a,b,c,d\n2,,,,\n')
  const r = await runShell(`csv-read ${src} | csv-write`)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'id,name,name_2,column_4,column_5\n1,a,b,c,d\n2,,,,\n', 'the names csv-read gave them (its warning names each)')
  t.strictSame(cells(r.stdout).slice(1), cells(readFileSync(src, 'utf8')).slice(1), 'every data cell as it was')
  t.match(r.stderr, /csv-read: warning: .*column 3 'name' is name_2, column 4 \(empty\) is column_4, column 5 \(empty\) is column_5/)
})

t.test("csv-read's bad-input corpus: the rows that parse come back; no rows, no file content", async (t) => {
  const dir = scratchDir(t)
  const files: Array<{ name: string, content: string | Buffer, good: number[] }> = [
    { name: 'ragged.csv', content: 'id,a,b\n1,x,y\n2,x\n3,x,y,z\n4,"x\ny",y\n', good: [0, 1, 4] },
    { name: 'emptyid.csv', content: 'id,name\n,a\n2,b\n', good: [0, 2] },
    { name: 'bad-utf8.csv', content: Buffer.concat([Buffer.from('id,name\n1,'), Buffer.from([0x5a, 0xf6, 0x65]), Buffer.from('\n2,ok\n')]), good: [0, 2] },
    { name: 'broken-quote.csv', content: 'id,name\n1,ok\n2,"broken\n3,after\n', good: [0, 1] }
  ]
  for (const f of files) {
    const src = join(dir, f.name)
    writeFileSync(src, f.content)
    // csv-read exits 1 for these (pipefail says so); csv-write writes what came.
    const r = await runShell(`csv-read ${src} | csv-write`)
    t.equal(r.code, 1, f.name)
    t.match(r.stderr, /csv-write: \d+ read, \d+ written, 0 partial, 0 failed/, `${f.name}: csv-write itself had nothing to refuse`)
    const all = cells(readFileSync(src, 'utf8').split('\n').slice(0, f.name === 'broken-quote.csv' ? 2 : undefined).join('\n'), { relax: true })
    t.strictSame(cells(r.stdout), f.good.map((i) => all[i]), `${f.name}: the header and the good rows, cell for cell`)
  }
  for (const [name, content] of [['empty.csv', ''], ['header-only.csv', 'id,name\n']]) {
    const src = join(dir, name)
    writeFileSync(src, content)
    const r = await runShell(`csv-read ${src} | csv-write`)
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, '', `${name}: no records, so nothing to name columns after (a header alone needs --columns)`)
  }
  const header = await runShell(`csv-read ${join(dir, 'header-only.csv')} | csv-write --columns name`)
  t.equal(header.stdout, 'id,name\n')
})

t.test("stray quotes: csv-read --quote '' | csv-write --quote '' gives the file back byte for byte", async (t) => {
  const dir = scratchDir(t)
  const src = join(dir, 'stray.csv')
  writeFileSync(src, 'id,name,size\n1,5" screen,"big\n2,O"Brien,""\n')
  const r = await runShell(`csv-read --quote '' ${src} | csv-write --quote ''`)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, readFileSync(src, 'utf8'))
  const quoted = await runShell(`csv-read --quote '' ${src} | csv-write | csv-read`)
  const plain = await runShell(`csv-read --quote '' ${src}`)
  t.equal(quoted.stdout, plain.stdout, 'written with quotes instead, it reads back as the same records')
})

t.test("another quote character: csv-write -d ';' --quote \"'\" doubles it in a cell, and csv-read with the same options reads it back", async (t) => {
  const dir = scratchDir(t)
  const src = join(dir, 'records.ndjson')
  const records = [
    '{"_id":"1","_source":{"id":"1","text":"it\'s \\"fine\\"; ok"}}',
    '{"_id":"2","_source":{"id":"2","text":"\'\'"}}'
  ]
  writeFileSync(src, records.join('\n') + '\n')
  const r = await runShell(`csv-write -d ';' --quote "'" ${src} | tee ${dir}/out.csv | csv-read -d ';' --quote "'"`)
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(join(dir, 'out.csv'), 'utf8'), `id;text\n1;'it''s "fine"; ok'\n2;''''''\n`)
  t.strictSame(lines(r.stdout), records, 'the same records, byte for byte')
})

t.test('the same file through --bom --crlf (what Excel likes) still reads back the same', async (t) => {
  const dir = scratchDir(t)
  const src = join(dir, 'x.csv')
  writeFileSync(src, 'id,text,n\n1,"two\nlines",3\n2,é,4\n')
  const r = await runShell(`csv-read ${src} | csv-write --bom --crlf | tee ${dir}/excel.csv | csv-read`)
  t.equal(r.code, 0, r.stderr)
  t.ok(readFileSync(join(dir, 'excel.csv')).subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), 'starts with the UTF-8 BOM')
  const again = await runShell(`csv-read ${src}`)
  t.equal(r.stdout, again.stdout, 'csv-read gives the same records from both files')
})

let server: EsTestServer
t.before(async () => {
  server = await startEsServer()
  // Through _bulk as text: a number literal in JavaScript would have lost its digits already.
  const docs = [
    ['a1', '{"name":"Ann","age":41,"score":0.5,"big":9007199254740993,"huge":1e400,"neg0":-0,"one":1.0,"active":true,"note":null,"tags":["x","y"],"user":{"id":7,"geo":{"lat":52.52,"lon":-13.405}},"text":"say \\"hi\\", then\\nleave"}'],
    ['b2', '{"name":"Zoë ☃","age":7,"active":false,"user":{"id":8,"geo":{"lat":1,"lon":2}},"empty":{},"list":[{"k":1}],"text":""}'],
    ['c 3', '{"name":"=1+2","age":-1,"user":{"id":9}}']
  ]
  // Not indexed (dynamic: false): a search engine refuses 1e400 in a number field, and these
  // documents are only read back, from _source.
  const made = await fetch(`${server.url}/people`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"mappings":{"dynamic":false}}' })
  if (made.status !== 200) throw new Error(`creating the index failed: ${made.status} ${await made.text()}`)
  const bulk = docs.map(([id, doc]) => `{"index":{"_index":"people","_id":${JSON.stringify(id)}}}\n${doc}\n`).join('')
  const res = await fetch(`${server.url}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: bulk })
  const answer = await res.text()
  if (res.status !== 200 || (JSON.parse(answer) as { errors: boolean }).errors) throw new Error(`seeding failed: ${res.status} ${answer}`)
})
t.teardown(async () => { await server.close() })

t.test('es-read | csv-write, read back by csv-read, gives back the documents as flat records', async (t) => {
  const dir = scratchDir(t)
  const csv = join(dir, 'people.csv')
  const r = await runShell(`es-read --url ${server.url} --index people | csv-write -o ${csv} && csv-read ${csv}`)
  t.equal(r.code, 0, r.stderr)
  const header = 'id,name,age,score,big,huge,neg0,one,active,note,tags,user.id,user.geo.lat,user.geo.lon,text,empty,list'
  t.equal(readFileSync(csv, 'utf8').split('\n')[0], header, 'columns: the id, then every key of the documents, nested ones as dot paths')
  const records = lines(r.stdout).map((l) => JSON.parse(l))
  t.strictSame(records, [
    { _id: 'a1', _source: { id: 'a1', name: 'Ann', age: '41', score: '0.5', big: '9007199254740993', huge: '1e400', neg0: '-0', one: '1.0', active: 'true', note: '', tags: '["x","y"]', 'user.id': '7', 'user.geo.lat': '52.52', 'user.geo.lon': '-13.405', text: 'say "hi", then\nleave', empty: '', list: '' } },
    { _id: 'b2', _source: { id: 'b2', name: 'Zoë ☃', age: '7', score: '', big: '', huge: '', neg0: '', one: '', active: 'false', note: '', tags: '', 'user.id': '8', 'user.geo.lat': '1', 'user.geo.lon': '2', text: '', empty: '{}', list: '[{"k":1}]' } },
    { _id: 'c 3', _source: { id: 'c 3', name: '=1+2', age: '-1', score: '', big: '', huge: '', neg0: '', one: '', active: '', note: '', tags: '', 'user.id': '9', 'user.geo.lat': '', 'user.geo.lon': '', text: '', empty: '', list: '' } }
  ], 'every value as its text: digits as written, arrays and objects as JSON, null and missing as empty')
  const cast = await runShell(`csv-read --cast ${csv} | jq -c '._source | {age, active, user_id: .["user.id"], note}'`)
  t.strictSame(lines(cast.stdout).map((l) => JSON.parse(l)), [
    { age: 41, active: true, user_id: 7, note: null },
    { age: 7, active: false, user_id: 8, note: null },
    { age: -1, active: null, user_id: 9, note: null }
  ], 'csv-read --cast turns the plain numbers and booleans back into JSON values')
})
