// Round trips through real shell pipes: csv-read | csv-write gives back the file's cells, and
// es-read | csv-write, read back by csv-read, gives back the documents as flat records.
import t from 'tap'
import { parse } from 'csv-parse/sync'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { lines, runShell, scratchDir } from '../helpers/run.js'

/** Cells as csv-parse (the parser csv-read uses) reads them. */
const cells = (csv: string | Buffer, opts: { delimiter?: string, encoding?: BufferEncoding } = {}): string[][] => parse(csv, { bom: true, ...opts })

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
    t.same(cells(decode(readFileSync(out)), { delimiter: f.delimiter }), cells(decode(readFileSync(src)), { delimiter: f.delimiter }), f.name)
  }
  const plain = join(dir, 'plain.csv')
  t.equal(readFileSync(join(dir, 'out-plain.csv'), 'utf8'), readFileSync(plain, 'utf8'), 'a file written the plain way comes back byte for byte')
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
  const bulk = docs.map(([id, doc]) => `{"index":{"_index":"people","_id":${JSON.stringify(id)}}}\n${doc}\n`).join('')
  const res = await fetch(`${server.url}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: bulk })
  if (res.status !== 200) throw new Error(`seeding failed: ${res.status}`)
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
  t.same(records, [
    { _id: 'a1', _source: { id: 'a1', name: 'Ann', age: '41', score: '0.5', big: '9007199254740993', huge: '1e400', neg0: '-0', one: '1.0', active: 'true', note: '', tags: '["x","y"]', 'user.id': '7', 'user.geo.lat': '52.52', 'user.geo.lon': '-13.405', text: 'say "hi", then\nleave', empty: '', list: '' } },
    { _id: 'b2', _source: { id: 'b2', name: 'Zoë ☃', age: '7', score: '', big: '', huge: '', neg0: '', one: '', active: 'false', note: '', tags: '', 'user.id': '8', 'user.geo.lat': '1', 'user.geo.lon': '2', text: '', empty: '{}', list: '[{"k":1}]' } },
    { _id: 'c 3', _source: { id: 'c 3', name: '=1+2', age: '-1', score: '', big: '', huge: '', neg0: '', one: '', active: '', note: '', tags: '', 'user.id': '9', 'user.geo.lat': '', 'user.geo.lon': '', text: '', empty: '', list: '' } }
  ], 'every value as its text: digits as written, arrays and objects as JSON, null and missing as empty')
  const cast = await runShell(`csv-read --cast ${csv} | jq -c '._source | {age, active, user_id: .["user.id"], note}'`)
  t.same(lines(cast.stdout).map((l) => JSON.parse(l)), [
    { age: 41, active: true, user_id: 7, note: null },
    { age: 7, active: false, user_id: 8, note: null },
    { age: -1, active: null, user_id: 9, note: null }
  ], 'csv-read --cast turns the plain numbers and booleans back into JSON values')
})
