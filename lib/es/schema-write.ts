import type { StageContext } from '../core/context.js'
import { EspipeError, UsageError } from '../core/errors.js'
import { parseExact, stringifyExact } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'
import type { ClusterInfo, EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { EsRequestError } from './errors.js'
import { createIndex } from './index-setup.js'
import { creatableSettings } from './index-settings.js'
import { engineName } from './paging.js'
import { firstMappingDifference } from './schema-compare.js'
import type { IndexSchema } from './schema-line.js'
import { flatSettings, parseSchemaLines } from './schema-line.js'
import type { TranslatedSchema } from './schema-translate.js'
import { translateSchema } from './schema-translate.js'

/** What es-write does with an index of the schema that exists with another mapping. */
export const SCHEMA_EXISTS = ['refuse', 'keep'] as const
export type SchemaExists = typeof SCHEMA_EXISTS[number]

export interface SchemaOptions {
  /** The schema lines' text (es-read --schema's output). */
  text: string
  /** Where the text came from, for messages: a file name or `stdin`. */
  source: string
  /** Create the schema's one index under this name instead. */
  rename?: string
  exists?: SchemaExists
  /** Settings that win over every line's (--settings): flat or nested, as JSON text. */
  settings?: string
}

/** Where a field type or analyzer the engine does not know comes from, when it is known. */
const PROVIDERS: Record<string, string> = {
  knn_vector: "OpenSearch's k-NN plugin (opensearch-knn)",
  xy_point: "OpenSearch's geospatial plugin",
  xy_shape: "OpenSearch's geospatial plugin",
  dense_vector: "Elasticsearch's default distribution (X-Pack)",
  flattened: "Elasticsearch's default distribution (X-Pack)",
  wildcard: "Elasticsearch's default distribution (X-Pack)",
  unsigned_long: "Elasticsearch's default distribution (X-Pack)",
  constant_keyword: "Elasticsearch's default distribution (X-Pack)",
  point: "Elasticsearch's default distribution (X-Pack spatial)",
  shape: "Elasticsearch's default distribution (X-Pack spatial)",
  scaled_float: 'the mapper-extras module',
  token_count: 'the mapper-extras module',
  rank_feature: 'the mapper-extras module',
  rank_features: 'the mapper-extras module',
  search_as_you_type: 'the mapper-extras module',
  match_only_text: 'the mapper-extras module',
  join: 'the parent-join module',
  percolator: 'the percolator module',
  annotated_text: 'the mapper-annotated-text plugin',
  murmur3: 'the mapper-murmur3 plugin',
  size: 'the mapper-size plugin',
  icu_collation_keyword: 'the analysis-icu plugin'
}

/** Analyzers of analysis plugins, by name prefix (language analyzers are the analysis-common module's). */
const ANALYZER_PLUGINS: Array<[RegExp, string]> = [
  [/^icu_/, 'the analysis-icu plugin'],
  [/^kuromoji/, 'the analysis-kuromoji plugin'],
  [/^nori/, 'the analysis-nori plugin'],
  [/^smartcn/, 'the analysis-smartcn plugin'],
  [/^(?:polish|stempel)/, 'the analysis-stempel plugin'],
  [/^ukrainian/, 'the analysis-ukrainian plugin'],
  [/^(?:arabic|armenian|basque|bengali|brazilian|bulgarian|catalan|cjk|czech|danish|dutch|english|estonian|finnish|french|galician|german|greek|hindi|hungarian|indonesian|irish|italian|latvian|lithuanian|norwegian|persian|portuguese|romanian|russian|serbian|sorani|spanish|swedish|turkish|thai|fingerprint|pattern|simple|stop|whitespace|keyword)$/, 'the analysis-common module']
]

/**
 * The engine's refusal of a create, in one line that names the field, type, analyzer or
 * setting, and what would provide it when that is known.
 */
function explainRefusal (err: EsRequestError, index: string, dest: string): string {
  const text = err.message
  const type = /No handler for type \[([^\]]+)\] declared on field \[([^\]]+)\]/.exec(text)
  if (type !== null) {
    const provider = PROVIDERS[type[1] as string]
    return `index ${index}: field ${type[2] as string}: type ${type[1] as string} is unknown to ${dest}${provider !== undefined ? ` (it comes with ${provider})` : ' (a plugin or module it lacks)'}`
  }
  const analyzer = /analyzer \[([^\]]+)\] has not been configured in mappings/.exec(text) ?? /(?:analyzer|normalizer) \[([^\]]+)\] (?:not found|has not been configured)/.exec(text)
  if (analyzer !== null) {
    const name = analyzer[1] as string
    const plugin = ANALYZER_PLUGINS.find(([re]) => re.test(name))?.[1]
    return `index ${index}: analyzer ${name} is neither built into ${dest} nor defined in the index's settings (index.analysis.analyzer.${name}.*)${plugin !== undefined ? `; it comes with ${plugin}` : ''}`
  }
  const param = /unknown parameter \[([^\]]+)\] on mapper \[([^\]]+)\] of type \[([^\]]+)\]/.exec(text) ?? /Mapping definition for \[([^\]]+)\] has unsupported parameters: +\[([^\]]+)\]/.exec(text)
  if (param !== null && param[3] !== undefined) return `index ${index}: field ${param[2] as string}: ${param[3]} has no parameter ${param[1] as string} in ${dest}`
  if (param !== null) return `index ${index}: field ${param[1] as string}: ${dest} takes no ${(param[2] as string).replace(/ : .*$/, '')} here`
  const setting = /unknown setting \[([^\]]+)\]/.exec(text)
  if (setting !== null) {
    const name = setting[1] as string
    const provider = /^index\.knn\b/.test(name) ? "OpenSearch's k-NN plugin (opensearch-knn)" : /^index\.lifecycle\./.test(name) ? "Elasticsearch's default distribution (ILM)" : undefined
    return `index ${index}: setting ${name} is unknown to ${dest}${provider !== undefined ? ` (it comes with ${provider})` : " (a plugin's, or another engine's or version's)"}`
  }
  return `index ${index}: ${dest} refused the definition: ${text}`
}

function overrides (text: string | undefined): JsonObject {
  if (text === undefined) return {}
  let v: unknown
  try {
    v = parseExact(text)
  } catch (err) {
    throw new UsageError(`--settings: not JSON (${(err as Error).message})`)
  }
  if (!isJsonObject(v)) throw new UsageError('--settings: expected a JSON object')
  // As --create-index takes it: bare, under "settings", or as GET _settings prints it.
  const keys = Object.keys(v)
  if (keys.length === 1 && keys[0] === 'settings' && isJsonObject(v.settings)) v = v.settings
  else if (keys.length === 1 && isJsonObject(v[keys[0] as string]) && isJsonObject((v[keys[0] as string] as JsonObject).settings)) v = (v[keys[0] as string] as JsonObject).settings
  return creatableSettings(flatSettings(v as JsonObject)).settings
}

/** The mapping an existing index has (its one entry of GET /{index}/_mapping), or undefined when there is none. */
async function existingMapping (conn: EsConnection, where: EsWhere, index: string, ctx: StageContext): Promise<JsonObject | undefined> {
  try {
    const res = await conn.request({ method: 'GET', path: `/${encodeURIComponent(index)}/_mapping` }, where, 'read the existing mappings', ctx.signal)
    const body = parseExact(res.text)
    const entry = isJsonObject(body) ? Object.values(body)[0] : undefined
    return isJsonObject(entry) && isJsonObject(entry.mappings) ? entry.mappings : {}
  } catch (err) {
    if (err instanceof EsRequestError && err.status === 404) return undefined
    throw err
  }
}

function body (s: TranslatedSchema): string {
  const members = [`"mappings":${stringifyExact(s.mappings)}`, `"settings":${stringifyExact(s.settings)}`]
  if (Object.keys(s.aliases).length > 0) members.push(`"aliases":${stringifyExact(s.aliases)}`)
  return `{${members.join(',')}}`
}

/**
 * es-write --schema: each index of the schema lines created before any document is read
 * (translated for the destination engine), or, when it exists, taken as it is if its mapping
 * is the schema's (a rerun) or with --schema-exists keep. Everything that would stop the
 * schema is found before anything is created: fields and settings with no equivalent (one line
 * each), indices that exist with another mapping. A create the engine refuses (a type or
 * analyzer it lacks) removes the indices this run created before it, which are empty.
 * Returns the names written into.
 */
export async function applySchemas (conn: EsConnection, info: ClusterInfo, opts: SchemaOptions, ctx: StageContext): Promise<string[]> {
  let schemas: IndexSchema[] = parseSchemaLines(opts.text, opts.source === 'stdin' ? '--schema (stdin)' : `--schema ${opts.source}`)
  if (opts.rename !== undefined) {
    if (schemas.length !== 1) throw new UsageError(`--index renames the one index of a schema: --schema ${opts.source} holds ${schemas.length} (${schemas.map((s) => s.index).join(', ') || 'none'}); leave --index out to create each under its own name`)
    schemas = [{ ...(schemas[0] as IndexSchema), index: opts.rename }]
  }
  const dest = `${engineName(info)} at ${conn.host}`
  const extra = overrides(opts.settings)
  const translated = schemas.map((s) => translateSchema(s, info))
  const refusals: EspipeError[] = []
  for (const t of translated) {
    for (const n of t.notes) ctx.logger.info(`index ${t.index}: ${n}`)
    for (const r of t.refusals) refusals.push(new EspipeError('ES_SCHEMA_UNTRANSLATABLE', `index ${t.index}: ${r}`, { context: { host: conn.host, index: t.index } }))
    Object.assign(t.settings, extra)
  }
  const exists = opts.exists ?? 'refuse'
  const todo: TranslatedSchema[] = []
  for (const t of translated) {
    const where: EsWhere = { host: conn.host, index: t.index }
    const have = await existingMapping(conn, where, t.index, ctx)
    if (have === undefined) { todo.push(t); continue }
    const diff = firstMappingDifference(t.mappings, have)
    if (diff === undefined) ctx.logger.info(`index ${t.index} exists with the schema's mapping; writing into it`)
    else if (exists === 'keep') ctx.logger.info(`index ${t.index} exists with another mapping (${diff}); --schema-exists keep: writing into it as it is`)
    else refusals.push(new EspipeError('ES_SCHEMA_MAPPING_DIFFERS', `index ${t.index} exists at ${conn.host} with another mapping: ${diff} (--schema-exists keep writes into it as it is)`, { context: { host: conn.host, index: t.index } }))
  }
  await leaveOutTakenAliases(conn, todo, ctx)
  if (refusals.length > 0) {
    for (const r of refusals.slice(0, -1)) ctx.logger.error(r)
    const last = refusals[refusals.length - 1] as EspipeError
    const more = refusals.length > 1 ? ` (and the ${refusals.length - 1} above)` : ''
    throw new EspipeError(last.code, `${last.message}${more}; nothing was created or written`, { context: last.context })
  }
  const created: string[] = []
  for (const t of todo) {
    const where: EsWhere = { host: conn.host, index: t.index }
    try {
      const made = await createIndex(conn, where, t.index, body(t), ctx, false)
      if (made === 'created') created.push(t.index)
      else {
        // Made by someone else since it was looked at.
        const diff = firstMappingDifference(t.mappings, await existingMapping(conn, where, t.index, ctx) ?? {})
        if (diff !== undefined && exists !== 'keep') throw new EspipeError('ES_SCHEMA_MAPPING_DIFFERS', `index ${t.index} exists at ${conn.host} with another mapping: ${diff} (--schema-exists keep writes into it as it is)`, { context: { host: conn.host, index: t.index } })
      }
    } catch (err) {
      await removeCreated(conn, created, ctx)
      if (err instanceof EsRequestError && err.status === 400) {
        throw new EspipeError('ES_SCHEMA_REFUSED', `${explainRefusal(err, t.index, dest)}; nothing was written${created.length > 0 ? ` (the ${created.length} index${created.length > 1 ? 'es' : ''} created before it removed)` : ''}`, { context: { host: conn.host, index: t.index }, cause: err })
      }
      throw err
    }
  }
  return translated.map((t) => t.index)
}

/**
 * An alias of the schema that already names other indices at the destination (a copy beside
 * its source, on the same cluster) is left out, with a warning: adding the new index to it would
 * change what every search through it sees, and a second write index is refused by the engine.
 */
async function leaveOutTakenAliases (conn: EsConnection, todo: TranslatedSchema[], ctx: StageContext): Promise<void> {
  const names = [...new Set(todo.flatMap((t) => Object.keys(t.aliases)))]
  if (names.length === 0) return
  const res = await conn.request({ method: 'GET', path: `/_cat/aliases/${names.map(encodeURIComponent).join(',')}`, querystring: { format: 'json', h: 'alias,index' } }, { host: conn.host }, 'look up the aliases', ctx.signal)
  const taken = new Map<string, string[]>()
  const rows = JSON.parse(res.text) as Array<{ alias?: string, index?: string }>
  for (const row of Array.isArray(rows) ? rows : []) {
    if (row.alias !== undefined && row.index !== undefined) taken.set(row.alias, [...(taken.get(row.alias) ?? []), row.index])
  }
  for (const t of todo) {
    for (const alias of Object.keys(t.aliases)) {
      const others = (taken.get(alias) ?? []).filter((i) => i !== t.index)
      if (others.length === 0) continue
      const { [alias]: _left, ...rest } = t.aliases
      t.aliases = rest
      ctx.logger.warn(`index ${t.index}: alias ${alias} left out: it names ${others.join(', ')} at ${conn.host} already (add ${t.index} to it yourself, with POST _aliases, if both belong under it)`)
    }
  }
}

/** Undoes this run's creates: the indices are empty, no document was read yet. */
async function removeCreated (conn: EsConnection, names: string[], ctx: StageContext): Promise<void> {
  for (const name of names) {
    try {
      await conn.request({ method: 'DELETE', path: `/${encodeURIComponent(name)}` }, { host: conn.host, index: name }, 'remove the index this run created')
      ctx.logger.info(`removed index ${name}, created by this run before the refusal`)
    } catch (err) {
      ctx.logger.warn(`could not remove index ${name}, created empty by this run: ${(err as Error).message}`)
    }
  }
}
