// Every delimiter csv-read accepts round-trips through csv-write: single characters (of one or
// two UTF-16 units), several characters, and delimiters whose characters, prefixes and
// suffixes are in the cells beside them (with `aa`, the cell `a` written bare before the
// delimiter read back as `aaa`, its first `aa` taken for the delimiter).
import t from 'tap'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { RowFormatter } from '../../lib/csv/format.js'
import { CsvParser } from '../../lib/csv/parse.js'
import { lines, runShell } from '../helpers/run.js'
import { random } from '../helpers/random.js'

const DELIMITERS = [',', ';', '\t', '|', ' ', 'a', 'é', '😀', '\u00a0', 'aa', 'ab', 'aba', 'abab', 'aab', '||', '::', ', ', '😀😀', 'x😀x', '\t\t']

/** Cells made of the delimiter's pieces: its characters, prefixes, suffixes, itself, and what a cell needs quoted for. */
function piecesOf (delimiter: string): string[] {
  const chars = [...delimiter]
  const out = new Set<string>(['x', '"', '\n', '\r\n', '\uFEFF', ' ', delimiter, delimiter + delimiter])
  for (let i = 0; i < chars.length; i++) {
    out.add(chars[i])
    out.add(chars.slice(0, i + 1).join(''))
    out.add(chars.slice(i).join(''))
  }
  return [...out]
}

async function parseCsv (text: string, delimiter: string, cut: () => number): Promise<string[][]> {
  const bytes = Buffer.from(text, 'utf8')
  const parts: Buffer[] = []
  for (let i = 0; i < bytes.length;) {
    const n = Math.max(1, cut())
    parts.push(bytes.subarray(i, i + n))
    i += n
  }
  const rows: string[][] = []
  await pipeline(Readable.from(parts, { objectMode: false }), new CsvParser({ delimiter, quote: '"', encoding: 'utf8' }), new Writable({ objectMode: true, write (row: { record: string[] }, _e, done) { rows.push(row.record); done() } }))
  return rows
}

t.test('RowFormatter → csv-read\'s parser gives back every cell, for every delimiter, whatever the cells hold', async (t) => {
  let cases = 0
  let failed = 0
  for (const delimiter of DELIMITERS) {
    const pieces = piecesOf(delimiter)
    const formatter = new RowFormatter({ delimiter, quote: '"' })
    for (let seed = 0; seed < 300 && failed < 5; seed++) {
      const rnd = random(seed)
      const width = 1 + Math.floor(rnd() * 4)
      const rows = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => Array.from({ length: width }, () => {
        let cell = ''
        for (let n = Math.floor(rnd() * 4); n > 0; n--) cell += pieces[Math.floor(rnd() * pieces.length)]
        return cell
      }))
      const text = rows.map((r) => formatter.row(r) + '\n').join('')
      cases++
      const back = await parseCsv(text, delimiter, () => Math.floor(rnd() * 7))
      if (JSON.stringify(back) !== JSON.stringify(rows)) {
        failed++
        t.strictSame(back, rows, `delimiter ${JSON.stringify(delimiter)}, seed ${seed}: ${JSON.stringify(text)}`)
      }
    }
  }
  t.equal(failed, 0, `${cases} generated tables read back cell for cell`)
})

t.test('a cell quoted only where a bare one would be misread', async (t) => {
  const aa = new RowFormatter({ delimiter: 'aa', quote: '"' })
  t.equal(aa.row(['1', 'a', 'b']), '1aa"a"aab', 'the issue\'s case: `a` then `aa` would read as `aaa`')
  t.equal(aa.row(['ba', 'b']), '"ba"aab')
  t.equal(aa.row(['ab', 'b']), 'abaab', 'a cell that starts with the delimiter\'s end is safe: the delimiter before it was found first')
  const aba = new RowFormatter({ delimiter: 'aba', quote: '"' })
  t.equal(aba.row(['ab', 'x']), '"ab"abax', '`ab` + `aba` holds `aba` at its start')
  t.equal(aba.row(['b', 'x']), 'babax', '`b` + `ab` does not')
  const one = new RowFormatter({ delimiter: ';', quote: '"' })
  t.equal(one.row([';x', 'y']), '";x";y', 'one character: as before')
  t.equal(one.row(['x', 'y']), 'x;y')
  const bare = new RowFormatter({ delimiter: 'aa', quote: '' })
  t.strictSame(bare.unquotable(['1', 'a']), { index: 1, reason: 'ends so that the delimiter after it ("aa") would be read one or more characters early' }, 'unquoted output refuses such a row, with its reason')
})

const shellQuote = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`

t.test('csv-write -d D | csv-read -d D, through a shell pipe, for every delimiter', async (t) => {
  for (const delimiter of DELIMITERS) {
    const pieces = piecesOf(delimiter)
    const cells = pieces.map((p, i) => [`c${i}`, p] as const)
    const records = [
      { _id: '1', _source: Object.fromEntries(cells) },
      { _id: '2', _source: Object.fromEntries(cells.map(([k, v]) => [k, v + 'x' + v])) },
      { _id: '3', _source: Object.fromEntries(cells.map(([k]) => [k, ''])) }
    ]
    const input = records.map((r) => JSON.stringify(r)).join('\n') + '\n'
    const d = shellQuote(delimiter)
    const r = await runShell(`csv-write -d ${d} | csv-read -d ${d}`, { input })
    t.equal(r.code, 0, `${JSON.stringify(delimiter)}: ${r.stderr}`)
    const back = lines(r.stdout).map((l) => JSON.parse(l) as { _id: string, _source: Record<string, string> })
    t.strictSame(back, records.map((rec) => ({ _id: rec._id, _source: { id: rec._id, ...rec._source } })), `delimiter ${JSON.stringify(delimiter)}: every cell as it was`)
  }
})
