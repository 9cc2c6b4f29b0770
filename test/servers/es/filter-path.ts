// Response filtering (`filter_path`), as ES applies it to successful responses (never to error
// bodies): comma-separated dotted paths, `*` within a name, `**` for any depth, a leading `-`
// to exclude. Arrays are looked through; an object or array element left with nothing is
// dropped, so a filter that matches nothing gives `{}`.

import { isObject, parseJson, RawJson, type Json, type Out } from './json.js'

type Pattern = string[]

function glob(p: string): RegExp {
  return new RegExp('^' + p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
}

/** The patterns that go on below `key`; an empty pattern means `key` matched in full. */
function descend(patterns: Pattern[], key: string): Pattern[] {
  const out: Pattern[] = []
  for (const p of patterns) {
    const [head, ...rest] = p
    if (head === undefined) continue
    if (head === '**') {
      out.push(p) // ** goes on matching deeper
      out.push(...descend([rest], key)) // or matches nothing
      continue
    }
    if (glob(head).test(key)) out.push(rest)
  }
  return out
}

function include(v: Json, patterns: Pattern[]): Json | undefined {
  if (patterns.some((p) => p.length === 0 || (p.length === 1 && p[0] === '**'))) return v
  if (Array.isArray(v)) {
    const kept = v.map((x) => include(x, patterns)).filter((x): x is Json => x !== undefined)
    return kept.length > 0 ? kept : undefined
  }
  if (!isObject(v)) return undefined
  const out: { [k: string]: Json } = {}
  for (const [k, x] of Object.entries(v)) {
    const below = descend(patterns, k)
    if (below.length === 0) continue
    const kept = include(x, below)
    if (kept !== undefined) out[k] = kept
  }
  return Object.keys(out).length > 0 ? out : undefined
}

function exclude(v: Json, patterns: Pattern[]): Json | undefined {
  if (patterns.some((p) => p.length === 0)) return undefined
  if (Array.isArray(v)) {
    const kept = v.map((x) => exclude(x, patterns)).filter((x): x is Json => x !== undefined)
    return kept.length > 0 || v.length === 0 ? kept : undefined
  }
  if (!isObject(v)) return v
  const out: { [k: string]: Json } = {}
  for (const [k, x] of Object.entries(v)) {
    const below = descend(patterns, k)
    const kept = below.length === 0 ? x : exclude(x, below)
    if (kept !== undefined) out[k] = kept
  }
  return out
}

/** Applies `filter_path` to a response body (pre-serialized parts are read back exactly). */
export function filterPath(body: Out, filter: string): Out {
  const all = filter.split(',').map((s) => s.trim()).filter((s) => s !== '')
  const inc = all.filter((s) => !s.startsWith('-')).map((s) => s.split('.'))
  const exc = all.filter((s) => s.startsWith('-')).map((s) => s.slice(1).split('.'))
  let v: Json | undefined = toJson(body)
  if (inc.length > 0 && v !== undefined) v = include(v, inc)
  if (exc.length > 0 && v !== undefined) v = exclude(v, exc)
  return v ?? {}
}

function toJson(v: Out): Json | undefined {
  if (v === undefined) return undefined
  if (v instanceof RawJson) return /\d{16}/.test(v.json) ? parseJson(v.json) : (JSON.parse(v.json) as Json)
  if (Array.isArray(v)) return v.map((x) => toJson(x) ?? null)
  if (v !== null && typeof v === 'object' && typeof v !== 'bigint') {
    const out: { [k: string]: Json } = {}
    for (const [k, x] of Object.entries(v)) {
      const j = toJson(x)
      if (j !== undefined) out[k] = j
    }
    return out
  }
  return v
}
