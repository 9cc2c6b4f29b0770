import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { LONG_LINE_PREFIX } from '../../lib/core/line-limit.js'
import type { CsvRow, LongRecord } from '../../lib/csv/parse.js'
import { CsvParser } from '../../lib/csv/parse.js'
import { runWithHugeLine } from '../helpers/huge-line.js'
import { lines, runTool, scratchDir } from '../helpers/run.js'
import { random } from '../helpers/random.js'

type Out = { row: string[] } | { long: LongRecord }

async function parse (chunks: readonly Buffer[], maxRecordBytes?: number): Promise<Out[]> {
  const out: Out[] = []
  const parser = new CsvParser({ delimiter: ',', quote: '"', encoding: 'utf8', maxRecordBytes, onLong: (long) => out.push({ long }) })
  await pipeline(Readable.from(chunks, { objectMode: false }), parser, new Writable({ objectMode: true, write (r: CsvRow, _e, done) { out.push({ row: r.record }); done() } }))
  return out
}

/** Line ends in a record's raw text as csv-read counts them: CRLF, LF and a lone CR each one. */
const lineEnds = (raw: string): number => raw.split(/\r\n|\r|\n/).length - 1

/** What the limit must give, from the records of the whole text parsed without one. */
async function expected (text: string, max: number): Promise<Out[]> {
  const rows: CsvRow[] = []
  await pipeline(Readable.from([Buffer.from(text)], { objectMode: false }), new CsvParser({ delimiter: ',', quote: '"', encoding: 'utf8' }), new Writable({ objectMode: true, write (r: CsvRow, _e, done) { rows.push(r); done() } }))
  return rows.map((r) => {
    const body = r.raw.replace(/(\r\n|\r|\n)$/, '')
    const bytes = Buffer.byteLength(body)
    return bytes <= max ? { row: r.record } : { long: { prefix: [...body].slice(0, LONG_LINE_PREFIX).join(''), bytes, lineBreaks: lineEnds(r.raw) } }
  })
}

t.test('records over the limit are reported, the others parsed as without one, in any chunking', async (t) => {
  // Well-formed CSV (quotes closed, one line end throughout): a too long record with a broken
  // quote may fail or be skipped, depending on where the chunks end.
  const values = ['a', 'xxxxxxxx', '€€€€', '"q"', 'two\nlines', 'cr\r\nlf', '😀', '', ',']
  let cases = 0
  let failed = 0
  for (let seed = 0; seed < 1500 && failed < 5; seed++) {
    const rnd = random(seed)
    const eol = ['\n', '\r\n', '\r'][Math.floor(rnd() * 3)]
    const max = 1 + Math.floor(rnd() * 30)
    let text = ''
    for (let r = Math.floor(rnd() * 6); r > 0; r--) {
      const cells: string[] = []
      for (let c = 1 + Math.floor(rnd() * 3); c > 0; c--) {
        const v = values[Math.floor(rnd() * values.length)]
        cells.push(/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)
      }
      text += cells.join(',') + eol
    }
    if (rnd() < 0.3) text = text.slice(0, -eol.length)
    const bytes = Buffer.from(text)
    const chunks: Buffer[] = []
    for (let i = 0; i < bytes.length;) {
      const n = 1 + Math.floor(rnd() * 8)
      chunks.push(bytes.subarray(i, i + n))
      i += n
    }
    cases++
    const got = await parse(chunks, max)
    const want = await expected(text, max)
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      failed++
      t.strictSame(got, want, `seed ${seed}, limit ${max}, text ${JSON.stringify(text)}`)
    }
  }
  t.equal(failed, 0, `${cases} generated texts`)
})

t.test('csv-read: a too long record is a record error on the line it starts; the lines after it keep their numbers', async (t) => {
  const dir = scratchDir(t)
  const file = join(dir, 'data.csv')
  const big = 'y'.repeat(3000)
  writeFileSync(file, `id,text\n1,a\n2,"${big}\n${big}\n${big}"\n3,b\n4,c,extra\n5,d\n`)
  const r = await runTool('csv-read', ['--max-line-bytes', '1KiB', file])
  t.equal(r.code, 1)
  t.strictSame(lines(r.stdout).map((l) => (JSON.parse(l) as { _id: string })._id), ['1', '3', '5'])
  const bytes = Buffer.byteLength(`2,"${big}\n${big}\n${big}"`)
  t.ok(r.stderr.includes(`csv-read: record error [RECORD_TOO_LONG] the record on line 3 of ${file} is 8.8 KB, longer than --max-line-bytes 1 KB: skipped (file=${file}, bytes=${bytes}, line=3)`), r.stderr)
  t.match(r.stderr, /record error \[CSV_RECORD_INCONSISTENT_FIELDS_LENGTH\] .*data\.csv line 7 has 3 fields/, 'the row after it is on line 7, as in the file')
  t.match(r.stderr, /5 read, 3 emitted, 2 failed/)
  const whole = await runTool('csv-read', [file])
  t.equal(lines(whole.stdout).length, 4, 'under the default 64 MiB the record is read')
})

t.test('csv-read: a 300 MB record with no line end costs no memory, and the records after it are read', async (t) => {
  const r = await runWithHugeLine('csv-read', ['--max-line-bytes', '1MiB'], { head: 'id,text\n1,a\n2,"', mb: 300, fill: 'z', tail: '"\n3,c\n' })
  t.equal(r.code, 1)
  t.strictSame(lines(r.stdout), ['{"_id":"1","_source":{"id":"1","text":"a"}}', '{"_id":"3","_source":{"id":"3","text":"c"}}'])
  t.match(r.stderr, /record error \[RECORD_TOO_LONG\] the record on line 3 of stdin is 300 MB, longer than --max-line-bytes 1 MB/)
  t.ok(r.peakMb < 150, `peak RSS ${r.peakMb.toFixed(0)} MB while reading the 300 MB record`)
})
