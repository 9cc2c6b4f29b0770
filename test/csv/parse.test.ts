import t from 'tap'
import type { Test } from 'tap'
import { parse } from 'csv-parse'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { CsvEncoding } from '../../lib/csv/dialect.js'
import { CsvParser } from '../../lib/csv/parse.js'
import { random } from '../helpers/random.js'

/**
 * csv-read's parser is held to csv-parse's output (the library it replaced for speed, and the
 * one csv-write's round trips are checked against) on many generated texts, each fed in
 * random chunk sizes: same cells, same raw text per record, same error code.
 */

interface Outcome { rows: Array<{ record: string[], raw: string }>, error?: string }

async function collect (source: Readable, parser: NodeJS.ReadWriteStream): Promise<Outcome> {
  const rows: Outcome['rows'] = []
  try {
    await pipeline(source, parser, new Writable({ objectMode: true, write (row: { record: string[], raw: string }, _e, done) { rows.push({ record: row.record, raw: row.raw }); done() } }))
    return { rows }
  } catch (err) {
    return { rows, error: (err as { code?: string }).code }
  }
}

function chunks (bytes: Buffer, sizes: () => number): Readable {
  const parts: Buffer[] = []
  for (let i = 0; i < bytes.length;) {
    const n = Math.max(1, sizes())
    parts.push(bytes.subarray(i, i + n))
    i += n
  }
  return Readable.from(parts, { objectMode: false })
}

const csvParse = (delimiter: string, quote: string, encoding: CsvEncoding): NodeJS.ReadWriteStream =>
  // A quote is escaped by doubling it (csv-parse's escape is always `"` unless told).
  parse({ bom: true, encoding, delimiter, quote, escape: quote === '' ? null : quote, relax_column_count: true, raw: true }) as unknown as NodeJS.ReadWriteStream

// The codes the parsers agree on; csv-parse's INVALID_OPENING_QUOTE has no CSV_ prefix, ours has.
const sameCode = (code: string | undefined): string | undefined => code === 'INVALID_OPENING_QUOTE' ? 'CSV_INVALID_OPENING_QUOTE' : code

async function compare (t: Test, text: Buffer, dialect: { delimiter: string, quote: string, encoding: CsvEncoding }, seed: number): Promise<boolean> {
  const rnd = random(seed)
  const expected = await collect(Readable.from([text], { objectMode: false }), csvParse(dialect.delimiter, dialect.quote, dialect.encoding))
  const got = await collect(chunks(text, () => Math.floor(rnd() * 12)), new CsvParser(dialect))
  // csv-parse's raw text leaves out the LF of a CRLF record delimiter; ours has every byte.
  const raws = got.rows.map((r, i) => {
    const theirs = expected.rows[i]?.raw
    if (theirs === undefined) return r.raw
    if (r.raw.endsWith('\r\n') && r.raw.slice(0, -1) === theirs) return theirs
    // …and drops characters of a multi-character delimiter: there only `whole` checks ours.
    return dialect.delimiter.length > 1 ? theirs : r.raw
  })
  const normalised = { rows: got.rows.map((r, i) => ({ record: r.record, raw: raws[i] })), ...(got.error === undefined ? {} : { error: got.error }) }
  const want = { rows: expected.rows, ...(expected.error === undefined ? {} : { error: sameCode(expected.error) }) }
  const whole = got.error !== undefined || got.rows.map((r) => r.raw).join('') === text.toString(dialect.encoding).replace(/^\ufeff/, '')
  const same = whole && JSON.stringify(normalised) === JSON.stringify(want)
  if (!same) t.strictSame({ ...normalised, whole }, { ...want, whole: true }, `seed ${seed}, dialect ${JSON.stringify(dialect)}, text ${JSON.stringify(text.toString('latin1'))}`)
  return same
}

t.test('the same records, raw text and errors as csv-parse on generated texts, in any chunking', async (t) => {
  const dialects = [
    { delimiter: ',', quote: '"', encoding: 'utf8' as const, alphabet: ['a', 'b', ',', '"', '""', '\n', '\r', '\r\n', ' ', 'é', '€', '😀'] },
    { delimiter: ';;', quote: "'", encoding: 'utf8' as const, alphabet: ['x', ';', ';;', "'", '"', '\n', '\r\n', 'ü'] },
    { delimiter: '\t', quote: '', encoding: 'utf8' as const, alphabet: ['x', '\t', '"', '\n', '\r', '\r\n', ' '] },
    { delimiter: ',', quote: '"', encoding: 'latin1' as const, alphabet: ['a', ',', '"', '\n', '\r\n', '\xe9'] }
  ]
  let cases = 0
  let failed = 0
  for (const [k, d] of dialects.entries()) {
    for (let i = 0; i < 1500; i++) {
      const seed = k * 100000 + i
      const rnd = random(seed)
      const parts: string[] = []
      const len = Math.floor(rnd() * 24)
      for (let j = 0; j < len; j++) parts.push(d.alphabet[Math.floor(rnd() * d.alphabet.length)])
      // Most real files are well formed: half the cases quote whole cells properly.
      const text = rnd() < 0.5 ? parts.join('') : wellFormed(parts, d.delimiter, d.quote, rnd)
      const bytes = Buffer.from((rnd() < 0.1 ? '\ufeff' : '') + text, d.encoding)
      cases++
      if (!await compare(t, bytes, d, seed)) failed++
      if (failed > 5) break
    }
  }
  t.equal(failed, 0, `${cases} generated texts agree`)
})

/** Cells from the parts, each quoted when it holds a special character, a line end between rows. */
function wellFormed (parts: string[], delimiter: string, quote: string, rnd: () => number): string {
  let out = ''
  const eol = rnd() < 0.5 ? '\n' : '\r\n'
  for (const p of parts) {
    const special = quote !== '' && (p.includes(quote) || p.includes(delimiter) || /[\r\n]/.test(p))
    const cell = special ? quote + p.replaceAll(quote, quote + quote) + quote : (quote === '' ? p.replaceAll(delimiter, 'x').replace(/[\r\n]/g, 'y') : p)
    out += cell + (rnd() < 0.3 ? eol : delimiter)
  }
  return out
}

t.test('a UTF-16LE byte order mark switches the encoding, as csv-parse does', async (t) => {
  const text = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\n1,"Zoë"\n', 'utf16le')])
  const theirs = await collect(Readable.from([text]), csvParse(',', '"', 'utf8'))
  const got = await collect(chunks(text, () => 3), new CsvParser({ delimiter: ',', quote: '"', encoding: 'utf8' }))
  t.strictSame(got.rows.map((r) => r.record), theirs.rows.map((r) => r.record))
  t.strictSame(got.rows.map((r) => r.record), [['id', 'name'], ['1', 'Zoë']])
  // csv-parse decodes its raw text with the encoding it was given, not the BOM's: ours is the text.
  t.strictSame(got.rows.map((r) => r.raw), ['id,name\n', '1,"Zoë"\n'])
})

t.test('a quoted cell spread over thousands of chunks arrives whole', async (t) => {
  const cell = 'x'.repeat(4_000_000)
  const text = Buffer.from(`id,big\n1,"${cell}"\n2,y\n`)
  const parser = new CsvParser({ delimiter: ',', quote: '"', encoding: 'utf8' })
  const got = await collect(chunks(text, () => 1024), parser)
  t.strictSame(got.rows.map((r) => r.record.map((c) => c.length)), [[2, 3], [1, 4_000_000], [1, 1]])
})
