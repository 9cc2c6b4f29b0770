import t from 'tap'
import { isUtf8 } from 'node:buffer'
import { LineScanner, descend, head, memberRange } from '../../lib/diff/scan.js'
import { RecordReader } from '../../lib/diff/record.js'

// rec-diff never parses a line whose content bytes equal its counterpart's: its scan must accept
// exactly the lines JSON.parse takes for objects, and find the members JSON.parse would read.

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 2 ** 32
  }
}

const r = rng(7)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]
const SPACES = ['', '', '', ' ', '\t', ' \r ', '  ']
const sp = (): string => pick(SPACES)
const STRINGS = ['', 'a', '_id', '_source', 'é', '𝄞', 'q"uote', 'back\\slash', 'tab\there', 'nl\n', '\u0000', '\ud800', 'e\u0301', '}{][,:']
const NUMBERS = ['0', '-0', '1', '-1', '1.0', '1.5e3', '1E-2', '9007199254740993', '1e400', '0.1', '123456789012345678901234567890']

/** A JSON string token, escaped in one of the ways JSON allows. */
function str (s: string): string {
  const plain = JSON.stringify(s)
  if (r() < 0.3) return plain.replace(/[^\x20-\x7e]|[a-z]/g, (c) => r() < 0.5 ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  if (r() < 0.1) return plain.replace(/\//g, '\\/')
  return plain
}

function value (depth: number): string {
  const k = r()
  if (depth > 3 || k < 0.4) {
    const p = r()
    if (p < 0.4) return str(pick(STRINGS))
    if (p < 0.8) return pick(NUMBERS)
    return pick(['true', 'false', 'null'])
  }
  if (k < 0.7) return `[${sp()}${Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1)).join(`${sp()},${sp()}`)}${sp()}]`
  return object(depth + 1)
}

function object (depth: number): string {
  const n = Math.floor(r() * 5)
  const members = Array.from({ length: n }, () => `${str(pick(STRINGS))}${sp()}:${sp()}${value(depth)}`)
  return `{${sp()}${members.join(`${sp()},${sp()}`)}${sp()}}`
}

/** What JSON.parse says of the line: an object, or not one (undefined). */
function parsed (line: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line.toString('utf8'))
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

const MUTATIONS: Array<(s: string) => string> = [
  (s) => { const i = Math.floor(r() * s.length); return s.slice(0, i) + s.slice(i + 1) },
  (s) => { const i = Math.floor(r() * s.length); return s.slice(0, i) + pick(['"', '\\', ',', ':', '{', '}', '[', ']', '-', '.', 'e', '0', 'x', '\u0001', '\t', ' ', 't', 'n']) + s.slice(i) },
  (s) => { const i = Math.floor(r() * s.length); return s.slice(0, i) },
  (s) => s + pick([',', '}', ' x', '{}', '\t'])
]

t.test('the scan accepts a line exactly when JSON.parse reads it as an object (generated and mutated lines)', async (t) => {
  const scanner = new LineScanner([head('_id'), head('_source'), head('a')])
  let accepted = 0
  let refused = 0
  const wrong: string[] = []
  for (let i = 0; i < 20000; i++) {
    let text = r() < 0.5 ? object(0) : `${sp()}${object(0)}${sp()}`
    if (i % 2 === 1) for (let m = Math.floor(r() * 3) + 1; m > 0; m--) text = pick(MUTATIONS)(text)
    // A line ends at \n: inside it there is none (readers split there).
    if (text.includes('\n')) continue
    const line = Buffer.from(`${text}\nnext`)
    const end = line.length - 5
    if (!isUtf8(line.subarray(0, end))) continue
    const want = parsed(line.subarray(0, end))
    const got = scanner.scan(line, 0, end)
    if (got !== (want !== undefined)) wrong.push(text)
    if (!got || want === undefined) {
      refused++
      continue
    }
    accepted++
    for (const [k, key] of ['_id', '_source', 'a'].entries()) {
      const at = scanner.starts[k]
      const has = Object.prototype.hasOwnProperty.call(want, key)
      if (has !== (at >= 0)) wrong.push(`${text} (member ${key})`)
      else if (has && JSON.stringify(JSON.parse(line.toString('utf8', at, scanner.ends[k]))) !== JSON.stringify(want[key])) wrong.push(`${text} (value of ${key})`)
    }
  }
  t.strictSame(wrong.slice(0, 5), [], 'no line where the scan and JSON.parse disagree')
  t.ok(accepted > 5000, `lines accepted: ${accepted}`)
  t.ok(refused > 5000, `lines refused: ${refused}`)
})

t.test('the scan refuses what JSON.parse refuses, named', async (t) => {
  const scanner = new LineScanner([head('_id')])
  const cases = ['', ' ', '[]', '"s"', '1', '{', '{"a"}', '{"a":}', '{"a":1,}', '{,"a":1}', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":1e}', '{"a":-}', '{"a":+1}',
    '{"a":tru}', '{"a":nul}', '{"a":"\\x"}', '{"a":"\\u12"}', '{"a":"\t"}', '{"a":"\u0001"}', '{"a":1}{}', '{"a":1} x', '{"a":[1,]}', '{"a":[1 2]}', "{'a':1}", '{"a":NaN}', '{"a":Infinity}']
  for (const c of cases) {
    const b = Buffer.from(c)
    t.equal(scanner.scan(b, 0, b.length), false, JSON.stringify(c))
    t.equal(parsed(b), undefined, `JSON.parse refuses ${JSON.stringify(c)} too`)
  }
})

t.test('members: the last of a key given twice, keys written with escapes, nested paths', async (t) => {
  const text = Buffer.from('{"_id":"first","x":{"_id":"nested"},"_\\u0069d":"escaped","_source":{"a":{"b":[1,{"c":2}]},"a":{"b":"last"}}}')
  const scanner = new LineScanner([head('_id'), head('_source')])
  t.ok(scanner.scan(text, 0, text.length))
  t.equal(text.toString('utf8', scanner.starts[0], scanner.ends[0]), '"escaped"', 'the top-level _id, the last one, as JSON.parse keeps it')
  const source: [number, number] = [scanner.starts[1], scanner.ends[1]]
  const b = descend(text, source, [head('a'), head('b')])
  t.equal(b === undefined ? undefined : text.toString('utf8', b[0], b[1]), '"last"', 'a nested path through the last "a"')
  t.equal(descend(text, source, [head('a'), head('b'), head('c')]), undefined, 'through a string: nothing')
  t.equal(memberRange(text, 0, head('nope')), undefined)
})

t.test('records: the key of a string id as its characters, of a number as written; errors for the rest', async (t) => {
  const reader = new RecordReader({ idField: '_id', contentField: '_source', byIndex: false })
  const key = (line: string): string | undefined => {
    const b = Buffer.from(line)
    const err = reader.read(b, 0, b.length, 1)
    return err === undefined ? reader.key.toString('utf8', 0, reader.keyLength) : `${err.code}: ${err.message}`
  }
  t.equal(key('{"_id":"a\\u00e9\\"","_source":{}}'), 'aé"', 'escapes read')
  t.equal(key('{"_id":"aé\\"","_source":{}}'), 'aé"', 'the same id written without the escape')
  t.equal(key('{"_id":9007199254740993}'), '9007199254740993', 'a number id as written')
  t.equal(key('{"_id":1.0}'), '1.0')
  t.equal(key('{"_id":""}'), "RECORD_MISSING_ID: line 1: the id at '_id' is empty")
  t.equal(key('{"_source":{}}'), "RECORD_MISSING_ID: line 1 has no id at '_id'")
  t.equal(key('{"_id":null}'), "RECORD_BAD_ID: line 1: the id at '_id' is null, not a string or a number")
  t.equal(key('{"_id":["a"]}'), "RECORD_BAD_ID: line 1: the id at '_id' is an array, not a string or a number")
  t.equal(key('[1]'), 'NDJSON_NOT_OBJECT: line 1 is JSON but not an object: an array')
  t.match(key('{"_id":"a",}'), /^NDJSON_INVALID_JSON: line 1 is not JSON: /)
  const lone = Buffer.from('{"_id":"\\ud800"}')
  t.equal(reader.read(lone, 0, lone.length, 1), undefined)
  const other = Buffer.from('{"_id":"\\udc00"}')
  const first = Buffer.from(reader.key.subarray(0, reader.keyLength))
  reader.read(other, 0, other.length, 1)
  t.not(first.toString('hex'), reader.key.toString('hex', 0, reader.keyLength), 'two lone surrogates are two ids (they have no UTF-8 of their own)')
})
