// Response filtering (`filter_path`), as ES applies it to successful responses (never to error
// bodies): comma-separated dotted paths, `*` within a name, `**` for any depth, a leading `-`
// to exclude. Arrays are looked through; an object or array element left with nothing is
// dropped, so a filter that matches nothing gives `{}`. The paths are compiled into an
// automaton whose steps are memoised per key: a 1000-item _bulk answer costs a map lookup per field.

import { isObject, parseJson, PlainJson, RawJson, type Json, type Out } from './json.js'

/** One position in the compiled paths. */
interface Node {
  readonly literal: Map<string, Node>
  readonly wild: Array<[RegExp, Node]>
  /** The node after a `**`: it matches any number of names, itself included. */
  deep?: Node
  isDeep: boolean
  end: boolean
}

const node = (isDeep = false): Node => ({ literal: new Map(), wild: [], isDeep, end: false })

/** A set of positions, with the sets it moves to by each name (memoised). */
class State {
  readonly end: boolean
  private readonly next = new Map<string, State | null>()

  constructor(readonly nodes: Node[]) {
    this.end = nodes.some((n) => n.end)
  }

  step(key: string): State | null {
    let s = this.next.get(key)
    if (s !== undefined) return s
    const out = new Set<Node>()
    for (const n of this.nodes) {
      const lit = n.literal.get(key)
      if (lit !== undefined) out.add(lit)
      for (const [re, w] of n.wild) if (re.test(key)) out.add(w)
      if (n.isDeep) out.add(n)
    }
    s = out.size === 0 ? null : new State(closure([...out]))
    this.next.set(key, s)
    return s
  }
}

/** Adds what a `**` reaches without consuming a name. */
function closure(nodes: Node[]): Node[] {
  const out = new Set<Node>()
  const add = (n: Node): void => {
    if (out.has(n)) return
    out.add(n)
    if (n.deep !== undefined) add(n.deep)
  }
  nodes.forEach(add)
  return [...out]
}

function compile(paths: string[]): State {
  const root = node()
  for (const path of paths) {
    let cur = root
    for (const part of path.split('.')) {
      if (part === '**') {
        cur.deep ??= node(true)
        cur = cur.deep
      } else if (part.includes('*')) {
        const re = new RegExp('^' + part.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
        let w = cur.wild.find(([r]) => r.source === re.source)?.[1]
        if (w === undefined) cur.wild.push([re, (w = node())])
        cur = w
      } else {
        let l = cur.literal.get(part)
        if (l === undefined) cur.literal.set(part, (l = node()))
        cur = l
      }
    }
    cur.end = true
  }
  return new State(closure([root]))
}

function include(v: Json, state: State): Json | undefined {
  if (state.end) return v
  if (Array.isArray(v)) {
    const kept: Json[] = []
    for (const x of v) {
      const k = include(x, state)
      if (k !== undefined) kept.push(k)
    }
    return kept.length > 0 ? kept : undefined
  }
  if (!isObject(v)) return undefined
  let out: { [k: string]: Json } | undefined
  for (const k in v) {
    const next = state.step(k)
    if (next === null) continue
    const kept = include(v[k] as Json, next)
    if (kept !== undefined) (out ??= {})[k] = kept
  }
  return out
}

function exclude(v: Json, state: State | null): Json | undefined {
  if (state === null) return v
  if (state.end) return undefined
  if (Array.isArray(v)) {
    const kept: Json[] = []
    for (const x of v) {
      const k = exclude(x, state)
      if (k !== undefined) kept.push(k)
    }
    return kept.length > 0 || v.length === 0 ? kept : undefined
  }
  if (!isObject(v)) return v
  const out: { [k: string]: Json } = {}
  for (const k in v) {
    const kept = exclude(v[k] as Json, state.step(k))
    if (kept !== undefined) out[k] = kept
  }
  return out
}

const compiled = new Map<string, { inc?: State; exc?: State }>()

/** Applies `filter_path` to a response body (pre-serialized parts are read back exactly). */
export function filterPath(body: Out, filter: string): Out {
  let f = compiled.get(filter)
  if (f === undefined) {
    const all = filter.split(',').map((s) => s.trim()).filter((s) => s !== '')
    const inc = all.filter((s) => !s.startsWith('-'))
    const exc = all.filter((s) => s.startsWith('-')).map((s) => s.slice(1))
    f = { inc: inc.length > 0 ? compile(inc) : undefined, exc: exc.length > 0 ? compile(exc) : undefined }
    compiled.set(filter, f)
  }
  let v: Json | undefined = toJson(body)
  if (f.inc !== undefined && v !== undefined) v = include(v, f.inc)
  if (f.exc !== undefined && v !== undefined) v = exclude(v, f.exc)
  return body instanceof PlainJson ? new PlainJson(v ?? {}) : v ?? {}
}

function toJson(v: Out): Json | undefined {
  if (v === undefined) return undefined
  if (v instanceof PlainJson) return v.value
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
