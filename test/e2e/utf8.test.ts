import t from 'tap'
import { isUtf8 } from 'node:buffer'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startEsServer } from '../servers/es/server.js'
import { testDatabase } from '../helpers/mysql.js'
import { lines, runShell, runTool, scratchDir } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'

// Invalid UTF-8 in NDJSON input is a record error in every binary that reads records: never
// read with U+FFFD in its place, dead-lettered with every byte it came with. Files are read
// in chunks of 256 KiB (lib/core/input.ts), so lines placed across 262144 and 524288 have a
// character cut by a read.

const dir = scratchDir(t)
const CHUNK = 256 * 1024
const b = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)))

/** A line whose bytes `tail` start at file offset `at`, given what comes before it. */
function lineWithTailAt (before: number, at: number, head: string, tail: number[], end: string): Buffer {
  const pad = at - before - Buffer.byteLength(head)
  return b(head, 'x'.repeat(pad), tail, end)
}

const good = new Map<string, Buffer>()
const bad = new Map<number, { bytes: Buffer, hex: string }>()
const parts: Buffer[] = []
let size = 0
const add = (line: Buffer, kind: 'good' | { hex: string }, id: string, crlf = false): void => {
  if (kind === 'good') good.set(id, line)
  else bad.set(parts.length + 1, { bytes: line, hex: kind.hex })
  const full = b([...line], crlf ? '\r\n' : '\n')
  parts.push(full)
  size += full.length
}
add(b('{"_id":"v1","_source":{"s":"é😀"}}'), 'good', 'v1')
add(b('{"_id":"b2","_source":{"s":"', [0xc0, 0xaf], '"}}'), { hex: 'c0 af' }, 'b2') // overlong '/'
add(b('{"_id":"b3","_source":{"s":"', [0xed, 0xa0, 0x80], '"}}'), { hex: 'ed a0 80' }, 'b3') // a surrogate, U+D800
add(b('{"_id":"b4","_source":{"s":"', [0xe2, 0x82], '"}}'), { hex: 'e2 82' }, 'b4', true) // € cut short, a CRLF line
// 😀 (f0 9f 98 80) cut after its second byte by the first read
add(lineWithTailAt(size, CHUNK - 2, '{"_id":"v5","_source":{"s":"', [0xf0, 0x9f, 0x98, 0x80], '"}}'), 'good', 'v5')
// 😀 cut short (f0 9f 98), the cut at the second read's end
const b6 = lineWithTailAt(size, 2 * CHUNK - 2, '{"_id":"b6","_source":{"s":"', [0xf0, 0x9f, 0x98], '"}}')
add(b6, { hex: 'f0 9f 98' }, 'b6')
add(b('{"_id":"v7","_source":{"s":"\uFFFD"}}'), 'good', 'v7') // U+FFFD itself is a character
add(b('{"_id":"b8","_source":{"s":"', [0xf4, 0x90, 0x80, 0x80], '"}}'), { hex: 'f4 90 80 80' }, 'b8') // past U+10FFFF
add(b('{"_id":"v9","_source":{"n":9007199254740993}}'), 'good', 'v9')
const input = join(dir, 'mixed.ndjson')
writeFileSync(input, Buffer.concat(parts))
const READ = parts.length

t.test('the input is what the test means it to be', async (t) => {
  const file = readFileSync(input)
  t.equal(file.subarray(CHUNK - 2, CHUNK + 2).toString('hex'), 'f09f9880', '😀 across the first read')
  t.equal(file.subarray(2 * CHUNK - 2, 2 * CHUNK + 1).toString('hex'), 'f09f98', 'the cut character across the second')
  t.equal(good.size, 4)
  t.equal(bad.size, 5)
})

interface DeadLetter { record: string, line: number, error: { code: string, message: string }, context: Record<string, unknown> }

/** The dead letters, each as its line, code and bytes (the record read back from Latin-1). */
function deadLetters (file: string): Array<[number, string, string]> {
  return lines(readFileSync(file, 'utf8')).map((l) => JSON.parse(l) as DeadLetter).map((d) => [d.line, d.error.code, Buffer.from(d.record, 'latin1').toString('hex')])
}

const wantDead = [...bad].map(([line, { bytes }]) => [line, 'NDJSON_INVALID_UTF8', bytes.toString('hex')])
const source = (id: string): string => {
  const text = (good.get(id) as Buffer).toString('utf8')
  return text.slice(text.indexOf('"_source":') + '"_source":'.length, -1)
}

t.test('jsonl-write, every shape: the valid lines written, the others dead-lettered byte for byte, exit 1', async (t) => {
  for (const shape of ['raw', 'envelope', 'flat']) {
    const errors = join(dir, `jsonl-${shape}.errors`)
    const r = await runTool('jsonl-write', ['--shape', shape, '--errors', errors, input])
    t.equal(r.code, 1, `${shape}: ${r.stderr}`)
    t.equal(countsOf(r.stderr, 'jsonl-write'), `${READ} read, 4 written, 0 skipped, 5 failed`, shape)
    t.strictSame(deadLetters(errors), wantDead, `${shape}: every bad line, as its bytes`)
    if (shape === 'raw') t.equal(r.stdout, [...good.values()].map((l) => l.toString('utf8') + '\n').join(''), 'raw: the good lines byte for byte')
    else t.strictSame(lines(r.stdout).map((l) => (JSON.parse(l) as { id: string }).id), ['v1', 'v5', 'v7', 'v9'], shape)
  }
  const message = lines(readFileSync(join(dir, 'jsonl-raw.errors'), 'utf8')).map((l) => JSON.parse(l) as DeadLetter)[1]
  t.equal(message.error.message, 'line 3 is not UTF-8: byte 29 begins [ed a0 80], which is no character (the record is shown as Latin-1, one character per byte)')
  t.strictSame(message.context, { file: input, recordAs: 'latin1', line: 3 })
})

t.test('through a shell pipe, the same', async (t) => {
  const errors = join(dir, 'pipe.errors')
  const r = await runShell(`cat ${input} | jsonl-write --errors ${errors}`)
  t.equal(r.code, 1, r.stderr)
  t.equal(r.stdout, [...good.values()].map((l) => l.toString('utf8') + '\n').join(''))
  t.strictSame(deadLetters(errors), wantDead)
})

t.test('csv-write: no U+FFFD but the one the input holds', async (t) => {
  const errors = join(dir, 'csv.errors')
  const r = await runTool('csv-write', ['--errors', errors, input])
  t.equal(r.code, 1, r.stderr)
  t.equal(countsOf(r.stderr, 'csv-write'), `${READ} read, 4 written, 0 partial, 5 failed`)
  t.strictSame(deadLetters(errors), wantDead)
  const rows = lines(r.stdout)
  t.equal(rows.length, 5, 'a header and four rows')
  t.ok(rows.some((row) => row.includes('é😀')) && rows.some((row) => row.includes('x😀')), '😀 whole, also where a read cut it')
  t.equal(r.stdout.split('\uFFFD').length - 1, 1, 'one U+FFFD: v7\'s')
})

t.test('es-write: the valid documents stored as they came, the others dead-lettered', async (t) => {
  const es = await startEsServer()
  t.teardown(async () => await es.close())
  const errors = join(dir, 'es.errors')
  const r = await runTool('es-write', ['--url', es.url, '--index', 'docs', '--refresh', '--errors', errors, input])
  t.equal(r.code, 1, r.stderr)
  t.strictSame(deadLetters(errors), wantDead)
  t.strictSame([...es.storedSources('docs')].sort(), ['v1', 'v5', 'v7', 'v9'].map((id) => [id, source(id)]))
})

t.test('mysql-write: the valid rows stored, the others dead-lettered', async (t) => {
  const db = await testDatabase(t, 'e2e_utf8')
  const errors = join(dir, 'mysql.errors')
  const r = await runTool('mysql-write', ['--url', db.url, '--table', 'docs', '--create', '--errors', errors, input])
  t.equal(r.code, 1, r.stderr)
  t.strictSame(deadLetters(errors), wantDead)
  const rows = await db.rows<{ id: string, content: string }>('SELECT id, CAST(content AS CHAR) AS content FROM docs ORDER BY id')
  t.strictSame(rows.map((row) => [row.id, row.content]), ['v1', 'v5', 'v7', 'v9'].map((id) => [id, source(id)]))
})

t.test('rec-diff: a line that is not UTF-8 is a record error of its side, dead-lettered byte for byte', async (t) => {
  const empty = join(dir, 'empty.ndjson')
  writeFileSync(empty, '')
  const errors = join(dir, 'diff.errors')
  const r = await runTool('rec-diff', ['--errors', errors, input, empty])
  t.equal(r.code, 2, r.stderr)
  t.strictSame(lines(r.stdout).map((l) => (JSON.parse(l) as { _id: string })._id).sort(), ['v1', 'v5', 'v7', 'v9'])
  t.ok(isUtf8(Buffer.from(r.stdout, 'utf8')) && r.stdout.split('\uFFFD').length - 1 === 1, 'only v7\'s U+FFFD')
  t.strictSame(deadLetters(errors), wantDead)
  const first = JSON.parse(lines(readFileSync(errors, 'utf8'))[0]) as DeadLetter
  t.match(first.error.message, /^SOURCE line 2 is not UTF-8: byte 29 begins \[c0 af\]/)
})

t.test('explain-errors explains NDJSON_INVALID_UTF8', async (t) => {
  const r = await runTool('explain-errors', ['--format', 'json', join(dir, 'jsonl-raw.errors')])
  t.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout) as { problems: Array<{ rule: string, count: number, what: string }> }
  t.strictSame(report.problems.map((p) => [p.rule, p.count]), [['ndjson-invalid-utf8', 5]], 'the five lines are one problem')
  t.match(report.problems[0].what, new RegExp(`^Line 2 of ${input.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`))
})

t.test('csv-read: U+FFFD in the file is a character; bytes that are no character are refused with every byte', async (t) => {
  const csv = join(dir, 'mixed.csv')
  // 😀 across the first read of 256 KiB, as in the NDJSON file.
  const head = b('id,s\n1,\uFFFD\n2,', [0xc0, 0xaf], '\n3,', [0xed, 0xa0, 0x80], '\n')
  const long = lineWithTailAt(head.length, CHUNK - 1, '4,', [0xf0, 0x9f, 0x98, 0x80], '\n')
  writeFileSync(csv, Buffer.concat([head, long, b('5,', [0xe2, 0x82], '\r\n6,ok\n')]))
  const errors = join(dir, 'csv-read.errors')
  const r = await runTool('csv-read', ['--errors', errors, csv])
  t.equal(r.code, 1, r.stderr)
  const got = lines(r.stdout).map((l) => JSON.parse(l) as { _id: string, _source: { s: string } })
  t.strictSame(got.map((g) => g._id), ['1', '4', '6'])
  t.equal(got[0]._source.s, '\uFFFD', 'U+FFFD itself passes')
  t.ok(got[1]._source.s.endsWith('x😀'), '😀 whole across the read')
  t.strictSame(deadLetters(errors), [
    [3, 'CSV_INVALID_ENCODING', b('2,', [0xc0, 0xaf]).toString('hex')],
    [4, 'CSV_INVALID_ENCODING', b('3,', [0xed, 0xa0, 0x80]).toString('hex')],
    [6, 'CSV_INVALID_ENCODING', b('5,', [0xe2, 0x82]).toString('hex')]
  ])
  t.match(readFileSync(errors, 'utf8'), /line 3 is not valid UTF-8: byte 3 begins \[c0 af\] \(if the file is Latin-1, use --encoding latin1/)
  const header = await runTool('csv-read', [], { input: b('id,n', [0xff], '\n1,2\n') })
  t.equal(header.code, 1, 'a column name that is not text stops the read: it would be a key of every record')
  t.equal(header.stdout, '')
  t.ok(header.stderr.includes('csv-read: error [CSV_INVALID_ENCODING] stdin line 1, the header, is not valid UTF-8: byte 5 begins [ff] (if the file is Latin-1, use --encoding latin1)'), header.stderr)
})
