// Mappings as Elasticsearch 8 and OpenSearch 2 apply them while they index a document: every
// value must fit its field's type (with the engine's coercions), a field seen for the first time
// gets a type from its first value unless its object is `dynamic: strict` (refused) or
// `false`/`runtime` (left unmapped), and a refused document maps nothing. Explicit mappings come
// from PUT /{index}. The two engines word a refusal differently (see Dialect).

import { parseDate } from './dates.js'
import { EsError, type ErrorCause } from './errors.js'
import { isObject, type Json, type Out } from './json.js'
import type { FieldType } from './store.js'

export type Dynamic = 'true' | 'false' | 'strict' | 'runtime'

/**
 * Whose words a refused document gets. Elasticsearch 8 throws document_parsing_exception, an
 * XContentParseException whose message starts with the parser's `[line:column] `; OpenSearch
 * kept 7.x's mapper_parsing_exception, with no location.
 */
export type Dialect = 'elasticsearch' | 'opensearch'

interface Refusal {
  raw: string
  dialect: Dialect
  /** Parsed with integer literals beyond 2^53 as bigint: a number past 2^53 was written as a float. */
  exact: boolean
}

/** Declared type → the family the server searches and checks it as. */
const FAMILIES: Record<string, FieldType> = {
  long: 'long', integer: 'long', short: 'long', byte: 'long', unsigned_long: 'long',
  float: 'float', double: 'float', half_float: 'float', scaled_float: 'float',
  date: 'date', date_nanos: 'date', keyword: 'keyword', constant_keyword: 'keyword', wildcard: 'keyword',
  text: 'text', match_only_text: 'text', boolean: 'boolean', object: 'object', nested: 'object',
}

/** Real types the server stores without checking or searching their values, in both engines. */
const OPAQUE_TYPES = new Set([
  'ip', 'geo_point', 'geo_shape', 'binary', 'completion', 'search_as_you_type',
  'rank_feature', 'rank_features', 'integer_range', 'float_range', 'long_range',
  'double_range', 'date_range', 'ip_range', 'alias', 'token_count', 'percolator', 'join',
])

/**
 * Types of one engine only (a real node of the other answers "No handler for type"). As the
 * suite's real nodes have them: Elasticsearch 8's default distribution (X-Pack) has its vectors
 * and flattened; OpenSearch has flat_object in core, but knn_vector only with its k-NN plugin,
 * which neither has.
 */
const DIALECT_TYPES: Record<Dialect, Set<string>> = {
  elasticsearch: new Set(['flattened', 'dense_vector', 'sparse_vector', 'point', 'shape', 'version', 'histogram', 'semantic_text', 'counted_keyword', 'aggregate_metric_double']),
  opensearch: new Set(['flat_object']),
}

/** Analyzers both engines have built in (with their analysis-common module); others must be defined in the settings. */
const BUILT_IN_ANALYZERS = new Set([
  'standard', 'simple', 'whitespace', 'stop', 'keyword', 'pattern', 'fingerprint', 'default',
  'arabic', 'armenian', 'basque', 'bengali', 'brazilian', 'bulgarian', 'catalan', 'cjk', 'czech', 'danish', 'dutch',
  'english', 'estonian', 'finnish', 'french', 'galician', 'german', 'greek', 'hindi', 'hungarian', 'indonesian',
  'irish', 'italian', 'latvian', 'lithuanian', 'norwegian', 'persian', 'portuguese', 'romanian', 'russian',
  'serbian', 'sorani', 'spanish', 'swedish', 'turkish', 'thai',
])

/** What a create checks its mappings against: the engine's types and the index's own analyzers. */
export interface MappingCheck {
  dialect: Dialect
  /** Analyzers and normalizers the index's settings define (`index.analysis.analyzer.NAME.…`). */
  analyzers: Set<string>
}

const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  long: [-(2n ** 63n), 2n ** 63n - 1n],
  integer: [-(2n ** 31n), 2n ** 31n - 1n],
  short: [-32768n, 32767n],
  byte: [-128n, 127n],
  unsigned_long: [0n, 2n ** 64n - 1n],
}

// ES dynamic date detection uses strict_date_optional_time: these strings become `date` fields.
const DATE_DETECT = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/

/** Thrown by admit when a document parsed by JSON.parse must be checked on its exact numbers. */
export class NeedsExactNumbers extends Error {}

/** The field mapping state of one index (see IndexData). */
export interface MappingState {
  readonly fieldTypes: Map<string, FieldType>
  /** Declared type names ("integer", "keyword"), for messages and GET _mapping. */
  readonly declared: Map<string, string>
  /** `dynamic` of an object path ('' is the root); unset objects inherit their parent's. */
  readonly dynamic: Map<string, Dynamic>
  /** Objects with `enabled: false` and fields of types the server does not check. */
  readonly opaque: Set<string>
}

function mapperParsing(reason: string): EsError {
  return new EsError(400, { type: 'mapper_parsing_exception', reason: `Failed to parse mapping: ${reason}`, caused_by: { type: 'mapper_parsing_exception', reason } })
}

function dynamicValue(v: Json, path: string): Dynamic {
  const s = String(v)
  if (s === 'true' || s === 'false' || s === 'strict' || s === 'runtime') return s
  throw mapperParsing(`Could not convert [${path === '' ? '' : path + '.'}dynamic] to boolean`)
}

/** Checks a `mappings` object (as in PUT /{index}) and adds it to the state; explicit types win over inference. */
export function applyMappings(state: MappingState, mappings: Json | undefined, prefix = '', check?: MappingCheck): void {
  if (mappings === undefined || mappings === null) return
  if (!isObject(mappings)) throw mapperParsing('mapping must be an object')
  const path = prefix.replace(/\.$/, '')
  if (mappings.dynamic !== undefined) state.dynamic.set(path, dynamicValue(mappings.dynamic, path))
  if (mappings.enabled === false) state.opaque.add(path)
  const props = mappings.properties
  if (props === undefined) return
  if (!isObject(props)) throw mapperParsing(`Expected map for property [properties] on field [${path === '' ? '_doc' : path}]`)
  for (const [name, def] of Object.entries(props)) {
    if (!isObject(def)) throw mapperParsing(`Expected map for property [fields] on field [${name}] but got a class java.lang.String`)
    const full = prefix + name
    const type = typeof def.type === 'string' ? def.type : def.properties !== undefined ? 'object' : 'object'
    if (check !== undefined) checkField(full, def, type, check)
    if (OPAQUE_TYPES.has(type) || (check !== undefined && DIALECT_TYPES[check.dialect].has(type))) {
      state.opaque.add(full)
      state.declared.set(full, type)
      continue
    }
    const family = FAMILIES[type]
    if (family === undefined) throw mapperParsing(`No handler for type [${type}] declared on field [${name}]`)
    state.fieldTypes.set(full, family)
    state.declared.set(full, type)
    if (family === 'object') applyMappings(state, def, full + '.', check)
    else if (def.index === false && def.doc_values === false) state.opaque.add(full)
  }
}

/** A field's analyzers and its multi-fields' types and analyzers, refused as the engine refuses them. */
function checkField(path: string, def: { [k: string]: Json }, type: string, check: MappingCheck): void {
  const other: Dialect = check.dialect === 'opensearch' ? 'elasticsearch' : 'opensearch'
  if (DIALECT_TYPES[other].has(type) || type === 'knn_vector') throw mapperParsing(`No handler for type [${type}] declared on field [${path.split('.').pop() as string}]`)
  for (const key of ['analyzer', 'search_analyzer', 'search_quote_analyzer']) {
    const a = def[key]
    if (typeof a === 'string' && !BUILT_IN_ANALYZERS.has(a) && !check.analyzers.has(a)) throw mapperParsing(`analyzer [${a}] has not been configured in mappings`)
  }
  if (isObject(def.fields)) {
    for (const [name, sub] of Object.entries(def.fields)) {
      if (!isObject(sub)) continue
      checkField(`${path}.${name}`, sub, typeof sub.type === 'string' ? sub.type : 'object', check)
    }
  }
}

/** Keys sorted, as the engines print `properties` and `fields`; `"type":"object"` left implied when there are properties. */
function printed(def: Json): Out {
  if (!isObject(def)) return def as Out
  const out: { [k: string]: Out } = {}
  for (const [k, v] of Object.entries(def)) {
    if (k === 'type' && v === 'object' && isObject(def.properties) && Object.keys(def.properties).length > 0) continue
    if ((k === 'properties' || k === 'fields') && isObject(v)) {
      const sorted: { [k: string]: Out } = {}
      for (const name of Object.keys(v).sort()) sorted[name] = printed(v[name] as Json)
      out[k] = sorted
    } else {
      out[k] = v as Out
    }
  }
  return out
}

/**
 * GET _mapping: the mappings as PUT /{index} gave them (properties in name order), with the
 * fields dynamic mapping added since, nested under their objects as the engines print them.
 */
export function printedMappings(given: Json | undefined, state: MappingState): { [k: string]: Out } {
  const out = (isObject(given) ? printed(given) : {}) as { [k: string]: Out }
  const root = { properties: (isObject(out.properties) ? out.properties : {}) as { [k: string]: Out } }
  let added = false
  for (const [path, family] of state.fieldTypes) {
    if (state.declared.has(path)) continue
    const parts = path.split('.')
    let node = root
    for (const p of parts.slice(0, -1)) {
      const next = (node.properties[p] ??= { properties: {} }) as { properties?: { [k: string]: Out } }
      next.properties ??= {}
      node = next as { properties: { [k: string]: Out } }
    }
    const leaf = parts[parts.length - 1] as string
    if (node.properties[leaf] !== undefined) continue
    node.properties[leaf] = family === 'object' ? { properties: {} } : family === 'text' ? { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } } : { type: family }
    added = true
  }
  if (added || out.properties !== undefined) out.properties = (printed({ properties: root.properties as Json }) as { [k: string]: Out }).properties as Out
  const dyn = state.dynamic.get('')
  if (dyn !== undefined && out.dynamic === undefined) out.dynamic = dyn
  return out
}

/** Where the failing value is, as ES's `[line:column]` (a best effort: the key's first occurrence). */
function location(raw: string, key: string): string {
  const at = raw.indexOf(JSON.stringify(key))
  return `[1:${at < 0 ? 1 : at + key.length + 4}]`
}

function parsingType(r: Refusal): string {
  return r.dialect === 'elasticsearch' ? 'document_parsing_exception' : 'mapper_parsing_exception'
}

/** The start of a refusal's reason: Elasticsearch's location, or nothing (OpenSearch). */
function where(r: Refusal, key: string): string {
  return r.dialect === 'elasticsearch' ? location(r.raw, key) + ' ' : ''
}

/** Java's Map/List toString, as ES prints a value it could not parse. */
function preview(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(preview).join(', ') + ']'
  if (v !== null && typeof v === 'object') return '{' + Object.entries(v).map(([k, x]) => `${k}=${preview(x)}`).join(', ') + '}'
  return String(v)
}

/** The type dynamic mapping gives a field from its first value (other strings: `text` with a `.keyword`). */
export function inferType(v: unknown): FieldType | undefined {
  if (typeof v === 'bigint') return 'long'
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'float'
  if (typeof v === 'boolean') return 'boolean'
  if (typeof v === 'string') return DATE_DETECT.test(v) ? 'date' : 'text'
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return 'object'
  return undefined
}

/** Arrays (of arrays) are flattened, as ES indexes them. */
function leaves(v: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) for (const x of v) leaves(x, out)
  else if (v !== null && v !== undefined) out.push(v)
  return out
}

/** The common case, checked without the full date parser: an ISO date with a month and day that exist. */
function plainDate(v: string): boolean {
  if (!DATE_DETECT.test(v)) return false
  const month = Number(v.slice(5, 7))
  const day = Number(v.slice(8, 10))
  return month >= 1 && month <= 12 && day >= 1 && day <= 31
}

/** Why a value does not fit a field of `type`, as ES's caused_by; undefined when it fits. */
function misfit(type: string, family: FieldType, v: unknown, raw: string, key: string, exact = false): ErrorCause | undefined {
  if (family === 'object') return undefined
  if (typeof v === 'object' && v !== null) {
    return { type: 'illegal_state_exception', reason: `Can't get text on a START_OBJECT at ${location(raw, key).slice(1, -1)}` }
  }
  switch (family) {
    case 'long': {
      // JSON.parse rounded this integer: its range can only be checked on its exact digits.
      if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v) && !exact) throw new NeedsExactNumbers()
      if (typeof v === 'boolean') return { type: 'illegal_argument_exception', reason: `Current token (VALUE_${String(v).toUpperCase()}) not numeric, can not use numeric value accessors` }
      const text = String(v)
      if (typeof v === 'string' && (text.trim() === '' || !Number.isFinite(Number(text)))) return { type: 'illegal_argument_exception', reason: `For input string: "${text}"` }
      const [min, max] = INTEGER_RANGES[type] ?? (INTEGER_RANGES.long as [bigint, bigint])
      const n = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(text)))
      if (n < min || n > max) {
        const what = type === 'integer' ? 'an integer' : type === 'unsigned_long' ? 'an unsigned long' : `a ${type}`
        return typeof v === 'bigint'
          ? { type: 'input_coercion_exception', reason: `Numeric value (${text}) out of range of ${type === 'integer' ? 'int' : 'long'} (${String(min)} - ${String(max)})` }
          : { type: 'illegal_argument_exception', reason: `Value [${text}] is out of range for ${what}` }
      }
      return undefined
    }
    case 'float': {
      if (typeof v === 'boolean') return { type: 'illegal_argument_exception', reason: `Current token (VALUE_${String(v).toUpperCase()}) not numeric, can not use numeric value accessors` }
      const n = typeof v === 'bigint' ? Number(v) : Number(v)
      if (typeof v === 'string' && (v.trim() === '' || Number.isNaN(n))) return { type: 'number_format_exception', reason: `For input string: "${v}"` }
      const f = type === 'float' || type === 'half_float' ? Math.fround(n) : n
      if (!Number.isFinite(f)) return { type: 'illegal_argument_exception', reason: `[${type === 'scaled_float' ? 'double' : type}] supports only finite values, but got [${f > 0 ? 'Infinity' : '-Infinity'}]` }
      return undefined
    }
    case 'date':
      if (typeof v === 'string' && plainDate(v)) return undefined
      if ((typeof v === 'string' || typeof v === 'number') && parseDate(v, undefined, false) !== undefined) return undefined
      return { type: 'illegal_argument_exception', reason: `failed to parse date field [${String(v)}] with format [strict_date_optional_time||epoch_millis]` }
    case 'boolean':
      if (typeof v === 'boolean' || v === 'true' || v === 'false' || v === '') return undefined
      return { type: 'illegal_argument_exception', reason: `Failed to parse value [${String(v)}] as only [true] or [false] are allowed.` }
    default:
      return undefined
  }
}

/**
 * Checks `source` (numbers beyond 2^53 as bigint) against the mapping. Throws the 400 ES gives
 * for the first value that does not fit; on success maps the new fields and returns nothing.
 */
export function admit(state: MappingState, source: Record<string, unknown>, id: string, raw: string, dialect: Dialect = 'elasticsearch', exact = false): void {
  const pending = new Map<string, FieldType>()
  walk(state, pending, source, '', state.dynamic.get('') ?? 'true', id, { raw, dialect, exact })
  for (const [path, family] of pending) state.fieldTypes.set(path, family)
}

function walk(state: MappingState, pending: Map<string, FieldType>, obj: Record<string, unknown>, prefix: string, dynamic: Dynamic, id: string, r: Refusal): void {
  for (const key in obj) {
    const value = obj[key]
    if (value === null || value === undefined) continue
    const path = prefix + key
    if (state.opaque.size > 0 && state.opaque.has(path)) continue
    if (Array.isArray(value)) {
      for (const v of leaves(value)) check(state, pending, v, key, path, prefix, dynamic, id, r)
    } else {
      check(state, pending, value, key, path, prefix, dynamic, id, r)
    }
  }
}

/** One value of field `path`: mapped if new (as `dynamic` allows), else checked against its type. */
function check(state: MappingState, pending: Map<string, FieldType>, v: unknown, key: string, path: string, prefix: string, dynamic: Dynamic, id: string, r: Refusal): void {
  let family = state.fieldTypes.get(path) ?? pending.get(path)
  if (family === undefined) {
    // An integer-valued number past 2^53: an integer literal (long) or a float one (1.5e22, a
    // float): only the exact parse tells them apart.
    const unsafe = typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)
    if (unsafe && !r.exact) throw new NeedsExactNumbers()
    const inferred = unsafe ? 'float' : inferType(v)
    if (inferred === undefined) return
    if (dynamic === 'strict') {
      throw new EsError(400, { type: 'strict_dynamic_mapping_exception', reason: `${where(r, key)}mapping set to strict, dynamic introduction of [${key}] within [${prefix === '' ? '_doc' : prefix.slice(0, -1)}] is not allowed` })
    }
    if (dynamic !== 'true') return
    pending.set(path, inferred)
    family = inferred
  }
  if (family === 'object') {
    if (!isObject(v as Json)) {
      throw new EsError(400, { type: parsingType(r), reason: `${where(r, key)}object mapping for [${path}] tried to parse field [${key}] as object, but found a concrete value` })
    }
    walk(state, pending, v as Record<string, unknown>, path + '.', state.dynamic.get(path) ?? dynamic, id, r)
    return
  }
  const type = state.declared.get(path) ?? family
  const cause = misfit(type, family, v, r.raw, key, r.exact)
  if (cause !== undefined) {
    throw new EsError(400, {
      type: parsingType(r),
      reason: `${where(r, key)}failed to parse field [${path}] of type [${type}] in document with id '${id}'. Preview of field's value: '${preview(v)}'`,
      caused_by: cause,
    })
  }
}
