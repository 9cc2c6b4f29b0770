// Documents, indices and the field types Elasticsearch's dynamic mapping would infer for them.

import { EsError, indexNotFound } from './errors.js'

export type FieldType = 'long' | 'float' | 'date' | 'keyword' | 'text' | 'boolean' | 'object'

export interface Doc {
  readonly id: string
  readonly source: Record<string, unknown>
  /** Serialized once at insert: a 1000-hit page is then mostly string concatenation. */
  readonly sourceJson: string
  /** Lucene doc id within its index (single shard): insertion order, never reused. */
  readonly seq: number
  readonly version: number
  readonly seqNo: number
}

// ES dynamic date detection uses strict_date_optional_time: these strings become `date` fields.
const DATE_DETECT = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/

export function inferType(v: unknown): FieldType | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'float'
  if (typeof v === 'boolean') return 'boolean'
  // Dynamic mapping makes other strings `text` with a `.keyword` sub-field.
  if (typeof v === 'string') return DATE_DETECT.test(v) ? 'date' : 'text'
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return 'object'
  return undefined
}

const MAPPED_TYPES: Record<string, FieldType> = {
  long: 'long', integer: 'long', short: 'long', byte: 'long', unsigned_long: 'long',
  float: 'float', double: 'float', half_float: 'float', scaled_float: 'float',
  date: 'date', date_nanos: 'date', keyword: 'keyword', constant_keyword: 'keyword', wildcard: 'keyword',
  text: 'text', boolean: 'boolean', object: 'object',
}

export class IndexData {
  readonly docs = new Map<string, Doc>()
  readonly fieldTypes = new Map<string, FieldType>()
  /** Objects mapped with `enabled: false`: kept in `_source`, never parsed or typed. */
  readonly unparsed = new Set<string>()
  readonly created = Date.now()
  readonly uuid = Math.random().toString(36).slice(2, 24)
  private nextSeq = 0
  private seqNo = 0
  private ordered: Doc[] | null = null

  constructor(readonly name: string) {}

  /** Live docs in index (doc id) order; cached until the next write. */
  list(): Doc[] {
    if (this.ordered === null) this.ordered = Array.from(this.docs.values())
    return this.ordered
  }

  put(id: string, source: Record<string, unknown>, sourceJson?: string): { doc: Doc; created: boolean } {
    const old = this.docs.get(id)
    // Re-indexing gives the doc a new Lucene doc id, so it moves to the end of index order.
    if (old !== undefined) this.docs.delete(id)
    const doc: Doc = {
      id,
      source,
      sourceJson: sourceJson ?? JSON.stringify(source),
      seq: this.nextSeq++,
      version: (old?.version ?? 0) + 1,
      seqNo: this.seqNo++,
    }
    this.docs.set(id, doc)
    this.learnTypes(source, '')
    this.ordered = null
    return { doc, created: old === undefined }
  }

  delete(id: string): Doc | undefined {
    const old = this.docs.get(id)
    if (old === undefined) return undefined
    this.docs.delete(id)
    this.seqNo++
    this.ordered = null
    return old
  }

  private learnTypes(obj: Record<string, unknown>, prefix: string): void {
    for (const [k, raw] of Object.entries(obj)) {
      const path = prefix + k
      if (this.unparsed.has(path)) continue
      for (const v of Array.isArray(raw) ? raw : [raw]) {
        const t = inferType(v)
        if (t === undefined) continue
        if (!this.fieldTypes.has(path)) this.fieldTypes.set(path, t)
        if (t === 'object') this.learnTypes(v as Record<string, unknown>, path + '.')
      }
    }
  }

  /** Explicit mappings win over inference, as in ES; only leaf `type`s matter here. */
  applyMappings(mappings: unknown, prefix = ''): void {
    const props = (mappings as { properties?: Record<string, { type?: string; properties?: unknown; enabled?: unknown }> } | null)?.properties
    if (typeof props !== 'object' || props === null) return
    for (const [k, def] of Object.entries(props)) {
      if (def.enabled === false) {
        this.fieldTypes.set(prefix + k, 'object')
        this.unparsed.add(prefix + k)
        continue
      }
      if (def.properties !== undefined) {
        this.fieldTypes.set(prefix + k, 'object')
        this.applyMappings(def, prefix + k + '.')
        continue
      }
      const t = MAPPED_TYPES[def.type ?? 'object']
      if (t !== undefined) this.fieldTypes.set(prefix + k, t)
    }
  }

  /** The type of a field path, and where its values live in `_source` (`x.keyword` reads `x`). */
  typeOf(path: string): { type: FieldType; sourcePath: string } | undefined {
    const t = this.fieldTypes.get(path)
    if (t !== undefined) return { type: t, sourcePath: path }
    if (path.endsWith('.keyword')) {
      const base = path.slice(0, -'.keyword'.length)
      if (this.fieldTypes.get(base) === 'text') return { type: 'keyword', sourcePath: base }
    }
    return undefined
  }

  mappings(): Record<string, unknown> {
    const properties: Record<string, unknown> = {}
    for (const [path, type] of this.fieldTypes) {
      if (type === 'object') continue
      // Dotted paths are written flat: ES accepts that form in mappings and it keeps this simple.
      properties[path] =
        type === 'text' ? { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } } : { type }
    }
    return { properties }
  }
}

/** The values a field path selects, through nested objects and arrays, as ES flattens them. */
export function fieldValues(source: Record<string, unknown>, path: string): unknown[] {
  const out: unknown[] = []
  const walk = (node: unknown, parts: string[]): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, parts)
      return
    }
    if (parts.length === 0) {
      if (node !== null && node !== undefined) out.push(node)
      return
    }
    if (typeof node !== 'object' || node === null) return
    const rec = node as Record<string, unknown>
    // A key may itself contain dots ("a.b": 1), so try every prefix of the remaining path.
    for (let i = 1; i <= parts.length; i++) {
      const key = parts.slice(0, i).join('.')
      if (key in rec) walk(rec[key], parts.slice(i))
    }
  }
  walk(source, path.split('.'))
  return out
}

export class Store {
  readonly indices = new Map<string, IndexData>()

  get(name: string): IndexData {
    const idx = this.indices.get(name)
    if (idx === undefined) throw indexNotFound(name)
    return idx
  }

  getOrCreate(name: string): IndexData {
    let idx = this.indices.get(name)
    if (idx === undefined) {
      validateIndexName(name)
      idx = new IndexData(name)
      this.indices.set(name, idx)
    }
    return idx
  }

  /**
   * Resolves `a,b*,-c` to index names, sorted. Concrete names that do not exist are 404 unless
   * `ignoreUnavailable`; wildcards that match nothing are not an error (allow_no_indices).
   */
  resolve(expr: string | undefined, ignoreUnavailable = false): string[] {
    if (expr === undefined || expr === '' || expr === '_all') return this.visible('*')
    const names = new Set<string>()
    for (const part of expr.split(',')) {
      if (part === '') continue
      if (part.startsWith('-') && names.size > 0) {
        for (const n of this.visible(part.slice(1))) names.delete(n)
        continue
      }
      if (part === '_all' || part.includes('*')) {
        for (const n of this.visible(part === '_all' ? '*' : part)) names.add(n)
        continue
      }
      if (this.indices.has(part)) names.add(part)
      else if (!ignoreUnavailable) throw indexNotFound(part)
    }
    return [...names].sort()
  }

  private visible(pattern: string): string[] {
    const re = new RegExp('^' + pattern.split('*').map(escapeRegExp).join('.*') + '$')
    // Like ES, wildcards skip hidden (dot-prefixed) indices unless the pattern asks for them.
    return [...this.indices.keys()]
      .filter((n) => re.test(n) && (!n.startsWith('.') || pattern.startsWith('.')))
      .sort()
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')
}

export function validateIndexName(name: string): void {
  const bad = (why: string): never => {
    throw new EsError(400, {
      type: 'invalid_index_name_exception',
      reason: `Invalid index name [${name}], ${why}`,
      index_uuid: '_na_',
      index: name,
    })
  }
  if (name !== name.toLowerCase()) bad('must be lowercase')
  if (/[\\/*?"<>| ,#:]/.test(name)) bad('must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?]')
  if (name.startsWith('_') || name.startsWith('-') || name.startsWith('+')) bad("must not start with '_', '-', or '+'")
}
