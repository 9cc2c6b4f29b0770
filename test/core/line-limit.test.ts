import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createContext } from '../../lib/core/context.js'
import type { LongLine } from '../../lib/core/line-limit.js'
import { DEFAULT_MAX_LINE_BYTES, LONG_LINE_PREFIX, LineFramer } from '../../lib/core/line-limit.js'
import { ParsedLine, parseNdjson } from '../../lib/core/ndjson.js'
import { parseByteSize } from '../../lib/core/size.js'
import { startEsServer } from '../servers/es/server.js'
import { runWithHugeLine } from '../helpers/huge-line.js'
import { testDatabase } from '../helpers/mysql.js'
import { lines, runTool, scratchDir } from '../helpers/run.js'
import { random } from '../helpers/random.js'

type Framed = { line: number, raw: string } | { line: number, long: { prefix: string, bytes: number } }

/** What the framer must give, from the whole text at once: split at \n, each line measured. */
function expected (text: string, max: number): Framed[] {
  const parts = text.split('\n')
  if (parts[parts.length - 1] === '') parts.pop()
  return parts.map((raw, i) => {
    const bytes = Buffer.byteLength(raw)
    if (bytes <= max) return { line: i + 1, raw }
    let prefix = raw.slice(0, LONG_LINE_PREFIX)
    if (/[\ud800-\udbff]$/.test(prefix)) prefix = prefix.slice(0, -1)
    return { line: i + 1, long: { prefix, bytes } }
  })
}

function frame (pieces: readonly string[], max: number): Framed[] {
  const out: Framed[] = []
  const framer = new LineFramer(max, (raw, line) => out.push({ line, raw }), (l: LongLine) => out.push({ line: l.line, long: { prefix: l.prefix, bytes: l.bytes } }))
  for (const p of pieces) framer.write(p)
  framer.end()
  return out
}

t.test('the framer gives every line, and each too long one as such, however the text is cut', async (t) => {
  // Runs of one character make lines just under, at and over the limit, in bytes not characters.
  const alphabet = ['a', '\n', '\r\n', 'é', '€', '😀', 'x'.repeat(7), '€'.repeat(5), '\n\n']
  let cases = 0
  let failed = 0
  for (let seed = 0; seed < 3000 && failed < 5; seed++) {
    const rnd = random(seed)
    const max = 1 + Math.floor(rnd() * 24)
    let text = ''
    for (let n = Math.floor(rnd() * 30); n > 0; n--) text += alphabet[Math.floor(rnd() * alphabet.length)]
    // Cut between characters, as a StringDecoder does, never inside one.
    const chars = Array.from(text)
    const pieces: string[] = []
    for (let i = 0; i < chars.length;) {
      const n = Math.floor(rnd() * 6)
      pieces.push(chars.slice(i, i + n).join(''))
      i += n
    }
    cases++
    const got = frame(pieces, max)
    const want = expected(text, max)
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      failed++
      t.strictSame(got, want, `seed ${seed}, limit ${max}, text ${JSON.stringify(text)}, pieces ${JSON.stringify(pieces)}`)
    }
  }
  t.equal(failed, 0, `${cases} generated texts framed as a whole split would`)
})

t.test('a too long line keeps its first characters only, however many writes it spans', async (t) => {
  const line = 'é'.repeat(5000)
  const pieces = ['{"a":1}\n', ...Array.from({ length: 100 }, () => line), '\n{"b":2}']
  const got = frame(pieces, 100_000)
  t.strictSame(got, [
    { line: 1, raw: '{"a":1}' },
    { line: 2, long: { prefix: 'é'.repeat(LONG_LINE_PREFIX), bytes: 100 * 10_000 } },
    { line: 3, raw: '{"b":2}' }
  ])
  t.strictSame(frame(['x'.repeat(100), 'y'.repeat(100)], 150), [{ line: 1, long: { prefix: 'x'.repeat(100) + 'y'.repeat(100), bytes: 200 } }], 'an unfinished last line too')
  t.strictSame(frame(['€'.repeat(10) + '\n'], 30), [{ line: 1, raw: '€'.repeat(10) }], 'exactly the limit, in bytes, is not too long')
  t.strictSame(frame(['€'.repeat(10) + 'x\n'], 30), [{ line: 1, long: { prefix: '€'.repeat(10) + 'x', bytes: 31 } }], 'one byte more is')
})

t.test('--max-line-bytes takes sizes as --batch-bytes does, with MiB too', async (t) => {
  t.equal(parseByteSize('64MiB', 'max-line-bytes'), 64 * 1024 * 1024)
  t.equal(DEFAULT_MAX_LINE_BYTES, parseByteSize('64MiB', 'max-line-bytes'))
  t.equal(parseByteSize('1KiB', 'max-line-bytes'), 1024)
  t.equal(parseByteSize('2gib', 'max-line-bytes'), 2 * 1024 ** 3)
})

t.test('parseNdjson: a too long line is a record error with its line, file, length and start; the next lines go on', async (t) => {
  const dir = scratchDir(t)
  const errors = join(dir, 'errors.ndjson')
  const ctx = createContext({ tool: 'test', counters: ['read'], errorsFile: errors, maxLineBytes: 2000 })
  const long = `{"_id":"big","text":"${'z'.repeat(5000)}"}`
  const input = ['{"_id":"1"}', long, '', '{"_id":"3"}'].join('\n') + '\n'
  const got: ParsedLine[] = []
  await pipeline(Readable.from([Buffer.from(input.slice(0, 3000)), Buffer.from(input.slice(3000))]), parseNdjson(ctx, { file: 'in.ndjson' }), new Writable({ objectMode: true, write (l: ParsedLine, _e, done) { got.push(l); done() } }))
  ctx.failures.close()
  t.strictSame(got.map((l) => [l.line, l.text]), [[1, '{"_id":"1"}'], [4, '{"_id":"3"}']])
  t.strictSame(ctx.stats.toJSON().read, 3, 'the long line counts as read')
  t.strictSame(ctx.stats.get('failed'), 1, 'and as failed')
  const entries = lines(readFileSync(errors, 'utf8')).map((l) => JSON.parse(l) as { record: string, line: number, error: { code: string, message: string }, context: Record<string, unknown> })
  t.strictSame(entries, [{
    record: long.slice(0, LONG_LINE_PREFIX),
    line: 2,
    error: { code: 'RECORD_TOO_LONG', message: 'line 2 of in.ndjson is 4.9 KB, longer than --max-line-bytes 2 KB: skipped' },
    context: { file: 'in.ndjson', bytes: Buffer.byteLength(long), line: 2 }
  }])
})

t.test('jsonl-write: a 300 MB line with no line end costs no memory, and the lines after it are written', async (t) => {
  const start = '{"_id":"2","text":"'
  const r = await runWithHugeLine('jsonl-write', ['--max-line-bytes', '1MiB'], { head: '{"_id":"1"}\n' + start, mb: 300, tail: '"}\n{"_id":"3"}\n' })
  t.equal(r.code, 1, 'the long line failed the run')
  t.strictSame(lines(r.stdout), ['{"_id":"1"}', '{"_id":"3"}'])
  const bytes = start.length + 300 * 1024 * 1024 + '"}'.length
  t.ok(r.stderr.includes(`jsonl-write: record error [RECORD_TOO_LONG] line 2 of stdin is 300 MB, longer than --max-line-bytes 1 MB: skipped (bytes=${bytes}, line=2)`), r.stderr)
  t.match(r.stderr, /3 read, 2 written, 0 skipped, 1 failed/)
  t.ok(r.peakMb < 150, `peak RSS ${r.peakMb.toFixed(0)} MB while reading the 300 MB line`)
})

t.test('every binary that reads lines takes --max-line-bytes', async (t) => {
  const dir = scratchDir(t)
  const input = join(dir, 'in.ndjson')
  const long = `{"_id":"2","_source":{"v":"${'b'.repeat(200)}"}}`
  writeFileSync(input, `{"_id":"1","_source":{"v":"a"}}\n${long}\n{"_id":"3","_source":{"v":"c"}}\n`)
  const csv = await runTool('csv-write', ['--max-line-bytes', '100', input])
  t.equal(csv.code, 1)
  t.strictSame(lines(csv.stdout), ['id,v', '1,a', '3,c'])
  t.ok(csv.stderr.includes(`csv-write: record error [RECORD_TOO_LONG] line 2 of ${input} is ${long.length} B, longer than --max-line-bytes 100 B: skipped`), csv.stderr)
  const es = await startEsServer()
  t.teardown(async () => await es.close())
  const esWrite = await runTool('es-write', ['--url', es.url, '--index', 'docs', '--refresh', '--max-line-bytes', '100', input])
  t.equal(esWrite.code, 1)
  t.strictSame([...es.storedSources('docs')].sort(), [['1', '{"v":"a"}'], ['3', '{"v":"c"}']])
  t.ok(esWrite.stderr.includes(`es-write: record error [RECORD_TOO_LONG] line 2 of ${input} is ${long.length} B`), esWrite.stderr)
  const db = await testDatabase(t, 'line_limit')
  const mysqlWrite = await runTool('mysql-write', ['--url', db.url, '--table', 'docs', '--create', '--max-line-bytes', '100', input])
  t.equal(mysqlWrite.code, 1)
  t.strictSame([...await db.table('docs')].sort(), [['1', { v: 'a' }], ['3', { v: 'c' }]])
  t.ok(mysqlWrite.stderr.includes(`mysql-write: record error [RECORD_TOO_LONG] line 2 of ${input} is ${long.length} B`), mysqlWrite.stderr)
  const jsonl = await runTool('jsonl-write', [input])
  t.equal(jsonl.code, 0, `a ${long.length}-byte line is far under the default 64 MiB`)
  t.equal(lines(jsonl.stdout).length, 3)
  for (const bad of ['0', 'lots', '-1']) {
    const r = await runTool('jsonl-write', ['--max-line-bytes', bad, input])
    t.equal(r.code, 2, `--max-line-bytes ${bad} is a usage error`)
    t.match(r.stderr, /invalid value for --max-line-bytes/)
  }
})

t.test('explain-errors: a too long line of its input is skipped, and the errors around it explained', async (t) => {
  const dir = scratchDir(t)
  const log = join(dir, 'run.log')
  writeFileSync(log, [
    'mysql-write: error [ER_NO_SUCH_TABLE] Table \'shop.orders\' doesn\'t exist (host=db, port=3306, database=shop, table=orders)',
    'x'.repeat(5000),
    'csv-read: record error [CSV_MISSING_ID] a.csv line 3 has an empty \'id\' (file=a.csv, line=3)'
  ].join('\n') + '\n')
  const r = await runTool('explain-errors', ['--format', 'json', '--max-line-bytes', '1KiB', log])
  t.equal(r.code, 1, 'the skipped line fails the run')
  const report = JSON.parse(r.stdout) as { problems: Array<{ rule: string, examples: Array<{ line?: number }> }> }
  t.strictSame(report.problems.map((p) => p.rule).sort(), ['csv-missing-id', 'mysql-missing-table'])
  t.match(r.stderr, /explain-errors: record error \[RECORD_TOO_LONG\] line 2 of .*run\.log is 4\.9 KB, longer than --max-line-bytes 1 KB: skipped/)
})

t.test('explain-errors explains a too long line of another binary', async (t) => {
  const r = await runTool('explain-errors', ['--format', 'json', '-'], { input: 'es-write: record error [RECORD_TOO_LONG] line 7 of dump.ndjson is 300 MB, longer than --max-line-bytes 64 MB: skipped (file=dump.ndjson, bytes=314572800, line=7)\n' })
  t.equal(r.code, 0)
  const p = (JSON.parse(r.stdout) as { problems: Array<{ rule: string, what: string, option: string }> }).problems
  t.strictSame(p.map((x) => x.rule), ['line-too-long'])
  t.match(p[0].what, /Line 7 of dump\.ndjson is 314572800 bytes/)
  t.match(p[0].option, /--max-line-bytes/)
})
