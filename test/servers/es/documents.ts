// Index and document APIs: create/delete/get index, single-document writes, and _bulk.

import { randomBytes } from 'node:crypto'
import { EsError, illegalArgument, indexNotFound, parsingException, resourceAlreadyExists, validationFailed, xContentParse } from './errors.js'
import { Pipelines } from './ingest.js'
import { duplicateKey, isObject, parseAsJava, parseJson, PlainJson, RawJson, stringify, type Json, type Out } from './json.js'
import { admit, NeedsExactNumbers, type Dialect } from './mapping.js'
import { IndexData, validateIndexName, type Doc, type Store } from './store.js'

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

function notAnObject(): EsError {
  return new EsError(400, { type: 'document_parsing_exception', reason: '[1:1] failed to parse: source is not an object' })
}

/** Jackson's words for where it stopped (OpenSearch 2.19 shows them; the source itself is redacted). */
function jacksonAt(line: number, column: number): string {
  return `\n at [Source: REDACTED (\`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION\` disabled); line: ${line}, column: ${column}]`
}

/**
 * A document's JSON, refused as the engines refuse it: not JSON, not an object, or an object
 * with a key given twice (both engines parse with Jackson's strict duplicate detection).
 */
function parseSource(text: string, dialect: Dialect = 'elasticsearch'): Record<string, unknown> {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw new EsError(400, { type: 'document_parsing_exception', reason: `[1:1] failed to parse: ${(e as Error).message}` })
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw notAnObject()
  const dup = duplicateKey(text, v)
  if (dup !== undefined) {
    const cause = { type: 'json_parse_exception', reason: `${dup.message}${jacksonAt(dup.line, dup.column)}` }
    throw new EsError(400, dialect === 'opensearch'
      ? { type: 'mapper_parsing_exception', reason: 'failed to parse', caused_by: cause }
      : { type: 'document_parsing_exception', reason: `[${dup.line}:${dup.column}] failed to parse: ${cause.reason}`, caused_by: cause })
  }
  return v as Record<string, unknown>
}

/** Column (from 1) of the JSON token that ends just before `offset`, as a parser's token location. */
function tokenBefore(text: string, offset: number): number {
  let j = offset - 1
  while (j > 0 && /[\s,]/.test(text[j] as string)) j--
  if (text[j] === '"') {
    for (j--; j > 0; j--) {
      let slashes = 0
      while (text[j - 1 - slashes] === '\\') slashes++
      if (text[j] === '"' && slashes % 2 === 0) break
    }
  } else if (text[j] !== '}' && text[j] !== ']') {
    while (j > 0 && /[\w.+-]/.test(text[j - 1] as string)) j--
  }
  return j + 1
}

/**
 * An update body is parsed with the request (an x-content parse of UpdateRequest), so a key given
 * twice in it fails the whole _bulk request, as on OpenSearch 2.19.
 */
function checkUpdateBody(text: string): void {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return
  }
  const dup = duplicateKey(text, v)
  if (dup === undefined || !isObject(v as Json)) return
  const field = Object.keys(v as object).find((k) => text.indexOf(JSON.stringify(k)) < dup.offset && text.indexOf(JSON.stringify(k)) >= 0) ?? 'doc'
  throw new EsError(400, {
    type: 'x_content_parse_exception',
    reason: `[${dup.line}:${tokenBefore(text, dup.offset)}] [UpdateRequest] failed to parse field [${field}]`,
    caused_by: { type: 'json_parse_exception', reason: `${dup.message}${jacksonAt(dup.line, dup.column)}` },
  })
}

/** The document with integers beyond 2^53 as bigint (for updates that re-serialize it). */
function exactSource(text: string): Record<string, unknown> {
  const v = parseJson(text)
  if (!isObject(v)) throw notAnObject()
  return v
}

/** Maps a document, parsed again exactly when a long field must see every digit of a large integer. */
function admitDocument(idx: IndexData, source: Record<string, unknown>, id: string, text: string, dialect: Dialect): void {
  try {
    admit(idx, source, id, text, dialect)
  } catch (e) {
    if (!(e instanceof NeedsExactNumbers)) throw e
    admit(idx, exactSource(text), id, text, dialect, true)
  }
}

/** Settings both engines know, with the `index.` prefix; other names are refused as the engines refuse them. */
const KNOWN_SETTINGS = /^index\.(number_of_shards|number_of_replicas|refresh_interval|max_result_window|codec|hidden|auto_expand_replicas|default_pipeline|final_pipeline|max_inner_result_window|query\.default_field|(analysis|routing|blocks|translog|sort|mapping|similarity|merge|search|indexing|store)\..+)$/
/** Each engine's own: Elasticsearch's lifecycle (ILM) and index modes; OpenSearch's replication type. */
const DIALECT_SETTINGS: Record<Dialect, RegExp> = {
  elasticsearch: /^index\.(lifecycle\..+|mode)$/,
  opensearch: /^index\.(replication\.type|plugins\..+)$/,
}

function flattenSettings(v: Json, prefix: string, out: Map<string, string | string[]>, dialect: Dialect): void {
  if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) flattenSettings(x, prefix === '' ? k : `${prefix}.${k}`, out, dialect)
    return
  }
  const name = prefix.startsWith('index.') ? prefix : `index.${prefix}`
  if (!KNOWN_SETTINGS.test(name) && !DIALECT_SETTINGS[dialect].test(name)) {
    throw illegalArgument(`unknown setting [${name}] please check that any required plugins are installed, or check the breaking changes documentation for removed settings`)
  }
  // Printed back as the engines print them: every value a string, lists as lists of strings.
  out.set(name, Array.isArray(v) ? v.map(String) : String(v))
}

/** Analyzers and normalizers an index's settings define. */
function definedAnalyzers(settings: Map<string, string | string[]>): Set<string> {
  const out = new Set<string>()
  for (const name of settings.keys()) {
    const m = /^index\.analysis\.(?:analyzer|normalizer)\.([^.]+)\./.exec(name)
    if (m !== null) out.add(m[1] as string)
  }
  return out
}

/** An alias as GET _alias prints it: `routing` is both index_routing and search_routing. */
function printedAlias(name: string, def: Json): { [k: string]: Json } {
  if (!isObject(def)) throw parsingException(`failed to parse alias [${name}]: expected an object`)
  const out: { [k: string]: Json } = {}
  for (const [k, v] of Object.entries(def)) {
    if (k === 'routing') { out.index_routing = String(v); out.search_routing = String(v) }
    else if (k === 'index_routing' || k === 'search_routing') out[k] = String(v)
    else if (k === 'filter' || k === 'is_write_index' || k === 'is_hidden') out[k] = v
    else throw parsingException(`[alias] unknown field [${k}]`)
  }
  return out
}

// Parameters an action/metadata line may carry in ES 8; anything else fails the whole request.
const ACTION_PARAMS = new Set([
  '_index', '_id', 'routing', 'op_type', 'version', 'version_type', 'if_seq_no', 'if_primary_term', 'retry_on_conflict',
  'pipeline', '_source', 'require_alias', 'require_data_stream', 'dynamic_templates', 'list_executed_pipelines',
])

interface BulkOp {
  action: string
  index: string
  id: string | undefined
  routing?: string
  pipeline?: string
  source?: string
  ifSeqNo?: Json
  ifPrimaryTerm?: Json
}

/** Optimistic concurrency parameters of a write (`if_seq_no`, `if_primary_term`). */
interface SeqNoCheck {
  ifSeqNo?: unknown
  ifPrimaryTerm?: unknown
}

export interface BulkOptions {
  /** The request's `pipeline` parameter, run on index and create items without their own. */
  pipeline?: string
  /** The request's `routing` parameter, for items without their own. */
  routing?: string
  /** Fault injection: true refuses this item with a 429, as a full write queue does. */
  reject?: () => boolean
}

export class Documents {
  readonly pipelines = new Pipelines()

  /** Whose error types and reasons mapping failures take (see mapping.ts). */
  readonly dialect: Dialect

  constructor(readonly store: Store, opensearch = false) {
    this.dialect = opensearch ? 'opensearch' : 'elasticsearch'
  }

  /** `if_seq_no`/`if_primary_term`: a write that does not find the document at that sequence number is a 409. */
  private checkSeqNo(idx: IndexData, id: string, seq: SeqNoCheck): void {
    if (seq.ifSeqNo === undefined && seq.ifPrimaryTerm === undefined) return
    const existing = idx.docs.get(id)
    const required = `required seqNo [${String(seq.ifSeqNo)}], primary term [${String(seq.ifPrimaryTerm ?? 1)}]`
    const reason = existing === undefined
      ? `[${id}]: version conflict, ${required}. but no document was found`
      : Number(seq.ifSeqNo) !== existing.seqNo || Number(seq.ifPrimaryTerm ?? 1) !== 1
        ? `[${id}]: version conflict, ${required}. current document has seqNo [${existing.seqNo}] and primary term [1]`
        : undefined
    if (reason !== undefined) throw new EsError(409, { type: 'version_conflict_engine_exception', reason, index_uuid: idx.uuid, shard: '0', index: idx.name })
  }

  createIndex(name: string, body: Json | undefined): Out {
    if (this.store.indices.has(name)) throw resourceAlreadyExists(name)
    validateIndexName(name)
    // Checked in full before the index exists: a refused mapping or setting creates nothing.
    const idx = new IndexData(name)
    if (isObject(body)) {
      for (const k of Object.keys(body)) {
        if (!['mappings', 'settings', 'aliases'].includes(k)) throw parsingException(`unknown key [${k}] for create index`)
      }
      if (body.settings !== undefined) flattenSettings(body.settings, '', idx.settings, this.dialect)
      idx.applyMappings(body.mappings, { dialect: this.dialect, analyzers: definedAnalyzers(idx.settings) })
      if (body.aliases !== undefined) {
        if (!isObject(body.aliases)) throw parsingException('failed to parse aliases: expected an object')
        for (const [name, def] of Object.entries(body.aliases)) {
          if (this.store.indices.has(name)) throw new EsError(400, { type: 'invalid_alias_name_exception', reason: `Invalid alias name [${name}]: an index or data stream exists with the same name as the alias` })
          idx.aliases.set(name, printedAlias(name, def))
        }
      }
    }
    this.store.indices.set(name, idx)
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
      out[name] = { aliases: Object.fromEntries(idx.aliases) as Out, mappings: idx.mappings() as Out, settings: { index: this.indexSettings(name) } }
    }
    return out
  }

  /**
   * GET /{index}/_settings[/{name}][?flat_settings=true]: what the engine set itself (which PUT
   * /{index} refuses) among the rest; `name` is a full setting name, or a comma list of them.
   */
  getSettings(expr: string, flat: boolean, names?: string): Out {
    const out: { [k: string]: Out } = {}
    const wanted = names === undefined ? undefined : new Set(names.split(','))
    for (const name of this.store.resolve(expr)) {
      const settings: { [k: string]: Out } = {}
      const walk = (obj: { [k: string]: Out }, prefix: string): void => {
        for (const [k, v] of Object.entries(obj)) {
          if (isObject(v)) walk(v as { [k: string]: Out }, `${prefix}${k}.`)
          else if (wanted === undefined || wanted.has(prefix + k)) settings[prefix + k] = v
        }
      }
      walk(this.indexSettings(name), 'index.')
      if (flat) out[name] = { settings }
      else {
        const index: { [k: string]: Out } = {}
        for (const [k, v] of Object.entries(settings)) {
          const path = k.slice('index.'.length).split('.')
          let at = index
          for (const p of path.slice(0, -1)) at = (at[p] ??= {}) as { [k: string]: Out }
          at[path[path.length - 1] as string] = v
        }
        out[name] = { settings: Object.keys(index).length > 0 ? { index } : {} }
      }
    }
    return out
  }

  /** What the engine prints: its own settings (which a create refuses to be given) among the ones given. */
  private indexSettings(name: string): { [k: string]: Out } {
    const idx = this.store.get(name)
    const index: { [k: string]: Out } = {
      number_of_shards: '1', number_of_replicas: '1', uuid: idx.uuid, provided_name: name,
      creation_date: String(idx.created), version: { created: '7172899' },
    }
    // Each engine sets one more on every index: Elasticsearch its data tier, OpenSearch its replication.
    if (this.dialect === 'elasticsearch') index['routing.allocation.include._tier_preference'] = 'data_content'
    else index['replication.type'] = 'DOCUMENT'
    for (const [k, v] of idx.settings) index[k.slice('index.'.length)] = v
    return index
  }

  /** GET /_cat/aliases/{names}?format=json: one row per alias and index it names (none: an empty list). */
  catAliases(names: string): Out {
    const wanted = new Set(names.split(','))
    const rows: Out[] = []
    for (const name of this.store.resolve(undefined)) {
      for (const [alias, def] of this.store.get(name).aliases) {
        if (wanted.has(alias)) rows.push({ alias, index: name, filter: def.filter !== undefined ? '*' : '-', 'routing.index': String(def.index_routing ?? '-'), 'routing.search': String(def.search_routing ?? '-'), is_write_index: def.is_write_index === true ? 'true' : '-' })
      }
    }
    return rows
  }

  /** GET /{index}/_alias: each index's aliases (none: an empty object). */
  getAliases(expr: string): Out {
    const out: { [k: string]: Out } = {}
    for (const name of this.store.resolve(expr)) out[name] = { aliases: Object.fromEntries(this.store.get(name).aliases) as Out }
    return out
  }

  getMapping(expr: string): Out {
    const out: { [k: string]: Out } = {}
    for (const name of this.store.resolve(expr)) out[name] = { mappings: this.store.get(name).mappings() as Out }
    return out
  }

  /**
   * Indexes one document as ES does: checked against the mapping (new fields mapped only when it
   * is accepted), refused on create when the id exists. `raw` is kept as the stored `_source`
   * unless a pipeline changed the document.
   */
  private write(name: string, id: string | undefined, raw: string, createOnly: boolean, opts: { routing?: string; pipeline?: string } & SeqNoCheck = {}): { status: number; body: { [k: string]: Out } } {
    if (raw.trim() === '') throw validationFailed('source is missing')
    if (id === '') throw illegalArgument('if _id is specified it must not be empty')
    let source = parseSource(raw, this.dialect)
    let text = raw.trim()
    const idx = this.store.getOrCreate(name)
    const docId = id ?? autoId()
    if (opts.pipeline !== undefined && opts.pipeline !== '_none') {
      const exact = exactSource(raw)
      this.pipelines.run(opts.pipeline, exact)
      text = stringify(exact as Out)
      source = JSON.parse(text) as Record<string, unknown>
    }
    admitDocument(idx, source, docId, text, this.dialect)
    const existing = idx.docs.get(docId)
    if (createOnly && existing !== undefined) throw conflict(idx, existing)
    this.checkSeqNo(idx, docId, opts)
    const { doc, created } = idx.put(docId, undefined, text, { routing: opts.routing })
    return { status: created ? 201 : 200, body: writeResult(idx, doc, created ? 'created' : 'updated') }
  }

  /** PUT/POST /{index}/_doc/{id?} and _create: `raw` is the body text, kept as the stored `_source`. */
  indexDoc(name: string, id: string | undefined, raw: string, createOnly: boolean, params: { routing?: string; pipeline?: string } & SeqNoCheck = {}): { status: number; body: Out } {
    return this.write(name, id, raw, createOnly, params)
  }

  getDoc(name: string, id: string): { status: number; body: Out } {
    const idx = this.store.get(name)
    const doc = idx.docs.get(id)
    if (doc === undefined) return { status: 404, body: { _index: name, _id: id, found: false } }
    return {
      status: 200,
      body: {
        _index: name, _id: id, _version: doc.version, _seq_no: doc.seqNo, _primary_term: 1, found: true,
        ...(doc.routing === undefined ? {} : { _routing: doc.routing }), _source: new RawJson(doc.sourceJson),
      },
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

  /** POST /_bulk: NDJSON action lines, each but delete followed by its document. Always 200 once parsed. */
  bulk(pathIndex: string | undefined, raw: string, opts: BulkOptions = {}): Out {
    const started = Date.now()
    if (raw === '') throw new EsError(400, { type: 'parse_exception', reason: 'request body is required' })
    if (!raw.endsWith('\n')) throw illegalArgument('The bulk request must be terminated by a newline [\\n]')
    const lines = raw.split('\n')
    lines.pop()
    // Parse every action first: a malformed line fails the whole request, as in ES.
    const ops: BulkOp[] = []
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as string
      if (line.trim() === '') continue
      let meta: unknown
      try {
        meta = JSON.parse(line)
      } catch {
        throw xContentParse(`Malformed action/metadata line [${i + 1}], expected START_OBJECT`)
      }
      if (!isObject(meta as Json) || Object.keys(meta as object).length !== 1) {
        throw illegalArgument(`Malformed action/metadata line [${i + 1}], expected START_OBJECT or END_OBJECT but found [${typeof meta}]`)
      }
      const action = Object.keys(meta as object)[0] as string
      if (!['index', 'create', 'delete', 'update'].includes(action)) {
        throw illegalArgument(`Malformed action/metadata line [${i + 1}], expected field [create], [delete], [index] or [update] but found [${action}]`)
      }
      const m = (meta as { [k: string]: Json })[action]
      const params = isObject(m) ? m : {}
      for (const k of Object.keys(params)) {
        if (!ACTION_PARAMS.has(k)) throw illegalArgument(`Action/metadata line [${i + 1}] contains an unknown parameter [${k}]`)
      }
      const index = typeof params._index === 'string' ? params._index : pathIndex
      if (index === undefined) throw validationFailed('index is missing')
      const id = params._id === undefined || params._id === null ? undefined : String(params._id)
      const routing = params.routing === undefined || params.routing === null ? opts.routing : String(params.routing)
      const pipeline = typeof params.pipeline === 'string' ? params.pipeline : undefined
      if (action === 'delete' || action === 'update') {
        if (id === undefined) throw validationFailed('id is missing')
      }
      if (action === 'delete') {
        ops.push({ action, index, id, routing })
        continue
      }
      const source = lines[++i]
      if (source === undefined) throw illegalArgument('The bulk request must be terminated by a newline [\\n]')
      if (action === 'update') checkUpdateBody(source)
      ops.push({ action, index, id, routing, pipeline, source, ifSeqNo: params.if_seq_no, ifPrimaryTerm: params.if_primary_term })
    }
    // Request validation covers every item before any runs: one bad id refuses the whole request.
    const invalid = ops.filter((op) => op.id !== undefined && Buffer.byteLength(op.id) > 512)
      .map((op) => `id [${op.id as string}] is too long, must be no longer than 512 bytes but was: ${Buffer.byteLength(op.id as string)}`)
    if (invalid.length > 0) throw validationFailed(...invalid)
    const items: Json[] = []
    let errors = false
    for (const op of ops) {
      const item = opts.reject?.() === true ? rejected(op, this.dialect === 'opensearch') : this.bulkItem(op, opts)
      if ('error' in item) errors = true
      items.push({ [op.action]: item as Json })
    }
    // Items hold no big numbers: serialized natively, a large batch costs little to answer.
    return new PlainJson({ errors, took: Date.now() - started, items })
  }

  private bulkItem(op: BulkOp, opts: BulkOptions): { [k: string]: Out } {
    try {
      if (op.action === 'delete') {
        const r = this.deleteDoc(op.index, op.id as string)
        return { ...(r.body as { [k: string]: Out }), status: r.status }
      }
      if (op.action === 'update') return this.update(op)
      const r = this.write(op.index, op.id, op.source as string, op.action === 'create', { routing: op.routing, pipeline: op.pipeline ?? opts.pipeline, ifSeqNo: op.ifSeqNo, ifPrimaryTerm: op.ifPrimaryTerm })
      return { ...r.body, status: r.status }
    } catch (e) {
      if (!(e instanceof EsError)) throw e
      return { _index: op.index, _id: op.id ?? null, status: e.status, error: e.cause_ as Out }
    }
  }

  /** A partial update (`doc`), with `doc_as_upsert` or `upsert`; an update that changes nothing is a noop. */
  private update(op: BulkOp): { [k: string]: Out } {
    const idx = this.store.getOrCreate(op.index)
    const id = op.id as string
    parseSource(op.source as string)
    const body = exactSource(op.source as string)
    for (const k of Object.keys(body)) {
      if (!['doc', 'doc_as_upsert', 'upsert', 'detect_noop', '_source', 'scripted_upsert'].includes(k)) {
        throw illegalArgument(k === 'script' ? 'the test server does not run update scripts' : `[UpdateRequest] unknown field [${k}]`)
      }
    }
    if (body.doc !== undefined && !isObject(body.doc as Json)) throw illegalArgument('[doc] must be an object')
    const existing = idx.docs.get(id)
    if (existing === undefined && body.doc_as_upsert !== true && body.upsert === undefined) {
      throw new EsError(404, { type: 'document_missing_exception', reason: `[${id}]: document missing`, index_uuid: idx.uuid, shard: '0', index: op.index })
    }
    const before = existing === undefined ? undefined : exactSource(existing.sourceJson)
    const merged = existing === undefined
      ? ((body.upsert ?? body.doc) as Record<string, unknown>)
      : deepMerge(before as Record<string, unknown>, (body.doc ?? {}) as Record<string, unknown>)
    // What the engine stores is that merge written again from Java values, every field of it,
    // touched or not (and a document an upsert creates too): 1e400 becomes "Infinity", 1.5e3 1500.0.
    const javaBody = parseAsJava(op.source as string) as Record<string, Json>
    const javaBefore = existing === undefined ? undefined : parseAsJava(existing.sourceJson) as Record<string, unknown>
    const javaMerged = javaBefore === undefined
      ? (javaBody.upsert ?? javaBody.doc) as Record<string, unknown>
      : deepMerge(javaBefore, (javaBody.doc ?? {}) as Record<string, unknown>)
    const text = stringify(javaMerged as Out)
    if (existing !== undefined && javaBefore !== undefined && body.detect_noop !== false && text === stringify(javaBefore as Out)) {
      return { ...writeResult(idx, existing, 'noop'), status: 200 }
    }
    admit(idx, merged, id, text, this.dialect)
    const { doc, created } = idx.put(id, undefined, text, { routing: op.routing ?? existing?.routing })
    return { ...writeResult(idx, doc, created ? 'created' : 'updated'), status: created ? 201 : 200 }
  }

  /** Seeding without HTTP, for benchmarks. */
  addDocs(name: string, docs: Array<{ _id?: string; _source: Record<string, unknown> }>): void {
    const idx = this.store.getOrCreate(name)
    for (const d of docs) idx.put(d._id ?? autoId(), d._source)
  }
}

/** A partial document merged into a stored one as ES merges it: objects key by key, anything else replaced. */
function deepMerge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(patch)) {
    const old = out[k]
    out[k] = isObject(old as Json) && isObject(v as Json) ? deepMerge(old as Record<string, unknown>, v as Record<string, unknown>) : v
  }
  return out
}

/**
 * A shard's part of a _bulk refused by a full write queue, as the engines word it (seen on
 * OpenSearch 2.19 and 3.3 and Elasticsearch 7.17 nodes with thread_pool.write.queue_size 1):
 * OpenSearch calls it rejected_execution_exception, Elasticsearch es_rejected_execution_exception;
 * no index_uuid, no shard, and the reason names the task and the node's write pool.
 */
function rejected(op: BulkOp, opensearch: boolean): { [k: string]: Out } {
  const reason = opensearch
    ? 'rejected execution of org.opensearch.action.support.replication.TransportWriteAction$1@1d8ed143 on OpenSearchThreadPoolExecutor[name = espipe-test-node/write, queue capacity = 10000, org.opensearch.common.util.concurrent.OpenSearchThreadPoolExecutor@71675d10[Running, pool size = 2, active threads = 2, queued tasks = 10000, completed tasks = 222]]'
    : 'rejected execution of org.elasticsearch.action.bulk.TransportShardBulkAction$2/WrappedActionListener{org.elasticsearch.action.support.replication.ReplicationOperation$$Lambda$2970/0x00007f58f976d3a0@666cbb8a} on EsThreadPoolExecutor[name = espipe-test-node/write, queue capacity = 10000, org.elasticsearch.common.util.concurrent.EsThreadPoolExecutor@50761135[Running, pool size = 2, active threads = 2, queued tasks = 10000, completed tasks = 366]]'
  return {
    _index: op.index,
    _id: op.id ?? null,
    status: 429,
    error: { type: opensearch ? 'rejected_execution_exception' : 'es_rejected_execution_exception', reason },
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
