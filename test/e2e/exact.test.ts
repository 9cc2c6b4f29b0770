import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { testDatabase } from '../helpers/mysql.js'
import { binPath, collect, lines, runShell, runTool, scratchDir } from '../helpers/run.js'
import { countsOf, summaryOf } from '../helpers/summary.js'
import { waitForOutput } from '../helpers/wait.js'

const dir = scratchDir(t)
const db = await testDatabase(t, 'e2e_exact')
const env = { ...process.env, MYSQL_URL: db.url }

// Numbers JSON.parse would change, in every place a value can be.
const NUMBERS = ['9007199254740993', '-9223372036854775809', '18446744073709551616', '0.1000000000000000055511151231257827', '1e400', '-1E-400', '1E+2', '1.0', '-0', '-0.0', '12.3400', '3.14159265358979323846264338327950288']

t.test('jsonl-write: every shape keeps every digit, ids included', async (t) => {
  const source = `{"list":[${NUMBERS.join(',')}],"o":{"x":${NUMBERS[0]},"y":[[${NUMBERS[4]}]]},${NUMBERS.map((n, i) => `"k${i}":${n}`).join(',')},"s":"${NUMBERS[0]}"}`
  const input = `{"_id":9007199254740993,"_source":${source}}\n{"_id":9007199254740992,"_source":{"n":1.0}}\n{"_id":"9007199254740993","_source":{"dup":1e400}}\n`
  const raw = await runTool('jsonl-write', [], { input })
  t.equal(raw.stdout, input, 'raw: byte for byte')
  const env = await runTool('jsonl-write', ['--shape', 'envelope'], { input })
  t.equal(env.stdout, `{"id":"9007199254740993","content":${source}}\n{"id":"9007199254740992","content":{"n":1.0}}\n{"id":"9007199254740993","content":{"dup":1e400}}\n`)
  const flat = await runTool('jsonl-write', ['--shape', 'flat', '--dedupe'], { input })
  t.equal(flat.code, 0, flat.stderr)
  t.equal(flat.stdout, `{"id":"9007199254740993",${source.slice(1)}\n{"id":"9007199254740992","n":1.0}\n`, 'ids 2^53 and 2^53+1 stay two ids; the same id as a string is a duplicate')
  t.equal(countsOf(flat.stderr, 'jsonl-write'), '3 read, 2 written, 1 skipped (duplicate id), 0 failed')
})

t.test('a key given twice: the last one wins in every reshaping writer, with the same bytes', async (t) => {
  const input = '{"_id":"k","_source":{"a":1,"b":{"c":1,"c":2.50},"a":1.0}}\n'
  const flat = await runTool('jsonl-write', ['--shape', 'flat'], { input })
  t.equal(flat.stdout, '{"id":"k","a":1.0,"b":{"c":2.50}}\n')
  const r = await runShell('mysql-write -t dupkeys --create', { env, input })
  t.equal(r.code, 0, r.stderr)
  const [row] = await db.rows<{ content: string }>('SELECT CAST(content AS CHAR) AS content FROM dupkeys')
  t.equal(row.content, '{"a":1.0,"b":{"c":2.50}}', 'the table holds the same document, written once')
})

t.test('csv-read: the JSON content column and --cast keep every digit', async (t) => {
  const csv = join(dir, 'nums.csv')
  writeFileSync(csv, `id,content,n\n1,"{""big"": ${NUMBERS[0]},\n ""e"": 1e400, ""z"": -0, ""d"": 1.50}",x\n2,,${NUMBERS[0]}\n3,,1.0\n4,,007\n5,,2.5\n`)
  const r = await runTool('csv-read', ['--cast', csv])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, [
    `{"_id":"1","_source":{"big":${NUMBERS[0]},"e":1e400,"z":-0,"d":1.50}}`,
    `{"_id":"2","_source":{"id":2,"content":null,"n":${NUMBERS[0]}}}`,
    '{"_id":"3","_source":{"id":3,"content":null,"n":1.0}}',
    '{"_id":"4","_source":{"id":4,"content":null,"n":"007"}}',
    '{"_id":"5","_source":{"id":5,"content":null,"n":2.5}}'
  ].join('\n') + '\n')
})

t.test('round trip csv-read | jsonl-write, then jsonl-write | mysql-write and back: the same bytes', async (t) => {
  const csv = join(dir, 'people.csv')
  const rows = [
    ['p1', 'Zoë "Z" Ölm', `{""n"": ${NUMBERS[0]}, ""d"": 0.10, ""tags"": [""a"", 1e2]}`],
    ['p 2', 'line\nbreak', ''],
    ['P2', '😀 ☃', `{""deep"": {""x"": -0.0, ""y"": [${NUMBERS[1]}]}}`],
    ['p3', 'x,y', 'not json']
  ]
  writeFileSync(csv, 'id,name,content\r\n' + rows.map(([id, name, content]) => `${id},"${name.replace(/"/g, '""')}","${content}"`).join('\r\n') + '\r\n')
  const expected = [
    `{"_id":"p1","_source":{"n":${NUMBERS[0]},"d":0.10,"tags":["a",1e2]}}`,
    '{"_id":"p 2","_source":{"id":"p 2","name":"line\\nbreak","content":""}}',
    `{"_id":"P2","_source":{"deep":{"x":-0.0,"y":[${NUMBERS[1]}]}}}`,
    '{"_id":"p3","_source":{"id":"p3","name":"x,y","content":"not json"}}'
  ].join('\n') + '\n'
  const ndjson = join(dir, 'people.jsonl')
  const a = await runShell(`csv-read ${csv} | jsonl-write -o ${ndjson}`)
  t.equal(a.code, 0, a.stderr)
  t.equal(readFileSync(ndjson, 'utf8'), expected, 'csv-read | jsonl-write')

  const b = await runShell(`jsonl-write ${ndjson} | mysql-write -t people --create`, { env })
  t.equal(b.code, 0, b.stderr)
  const back = await runShell(`mariadb -h ${db.host} -P ${db.port} -u root -N -B -r ${db.name} -e "SELECT CONCAT('{\\"_id\\":', JSON_QUOTE(id), ',\\"_source\\":', content, '}') FROM people ORDER BY id"`)
  t.equal(back.code, 0, back.stderr)
  t.equal(back.stdout, expected.split('\n').filter((l) => l !== '').sort((x, y) => Buffer.compare(Buffer.from(JSON.parse(x)._id), Buffer.from(JSON.parse(y)._id))).join('\n') + '\n', 'the table gives back every record, byte for byte')
  t.strictSame((await db.rows<{ id: string }>('SELECT id FROM people ORDER BY id')).map((r) => r.id), ['P2', 'p 2', 'p1', 'p3'])
})

t.test('a closed stdout is not a bad record: | head -1 counts and dead-letters nothing', async (t) => {
  const big = join(dir, 'big.ndjson')
  writeFileSync(big, Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ _id: `id-${i}`, _source: { n: i, text: 'x'.repeat(40 + (i % 50)) } })).join('\n') + '\n')
  const csv = join(dir, 'big.csv')
  writeFileSync(csv, 'id,text\n' + Array.from({ length: 20_000 }, (_, i) => `${i},"${'y'.repeat(30 + (i % 50))}\n${i}"`).join('\n') + '\n')
  for (let run = 0; run < 5; run++) {
    const errors = join(dir, `head-${run}.errors`)
    const r = await runShell(`jsonl-write --errors ${errors} ${big} | head -1`)
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, '{"_id":"id-0","_source":{"n":0,"text":"' + 'x'.repeat(40) + '"}}\n')
    t.match(r.stderr, /jsonl-write: \d+ read, \d+ written, 0 skipped, 0 failed/)
    t.equal(readFileSync(errors, 'utf8'), '', `jsonl-write run ${run}: nothing dead-lettered`)
    const c = await runShell(`csv-read --errors ${errors} ${csv} | head -1`)
    t.equal(c.code, 0, c.stderr)
    t.match(c.stderr, /csv-read: \d+ read, \d+ emitted, 0 failed/)
    t.equal(readFileSync(errors, 'utf8'), '', `csv-read run ${run}: nothing dead-lettered`)
  }
})

t.test('SIGINT mid-line: the records before it are written, the unfinished line is not a bad record', async (t) => {
  const errors = join(dir, 'sigint.errors')
  const child = spawn(process.execPath, [binPath('jsonl-write'), '--errors', errors], { stdio: 'pipe' })
  const done = collect(child, null)
  child.stdin.write('{"_id":"1"}\n{"_id":"2"}\n{"_id":"3","_sou')
  const out = await waitForOutput(child.stdout, (text) => text.includes('{"_id":"2"}\n'), { what: 'the two whole records on stdout' })
  child.kill('SIGINT')
  const r = await done
  t.equal(r.code, 130, r.stderr)
  t.equal(out, '{"_id":"1"}\n{"_id":"2"}\n')
  t.equal(r.stdout, out, 'and nothing after them')
  t.strictSame(summaryOf(r.stderr, 'jsonl-write'), { counts: '2 read, 2 written, 0 skipped, 0 failed', extra: ' — interrupted by SIGINT' })
  t.ok(!existsSync(errors) || readFileSync(errors, 'utf8') === '', 'nothing dead-lettered')
  child.stdin.destroy()
})

t.test('csv-read --limit cut inside a quoted field that spans lines: no false broken-quote error', async (t) => {
  const csv = join(dir, 'quoted.csv')
  writeFileSync(csv, 'id,text\n' + Array.from({ length: 3000 }, (_, i) => `${i},"${Array.from({ length: 12 }, () => 'z'.repeat(60)).join('\n')}"`).join('\n') + '\n')
  for (const limit of ['1', '7', '500']) {
    const r = await runTool('csv-read', ['--limit', limit, csv])
    t.equal(r.code, 0, r.stderr)
    t.equal(lines(r.stdout).length, Number(limit))
    t.match(r.stderr, new RegExp(`csv-read: ${limit} read, ${limit} emitted, 0 failed`))
  }
})
