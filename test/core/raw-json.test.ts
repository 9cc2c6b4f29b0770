import t from 'tap'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { RawObject } from '../../lib/core/raw-json.js'
import { scanObject } from '../../lib/core/raw-json.js'
import { ParsedLine, parseNdjson, rawRecordId } from '../../lib/core/ndjson.js'
import { createContext } from '../../lib/core/context.js'
import { keyCount } from '../../lib/core/json.js'

/** Whether every object in the valid JSON `text` holds each key once (JSON.parse keeps the last of two). */
function keysOnce (text: string): boolean {
  let keys = 0
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '"') continue
    for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++
    let j = i + 1
    while (' \t\r\n'.includes(text[j])) j++
    if (text[j] === ':') keys++
  }
  return keys === keyCount(JSON.parse(text))
}

t.test('scanObject: a line it accepts is an object JSON.parse reads the same, member for member', async (t) => {
  const text = '{"_index":"logs","_id":"a-1","n":-1.5e+3,"ok":true,"no":false,"nil":null,"_source":{"msg":"x \\"q\\" \\u00e9","arr":[1,[2,{}],[]],"o":{"a":{"b":[]}}},"last":0}'
  const raw = scanObject(text)
  if (raw === undefined) throw new Error('refused')
  const value = JSON.parse(text) as Record<string, unknown>
  for (const key of Object.keys(value)) {
    const span = raw.member(key)
    if (span === undefined) throw new Error(`no ${key}`)
    t.strictSame(JSON.parse(text.slice(span[0], span[1])), value[key], key)
  }
  t.equal(raw.member('missing'), undefined)
  t.equal(raw.member('_sourc'), undefined, 'a prefix of a key is not the key')
  const spaced = scanObject(' \t{ "a" : [ 1 , 2 ] , "b" :{ } }\r ')
  t.strictSame(spaced?.member('a'), [10, 19], 'whitespace around every token')
  t.strictSame(spaced?.member('b'), [27, 30])
  t.ok(scanObject('{}'), 'the empty object')
  t.ok(scanObject('{"s":"\ud800 lone surrogate, \u2028, \u0080"}'), 'any character from U+0020 up, as JSON.parse takes it')
})

t.test('scanObject refuses what JSON.parse refuses, and lines it cannot vouch for', async (t) => {
  const invalid = ['', ' ', '[]', '"s"', '1', 'null', '{', '}', '{"a"}', '{"a":}', '{"a":1,}', '{,"a":1}', '{"a":1 "b":2}', '{"a":1}x', '{"a":1}{}',
    '{a:1}', "{'a':1}", '{"a":01}', '{"a":-}', '{"a":1.}', '{"a":.5}', '{"a":1e}', '{"a":1e+}', '{"a":+1}', '{"a":0x1}', '{"a":NaN}', '{"a":Infinity}',
    '{"a":tru}', '{"a":nul}', '{"a":True}', '{"a":[1,]}', '{"a":[,1]}', '{"a":[1 2]}', '{"a":"x\ty"}', '{"a":"x\u0000"}', '{"a":"\\x"}', '{"a":"\\u12G4"}',
    '{"a":"\\u12"}', '{"a":"unterminated}', '{"a":"x"', '{"a":[}', '{"a":{]}', '{"a":1}\u00a0', '\ufeff{"a":1}']
  for (const text of invalid) {
    let parses = true
    try { JSON.parse(text) } catch { parses = false }
    if (parses) t.notOk(JSON.parse(text) !== null && typeof JSON.parse(text) === 'object' && !Array.isArray(JSON.parse(text)), `${JSON.stringify(text)} is no object`)
    t.equal(scanObject(text), undefined, JSON.stringify(text))
  }
  t.equal(scanObject('{"a":1,"a":2}'), undefined, 'a duplicate top-level key')
  t.equal(scanObject('{"a":{"b":1,"c":{"b":2},"b":3}}'), undefined, 'a duplicate nested key')
  t.ok(scanObject('{"a":{"b":1},"b":{"a":1}}'), 'the same key in different objects is no duplicate')
  t.ok(scanObject('{"a":[{"b":1},{"b":2}]}'), 'nor in sibling objects')
  t.equal(scanObject('{"\\u0061":1,"a":2}'), undefined, 'an escaped key (here a duplicate) is left to JSON.parse')
  t.equal(scanObject('{"a":' + '['.repeat(200) + ']'.repeat(200) + '}'), undefined, 'very deep nesting is left to JSON.parse')
  t.ok(scanObject('{"a":' + '['.repeat(50) + ']'.repeat(50) + '}'))
})

t.test('scanObject never accepts what JSON.parse refuses: random edits of valid lines', async (t) => {
  let s = 7
  const rnd = (n: number): number => { s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0; return s % n }
  const seeds = ['{"_id":"x","_source":{"a":[1,2.5,-3e2,{"b":null}],"s":"t\\"u\\\\v","t":true,"f":false}}', '{"a":{"b":{"c":[[],{}]}},"d":"\\u00e9"}', '{ "k" : 0 , "l" : [ "m" ] }']
  const alphabet = '{}[]:,"\\ \t01-+.eE9aunlt\u0000x'
  let accepted = 0
  for (let n = 0; n < 20000; n++) {
    const chars = [...seeds[rnd(seeds.length)]]
    for (let edits = 1 + rnd(3); edits > 0; edits--) {
      const at = rnd(chars.length + 1)
      const op = rnd(3)
      if (op === 0) chars.splice(at, 1)
      else if (op === 1) chars.splice(at, 0, alphabet[rnd(alphabet.length)])
      else chars.splice(at, 1, alphabet[rnd(alphabet.length)])
    }
    const text = chars.join('')
    const raw = scanObject(text)
    if (raw === undefined) continue
    accepted++
    let value: unknown
    try { value = JSON.parse(text) } catch { t.fail(`accepted invalid JSON: ${JSON.stringify(text)}`); continue }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) { t.fail(`accepted a non-object: ${JSON.stringify(text)}`); continue }
    if (!keysOnce(text)) t.fail(`accepted a duplicate key: ${JSON.stringify(text)}`)
    for (const [k, v] of Object.entries(value)) {
      const span = raw.member(k)
      if (span === undefined || JSON.stringify(JSON.parse(text.slice(span[0], span[1]))) !== JSON.stringify(v)) t.fail(`member ${k} misplaced in ${JSON.stringify(text)}`)
    }
  }
  t.ok(accepted > 1000, `${accepted} edited lines were still valid and accepted`)
})

t.test('parseNdjson({ scan: true }): scanned lines carry raw members and parse only when asked; the rest go the ordinary way', async (t) => {
  const ctx = createContext({ tool: 'test', counters: ['read'], quiet: true })
  const input = ['{"_id":"a","_source":{"n":1.50}}', '{"_id":7,"x":1,"x":2}', 'not json', '[1]', '{"_id":"\\u00e9"}', ''].join('\n')
  const got: ParsedLine[] = []
  await pipeline(Readable.from([Buffer.from(input)]), parseNdjson(ctx, { scan: true }), new Writable({ objectMode: true, write (l: ParsedLine, _e, done) { got.push(l); done() } }))
  t.strictSame(got.map((l) => [l.line, l.raw !== undefined]), [[1, true], [2, false], [5, true]], 'a duplicate key is left to JSON.parse; bad lines fail')
  t.equal(ctx.stats.get('read'), 5)
  t.equal(ctx.failures.count, 2)
  const [a, dup, esc] = got
  t.strictSame(a.value, { _id: 'a', _source: { n: 1.5 } }, 'value is parsed when first read')
  t.equal(rawRecordId(a.raw as RawObject, '_id'), 'a')
  t.equal(rawRecordId(esc.raw as RawObject, '_id'), 'é', 'an escaped id is decoded')
  t.strictSame(dup.value, { _id: 7, x: 2 })
  t.equal(rawRecordId(scanObject('{"_id":1.0}') as RawObject, '_id'), '1.0', 'a number id is its text as written')
  for (const id of ['""', 'null', 'true', '{}', '[]']) t.equal(rawRecordId(scanObject(`{"_id":${id}}`) as RawObject, '_id'), undefined, `${id} is no id`)
  t.equal(rawRecordId(a.raw as RawObject, 'id'), undefined)
})
