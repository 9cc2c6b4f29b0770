// Rendering hits: `_source` filtering, `fields`, and the hit envelope. Unfiltered `_source` is
// spliced in pre-serialized, so a full page costs little more than string concatenation.

import { parsingException } from './errors.js'
import { isObject, RawJson, stringify, type Json } from './json.js'
import { parseDate } from './dates.js'
import { fieldValues } from './store.js'
import type { Entry } from './query.js'
import { renderKeys, type SortKey } from './sort.js'

export interface HitOptions {
  /** undefined: whole `_source`; null: none; else include/exclude patterns. */
  source: { includes: RegExp[]; excludes: RegExp[] } | undefined | null
  fields: RegExp[]
  version: boolean
  seqNoPrimaryTerm: boolean
  scored: boolean
}

function glob(p: string): RegExp {
  return new RegExp('^' + p.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$')
}

function patterns(v: Json | undefined, what: string): RegExp[] {
  if (v === undefined || v === null) return []
  if (typeof v === 'string') return v.split(',').filter((x) => x !== '').map(glob)
  if (Array.isArray(v)) return v.map((x) => glob(String(x)))
  throw parsingException(`[${what}] must be a string or an array of strings`)
}

/** Reads `_source` as body value or query parameters into a filter (see HitOptions.source). */
export function sourceOption(body: Json | undefined, param?: string, includes?: string, excludes?: string): HitOptions['source'] {
  let v: Json | undefined = body
  if (param !== undefined) v = param === 'true' ? true : param === 'false' ? false : param
  if (includes !== undefined || excludes !== undefined) {
    return { includes: patterns(includes, '_source_includes'), excludes: patterns(excludes, '_source_excludes') }
  }
  if (v === undefined || v === true) return undefined
  if (v === false) return null
  if (typeof v === 'string' || Array.isArray(v)) return { includes: patterns(v, '_source'), excludes: [] }
  if (isObject(v)) {
    for (const k of Object.keys(v)) {
      if (!['includes', 'include', 'excludes', 'exclude'].includes(k)) throw parsingException(`Unknown key for a START_ARRAY in [${k}].`)
    }
    const inc = patterns(v.includes ?? v.include, '_source.includes')
    const exc = patterns(v.excludes ?? v.exclude, '_source.excludes')
    return inc.length === 0 && exc.length === 0 ? undefined : { includes: inc, excludes: exc }
  }
  throw parsingException('[_source] must be a boolean, string, array or object')
}

export function fieldsOption(v: Json | undefined): RegExp[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) throw parsingException('[fields] must be an array')
  return v.map((f) => {
    if (typeof f === 'string') return glob(f)
    if (isObject(f) && typeof f.field === 'string') return glob(f.field)
    throw parsingException('[fields] entries must be a field name or {"field": …}')
  })
}

function filterSource(obj: Record<string, unknown>, inc: RegExp[], exc: RegExp[], prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix + k
    if (exc.some((re) => re.test(path))) continue
    const included = inc.length === 0 || inc.some((re) => re.test(path))
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      // An included object keeps its whole subtree (minus excludes); otherwise look deeper.
      const child = filterSource(v as Record<string, unknown>, included ? [] : inc, exc, path + '.')
      if (included || Object.keys(child).length > 0) out[k] = child
    } else if (included) {
      out[k] = v
    }
  }
  return out
}

function fieldsOf(e: Entry, pats: RegExp[]): Record<string, unknown[]> | undefined {
  const out: Record<string, unknown[]> = {}
  for (const [path, type] of e.index.fieldTypes) {
    if (type === 'object') continue
    const names = type === 'text' ? [path, path + '.keyword'] : [path]
    for (const name of names) {
      if (!pats.some((re) => re.test(name))) continue
      let vals = fieldValues(e.doc.source, path)
      // Dates come back in the field's format (strict_date_optional_time), whatever was indexed.
      if (type === 'date') vals = vals.map((v) => { const t = parseDate(v, undefined, false); return t === undefined ? v : new Date(t).toISOString() })
      if (vals.length > 0) out[name] = vals
    }
  }
  return Object.keys(out).length > 0 ? out : undefined
}

/** One hit, serialized directly: the hot path of every export. */
export function renderHit(e: Entry, opts: HitOptions, sort: SortKey[] | undefined): RawJson {
  const src = opts.source
  let s = '{"_index":' + JSON.stringify(e.index.name) + ',"_id":' + JSON.stringify(e.doc.id)
  if (opts.version) s += ',"_version":' + e.doc.version
  if (opts.seqNoPrimaryTerm) s += ',"_seq_no":' + e.doc.seqNo + ',"_primary_term":1'
  s += opts.scored ? ',"_score":1.0' : ',"_score":null'
  if (e.doc.routing !== undefined) s += ',"_routing":' + JSON.stringify(e.doc.routing)
  if (src === undefined) s += ',"_source":' + e.doc.sourceJson
  else if (src !== null) s += ',"_source":' + JSON.stringify(filterSource(e.doc.source, src.includes, src.excludes, ''))
  if (opts.fields.length > 0) {
    const f = fieldsOf(e, opts.fields)
    if (f !== undefined) s += ',"fields":' + JSON.stringify(f)
  }
  if (sort !== undefined) s += ',"sort":' + stringify(renderKeys(sort))
  return new RawJson(s + '}')
}
