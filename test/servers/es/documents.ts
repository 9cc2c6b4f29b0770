// Index and document APIs: create/delete/get index, single-document writes, and _bulk.

import { randomBytes } from 'node:crypto'
import { EsError, illegalArgument, indexNotFound, resourceAlreadyExists, validationFailed, xContentParse } from './errors.js'
import { parseDate } from './dates.js'
import { isObject, parseJson, type Json, type Out } from './json.js'
import type { Doc, IndexData, Store } from './store.js'

const LONG_MIN = -(2n ** 63n)
const LONG_MAX = 2n ** 63n - 1n

/** How the engine renders a rejected value in "Preview of field's value" (Java's toString). */
function preview(v: Json): string {
  if (isObject(v)) return `{${Object.entries(v).map(([k, x]) => `${k}=${preview(x)}`).join(', ')}}`
  if (Array.isArray(v)) return `[${v.map(preview).join(', ')}]`
  return String(v)
}

/** Whether a value is one the mapped type accepts (with the engine's coercion of strings and numbers). */
function fits(type: string, v: Json): boolean {
  if (v === null) return true
  switch (type) {
    case 'long':
      if (typeof v === 'bigint') return v >= LONG_MIN && v <= LONG_MAX
      if (typeof v === 'number') return Number.isFinite(v) && Math.abs(v) < 2 ** 63
      return typeof v === 'string' && /^\s*-?\d+(\.\d*)?\s*$/.test(v) && BigInt(v.trim().split('.')[0] as string) >= LONG_MIN && BigInt(v.trim().split('.')[0] as string) <= LONG_MAX
    case 'float':
      return typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)))
    case 'date':
      return typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'string' && parseDate(v, undefined, false) !== undefined)
    case 'boolean':
      return v === true || v === false || v === 'true' || v === 'false' || v === ''
    case 'keyword':
    case 'text':
      return !isObject(v)
    default:
      return true
  }
}

export function autoId(): string {
  return randomBytes(15).toString('base64url')
}

function writeResult(index: IndexData, doc: Doc, result: string): { [k: string]: Out } {
  return {
    _index: index.name,
    _id: doc.id,
    _version: doc.version,
    result,
    _shards: { total: 2, successful: 1, failed: 0 },
    _seq_no: doc.seqNo,
    _primary_term: 1,
  }
}

function parseSource(text: string): Record<string, unknown> {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw new EsError(400, { type: 'document_parsing_exception', reason: `[1:1] failed to parse: ${(e as Error).message}` })
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new EsError(400, { type: 'document_parsing_exception', reason: '[1:1] failed to parse: source is not an object' })
  }
  return v as Record<string, unknown>
}

export class Documents {
  /** `opensearch`: mapping failures are mapper_parsing_exception (Elasticsearch 8: document_parsing_exception). */
  constructor(readonly store: Store, readonly opensearch = false) {}

  /**
   * Refuses a document whose values do not fit the index's mapped (or already inferred) field
   * types, with the engine's own error, so a writer meets the per-item 400s a real cluster gives.
   */
  private checkTypes(idx: IndexData, id: string, raw: string): void {
    const type = this.opensearch ? 'mapper_parsing_exception' : 'document_parsing_exception'
    const walk = (obj: { [k: string]: Json }, prefix: string): void => {
      for (const [k, value] of Object.entries(obj)) {
        const path = prefix + k
        if (idx.unparsed.has(path)) continue
        const mapped = idx.fieldTypes.get(path)
        for (const v of Array.isArray(value) ? value : [value]) {
          if (mapped === 'object') {
            if (isObject(v)) walk(v, path + '.')
            else if (v !== null) throw new EsError(400, { type, reason: `object mapping for [${path}] tried to parse field [${k}] as object, but found a concrete value` })
          } else if (mapped !== undefined && !fits(mapped, v)) {
            const shown = mapped === 'text' ? 'text' : mapped
            throw new EsError(400, { type, reason: `failed to parse field [${path}] of type [${shown}] in document with id '${id}'. Preview of field's value: '${preview(v)}'` })
          } else if (mapped === undefined && isObject(v)) {
            walk(v, path + '.')
          }
        }
      }
    }
    let source: Json
    try {
      source = parseJson(raw)
    } catch {
      return
    }
    if (isObject(source)) walk(source, '')
  }

  /** `if_seq_no`/`if_primary_term`: a write that does not find the document at that sequence number is a 409. */
  private checkSeqNo(idx: IndexData, id: string, ifSeqNo: unknown, ifPrimaryTerm: unknown): void {
    if (ifSeqNo === undefined && ifPrimaryTerm === undefined) return
    const existing = idx.docs.get(id)
    const required = `required seqNo [${String(ifSeqNo)}], primary term [${String(ifPrimaryTerm ?? 1)}]`
    const reason = existing === undefined
      ? `[${id}]: version conflict, ${required}. but no document was found`
      : Number(ifSeqNo) !== existing.seqNo || Number(ifPrimaryTerm ?? 1) !== 1
        ? `[${id}]: version conflict, ${required}. current document has seqNo [${existing.seqNo}] and primary term [1]`
        : undefined
    if (reason !== undefined) throw new EsError(409, { type: 'version_conflict_engine_exception', reason, index_uuid: idx.uuid, shard: '0', index: idx.name })
  }

  createIndex(name: string, body: Json | undefined): Out {
    if (this.store.indices.has(name)) throw resourceAlreadyExists(name)
    const idx = this.store.getOrCreate(name)
    if (isObject(body)) idx.applyMappings(body.mappings)
    return { acknowledged: true, shards_acknowledged: true, index: name }
  }

  deleteIndex(expr: string): Out {
    for (const name of expr.split(',')) {
      if (name.includes('*') || name === '_all') throw illegalArgument('Wildcard expressions or all indices are not allowed')
      if (!this.store.indices.has(name)) throw indexNotFound(name)
    }
    for (const name of expr.split(',')) this.store.indices.delete(name)
    return { acknowledged: true }
  }

  getIndex(expr: string): Out {
    const out: { [k: string]: Out } = {}
    for (const name of this.store.resolve(expr)) {
      const idx = this.store.get(name)
      out[name] = {
        aliases: {},
        mappings: idx.mappings() as Out,
        settings: {
          index: {
            number_of_shards: '1', number_of_replicas: '1', uuid: idx.uuid, provided_name: name,
            creation_date: String(idx.created),
          },
        },
      }
    }
    return out
  }

  getMapping(expr: string): Out {
    const out: { [k: string]: Out } = {}
    for (const name of this.store.resolve(expr)) out[name] = { mappings: this.store.get(name).mappings() as Out }
    return out
  }

  /** PUT/POST /{index}/_doc/{id?} and _create: `raw` is the body text, kept as the stored `_source`. */
  indexDoc(name: string, id: string | undefined, raw: string, createOnly: boolean, seq: { ifSeqNo?: unknown; ifPrimaryTerm?: unknown } = {}): { status: number; body: Out } {
    if (raw.trim() === '') throw validationFailed('source is missing')
    const source = parseSource(raw)
    const idx = this.store.getOrCreate(name)
    const docId = id ?? autoId()
    const existing = idx.docs.get(docId)
    if (createOnly && existing !== undefined) throw conflict(idx, existing)
    this.checkSeqNo(idx, docId, seq.ifSeqNo, seq.ifPrimaryTerm)
    this.checkTypes(idx, docId, raw)
    const { doc, created } = idx.put(docId, source, raw.trim())
    return { status: created ? 201 : 200, body: writeResult(idx, doc, created ? 'created' : 'updated') }
  }

  getDoc(name: string, id: string): { status: number; body: Out } {
    const idx = this.store.get(name)
    const doc = idx.docs.get(id)
    if (doc === undefined) return { status: 404, body: { _index: name, _id: id, found: false } }
    return {
      status: 200,
      body: { _index: name, _id: id, _version: doc.version, _seq_no: doc.seqNo, _primary_term: 1, found: true, _source: doc.source as Out },
    }
  }

  deleteDoc(name: string, id: string): { status: number; body: Out } {
    const idx = this.store.get(name)
    const old = idx.delete(id)
    const body = {
      _index: name, _id: id, _version: (old?.version ?? 0) + 1, result: old === undefined ? 'not_found' : 'deleted',
      _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: 0, _primary_term: 1,
    }
    return { status: old === undefined ? 404 : 200, body }
  }

  bulk(pathIndex: string | undefined, raw: string): Out {
    const started = Date.now()
    if (raw === '') throw new EsError(400, { type: 'parse_exception', reason: 'request body is required' })
    if (!raw.endsWith('\n')) throw illegalArgument('The bulk request must be terminated by a newline [\\n]')
    const lines = raw.split('\n')
    lines.pop()
    // Parse every action first: a malformed line fails the whole request, as in ES.
    const ops: { action: string; index: string; id: string | undefined; source?: string; ifSeqNo?: unknown; ifPrimaryTerm?: unknown }[] = []
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string
      if (line.trim() === '') continue
      let meta: unknown
      try {
        meta = JSON.parse(line)
      } catch {
        throw xContentParse(`Malformed action/metadata line [${i + 1}], expected START_OBJECT`)
      }
      if (!isObject(meta) || Object.keys(meta).length !== 1) {
        throw illegalArgument(`Malformed action/metadata line [${i + 1}], expected START_OBJECT or END_OBJECT but found [${typeof meta}]`)
      }
      const action = Object.keys(meta)[0] as string
      if (!['index', 'create', 'delete', 'update'].includes(action)) {
        throw illegalArgument(`Malformed action/metadata line [${i + 1}], expected field [create], [delete], [index] or [update] but found [${action}]`)
      }
      const m = meta[action]
      const params = isObject(m) ? m : {}
      const index = typeof params._index === 'string' ? params._index : pathIndex
      if (index === undefined) throw validationFailed('index is missing')
      const id = params._id === undefined ? undefined : String(params._id)
      if (action === 'delete') {
        if (id === undefined) throw validationFailed('id is missing')
        ops.push({ action, index, id })
        continue
      }
      const source = lines[++i]
      if (source === undefined) throw illegalArgument('The bulk request must be terminated by a newline [\\n]')
      ops.push({ action, index, id, source, ifSeqNo: params.if_seq_no, ifPrimaryTerm: params.if_primary_term })
    }
    const items: Out[] = []
    let errors = false
    for (const op of ops) {
      const item = this.bulkItem(op)
      if ('error' in item) errors = true
      items.push({ [op.action]: item })
    }
    return { errors, took: Date.now() - started, items }
  }

  private bulkItem(op: { action: string; index: string; id: string | undefined; source?: string; ifSeqNo?: unknown; ifPrimaryTerm?: unknown }): { [k: string]: Out } {
    try {
      if (op.action === 'delete') {
        const r = this.deleteDoc(op.index, op.id as string)
        return { ...(r.body as { [k: string]: Out }), status: r.status }
      }
      if (op.action === 'update') {
        const idx = this.store.getOrCreate(op.index)
        const body = parseSource(op.source as string)
        const existing = op.id === undefined ? undefined : idx.docs.get(op.id)
        if (op.id === undefined) throw validationFailed('id is missing')
        if (existing === undefined && body.doc_as_upsert !== true && body.upsert === undefined) {
          throw new EsError(404, { type: 'document_missing_exception', reason: `[${op.id}]: document missing`, index_uuid: idx.uuid, shard: '0', index: op.index })
        }
        const base = existing?.source ?? (body.upsert as Record<string, unknown> | undefined) ?? {}
        const merged = existing === undefined && body.upsert !== undefined ? base : { ...base, ...(body.doc as Record<string, unknown>) }
        const { doc, created } = idx.put(op.id, merged)
        return { ...writeResult(idx, doc, created ? 'created' : 'updated'), status: created ? 201 : 200 }
      }
      const r = this.indexDoc(op.index, op.id, op.source as string, op.action === 'create', op)
      return { ...(r.body as { [k: string]: Out }), status: r.status }
    } catch (e) {
      if (!(e instanceof EsError)) throw e
      return { _index: op.index, _id: op.id ?? null, status: e.status, error: e.cause_ as Out }
    }
  }

  /** Seeding without HTTP, for benchmarks. */
  addDocs(name: string, docs: Array<{ _id?: string; _source: Record<string, unknown> }>): void {
    const idx = this.store.getOrCreate(name)
    for (const d of docs) idx.put(d._id ?? autoId(), d._source)
  }
}

function conflict(idx: IndexData, doc: Doc): EsError {
  return new EsError(409, {
    type: 'version_conflict_engine_exception',
    reason: `[${doc.id}]: version conflict, document already exists (current version [${doc.version}])`,
    index_uuid: idx.uuid,
    shard: '0',
    index: idx.name,
  })
}
