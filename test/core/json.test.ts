import t from 'tap'
import { LosslessNumber, keyCount, keysMatch, numberText, numbersSurviveJsonParse, parseExact, stringifyExact } from '../../lib/core/json.js'

const roundTrip = (text: string): string => stringifyExact(parseExact(text))

t.test('numbers come back with every digit as written', async (t) => {
  for (const n of ['9007199254740993', '-9223372036854775808', '18446744073709551615', '0.1000000000000000055511151231257827',
    '1e400', '-1E-400', '1E+2', '1.0', '-0', '-0.0', '0.000', '123456789012345678901234567890.5', '3.14159265358979323846264338327950288']) {
    t.equal(roundTrip(`{"n":${n}}`), `{"n":${n}}`, n)
    t.equal(roundTrip(`[${n},[${n}],{"a":{"b":${n}}}]`), `[${n},[${n}],{"a":{"b":${n}}}]`, `${n} nested`)
  }
})

t.test('what JSON.parse keeps stays a plain number; the rest are LosslessNumber', async (t) => {
  const v = parseExact('{"small":42,"neg":-7,"zero":0,"max15":999999999999999,"big":9999999999999999,"dec":1.5}') as Record<string, unknown>
  t.equal(v.small, 42)
  t.equal(v.neg, -7)
  t.equal(v.zero, 0)
  t.equal(v.max15, 999999999999999)
  t.ok(v.big instanceof LosslessNumber)
  t.equal(numberText(v.big), '9999999999999999')
  t.equal(numberText(v.dec), '1.5')
  t.equal(numberText(12n), '12')
  t.equal(numberText('12'), undefined, 'a string is not a number')
})

t.test('strings are never touched, whatever digits or marks they hold', async (t) => {
  for (const text of [
    '{"t":"2024-01-01T10:00:00.000Z","n":1.5}',
    '{"s":"9007199254740993","n":9007199254740993}',
    '{"q":"a \\" 1.0 \\\\","n":-0}',
    '{"m":"\uE000x","n":1e5}',
    '{"m":"\uE000\uE0001","n":1e5}',
    '{"\uE000key":1.0,"k2":"\uE000v"}',
    '["\uE000",2.50,"\uE000\uE000"]'
  ]) {
    t.equal(roundTrip(text), text, text)
  }
  t.strictSame(parseExact('{"m":"\\ue000escaped","n":1e5}'), { m: '\uE000escaped', n: new LosslessNumber('1e5') }, 'the mark written as an escape is still a string')
  t.strictSame(parseExact('["\\ue000\\ue0001",1e5,"\\uE000"]'), ['\uE000\uE0001', new LosslessNumber('1e5'), '\uE000'])
  t.strictSame(parseExact('{"\\ue000k" : "\uE000", "n":1.0}'), { '\uE000k': '\uE000', n: new LosslessNumber('1.0') }, 'a key is not a value, with space before the colon too')
})

t.test('duplicate keys: the last one wins, as in JSON.parse and Elasticsearch, on both paths', async (t) => {
  t.equal(roundTrip('{"a":1,"a":2}'), '{"a":2}')
  t.equal(roundTrip('{"a":9007199254740993,"a":9007199254740995}'), '{"a":9007199254740995}')
  t.equal(roundTrip('{"a":{"x":1.0},"b":2,"a":{"y":2.0}}'), '{"a":{"y":2.0},"b":2}')
})

t.test('bad JSON throws JSON.parse\'s own error', async (t) => {
  for (const bad of ['{"a":1.}', '{"a":01}', '{"a":1e}', '{"a":-}', '{"a":1', '{"a":"x}', '{"a":1.0,}']) {
    let expected = ''
    try { JSON.parse(bad) } catch (err) { expected = (err as Error).message }
    t.throws(() => parseExact(bad), { name: 'SyntaxError', message: expected }, bad)
  }
})

t.test('the native path is taken only when it is exact', async (t) => {
  t.ok(numbersSurviveJsonParse('{"a":1,"b":[-2,0,123456789012345],"c":"1.5e9 -0"}'))
  for (const s of ['{"a":1.5,"b":-0.001,"c":1e+21,"d":9007199254740991}', '{"geo":{"lat":52.520008,"lon":-13.404954}}']) t.ok(numbersSurviveJsonParse(s), s)
  for (const s of ['{"a":-0}', '{"a":1e3}', '{"a":1E+21}', '{"a":9007199254740993}', '{"a":0.1000000000000000055511151231257827}', '{"a":"\\"",  "b":2.0}', '{"a":1.50}']) t.notOk(numbersSurviveJsonParse(s), s)
  t.strictSame(parseExact('{"f":1.5,"big":9007199254740993}'), { f: 1.5, big: new LosslessNumber('9007199254740993') }, 'beside a number that needs it, a float that prints back stays a number')
})

t.test('values built in code: bigint and LosslessNumber are written as digits', async (t) => {
  t.equal(stringifyExact({ a: 2n ** 70n, b: new LosslessNumber('12.3400'), c: undefined, d: [1, null] }), '{"a":1180591620717411303424,"b":12.3400,"d":[1,null]}')
  t.equal(stringifyExact({ a: 'plain' }), '{"a":"plain"}')
})

t.test('a generated corpus survives parse and stringify byte for byte', async (t) => {
  // A fixed-seed generator: the same corpus on every run.
  let seed = 42
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]
  const num = (): string => pick([
    () => String(Math.floor(rnd() * 1e6) - 5e5),
    () => (rnd() < 0.5 ? '-' : '') + '9' + Array.from({ length: 15 + Math.floor(rnd() * 20) }, () => Math.floor(rnd() * 10)).join(''),
    () => `${Math.floor(rnd() * 1000)}.${Array.from({ length: 1 + Math.floor(rnd() * 25) }, () => Math.floor(rnd() * 10)).join('')}`,
    () => `${1 + Math.floor(rnd() * 9)}${pick(['e', 'E'])}${pick(['', '+', '-'])}${Math.floor(rnd() * 500)}`,
    () => pick(['0', '-0', '-0.0', '0.0', '1.0'])
  ])()
  const str = (): string => JSON.stringify(pick(['', 'x', '\uE000', '\uE000\uE000', 'é ☃ 😀', '"quoted"', 'back\\slash', '12.5', 'line\nbreak', '\u0000']))
  const val = (depth: number): string => {
    const r = rnd()
    if (depth > 3 || r < 0.4) return pick([num, str, () => pick(['true', 'false', 'null'])])()
    if (r < 0.7) return `[${Array.from({ length: Math.floor(rnd() * 4) }, () => val(depth + 1)).join(',')}]`
    const keys = Array.from({ length: Math.floor(rnd() * 4) }, (_v, i) => `k${i}`)
    return `{${keys.map((k) => `"${k}":${val(depth + 1)}`).join(',')}}`
  }
  let same = 0
  const differing: string[] = []
  for (let i = 0; i < 2000; i++) {
    const text = `{"_id":"${i}","_source":${val(0)}}`
    if (roundTrip(text) === text) same++
    else differing.push(text)
  }
  t.strictSame(differing, [], 'every generated line comes back as it went in')
  t.equal(same, 2000)
})

t.test('keysMatch: false when some object in the text has a key twice, whatever the spacing', async (t) => {
  for (const [text, same] of [
    ['{"a":1,"b":{"c":2}}', true],
    ['{"a":1,"a":2}', false],
    ['{"a":{"x":1,"x":1}}', false],
    ['[{"a":1},{"a":1}]', true],
    ['{"s":"a\\":b","t":"\\\\"}', true],
    ['{"k\\\\":1}', true],
    ['{ "a" : 1, "b"\n:\t[ 1 , 2 ] }', true],
    // Space before a colon hides no duplicate: the record says a is 2, MariaDB would read 1.
    ['{"a" : 1,"a":2,"b":3}', false],
    ['{"a":1,"s":" :"}', false],
    ['{"s":"x\\" :"}', true]
  ] as const) {
    t.equal(keysMatch(text, JSON.parse(text)), same, text)
  }
  t.equal(keyCount({ a: [{ b: 1 }, 2], c: null }), 3)
})
