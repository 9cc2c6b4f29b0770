import { Readable } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { parseExact } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'
import type { RetryPolicy } from '../core/retry.js'
import { withRetry } from '../core/retry.js'
import type { EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { EsRequestError } from './errors.js'
import { checkServer } from './index-setup.js'
import { creatableSettings } from './index-settings.js'
import type { IndexSchema } from './schema-line.js'
import { formatSchemaLine } from './schema-line.js'
import { engineName } from './paging.js'

/** Each concrete index's part of a `GET /{expr}/_…` answer: `{"name": {key: {…}}}`. */
function parts (text: string, key: string, what: string, where: EsWhere): Map<string, JsonObject> {
  const body = parseExact(text)
  if (!isJsonObject(body)) throw new EsRequestError('ES_BAD_RESPONSE', `${where.host} answered ${what} with something other than a JSON object`, { stage: 'final', where })
  const out = new Map<string, JsonObject>()
  for (const [name, v] of Object.entries(body)) {
    const part = isJsonObject(v) ? v[key] : undefined
    out.set(name, isJsonObject(part) ? part : {})
  }
  return out
}

/**
 * The definition of every index `expr` names (a name, comma list, wildcard or alias): one schema
 * per concrete index, in name order, from GET _mapping, _settings (flat) and _alias, with the
 * settings no create takes left out (`dropped`: their full names, once each).
 */
export async function readIndexSchemas (conn: EsConnection, expr: string, retry: RetryPolicy, ctx: StageContext): Promise<{ schemas: IndexSchema[], dropped: string[] }> {
  const where: EsWhere = { host: conn.host, index: expr }
  const path = `/${encodeURIComponent(expr)}`
  const get = async (suffix: string, what: string, querystring?: Record<string, string>): Promise<string> => await withRetry(async () => (await conn.request({ method: 'GET', path: `${path}/${suffix}`, querystring }, where, what, ctx.signal)).text, retry, {
    retryable: (err) => err instanceof EsRequestError && (err.stage === 'rejected' || err.stage === 'ambiguous'),
    onRetry: (err, n, wait) => ctx.logger.warn(`${(err as Error).message}; retry ${n}/${retry.retries} in ${(wait / 1000).toFixed(1)} s`),
    signal: ctx.signal
  })
  const mappings = parts(await get('_mapping', 'read the mappings'), 'mappings', 'GET _mapping', where)
  const settings = parts(await get('_settings', 'read the settings', { flat_settings: 'true' }), 'settings', 'GET _settings', where)
  const aliases = parts(await get('_alias', 'read the aliases'), 'aliases', 'GET _alias', where)
  const dropped = new Set<string>()
  const schemas = [...mappings.keys()].sort().map((index) => {
    const kept = creatableSettings(settings.get(index) ?? {})
    for (const d of kept.dropped) dropped.add(d)
    return { index, mappings: mappings.get(index) ?? {}, settings: kept.settings, aliases: aliases.get(index) ?? {} }
  })
  return { schemas, dropped: [...dropped] }
}

/**
 * es-read --schema: one line per index `index` names instead of its documents. A wildcard that
 * matches nothing prints nothing and says so; a missing index is an error, as for documents.
 */
export async function esReadSchema (opts: { index: string, connection: EsConnection, retry: RetryPolicy, context: StageContext }): Promise<Readable> {
  const { connection: conn, context: ctx, retry } = opts
  const where: EsWhere = { host: conn.host, index: opts.index }
  const info = await checkServer(conn, where, retry, ctx)
  ctx.logger.start(`reading the definition of ${opts.index} at ${conn.host} (${engineName(info)})`, { host: conn.host, index: opts.index, engine: info.distribution, version: info.version })
  const { schemas, dropped } = await readIndexSchemas(conn, opts.index, retry, ctx)
  if (dropped.length > 0) ctx.logger.info(`settings left out (the engine sets them itself on a new index): ${dropped.join(', ')}`)
  if (schemas.length === 0) ctx.logger.warn(`no index matches ${opts.index} at ${conn.host}`)
  ctx.stats.add('read', schemas.length)
  const text = schemas.map((s) => formatSchemaLine(s) + '\n').join('')
  return Readable.from(text === '' ? [] : [text], { objectMode: false }).on('end', () => ctx.stats.add('emitted', schemas.length))
}

