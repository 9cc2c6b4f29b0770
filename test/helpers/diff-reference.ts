/**
 * An independent reading of what rec-diff must find, for the tests: its own JSON parser (numbers
 * kept as written, the last of a key given twice), equality by big.js for numbers, and the
 * record rules of the README, written apart from lib/diff so that the same mistake cannot be
 * in both.
 */
import Big from 'big.js'

export type J =
  | { t: 'object', m: Map<string, J> }
  | { t: 'array', v: J[] }
  | { t: 'string', v: string }
  | { t: 'number', v: string }
  | { t: 'literal', v: 'true' | 'false' | 'null' }

/** Parses one JSON text; throws on anything JSON does not allow. */
export function parseJson (text: string): J {
  let i = 0
  const ws = (): void => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++ }
  const fail = (): never => { throw new SyntaxError(`bad JSON at ${i}`) }
  const PLAIN = /[^"\\\u0000-\u001f]*/y
  const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y
  const str = (): string => {
    if (text[i] !== '"') fail()
    i++
    let out = ''
    for (;;) {
      PLAIN.lastIndex = i
      const run = PLAIN.exec(text)?.[0] ?? ''
      out += run
      i += run.length
      if (i >= text.length) fail()
      const c = text[i++]
      if (c === '"') return out
      if (c !== '\\') fail()
      const e = text[i++]
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }
      if (e in simple) out += simple[e]
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i, i + 4))) { out += String.fromCharCode(parseInt(text.slice(i, i + 4), 16)); i += 4 } else fail()
    }
  }
  const val = (): J => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const m = new Map<string, J>()
      ws()
      if (text[i] === '}') { i++; return { t: 'object', m } }
      for (;;) {
        ws()
        const k = str()
        ws()
        if (text[i++] !== ':') fail()
        m.set(k, val())
        ws()
        const d = text[i++]
        if (d === '}') return { t: 'object', m }
        if (d !== ',') fail()
      }
    }
    if (c === '[') {
      i++
      const v: J[] = []
      ws()
      if (text[i] === ']') { i++; return { t: 'array', v } }
      for (;;) {
        v.push(val())
        ws()
        const d = text[i++]
        if (d === ']') return { t: 'array', v }
        if (d !== ',') fail()
      }
    }
    if (c === '"') return { t: 'string', v: str() }
    NUMBER.lastIndex = i
    const m = NUMBER.exec(text)
    if (m !== null) { i += m[0].length; return { t: 'number', v: m[0] } }
    for (const w of ['true', 'false', 'null'] as const) if (text.startsWith(w, i)) { i += w.length; return { t: 'literal', v: w } }
    return fail()
  }
  const v = val()
  ws()
  if (i !== text.length) fail()
  return v
}

/** A string's, a number's or a literal's text; undefined for containers and nothing. */
export function scalar (v: J | undefined): string | undefined {
  return v === undefined || v.t === 'object' || v.t === 'array' ? undefined : v.v
}

export function same (a: J | undefined, b: J | undefined, numbers: 'value' | 'text'): boolean {
  if (a === undefined || b === undefined) return a === b
  if (a.t !== b.t) return false
  switch (a.t) {
    case 'number': return numbers === 'text' ? a.v === (b as typeof a).v : new Big(a.v).eq(new Big((b as typeof a).v))
    case 'string': case 'literal': return a.v === (b as typeof a).v
    case 'array': { const bv = (b as typeof a).v; return a.v.length === bv.length && a.v.every((x, k) => same(x, bv[k], numbers)) }
    case 'object': { const bm = (b as typeof a).m; return a.m.size === bm.size && [...a.m].every(([k, x]) => bm.has(k) && same(x, bm.get(k), numbers)) }
  }
}

export interface RefOptions { numbers: 'value' | 'text', byIndex: boolean }

interface Rec { key: string, id: string, content: J | undefined, line: string }

export interface RefResult {
  /** id → what differs, for every differing id (keys are `index/id` with byIndex). */
  kinds: Map<string, 'missing' | 'changed' | 'extra'>
  same: number
  /** Record errors: lines that are no record, and each later line of an id given twice. */
  errors: number
  source: Map<string, Rec>
  target: Map<string, Rec>
}

function records (text: string, opts: RefOptions): { recs: Map<string, Rec>, errors: number, dup: Set<string> } {
  const recs = new Map<string, Rec>()
  const dup = new Set<string>()
  let errors = 0
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    let v: J
    try { v = parseJson(line) } catch { errors++; continue }
    if (v.t !== 'object') { errors++; continue }
    const idv = v.m.get('_id')
    const id = idv?.t === 'string' && idv.v !== '' ? idv.v : idv?.t === 'number' ? idv.v : undefined
    if (id === undefined) { errors++; continue }
    let key = JSON.stringify(id)
    if (opts.byIndex) {
      const ix = v.m.get('_index')
      if (ix?.t !== 'string' || ix.v === '') { errors++; continue }
      key = `${JSON.stringify(ix.v)}/${key}`
    }
    if (recs.has(key)) { errors++; dup.add(key); continue }
    recs.set(key, { key, id, content: v.m.get('_source'), line })
  }
  return { recs, errors, dup }
}

/** What rec-diff SOURCE TARGET must find, by this file's own reading. */
export function reference (source: string, target: string, opts: RefOptions): RefResult {
  const s = records(source, opts)
  const t = records(target, opts)
  const kinds = new Map<string, 'missing' | 'changed' | 'extra'>()
  let sameCount = 0
  const skip = new Set([...s.dup, ...t.dup])
  for (const [key, r] of s.recs) {
    if (skip.has(key)) continue
    const other = t.recs.get(key)
    if (other === undefined) kinds.set(key, 'missing')
    else if (same(r.content, other.content, opts.numbers)) sameCount++
    else kinds.set(key, 'changed')
  }
  for (const key of t.recs.keys()) if (!skip.has(key) && !s.recs.has(key)) kinds.set(key, 'extra')
  return { kinds, same: sameCount, errors: s.errors + t.errors, source: s.recs, target: t.recs }
}
