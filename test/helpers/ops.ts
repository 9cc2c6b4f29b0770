// Streams of records that carry their operation (`_op`), and what a store holds after applying
// them as Elasticsearch applies bulk actions: the oracle the writers' tests compare against.
import { parseExact, stringifyExact } from '../../lib/core/json.js'
import { random } from './random.js'

export type Op = 'index' | 'create' | 'update' | 'upsert' | 'delete'

/** A document as the model holds it: `big` is the digits of a number past 2^53, kept as text. */
interface Doc { [k: string]: unknown }

export interface OpStream {
  /** The NDJSON lines, each with `_index`, `_id`, `_op` and (but for delete) `_source`. */
  lines: string[]
  /** Every id's document afterwards, as canonical text (see canonical); deleted ids absent. */
  want: Map<string, string>
  /** What the store did, record by record: `notFound` counts deletes and updates of a missing id, `updatesMissing` the updates alone. */
  counts: { created: number, updated: number, deleted: number, notFound: number, skipped: number, updatesMissing: number }
}

export interface OpStreamOptions {
  /** Records in the stream. */
  n: number
  /** Distinct ids (fewer than n: ids repeat, each with its operations in stream order). */
  ids: number
  seed: number
  index?: string
  /** Which operations to draw from (default all five). */
  ops?: readonly Op[]
  /** Leave `_op` out of index records (the writer's own --op / --mode then applies). */
  plainIndex?: boolean
  /** No numbers past 2^53 (for a pipe through jq 1.6, which rounds them). */
  noBig?: boolean
}

/** The text of a number past 2^53 that no double holds: a digit lost would show. */
function big (i: number): string {
  return `9007199254740${String(993 + i).padStart(6, '0')}`
}

/** A whole document: every key the stream uses, so an upsert that merges equals one that replaces. */
function fullDoc (i: number, r: () => number, noBig: boolean): Doc {
  return { n: i, s: `é 𝄞 ${i}`, big: noBig ? i * 3 : { $big: big(i) }, o: { x: Math.floor(r() * 1000), y: i }, v: i }
}

/** A partial document: `v` (so an update always changes something) and some of the others. */
function partialDoc (i: number, r: () => number, noBig: boolean): Doc {
  const d: Doc = { v: i }
  if (r() < 0.5) d.n = -i
  if (r() < 0.5) d.big = noBig ? -3 * i : { $big: big(i + 500_000) }
  if (r() < 0.5) d.o = { y: -i }
  return d
}

/** A model document as JSON text, its `big` numbers written out digit for digit. */
export function docText (d: unknown): string {
  if (d !== null && typeof d === 'object' && !Array.isArray(d)) {
    const o = d as Record<string, unknown>
    if (typeof o.$big === 'string') return o.$big
    return '{' + Object.keys(o).map((k) => JSON.stringify(k) + ':' + docText(o[k])).join(',') + '}'
  }
  return JSON.stringify(d)
}

/** Elasticsearch's merge of an update's doc: objects key by key, anything else replaced. */
function merge (base: Doc, partial: Doc): Doc {
  const out: Doc = { ...base }
  for (const [k, v] of Object.entries(partial)) {
    const old = out[k]
    const isObj = (x: unknown): x is Doc => x !== null && typeof x === 'object' && !Array.isArray(x) && !('$big' in (x as Doc))
    out[k] = isObj(old) && isObj(v) ? merge(old, v) : v
  }
  return out
}

/** JSON text with its keys sorted at every depth and numbers as written: two stores compare equal as text. */
export function canonical (text: string): string {
  const sort = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || (v as { isLosslessNumber?: unknown }).isLosslessNumber === true) return v
    const o = v as Record<string, unknown>
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(o).sort()) out[k] = sort(o[k])
    return out
  }
  return stringifyExact(sort(parseExact(text)))
}

/** A seeded stream of mixed operations over a few ids, with the end state Elasticsearch would hold. */
export function opStream (o: OpStreamOptions): OpStream {
  const r = random(o.seed)
  const ops = o.ops ?? ['index', 'create', 'update', 'upsert', 'delete']
  const index = o.index ?? 'ops'
  const store = new Map<string, Doc>()
  const counts = { created: 0, updated: 0, deleted: 0, notFound: 0, skipped: 0, updatesMissing: 0 }
  const lines: string[] = []
  for (let i = 0; i < o.n; i++) {
    const id = `k${Math.floor(r() * o.ids)}`
    const op = ops[Math.floor(r() * ops.length)]
    const had = store.get(id)
    let doc: Doc | undefined
    switch (op) {
      case 'index':
        doc = fullDoc(i, r, o.noBig === true)
        if (had === undefined) counts.created++
        else counts.updated++
        store.set(id, doc)
        break
      case 'create':
        doc = fullDoc(i, r, o.noBig === true)
        if (had === undefined) { counts.created++; store.set(id, doc) } else counts.skipped++
        break
      case 'update':
        doc = partialDoc(i, r, o.noBig === true)
        // Elasticsearch refuses it (document_missing_exception); mysql-write counts it not found.
        if (had === undefined) { counts.notFound++; counts.updatesMissing++ } else { counts.updated++; store.set(id, merge(had, doc)) }
        break
      case 'upsert':
        doc = fullDoc(i, r, o.noBig === true)
        if (had === undefined) { counts.created++; store.set(id, doc) } else { counts.updated++; store.set(id, merge(had, doc)) }
        break
      case 'delete':
        if (had === undefined) counts.notFound++
        else { counts.deleted++; store.delete(id) }
        break
    }
    const opMember = op === 'index' && o.plainIndex === true ? '' : `,"_op":"${op}"`
    lines.push(`{"_index":"${index}","_id":"${id}"${opMember}${doc === undefined ? '' : `,"_source":${docText(doc)}`}}`)
  }
  const want = new Map([...store].map(([id, d]) => [id, canonical(docText(d))]))
  return { lines, want, counts }
}
