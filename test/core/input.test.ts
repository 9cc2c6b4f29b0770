import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { LosslessNumber, createContext, jsonlWrite, parseNdjson } from '../../lib/index.js'
import { OutputClosed, concatInputs } from '../../lib/core/input.js'
import { ParsedLine, recordId } from '../../lib/core/ndjson.js'
import { compilePath } from '../../lib/core/record.js'
import { scratchDir } from '../helpers/run.js'

const context = (): ReturnType<typeof createContext> => createContext({ tool: 'test', counters: ['read', 'written'], quiet: true })

/**
 * Reads `file` through concatInputs + parseNdjson, aborting with `reason` after the first record.
 * An abort is a clean end of input, so the pipeline resolves: a rejection fails the test.
 */
async function readAndStop (file: string, reason?: unknown): Promise<{ ctx: ReturnType<typeof createContext>, got: ParsedLine[] }> {
  const ctx = context()
  const abort = new AbortController()
  const got: ParsedLine[] = []
  const input = concatInputs([file], () => [parseNdjson(ctx, { file })], { signal: abort.signal })
  await pipeline(input, new Writable({
    objectMode: true,
    highWaterMark: 1,
    write (line: ParsedLine, _enc, done) {
      got.push(line)
      if (got.length === 1) abort.abort(reason)
      setImmediate(done)
    }
  }))
  return { ctx, got }
}

t.test('an input cut short drops the line it was cut in: not counted, not dead-lettered', async (t) => {
  const dir = scratchDir(t)
  const file = join(dir, 'big.ndjson')
  // Lines of varied length, so the cut lands inside one.
  writeFileSync(file, Array.from({ length: 50_000 }, (_, i) => JSON.stringify({ _id: String(i), pad: 'p'.repeat(i % 97) })).join('\n') + '\n')
  const cut = await readAndStop(file)
  t.equal(cut.ctx.failures.count, 0, 'SIGINT-like cut: no failed record')
  t.ok(cut.got.length >= 1 && cut.got.length < 50_000, `stopped early (${cut.got.length})`)
  t.equal(cut.ctx.stats.get('read'), cut.got.length, 'every line counted as read was handed on')
  t.strictSame(cut.got.map((l) => l.value._id), cut.got.map((_, i) => String(i)), 'whole lines, in order')
  const closed = await readAndStop(file, new OutputClosed())
  t.equal(closed.ctx.failures.count, 0, 'output closed: no failed record')
  t.ok(closed.got.length < 50_000)
})

t.test('a file whose real last line has no newline still gives that line', async (t) => {
  const dir = scratchDir(t)
  const file = join(dir, 'last.ndjson')
  writeFileSync(file, '{"_id":"1"}\n{"_id":"2"}')
  const ctx = context()
  const got: string[] = []
  await pipeline(concatInputs([file], () => [parseNdjson(ctx)]), new Writable({ objectMode: true, write (l: ParsedLine, _e, done) { got.push(l.text); done() } }))
  t.strictSame(got, ['{"_id":"1"}', '{"_id":"2"}'])
})

t.test('parseNdjson frames lines however the bytes are cut: long lines, split characters, CRLF, blanks, no final newline', async (t) => {
  const long = JSON.stringify({ _id: 'long', pad: 'é'.repeat(200_000) })
  const text = `{"_id":"a"}\r\n\n   \n${long}\n{"_id":"ü€😀"}\nnot json\n{"_id":"last"}`
  const bytes = Buffer.from(text)
  // Chunks of 7 bytes cut through multi-byte characters; one chunk holds everything.
  for (const size of [7, 65_536, bytes.length]) {
    const chunks: Buffer[] = []
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size))
    const ctx = context()
    const got: ParsedLine[] = []
    await pipeline(Readable.from(chunks, { objectMode: false }), parseNdjson(ctx), new Writable({ objectMode: true, write (l: ParsedLine, _e, done) { got.push(l); done() } }))
    t.strictSame(got.map((l) => l.text), ['{"_id":"a"}', long, '{"_id":"ü€😀"}', '{"_id":"last"}'], `chunks of ${size} bytes`)
    t.strictSame(got.map((l) => l.line), [1, 4, 5, 7], 'line numbers count blank lines')
    t.equal(ctx.stats.get('read'), 5, 'the bad line counts as read')
    t.equal(ctx.failures.count, 1, 'and failed')
  }
})

t.test('ParsedLine: value is JSON.parse, exact keeps every digit; recordId reads number ids exactly', async (t) => {
  const text = '{"_id":9007199254740993,"_source":{"n":1.0,"s":"x"}}'
  const line = new ParsedLine(JSON.parse(text), text, 1)
  t.equal(line.value._id, 9007199254740992, 'JSON.parse rounds')
  t.strictSame(line.exact, { _id: new LosslessNumber('9007199254740993'), _source: { n: new LosslessNumber('1.0'), s: 'x' } })
  t.equal(recordId(line, compilePath('_id')), '9007199254740993')
  t.equal(recordId({ _id: 12 }, compilePath('_id')), '12')
  const plain = new ParsedLine({ a: 1 }, '{"a":1}', 1)
  t.equal(plain.exact, plain.value, 'no second parse when JSON.parse was exact')
})

t.test('jsonlWrite as a library: exact values in, the same digits out', async (t) => {
  const ctx = context()
  let out = ''
  await pipeline(
    Readable.from([{ _id: new LosslessNumber('18446744073709551616'), _source: { big: 2n ** 80n, d: new LosslessNumber('0.10') } }]),
    jsonlWrite({ shape: 'envelope', context: ctx }),
    new Writable({ write (c: Buffer, _e, done) { out += c.toString(); done() } })
  )
  t.equal(out, '{"id":"18446744073709551616","content":{"big":1208925819614629174706176,"d":0.10}}\n')
})
