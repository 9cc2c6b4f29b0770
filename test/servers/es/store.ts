// Documents, indices and the field types Elasticsearch's dynamic mapping would infer for them.

import { EsError, indexNotFound } from './errors.js'
import type { Json } from './json.js'
import { applyMappings, inferType, printedMappings, type Dynamic, type MappingCheck, type MappingState } from './mapping.js'

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
  /** The routing it was indexed with, returned as `_routing` in hits. */
  readonly routing?: string
  /**
   * The Lucene segment it was written to: one per refresh of its index (merges are not
   * modelled). OpenSearch skips whole segments on search_after (search-after-skip.ts).
   */
  readonly segment: number
}

/**
 * A stored document. Documents written over HTTP keep only their text until something reads
 * their fields (a query, a sort, `fields`): a large load then holds strings, not object trees,
 * and costs the garbage collector little.
 */
class StoredDoc implements Doc {
  private parsed: Record<string, unknown> | undefined

  constructor(
    readonly id: string,
    parsed: Record<string, unknown> | undefined,
    readonly sourceJson: string,
    readonly seq: number,
    readonly version: number,
    readonly seqNo: number,
    readonly routing: string | undefined,
    readonly segment: number,
  ) {
    this.parsed = parsed
  }

  get source(): Record<string, unknown> {
    this.parsed ??= JSON.parse(this.sourceJson) as Record<string, unknown>
    return this.parsed
  }
}

export class IndexData implements MappingState {
  readonly docs = new Map<string, Doc>()
  readonly fieldTypes = new Map<string, FieldType>()
  readonly declared = new Map<string, string>()
  readonly dynamic = new Map<string, Dynamic>()
  readonly opaque = new Set<string>()
  /** Index settings as given at creation, flattened with the `index.` prefix (lists stay lists). */
  readonly settings = new Map<string, string | string[]>()
  /** The aliases given at creation, as GET _alias prints them. */
  readonly aliases = new Map<string, { [k: string]: Json }>()
  /** The mappings as PUT /{index} gave them (printed back by GET _mapping, with dynamic fields added). */
  private given: Json | undefined
  readonly created = Date.now()
  readonly uuid = Math.random().toString(36).slice(2, 24)
  private nextSeq = 0
  private seqNo = 0
  /** The segment new writes go to: each refresh starts another one. */
  private segment = 0
  private ordered: Doc[] | null = null
  /** What searches see of an index with `refresh_interval: -1`: the docs as of its last refresh. */
  private refreshed: Doc[] = []

  constructor(readonly name: string) {}

  /**
   * Whether searches see only what a refresh made visible. Only with `refresh_interval: -1`:
   * otherwise every write is searchable at once (a real engine's 1 s refresh, made instant so
   * that tests need not wait), while with -1 a search or `_count` sees nothing new until
   * `_refresh` or a write with `refresh=true|wait_for`, as on a real cluster. GET by id is
   * realtime either way.
   */
  private manualRefresh(): boolean {
    return this.settings.get('index.refresh_interval') === '-1'
  }

  /** The searchable docs in index (doc id) order; cached until the next write (or refresh). */
  list(): Doc[] {
    if (this.manualRefresh()) return this.refreshed
    if (this.ordered === null) this.ordered = Array.from(this.docs.values())
    return this.ordered
  }

  /** Makes every write so far searchable, and closes the segment they went to. */
  refresh(): void {
    if (this.manualRefresh()) this.refreshed = Array.from(this.docs.values())
    this.segment++
  }

  /**
   * Stores a document from its object (seeding: its types are learned) or from its text alone
   * (`source` undefined: the caller has checked and mapped it, see mapping.ts admit).
   */
  put(id: string, source: Record<string, unknown> | undefined, sourceJson?: string, opts: { routing?: string } = {}): { doc: Doc; created: boolean } {
    const old = this.docs.get(id)
    // Re-indexing gives the doc a new Lucene doc id, so it moves to the end of index order.
    if (old !== undefined) this.docs.delete(id)
    const doc = new StoredDoc(id, source, sourceJson ?? JSON.stringify(source), this.nextSeq++, (old?.version ?? 0) + 1, this.seqNo++, opts.routing, this.segment)
    this.docs.set(id, doc)
    if (source !== undefined) this.learnTypes(source, '')
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
      if (this.opaque.has(path)) continue
      for (const v of Array.isArray(raw) ? raw : [raw]) {
        const t = inferType(v)
        if (t === undefined) continue
        if (!this.fieldTypes.has(path)) this.fieldTypes.set(path, t)
        if (t === 'object') this.learnTypes(v as Record<string, unknown>, path + '.')
      }
    }
  }

  /** Explicit mappings win over inference, as in ES (see mapping.ts). */
  applyMappings(mappings: unknown, check?: MappingCheck): void {
    applyMappings(this, mappings as Parameters<typeof applyMappings>[1], '', check)
    this.given = mappings as Json | undefined
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
    return printedMappings(this.given, this)
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
