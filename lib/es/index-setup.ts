import type { StageContext } from '../core/context.js'
import { EspipeError, UsageError } from '../core/errors.js'
import { parseExact, stringifyExact } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'
import type { RetryPolicy } from '../core/retry.js'
import { withRetry } from '../core/retry.js'
import type { ClusterInfo, EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { EsRequestError } from './errors.js'
import { creatableSettings } from './index-settings.js'

/**
 * Asks the cluster which engine it is (EsConnection.identify: `GET /`), before any input is read:
 * a wrong URL or password fails at once, and every later request speaks that engine's media
 * types. A `GET /` forbidden to this user (403) passes: a writer's API key may lack the cluster
 * privilege it needs and still index. Load (429) and lost answers are retried.
 */
export async function checkServer (conn: EsConnection, where: EsWhere, retry: RetryPolicy, ctx: StageContext): Promise<ClusterInfo> {
  return await withRetry(async () => await conn.identify(where, ctx.signal), retry, {
    // A server never reached is a configuration error: say so at once rather than back off.
    retryable: (err) => err instanceof EsRequestError && (err.stage === 'rejected' || err.stage === 'ambiguous'),
    onRetry: (err, n, wait) => ctx.logger.warn(`${(err as Error).message}; retry ${n}/${retry.retries} in ${(wait / 1000).toFixed(1)} s`),
    signal: ctx.signal
  })
}

/**
 * The body of PUT /{index} from the --mappings and --settings files. Each may be given as what
 * goes under "mappings"/"settings", wrapped in that key, or as GET /{index}/_mapping or
 * _settings print it ({"name": {"mappings": …}}). Numbers keep their digits. Settings the
 * engine sets itself on a new index (its uuid, creation date, version: what GET _settings
 * prints and PUT refuses) are left out, and named in `dropped`.
 */
export function indexBody (mappings: string | undefined, settings: string | undefined): { body: string, dropped: string[] } {
  let dropped: string[] = []
  const part = (text: string | undefined, key: 'mappings' | 'settings'): string | undefined => {
    if (text === undefined) return undefined
    let v: unknown
    try {
      v = parseExact(text)
    } catch (err) {
      throw new UsageError(`--${key}: not JSON (${(err as Error).message})`)
    }
    if (!isJsonObject(v)) throw new UsageError(`--${key}: expected a JSON object`)
    const keys = Object.keys(v)
    if (keys.length === 1 && keys[0] === key) v = v[key]
    else if (keys.length === 1 && isJsonObject(v[keys[0] as string]) && key in (v[keys[0] as string] as JsonObject)) v = (v[keys[0] as string] as JsonObject)[key]
    if (!isJsonObject(v)) throw new UsageError(`--${key}: "${key}" must be a JSON object`)
    if (key === 'settings') ({ settings: v, dropped } = creatableSettings(v))
    return stringifyExact(v)
  }
  const m = part(mappings, 'mappings')
  const s = part(settings, 'settings')
  const members = [m === undefined ? undefined : `"mappings":${m}`, s === undefined ? undefined : `"settings":${s}`].filter((x) => x !== undefined)
  return { body: `{${members.join(',')}}`, dropped }
}

/**
 * PUT /{index}: created, or already there (then its own mappings stay, and we say so, unless
 * the caller says it itself: `sayExists` false).
 */
export async function createIndex (conn: EsConnection, where: EsWhere, index: string, body: string, ctx: StageContext, sayExists = true): Promise<'created' | 'exists'> {
  try {
    await conn.request({ method: 'PUT', path: `/${encodeURIComponent(index)}`, body }, where, 'create the index')
    ctx.logger.info(`created index ${index}`)
    return 'created'
  } catch (err) {
    if (err instanceof EsRequestError && err.type === 'resource_already_exists_exception') {
      if (sayExists) ctx.logger.info(`index ${index} exists; writing into it${body !== '{}' ? ' (its own mappings and settings stay; --mappings and --settings apply only when es-write creates it)' : ''}`)
      return 'exists'
    }
    throw err
  }
}

/** The URL length a proxy or the server is sure to take; longer index lists are refreshed in parts. */
const MAX_PATH = 2000

/** One refresh of every index written, so what was written is searchable when es-write exits. */
export async function refreshIndices (conn: EsConnection, where: EsWhere, indices: Iterable<string>, ctx: StageContext): Promise<void> {
  const groups: string[][] = [[]]
  let length = 0
  for (const name of indices) {
    const encoded = encodeURIComponent(name)
    if (length + encoded.length > MAX_PATH && (groups[groups.length - 1] as string[]).length > 0) { groups.push([]); length = 0 }
    ;(groups[groups.length - 1] as string[]).push(encoded)
    length += encoded.length + 3
  }
  for (const group of groups) {
    if (group.length === 0) continue
    try {
      const res = await conn.request({ method: 'POST', path: `/${group.join('%2C')}/_refresh` }, where, 'refresh')
      const shards = (JSON.parse(res.text) as { _shards?: { failed?: number, total?: number } })._shards
      if ((shards?.failed ?? 0) > 0) ctx.logger.warn(`refresh: ${shards?.failed ?? 0} of ${shards?.total ?? 0} shards failed; documents written may not be searchable yet`)
    } catch (err) {
      throw new EspipeError((err as EspipeError).code ?? 'EREFRESH', `every record was written, but the refresh failed: ${(err as Error).message}`, { context: (err as EspipeError).context, cause: err })
    }
  }
}
