/**
 * Generated pairs of inputs for rec-diff's tests: every kind of difference (and of sameness
 * that is not the same bytes) many times over, written as text so that each number and escape
 * is exactly what the case needs. SOURCE in id order, TARGET shuffled.
 */

function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0
    return s / 2 ** 32
  }
}

const rec = (id: string, source: string, index = 'logs'): string => `{"_index":"${index}","_id":${id},"_source":${source}}`
const doc = (i: number, extra = ''): string => `{"n":${i},"title":"record ${i}","tags":["a","b"],"nested":{"x":{"y":[1,{"z":"deep ${i}"}]}}${extra}}`

/** Each case: SOURCE lines and TARGET lines for record i. */
const CASES: Array<(i: number) => [string[], string[]]> = [
  (i) => [[rec(`"id-${i}"`, doc(i))], [rec(`"id-${i}"`, doc(i))]], // the same bytes
  (i) => [[rec(`"id-${i}"`, doc(i))], []], // missing
  (i) => [[], [rec(`"id-${i}"`, doc(i))]], // extra
  (i) => [[` { "_index" : "logs" , "_id" : "id-${i}" , "_source" : ${doc(i)} } `], [rec(`"id-${i}"`, doc(i, ',"v":"new"'))]], // changed, SOURCE spaced
  (i) => [[rec(`"id-${i}"`, `{"v":1,"w":${i}}`)], [rec(`"id-${i}"`, `{"v":"1","w":${i}}`)]], // changed type
  (i) => [[rec(`"id-${i}"`, `{"a":${i},"b":{"c":1,"d":[1,2]},"e":"x"}`)], [rec(`"id-${i}"`, `{"e":"x","b":{"d":[1,2],"c":1},"a":${i}}`)]], // key order only
  (i) => [[rec(`"id-${i}"`, `{"price":10.0,"i":${i}}`)], [rec(`"id-${i}"`, `{"price":10,"i":${i}}`)]], // 10.0 vs 10
  (i) => [[rec(`"id-${i}"`, `{"big":9007199254740993,"i":${i}}`)], [rec(`"id-${i}"`, `{"big":9007199254740992,"i":${i}}`)]], // 2^53+1 vs 2^53
  (i) => [[rec(`"id-${i}"`, `{"s":"caf\u00e9","i":${i}}`)], [rec(`"id-${i}"`, `{"s":"cafe\u0301","i":${i}}`)]], // NFC vs NFD
  (i) => [[rec(`"id-${i}"`, `{"s":"caf\u00e9 \\"q\\"","i":${i}}`)], [rec(`"id-${i}"`, `{"s":"caf\\u00e9 \\u0022q\\u0022","i":${i}}`)]], // escapes vs raw: same
  (i) => [[rec(`"id-${i}"`, doc(i))], [`{ "_index": "logs",\t"_id": "id-${i}", "_source": ${doc(i).replace(/,/g, ', ')} }`]], // spaces only: same
  (i) => [[rec(`"id-${i}"`, `{"t":[1,2,3],"i":${i}}`)], [rec(`"id-${i}"`, `{"t":[3,2,1],"i":${i}}`)]], // array order
  (i) => [[rec(`"dup-${i}"`, '{"a":1}'), rec(`"dup-${i}"`, '{"a":2}')], [rec(`"dup-${i}"`, '{"a":1}')]], // duplicate in SOURCE
  (i) => [[rec(`"tdup-${i}"`, '{"a":1}')], [rec(`"tdup-${i}"`, '{"a":1}'), rec(`"tdup-${i}"`, '{"a":1}')]], // duplicate in TARGET
  (i) => [[rec(`"id-${i}"`, '{"a":1}')], [`{"_index":"logs","_id":"id-${i}"}`]], // no _source in TARGET
  (i) => [[rec(`${1000000000000 + i}`, `{"k":${i}}`)], [rec(`"${1000000000000 + i}"`, `{"k":${i}}`)]], // a number id and its string: one id
  (i) => [[rec(`"id-${i}"`, doc(i))], [rec(`"id-${i}"`, doc(i).replace(`"deep ${i}"`, `"deeper ${i}"`))]], // deep change
  (i) => [[rec(`"id-${i}"`, `{"z":-0,"i":${i}}`)], [rec(`"id-${i}"`, `{"z":0,"i":${i}}`)]], // -0 vs 0
  (i) => [[rec(`"id-${i}"`, `{"e":1e2,"i":${i}}`)], [rec(`"id-${i}"`, `{"e":100,"i":${i}}`)]], // 1e2 vs 100
  (i) => [[`not json ${i}`, `{"_id":true}`, `["array"]`], []], // lines that are no record
  (i) => [[rec(`"ix-${i}"`, `{"i":${i}}`, 'old')], [rec(`"ix-${i}"`, `{"i":${i}}`, 'new')]], // another _index: the same id unless --by-index
  (i) => [[rec(`"id-${i}"`, `{"a":2,"i":${i}}`)], [rec(`"id-${i}"`, `{"a":1,"a":2,"i":${i}}`)]], // a key given twice: the last counts
  (i) => [[rec(`"id-${i}"`, `{"s":"x","i":${i}}`)], [rec(`"id-${i}"`, `{"s":"x ","i":${i}}`)]], // a trailing space in a string
  (i) => [[], [rec(`${9000000000000000000 + i * 0}${String(i).padStart(4, '0')}`, `{"i":${i}}`)]], // an extra with a long number id
  (i) => [[rec(`"id-${i}"`, `{"f":1.5e300,"i":${i}}`)], [rec(`"id-${i}"`, `{"f":15e299,"i":${i}}`)]] // exponents
]

export interface Pair { source: string, target: string }

/**
 * `rounds` records of every case, and `filler` more records the same on both sides, each
 * `pad` characters longer (to make the inputs larger than a small --memory).
 */
export function makePair (rounds: number, opts: { filler?: number, pad?: number, seed?: number } = {}): Pair {
  const source: string[] = []
  const target: string[] = []
  let i = 0
  for (let r = 0; r < rounds; r++) {
    for (const c of CASES) {
      const [s, t] = c(i++)
      source.push(...s)
      target.push(...t)
    }
  }
  const pad = 'p'.repeat(opts.pad ?? 0)
  for (let f = 0; f < (opts.filler ?? 0); f++) {
    const line = rec(`"fill-${f}"`, `{"pad":"${pad}","f":${f}}`)
    source.push(line)
    target.push(line)
  }
  const rand = rng(opts.seed ?? 1)
  for (let k = target.length - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1))
    const tmp = target[k]; target[k] = target[j]; target[j] = tmp
  }
  return { source: source.join('\n') + '\n', target: target.join('\n') + '\n' }
}

/** The lines of an input in byte order of their ids (as --sorted wants them); lines without an id go first. */
export function sortedById (text: string): string {
  const keyOf = (line: string): Buffer => {
    const m = /"_id"\s*:\s*("(?:[^"\\]|\\.)*"|[-\d.eE+]+)/.exec(line)
    if (m === null) return Buffer.alloc(0)
    return Buffer.from(m[1].startsWith('"') ? JSON.parse(m[1]) as string : m[1])
  }
  const lines = text.split('\n').filter((l) => l !== '')
  return lines.map((l) => [keyOf(l), l] as const).sort((a, b) => Buffer.compare(a[0], b[0])).map(([, l]) => l).join('\n') + '\n'
}
