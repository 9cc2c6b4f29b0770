import t from 'tap'
import { isUtf8 } from 'node:buffer'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { lineStage } from '../../lib/core/line-limit.js'
import { decodeEscaped, escapedBytes, firstInvalid, invalidUtf8Record } from '../../lib/core/utf8.js'
import { random } from '../helpers/random.js'

type Got = ['line', number, string] | ['invalid', number, string] | ['bom']

/** What lineStage must give for `input` as a whole: each line as text when it is UTF-8, else its bytes (as hex). */
function expected (input: Buffer): Got[] {
  const out: Got[] = []
  let bytes = input
  if (bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))) {
    out.push(['bom'])
    bytes = bytes.subarray(3)
  }
  const parts: Buffer[] = []
  for (let s = 0; s <= bytes.length;) {
    const nl = bytes.indexOf(0x0a, s)
    if (nl < 0) { if (s < bytes.length) parts.push(bytes.subarray(s)); break }
    parts.push(bytes.subarray(s, nl))
    s = nl + 1
  }
  parts.forEach((p, i) => {
    const line = p[p.length - 1] === 0x0d ? p.subarray(0, -1) : p
    if (isUtf8(line)) out.push(['line', i + 1, p.toString('utf8')])
    else out.push(['invalid', i + 1, line.toString('hex')])
  })
  return out
}

async function stage (chunks: Buffer[]): Promise<Got[]> {
  const got: Got[] = []
  await pipeline(Readable.from(chunks), lineStage(1 << 20, {
    line: (raw, line) => { got.push(['line', line, raw]) },
    long: () => { throw new Error('no line is long here') },
    invalid: (bytes, line) => { got.push(['invalid', line, bytes.toString('hex')]) },
    bom: () => { got.push(['bom']) }
  }), new Writable({ objectMode: true, write (_c, _e, done) { done() } }))
  return got
}

// Pieces of input: valid characters of every length, and every kind of byte that is no character.
const PIECES: Buffer[] = [
  'a', '{"x":1}', '\n', '\r\n', 'é', '€', '😀', '\u{10FFFF}', '\uFFFD'
].map((s) => Buffer.from(s, 'utf8')).concat([
  Buffer.from([0xc0, 0xaf]), // overlong '/'
  Buffer.from([0xe0, 0x80, 0xaf]), // overlong, 3 bytes
  Buffer.from([0xf0, 0x80, 0x80, 0xaf]), // overlong, 4 bytes
  Buffer.from([0xed, 0xa0, 0x80]), // a UTF-16 surrogate (U+D800) encoded as UTF-8
  Buffer.from([0xed, 0xbf, 0xbf]), // U+DFFF
  Buffer.from([0xf4, 0x90, 0x80, 0x80]), // past U+10FFFF
  Buffer.from([0xe2, 0x82]), // € cut short
  Buffer.from([0xf0, 0x9f, 0x98]), // 😀 cut short
  Buffer.from([0x80]), // a continuation byte alone
  Buffer.from([0xff]), Buffer.from([0xfe]), Buffer.from([0xc1, 0xbf]),
  Buffer.from([0xef, 0xbb, 0xbf]) // a BOM, here inside a line
])

t.test('lineStage: every line, valid or not, whatever the chunks; bad bytes kept, valid characters cut by a chunk whole', async (t) => {
  let cases = 0
  let failed = 0
  for (let seed = 0; seed < 2000 && failed < 5; seed++) {
    const rnd = random(seed)
    const parts: Buffer[] = []
    if (rnd() < 0.2) parts.push(Buffer.from([0xef, 0xbb, 0xbf]))
    for (let n = Math.floor(rnd() * 20); n > 0; n--) parts.push(PIECES[Math.floor(rnd() * PIECES.length)])
    const input = Buffer.concat(parts)
    // Chunks cut anywhere, inside characters too (a pipe hands over bytes, not characters).
    const chunks: Buffer[] = []
    for (let i = 0; i < input.length;) {
      const n = 1 + Math.floor(rnd() * 5)
      chunks.push(input.subarray(i, i + n))
      i += n
    }
    cases++
    const got = await stage(chunks)
    const want = expected(input)
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      failed++
      t.strictSame(got, want, `seed ${seed}: input ${input.toString('hex')}, chunks ${chunks.map((c) => c.toString('hex')).join('|')}`)
    }
  }
  t.equal(failed, 0, `${cases} generated inputs framed as the whole input reads`)
})

t.test('lineStage: a 4-byte character cut at each of its bytes passes whole; a character cut short before a line end is bad bytes', async (t) => {
  const line = Buffer.from('{"s":"😀"}\n', 'utf8')
  const at = line.indexOf(0xf0)
  for (let cut = at + 1; cut < at + 4; cut++) {
    t.strictSame(await stage([line.subarray(0, cut), line.subarray(cut)]), [['line', 1, '{"s":"😀"}']], `cut after byte ${cut - at} of 4`)
  }
  const short = Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xf0, 0x9f]), Buffer.from('"}\n{"s":"ok"}\n')])
  t.strictSame(await stage([short.subarray(0, 8), short.subarray(8)]), [['invalid', 1, Buffer.from('{"s":"\xf0\x9f"}', 'latin1').toString('hex')], ['line', 2, '{"s":"ok"}']])
  const atEnd = Buffer.concat([Buffer.from('{"s":"ok"}\n{"s":"'), Buffer.from([0xe2, 0x82])])
  t.strictSame(await stage([atEnd]), [['line', 1, '{"s":"ok"}'], ['invalid', 2, Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xe2, 0x82])]).toString('hex')]], 'a character cut short by the end of the input')
  t.strictSame(await stage([Buffer.from([0xef]), Buffer.from([0xbb]), Buffer.from([0xbf, 0x7b, 0x7d, 0x0a])]), [['bom'], ['line', 1, '{}']], 'a BOM cut into single bytes')
  t.strictSame(await stage([Buffer.from([0xef, 0xbb])]), [['invalid', 1, 'efbb']], 'the start of a BOM and then the end: bad bytes')
})

t.test('decodeEscaped and escapedBytes give back every byte of any input', async (t) => {
  let failed = 0
  for (let seed = 0; seed < 3000 && failed < 5; seed++) {
    const rnd = random(seed)
    const bytes = Buffer.from(Array.from({ length: Math.floor(rnd() * 12) }, () => rnd() < 0.5 ? Math.floor(rnd() * 256) : [0x80, 0xbf, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0x41][Math.floor(rnd() * 8)]))
    const text = decodeEscaped(bytes)
    const back = escapedBytes(text)
    if (!back.equals(bytes)) { failed++; t.fail(`seed ${seed}: ${bytes.toString('hex')} came back as ${back.toString('hex')}`) }
    if (isUtf8(bytes) && text !== bytes.toString('utf8')) { failed++; t.fail(`seed ${seed}: valid ${bytes.toString('hex')} decoded otherwise than by Node`) }
    if (isUtf8(bytes) !== (firstInvalid(bytes) === undefined)) { failed++; t.fail(`seed ${seed}: firstInvalid and isUtf8 disagree on ${bytes.toString('hex')}`) }
  }
  t.equal(failed, 0)
})

t.test('invalidUtf8Record shows the line as Latin-1 and names its first bad bytes', async (t) => {
  const bytes = Buffer.concat([Buffer.from('{"a":"é'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])
  const bad = invalidUtf8Record(bytes, 4)
  t.ok(Buffer.from(bad.record, 'latin1').equals(bytes), 'the record gives back the bytes')
  t.equal(bad.message, 'line 4 is not UTF-8: byte 9 begins [ed a0 80], which is no character (the record is shown as Latin-1, one character per byte)')
  t.strictSame(bad.context, { recordAs: 'latin1' })
})
