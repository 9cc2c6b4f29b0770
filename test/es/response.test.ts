// The search-page reader copies each hit's line together from byte ranges of the response.
// Generated responses (random member order, escapes, multi-byte characters, numbers beyond
// 2^53, whitespace, pretty-printing) are read and checked against what each hit held: the
// line's bytes are the hit's own bytes, its meaning is the hit's, its sort is the raw text.
import t from 'tap'
import { parse } from 'lossless-json'
import { compactJson, parseSearchPage, rawElements } from '../../lib/es/response.js'

let seed = 11
const rnd = (n: number): number => { seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0; return seed % n }
/** Numbers as their text: compared digit for digit, never as doubles. */
const exact = (text: string): string => text
const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]

const STRINGS = ['', 'a', 'plain text', 'back\\\\slash', 'brace } and ] and {', 'é and 𝄞', '\u2028 line sep', 'tab\\t and \\n', 'escaped \\" quote', '\\u00e9 escaped', '中文']
const NUMBERS = ['0', '-0', '1.0', '9007199254740993', '-9223372036854775808', '1e400', '3.14159265358979323846', '12']

/** A random JSON value as text (the generator writes the bytes, so it knows them exactly). */
function value (depth: number, ws: () => string): string {
  const k = rnd(depth > 2 ? 4 : 6)
  if (k === 0) return `"${pick(STRINGS)}"`
  if (k === 1) return pick(NUMBERS)
  if (k === 2) return pick(['true', 'false', 'null'])
  if (k === 3) return `"${pick(STRINGS)}"`
  if (k === 4) return `[${ws()}${Array.from({ length: rnd(4) }, () => value(depth + 1, ws)).join(`${ws()},${ws()}`)}${ws()}]`
  const keys = ['a', 'sort', '_id', '_source', 'k\\"q', 'x y', 'é']
  return `{${ws()}${Array.from({ length: rnd(4) }, (_v, i) => `"${keys[(i + rnd(7)) % 7]}${i}"${ws()}:${ws()}${value(depth + 1, ws)}`).join(`${ws()},${ws()}`)}${ws()}}`
}

interface Hit { text: string, members: Map<string, string>, marked: Map<string, string> }

/** Stands for whitespace while a hit is built; `spaced` turns it into whitespace, compacting drops it. */
const MARK = '\u0001'
const PRETTY = ['', ' ', '\n', '\n  ', '\r\n\t']
/** A text's marks as whitespace: the same whitespace each time for the same text. */
const spaced = (text: string): string => text.replace(/\u0001/g, (_m, at: number) => PRETTY[(at + text.length) % PRETTY.length])

/** A hit; `realize` turns each member's text (as `ws` spaced it, kept in `marked`) into what the response holds. */
function hit (ws: () => string, realize: (text: string) => string = (x) => x): Hit {
  const marked = new Map<string, string>()
  marked.set('_id', `"${pick(['d1', 'é', 'a\\"b', '𝄞', '', 'x y'])}${rnd(1000)}"`)
  if (rnd(5) > 0) marked.set('_index', `"${pick(['logs', 'i-2', 'é'])}"`)
  marked.set('_score', pick(['null', '1.0', '0.25']))
  if (rnd(4) === 0) marked.set('_routing', `"${pick(['r1', 'é'])}"`)
  if (rnd(8) > 0) marked.set('_source', `{${ws()}"body"${ws()}:${ws()}${value(0, ws)}${ws()},${ws()}"n"${ws()}:${ws()}${pick(NUMBERS)}${ws()}}`)
  if (rnd(3) === 0) marked.set('fields', `{"f":[${pick(NUMBERS)}]}`)
  if (rnd(6) > 0) marked.set('sort', `[${ws()}${pick(NUMBERS)}${ws()},${ws()}${pick(['"k"', 'null', '9223372036854775807'])}${ws()}]`)
  if (rnd(3) === 0) marked.set('_ignored', `["${pick(STRINGS)}"]`)
  const members = new Map([...marked].map(([k, v]) => [k, realize(v)]))
  const order = [...members.keys()].sort(() => rnd(3) - 1)
  return { text: `{${ws()}${order.map((k) => `"${k}"${ws()}:${ws()}${members.get(k) ?? ''}`).join(`${ws()},${ws()}`)}${ws()}}`, members, marked }
}

/** The line es-read writes for a hit: its members in a fixed order, as the response held them. */
function expectedLine (h: Hit, fields: boolean, m = h.members): string {
  const parts: string[] = []
  if (m.has('_index')) parts.push(`"_index":${m.get('_index') ?? ''}`)
  parts.push(`"_id":${m.get('_id') ?? ''}`)
  for (const k of ['_routing', '_source', ...(fields ? ['fields'] : [])]) if (m.has(k)) parts.push(`"${k}":${m.get(k) ?? ''}`)
  return `{${parts.join(',')}}`
}

t.test('every line is its hit\'s own bytes, in any member order and spacing', async (t) => {
  let hits = 0
  for (let n = 0; n < 400; n++) {
    const spaced = rnd(3) === 0
    const ws = spaced ? () => pick(['', ' ', '  ']) : () => ''
    const page = Array.from({ length: rnd(6) }, () => hit(ws))
    const fields = rnd(2) === 0
    const text = `{"took":3,"timed_out":false,${n % 2 === 0 ? '"pit_id":"p\\u0041==",' : '"_scroll_id":"s1",'}"_shards":{"total":2,"successful":2,"skipped":0,"failed":0},"hits":{"total":{"value":${page.length},"relation":"eq"},"max_score":null,"hits":[${ws()}${page.map((h) => h.text).join(`${ws()},${ws()}`)}${ws()}]}}`
    const want = page.map((h) => expectedLine(h, fields))
    for (const input of [text, Buffer.from(text)]) {
      const got = parseSearchPage(input, { fields })
      for (const line of got.lines) parse(line, null, exact)
      const seen = { count: got.count, lines: got.lines, ndjson: got.ndjson.toString(), sorts: got.sorts, id: n % 2 === 0 ? got.pitId : got.scrollId, failed: got.shards?.failed, timedOut: got.timedOut }
      const wanted = { count: page.length, lines: want, ndjson: want.map((l) => l + '\n').join(''), sorts: page.map((h) => h.members.get('sort')), id: n % 2 === 0 ? 'pA==' : 's1', failed: 0, timedOut: false }
      if (!t.strictSame(seen, wanted, `page ${n} as ${typeof input === 'string' ? 'text' : 'bytes'}`)) return
    }
    hits += page.length
  }
  t.ok(hits > 800, `${hits} hits checked`)
})

t.test('a pretty-printed response still gives one compact line per hit', async (t) => {
  // The generator marks where it puts whitespace, so it knows both the spaced bytes and the
  // compact ones: a line that would hold a line break is compacted whole, any other keeps its
  // bytes (and the reader's compactJson is never the oracle).
  let compacted = 0
  let kept = 0
  for (let n = 0; n < 200; n++) {
    const page = Array.from({ length: 1 + rnd(4) }, () => hit(() => MARK, spaced))
    const text = `{\n  "timed_out" : false,\n  "hits" : {\n    "hits" : [\n${page.map((h) => spaced(h.text)).join(',\n')}\n    ]\n  }\n}\n`
    const want = page.map((h) => {
      const line = expectedLine(h, false)
      if (!/[\n\r]/.test(line)) { kept++; return line }
      compacted++
      return expectedLine(h, false, h.marked).replaceAll(MARK, '')
    })
    const got = parseSearchPage(text)
    if (!t.strictSame({ count: got.count, lines: got.lines }, { count: page.length, lines: want }, `page ${n}`)) return
  }
  t.ok(compacted > 50 && kept > 50, `lines compacted (${compacted}) and lines kept as they were (${kept})`)
})

t.test('only the first n hits, as bytes', async (t) => {
  const text = '{"hits":{"hits":[{"_id":"1","_source":{"é":1}},{"_id":"2"},{"_id":"3","_source":{}}]}}'
  const page = parseSearchPage(text)
  t.equal(page.head(0).toString(), '')
  t.equal(page.head(1).toString(), '{"_id":"1","_source":{"é":1}}\n')
  t.equal(page.head(2).toString(), '{"_id":"1","_source":{"é":1}}\n{"_id":"2"}\n')
  t.equal(page.head(3), page.ndjson)
  t.equal(page.head(9), page.ndjson)
  t.equal(page.sorts[0], undefined)
})

t.test('bytes pass through untouched, keys are read as JSON reads them', async (t) => {
  // An invalid UTF-8 byte: the line keeps it as it came rather than put U+FFFD in its place.
  const bytes = Buffer.concat([Buffer.from('{"hits":{"hits":[{"_id":"1","_source":{"s":"a'), Buffer.from([0xff, 0xc3]), Buffer.from('b"}}]}}')])
  const page = parseSearchPage(bytes)
  t.strictSame(page.ndjson, Buffer.concat([Buffer.from('{"_id":"1","_source":{"s":"a'), Buffer.from([0xff, 0xc3]), Buffer.from('b"}}\n')]))
  const escaped = parseSearchPage('{"hits":{"hits":[{"_\\u0069d":"7","_source":{"a":1},"\\u0073ort":[5]}]}}')
  t.strictSame(escaped.lines, ['{"_id":"7","_source":{"a":1}}'])
  t.equal(escaped.sorts[0], '[5]')
  const empty = parseSearchPage('{"hits":{"hits":[]}}')
  t.equal(empty.count, 0)
  t.equal(empty.ndjson.length, 0)
})

t.test('a cut or broken response is an error, never a short page', async (t) => {
  const text = '{"pit_id":"p","hits":{"hits":[{"_index":"a","_id":"1","_source":{"x":"}]\\"","y":[1,{"z":2}]},"sort":[1]},{"_index":"a","_id":"2","_source":{},"sort":[2]}]}}'
  t.equal(parseSearchPage(text).count, 2)
  for (let cut = 0; cut < text.length; cut++) {
    t.throws(() => parseSearchPage(text.slice(0, cut)), { code: 'ES_BAD_RESPONSE' }, `cut at ${cut}`)
  }
  t.throws(() => parseSearchPage('{"hits":{"hits":[{"_index":"a","_source":{}}]}}'), /hit without _id/)
  t.throws(() => parseSearchPage('{"hits":{"hits":[{"_id" "1"}]}}'), /':' expected/)
  t.throws(() => parseSearchPage('{"hits":{"hits":[{"_id":"1"} {"_id":"2"}]}}'), /',' or '\]' expected/)
})

t.test('rawElements and compactJson keep every byte of a value', async (t) => {
  t.strictSame(rawElements('[9223372036854775807, "a,]b" ,{"c":[1,2]},null]'), ['9223372036854775807', '"a,]b"', '{"c":[1,2]}', 'null'])
  t.strictSame(rawElements('[]'), [])
  t.equal(compactJson('{ "a" : [ 1 , "b c\\" d" ] ,\n "é" : 1.0 }'), '{"a":[1,"b c\\" d"],"é":1.0}')
})

t.test('an Elasticsearch-shaped page is written over its own response: one buffer per page', async (t) => {
  const hits = Array.from({ length: 200 }, (_v, i) => `{"_index":"logs","_id":"d${i}","_score":null,"_source":{"n":${i},"s":"é ${'x'.repeat(i % 50)}"},"sort":[${i}]}`)
  const response = Buffer.from(`{"pit_id":"p","_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{"hits":[${hits.join(',')}]}}`)
  const want = hits.map((_h, i) => `{"_index":"logs","_id":"d${i}","_source":{"n":${i},"s":"é ${'x'.repeat(i % 50)}"}}\n`).join('')
  const page = parseSearchPage(response)
  t.equal(page.ndjson.toString(), want)
  t.ok(page.ndjson.buffer === response.buffer && page.ndjson.byteOffset === response.byteOffset, 'the lines are in the response\'s own buffer')
  t.equal(page.sorts[199], '[199]', 'sorts read before their bytes were written over')
  t.equal(page.pitId, 'p')
})
