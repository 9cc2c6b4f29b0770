import { isLosslessNumber } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'
import type { ClusterInfo } from './client.js'
import { versionAtLeast } from './client.js'
import { creatableSettings } from './index-settings.js'
import type { IndexSchema } from './schema-line.js'

/**
 * A schema line made fit for the destination engine (its identify(): Elasticsearch or
 * OpenSearch, and its version): what means the same under another name is renamed (`notes`
 * say so), what has no equivalent there is refused (`refusals`, one line per field or
 * setting), and nothing is dropped silently. Types and parameters the destination may lack for
 * another reason (a plugin, a module) are left for the engine to refuse: see schema-write.ts.
 */
export interface TranslatedSchema {
  index: string
  mappings: JsonObject
  settings: JsonObject
  aliases: JsonObject
  notes: string[]
  refusals: string[]
}

type Engine = 'elasticsearch' | 'opensearch'

/** Field types one engine has and the other has under no name: why, for the refusal. */
const ONLY_IN: Record<Engine, Record<string, string>> = {
  elasticsearch: {
    histogram: 'pre-aggregated histograms',
    aggregate_metric_double: 'pre-aggregated metrics',
    counted_keyword: 'keywords counted per document',
    version: 'semantic-version ordering',
    semantic_text: 'inference at index time',
    sparse_vector: 'learned sparse vectors (ELSER)',
    passthrough: 'pass-through objects of time series'
  },
  opensearch: {
    semantic: 'neural-search inference at index time'
  }
}

/** Mapping root parameters of one engine only. */
const ROOT_ONLY_IN: Record<Engine, string[]> = {
  elasticsearch: ['runtime', 'subobjects'],
  opensearch: ['derived', 'composite']
}

/** dense_vector's similarity ↔ knn_vector's space_type. */
const SIMILARITY_TO_SPACE: Record<string, string> = { l2_norm: 'l2', cosine: 'cosinesimil', dot_product: 'innerproduct', max_inner_product: 'innerproduct' }
const SPACE_TO_SIMILARITY: Record<string, string> = { l2: 'l2_norm', cosinesimil: 'cosine', innerproduct: 'max_inner_product' }

function engineTitle (e: Engine): string {
  return e === 'opensearch' ? 'OpenSearch' : 'Elasticsearch'
}

function scalar (v: unknown): string {
  return isLosslessNumber(v) ? v.value : typeof v === 'string' ? v : JSON.stringify(v)
}

/** The destination's own version test: the least version each translated type came with. */
function since (dest: ClusterInfo, major: number, minor: number): boolean {
  // An unknown version (GET / forbidden, Serverless) is taken as recent: the engine refuses if not.
  return dest.version === undefined || versionAtLeast(dest.version, major, minor)
}

interface Walk {
  dest: ClusterInfo
  to: Engine
  notes: string[]
  refusals: string[]
  /** Whether a knn_vector with an ANN method was made (OpenSearch then needs index.knn). */
  knnIndexed: boolean
}

function dvToKnn (path: string, def: JsonObject, w: Walk): JsonObject | undefined {
  const out: JsonObject = { type: 'knn_vector' }
  const refuse = (why: string): undefined => { w.refusals.push(`field ${path}: dense_vector ${why}`); return undefined }
  let indexed = def.index !== false && def.index !== 'false'
  let quantized: string | undefined
  let hnsw: JsonObject | undefined
  for (const [k, v] of Object.entries(def)) {
    if (k === 'type' || k === 'index') continue
    if (k === 'dims') out.dimension = v
    else if (k === 'element_type') {
      if (v === 'byte') out.data_type = 'byte'
      else if (v !== 'float') return refuse(`with element_type ${scalar(v)} has no knn_vector equivalent`)
    } else if (k === 'similarity') {
      if (SIMILARITY_TO_SPACE[scalar(v)] === undefined) return refuse(`similarity ${scalar(v)} has no knn_vector space_type`)
    } else if (k === 'index_options' && isJsonObject(v)) {
      const type = scalar(v.type ?? 'hnsw')
      if (/^(?:int[48]_|bbq_)?flat$/.test(type)) indexed = false
      else if (!/^(?:int[48]_|bbq_)?hnsw$/.test(type)) return refuse(`index_options.type ${type} has no knn_vector method`)
      if (type !== 'hnsw' && type !== 'flat') quantized = type
      const params: JsonObject = {}
      for (const [pk, pv] of Object.entries(v)) {
        if (pk === 'type') continue
        if (pk === 'm' || pk === 'ef_construction') params[pk] = pv
        else if (pk !== 'confidence_interval' && pk !== 'rescore_vector') return refuse(`index_options.${pk} has no knn_vector equivalent`)
      }
      if (Object.keys(params).length > 0) hnsw = params
    } else {
      return refuse(`parameter ${k} has no knn_vector equivalent`)
    }
  }
  if (out.dimension === undefined) return refuse('has no dims yet (it takes them from its first document): give the mapping its dims')
  const similarity = def.similarity === undefined ? undefined : SIMILARITY_TO_SPACE[scalar(def.similarity)]
  if (indexed && similarity !== undefined) {
    out.method = { name: 'hnsw', space_type: similarity, engine: 'lucene', ...(hnsw !== undefined ? { parameters: hnsw } : {}) }
    w.knnIndexed = true
  }
  w.notes.push(`field ${path}: dense_vector → knn_vector (dims → dimension${out.method !== undefined ? `, similarity ${scalar(def.similarity)} → hnsw ${similarity as string}` : ''}${quantized !== undefined ? `; ${quantized}'s quantization is not carried` : ''})`)
  return out
}

function knnToDv (path: string, def: JsonObject, w: Walk): JsonObject | undefined {
  const out: JsonObject = { type: 'dense_vector' }
  const refuse = (why: string): undefined => { w.refusals.push(`field ${path}: knn_vector ${why}`); return undefined }
  const es8 = since(w.dest, 8, 0)
  for (const [k, v] of Object.entries(def)) {
    if (k === 'type') continue
    if (k === 'dimension') out.dims = v
    else if (k === 'data_type') {
      if (v === 'byte' && since(w.dest, 8, 6)) out.element_type = 'byte'
      else if (v !== 'float') return refuse(`with data_type ${scalar(v)} has no dense_vector equivalent in ${engineTitle(w.to)} ${w.dest.version ?? ''}`.trimEnd())
    } else if (k === 'method' && isJsonObject(v)) {
      if (!es8) return refuse(`with a method (kNN search) has no equivalent in Elasticsearch ${w.dest.version ?? ''}: its dense_vector is for script scoring only`)
      if (v.name !== undefined && v.name !== 'hnsw') return refuse(`method ${scalar(v.name)} has no dense_vector equivalent (hnsw has)`)
      const space = scalar(v.space_type ?? 'l2')
      let similarity: string | undefined = SPACE_TO_SIMILARITY[space]
      if (similarity === 'max_inner_product' && !since(w.dest, 8, 11)) similarity = undefined
      if (similarity === undefined) return refuse(`space_type ${space} has no dense_vector similarity in Elasticsearch ${w.dest.version ?? ''}`.trimEnd())
      out.index = true
      out.similarity = similarity
      const options: JsonObject = { type: 'hnsw' }
      const params = isJsonObject(v.parameters) ? v.parameters : {}
      for (const [pk, pv] of Object.entries(params)) {
        if (pk === 'm' || pk === 'ef_construction') options[pk] = pv
        else return refuse(`method parameter ${pk} has no dense_vector equivalent`)
      }
      out.index_options = options
    } else if (k === 'mode' || k === 'compression_level') {
      if (!(k === 'mode' && v === 'in_memory') && !(k === 'compression_level' && v === '1x')) return refuse(`${k} ${scalar(v)} has no dense_vector equivalent`)
    } else {
      return refuse(`parameter ${k} has no dense_vector equivalent`)
    }
  }
  if (out.dims === undefined) return refuse('has no dimension')
  // Elasticsearch 8 indexes a vector for kNN search unless told: without a method, OpenSearch did not.
  if (out.index === undefined && es8) out.index = false
  w.notes.push(`field ${path}: knn_vector → dense_vector (dimension → dims${out.similarity !== undefined ? `, space_type → similarity ${scalar(out.similarity)}` : ''})`)
  return out
}

/** One field's definition for the destination; undefined when refused (the refusal is in `w`). */
function field (path: string, def: JsonObject, w: Walk): JsonObject | undefined {
  const type = typeof def.type === 'string' ? def.type : undefined
  const from: Engine = w.to === 'opensearch' ? 'elasticsearch' : 'opensearch'
  let out: JsonObject = def
  if (type !== undefined && ONLY_IN[from][type] !== undefined) {
    w.refusals.push(`field ${path}: type ${type} (${ONLY_IN[from][type] as string}) has no equivalent in ${engineTitle(w.to)}`)
    return undefined
  }
  if (w.to === 'opensearch') {
    if (type === 'flattened') {
      if (!since(w.dest, 2, 7)) { w.refusals.push(`field ${path}: type flattened has no equivalent in OpenSearch ${w.dest.version ?? ''} (flat_object came with 2.7)`); return undefined }
      const params = Object.keys(def).filter((k) => k !== 'type')
      if (params.length > 0) { w.refusals.push(`field ${path}: flattened's ${params.join(', ')} ${params.length > 1 ? 'have' : 'has'} no flat_object equivalent`); return undefined }
      out = { type: 'flat_object' }
      w.notes.push(`field ${path}: flattened → flat_object`)
    } else if (type === 'dense_vector') {
      const t = dvToKnn(path, def, w)
      if (t === undefined) return undefined
      out = t
    } else if (type === 'point' || type === 'shape') {
      out = { ...def, type: `xy_${type}` }
      w.notes.push(`field ${path}: ${type} → xy_${type}`)
    }
  } else {
    if (type === 'flat_object') {
      if (!since(w.dest, 7, 3)) { w.refusals.push(`field ${path}: type flat_object has no equivalent in Elasticsearch ${w.dest.version ?? ''} (flattened came with 7.3)`); return undefined }
      out = { ...def, type: 'flattened' }
      w.notes.push(`field ${path}: flat_object → flattened`)
    } else if (type === 'knn_vector') {
      const t = knnToDv(path, def, w)
      if (t === undefined) return undefined
      out = t
    } else if (type === 'xy_point' || type === 'xy_shape') {
      out = { ...def, type: type.slice(3) }
      w.notes.push(`field ${path}: ${type} → ${type.slice(3)}`)
    } else if ((type === 'wildcard' || type === 'search_as_you_type') && (def.doc_values === false || def.doc_values === 'false')) {
      // OpenSearch prints its default (no doc values) for these; Elasticsearch takes no such parameter.
      out = { ...def }
      delete out.doc_values
    }
  }
  if (isJsonObject(def.properties)) {
    const props = properties(path, def.properties, w)
    out = { ...out, properties: props }
  }
  if (isJsonObject(def.fields)) {
    const fields = properties(path, def.fields, w)
    out = { ...out, fields }
  }
  return out
}

function properties (prefix: string, props: JsonObject, w: Walk): JsonObject {
  const out: JsonObject = {}
  for (const [name, def] of Object.entries(props)) {
    const path = prefix === '' ? name : `${prefix}.${name}`
    if (!isJsonObject(def)) { out[name] = def; continue }
    const t = field(path, def, w)
    if (t !== undefined) out[name] = t
  }
  return out
}

/** Settings of one engine only: dropped when they only restate the destination's own way, refused otherwise. */
function settingsFor (settings: JsonObject, w: Walk): JsonObject {
  const out: JsonObject = {}
  for (const [name, value] of Object.entries(settings)) {
    if (w.to === 'elasticsearch') {
      if (name === 'index.replication.type') {
        if (scalar(value) !== 'DOCUMENT') { w.refusals.push(`setting ${name}: ${scalar(value)} replication has no equivalent in Elasticsearch (document replication only)`); continue }
        w.notes.push(`setting ${name} left out: DOCUMENT is how Elasticsearch replicates anyway`)
        continue
      }
      if (name === 'index.knn' || name.startsWith('index.knn.')) { w.notes.push(`setting ${name} left out: Elasticsearch indexes vectors per field (dense_vector's index)`); continue }
      if (name.startsWith('index.plugins.') || name.startsWith('index.opendistro.')) { w.refusals.push(`setting ${name}: an OpenSearch plugin's, with no equivalent in Elasticsearch`); continue }
    } else {
      if (name.startsWith('index.lifecycle.')) { w.refusals.push(`setting ${name}: an index lifecycle (ILM) setting, with no equivalent in OpenSearch (attach an ISM policy after the index is made)`); continue }
      if (name === 'index.mode') {
        if (scalar(value) === 'standard') { w.notes.push(`setting ${name} left out: standard is OpenSearch's only mode`); continue }
        w.refusals.push(`setting ${name}: ${scalar(value)} indices have no equivalent in OpenSearch`)
        continue
      }
      if (name === 'index.mapping.source.mode' && scalar(value) === 'synthetic') { w.refusals.push(`setting ${name}: synthetic _source has no equivalent in OpenSearch`); continue }
    }
    out[name] = value
  }
  return out
}

/** The schema as the destination takes it (same engine: as it is, less what no create takes). */
export function translateSchema (s: IndexSchema, dest: ClusterInfo): TranslatedSchema {
  const to: Engine = dest.distribution
  const w: Walk = { dest, to, notes: [], refusals: [], knnIndexed: false }
  const mappings: JsonObject = {}
  for (const [key, value] of Object.entries(s.mappings)) {
    if (ROOT_ONLY_IN[to === 'opensearch' ? 'elasticsearch' : 'opensearch'].includes(key)) {
      w.refusals.push(`mapping ${key}: ${engineTitle(to === 'opensearch' ? 'elasticsearch' : 'opensearch')}'s, with no equivalent in ${engineTitle(to)}`)
      continue
    }
    if (key === '_source' && to === 'opensearch' && isJsonObject(value) && value.mode === 'synthetic') {
      w.refusals.push('mapping _source: synthetic _source has no equivalent in OpenSearch')
      continue
    }
    mappings[key] = key === 'properties' && isJsonObject(value) ? properties('', value, w) : value
  }
  const { settings: creatable } = creatableSettings(s.settings)
  const settings = settingsFor(creatable, w)
  if (to === 'opensearch' && w.knnIndexed && settings['index.knn'] === undefined) {
    settings['index.knn'] = 'true'
    w.notes.push('setting index.knn = true added: OpenSearch builds a knn_vector\'s hnsw graph only in such an index')
  }
  return { index: s.index, mappings, settings, aliases: s.aliases, notes: w.notes, refusals: w.refusals }
}
