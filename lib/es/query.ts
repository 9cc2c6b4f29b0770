import { readFileSync } from 'node:fs'
import { UsageError } from '../core/errors.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'

/** What to read, as the options say it. */
export interface EsQueryOptions {
  /** A query DSL object (the value of `"query"`), or its JSON text, or `@file`. */
  query?: JsonObject | string
  /** A Lucene query string (`query_string`). */
  q?: string
  /** Range on the time field (the original tool's --gte/--lte). */
  timeField?: string
  gte?: string
  lte?: string
  matchAll?: boolean
  sourceIncludes?: string[]
  sourceExcludes?: string[]
  /** Fields to return under `fields` (doc values, runtime fields...). */
  fields?: string[]
  /** `field`, `field:asc`, `field:desc`; none means index order. */
  sort?: string[]
}

/** `--query '{"term":…}'` or `--query @file.json`: a JSON object, else a usage error (exit 2). */
export function parseQueryOption (text: string): JsonObject {
  let source = text
  let from = '--query'
  if (text.startsWith('@')) {
    from = text.slice(1)
    try {
      source = readFileSync(from, 'utf8')
    } catch (err) {
      throw new UsageError(`cannot read --query file ${from}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
    }
  }
  let value: unknown
  try {
    value = JSON.parse(source)
  } catch (err) {
    throw new UsageError(`invalid value for --query: ${from === '--query' ? 'not JSON' : from + ' is not JSON'} (${(err as Error).message})`)
  }
  if (!isJsonObject(value)) throw new UsageError('invalid value for --query: a query DSL object is expected, e.g. \'{"term":{"status":500}}\'')
  // A whole search body pasted by habit: take its query.
  if (Object.keys(value).length === 1 && isJsonObject(value.query)) return value.query
  return value
}

/** The `query` of the search: the given pieces combined with AND (as filters, no scoring needed). */
export function buildQuery (o: EsQueryOptions): JsonObject {
  const parts: JsonObject[] = []
  if (o.query !== undefined) parts.push(typeof o.query === 'string' ? parseQueryOption(o.query) : o.query)
  if (o.q !== undefined) parts.push({ query_string: { query: o.q } })
  if (o.gte !== undefined || o.lte !== undefined) {
    const range: JsonObject = { format: 'strict_date_optional_time' }
    if (o.gte !== undefined) range.gte = o.gte
    if (o.lte !== undefined) range.lte = o.lte
    parts.push({ range: { [o.timeField ?? '@timestamp']: range } })
  }
  if (o.matchAll === true && parts.length > 0) throw new UsageError('--match-all cannot be combined with --query, --q, --gte or --lte')
  if (parts.length === 0) return { match_all: {} }
  if (parts.length === 1) return parts[0]
  return { bool: { filter: parts } }
}

/** `--sort a,b:desc` → `[{"a":"asc"},{"b":"desc"}]`. */
export function buildSort (sort: readonly string[]): JsonObject[] {
  return sort.map((s) => {
    const m = /^([^:]+?)(?::(asc|desc))?$/.exec(s.trim())
    if (m === null) throw new UsageError(`invalid value for --sort: '${s}' (use field, field:asc or field:desc)`)
    return { [m[1]]: m[2] ?? 'asc' }
  })
}

/** The parts of the search body that do not change from page to page. */
export function buildSearchBody (o: EsQueryOptions): JsonObject {
  const body: JsonObject = { query: buildQuery(o) }
  const inc = o.sourceIncludes ?? []
  const exc = o.sourceExcludes ?? []
  if (inc.length > 0 || exc.length > 0) {
    const src: JsonObject = {}
    if (inc.length > 0) src.includes = inc
    if (exc.length > 0) src.excludes = exc
    body._source = src
  }
  if (o.fields !== undefined && o.fields.length > 0) body.fields = o.fields
  return body
}
