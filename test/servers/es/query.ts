// The query DSL subset the test server answers. Anything outside it is refused with the 400 ES
// would give for an unknown query or parameter: a wrong answer would make tests lie.

import { checkFormat, parseDate, parseDateBound } from './dates.js'
import { parsingException } from './errors.js'
import { isObject, type Json } from './json.js'
import { fieldValues, type Doc, type FieldType, type IndexData } from './store.js'

/** A document as a search sees it: with its index and the shard number used in `_shard_doc`. */
export interface Entry {
  readonly doc: Doc
  readonly index: IndexData
  readonly shard: number
}

export type Pred = (e: Entry) => boolean

type Scalar = number | string | boolean

/** Approximates the standard analyzer: lowercase word tokens. */
export function tokens(s: string): string[] {
  return s.toLowerCase().split(/[^\p{L}\p{N}_]+/u).filter((t) => t !== '')
}

/** Doc values of a field as its mapped type compares them; [] when unmapped or missing. */
export function typedValues(e: Entry, field: string): { type: FieldType | undefined; values: Scalar[] } {
  const t = e.index.typeOf(field)
  if (t === undefined) return { type: undefined, values: [] }
  const raw = fieldValues(e.doc.source, t.sourcePath)
  const values: Scalar[] = []
  for (const v of raw) {
    switch (t.type) {
      case 'long':
      case 'float': {
        const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN
        if (!Number.isNaN(n)) values.push(t.type === 'long' ? Math.trunc(n) : n)
        break
      }
      case 'date': {
        const d = parseDate(v, undefined, false)
        if (d !== undefined) values.push(d)
        break
      }
      case 'keyword':
        if (typeof v !== 'object') values.push(String(v))
        break
      case 'text':
        if (typeof v !== 'object') values.push(...tokens(String(v)))
        break
      case 'boolean':
        values.push(v === true || v === 'true')
        break
      case 'object':
        break
    }
  }
  return { type: t.type, values }
}

function termMatcher(field: string, q: unknown): Pred {
  if (typeof q !== 'string' && typeof q !== 'number' && typeof q !== 'boolean') {
    throw parsingException(`[term] query does not support a value of type [${q === null ? 'null' : typeof q}] for field [${field}]`)
  }
  // `_index` is a metadata field every document has: a term on it names the document's index.
  if (field === '_index') return (e) => e.index.name === String(q)
  return (e) => {
    const { type, values } = typedValues(e, field)
    switch (type) {
      case undefined:
      case 'object':
        return false
      case 'long':
      case 'float':
        return values.includes(Number(q))
      case 'date': {
        // A date term covers its whole precision, like ES's term-as-range on date fields.
        const lo = parseDate(q, undefined, false)
        const hi = parseDate(q, undefined, true)
        if (lo === undefined || hi === undefined) return false
        return values.some((v) => (v as number) >= lo && (v as number) <= hi)
      }
      case 'boolean':
        return values.includes(q === true || q === 'true')
      default:
        return values.includes(String(q))
    }
  }
}

interface Bounds { gte?: unknown; gt?: unknown; lte?: unknown; lt?: unknown; format?: string }

function rangeMatcher(field: string, b: Bounds): Pred {
  const formats = b.format === undefined ? undefined : checkFormat(b.format)
  // Bounds are converted once per index type, since only the field's type decides how.
  const cache = new Map<FieldType, (v: Scalar) => boolean>()
  const build = (type: FieldType): ((v: Scalar) => boolean) => {
    const conv = (x: unknown, roundUp: boolean): Scalar => {
      if (type === 'date') return parseDateBound(x, formats, roundUp, field)
      if (type === 'long' || type === 'float') {
        const n = Number(x)
        if (Number.isNaN(n)) throw parsingException(`failed to parse [${String(x)}] as a number for field [${field}]`)
        return n
      }
      return String(x)
    }
    const gte = b.gte == null ? undefined : conv(b.gte, false)
    const gt = b.gt == null ? undefined : conv(b.gt, true)
    const lte = b.lte == null ? undefined : conv(b.lte, true)
    const lt = b.lt == null ? undefined : conv(b.lt, false)
    return (v) =>
      (gte === undefined || v >= gte) && (gt === undefined || v > gt) && (lte === undefined || v <= lte) && (lt === undefined || v < lt)
  }
  return (e) => {
    const { type, values } = typedValues(e, field)
    if (type === undefined || type === 'object' || type === 'boolean') return false
    let test = cache.get(type)
    if (test === undefined) {
      test = build(type)
      cache.set(type, test)
    }
    return values.some(test)
  }
}

function existsMatcher(field: string): Pred {
  return (e) => {
    if (typedValues(e, field).values.length > 0) return true
    // exists on an object field is true when any sub-field has a value.
    const t = e.index.typeOf(field)
    return t?.type === 'object' && fieldValues(e.doc.source, field).length > 0
  }
}

function clauses(v: Json | undefined, name: string): Json[] {
  if (v === undefined) return []
  if (Array.isArray(v)) return v
  if (isObject(v)) return [v]
  throw parsingException(`[bool] query does not support [${name}] of this type`)
}

function single(kind: string, body: Json): [string, Json] {
  if (!isObject(body)) throw parsingException(`[${kind}] query malformed, no start_object after query name`)
  const keys = Object.keys(body).filter((k) => k !== 'boost' && k !== '_name')
  if (keys.length !== 1) throw parsingException(`[${kind}] query doesn't support multiple fields, found [${keys.join('] and [')}]`)
  const field = keys[0] as string
  return [field, body[field] as Json]
}

function allowOnly(kind: string, obj: { [k: string]: Json }, allowed: string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw parsingException(`[${kind}] query does not support [${k}]`)
  }
}

function minimumShouldMatch(v: Json | undefined, n: number, hasRequired: boolean): number {
  if (v === undefined) return hasRequired ? 0 : Math.min(1, n)
  if (typeof v === 'number') return v < 0 ? Math.max(0, n + v) : Math.min(v, n)
  if (typeof v === 'string') {
    const m = /^(-?)(\d+)(%?)$/.exec(v)
    if (m === null) throw parsingException(`[bool] minimum_should_match [${v}] is not supported by the espipe test server`)
    let k = m[3] === '%' ? Math.floor((n * Number(m[2])) / 100) : Number(m[2])
    if (m[1] === '-') k = n - k
    return Math.max(0, Math.min(k, n))
  }
  throw parsingException('[bool] minimum_should_match must be a number or a string')
}

/** Compiles a query into a predicate; throws the ES 400 for anything outside the subset. */
export function compileQuery(q: Json | undefined): Pred {
  if (q === undefined) return () => true
  if (!isObject(q)) throw parsingException('[_na] query malformed, must start with start_object')
  const kinds = Object.keys(q)
  if (kinds.length !== 1) {
    throw parsingException(`[${kinds[0] ?? '_na'}] malformed query, expected [END_OBJECT] but found [FIELD_NAME]`)
  }
  const kind = kinds[0] as string
  const body = q[kind] as Json
  switch (kind) {
    case 'match_all':
      if (isObject(body)) allowOnly(kind, body, ['boost', '_name'])
      return () => true
    case 'match_none':
      return () => false
    case 'term': {
      const [field, v] = single(kind, body)
      if (isObject(v)) {
        allowOnly(kind, v, ['value', 'boost', '_name', 'case_insensitive'])
        return termMatcher(field, v.value)
      }
      return termMatcher(field, v)
    }
    case 'terms': {
      const [field, v] = single(kind, body)
      if (!Array.isArray(v)) throw parsingException(`[terms] query does not support [${field}] without an array of values`)
      const preds = v.map((x) => termMatcher(field, x))
      return (e) => preds.some((p) => p(e))
    }
    case 'range': {
      const [field, v] = single(kind, body)
      if (!isObject(v)) throw parsingException(`[range] query malformed, no start_object after query name`)
      allowOnly(kind, v, ['gte', 'gt', 'lte', 'lt', 'format', 'boost', '_name', 'time_zone'])
      if (v.time_zone !== undefined && !['UTC', 'Z', '+00:00', 'Etc/UTC'].includes(String(v.time_zone))) {
        throw parsingException(`[range] time_zone [${String(v.time_zone)}] is not supported by the espipe test server`)
      }
      return rangeMatcher(field, v as Bounds)
    }
    case 'exists': {
      if (!isObject(body) || typeof body.field !== 'string') throw parsingException('[exists] must be provided with a [field]')
      allowOnly(kind, body, ['field', 'boost', '_name'])
      return existsMatcher(body.field)
    }
    case 'ids': {
      if (!isObject(body)) throw parsingException('[ids] query malformed')
      allowOnly(kind, body, ['values', 'boost', '_name'])
      const ids = new Set((Array.isArray(body.values) ? body.values : []).map((x) => String(x)))
      return (e) => ids.has(e.doc.id)
    }
    case 'bool': {
      if (!isObject(body)) throw parsingException('[bool] query malformed, no start_object after query name')
      allowOnly(kind, body, ['must', 'filter', 'should', 'must_not', 'minimum_should_match', 'boost', '_name'])
      const must = [...clauses(body.must, 'must'), ...clauses(body.filter, 'filter')].map(compileQuery)
      const should = clauses(body.should, 'should').map(compileQuery)
      const mustNot = clauses(body.must_not, 'must_not').map(compileQuery)
      const msm = minimumShouldMatch(body.minimum_should_match, should.length, must.length > 0 || mustNot.length > 0)
      return (e) => {
        if (!must.every((p) => p(e))) return false
        if (mustNot.some((p) => p(e))) return false
        if (msm === 0) return true
        let hits = 0
        for (const p of should) if (p(e) && ++hits >= msm) return true
        return false
      }
    }
    case 'constant_score': {
      if (!isObject(body)) throw parsingException('[constant_score] query malformed')
      allowOnly(kind, body, ['filter', 'boost', '_name'])
      return compileQuery(body.filter)
    }
    case 'query_string':
      return compileQueryString(body)
    default:
      throw parsingException(`unknown query [${kind}]`)
  }
}

// --- query_string: `field:value`, `field:"a b"`, `field:[a TO b]`, `field:*`, `*`, AND/OR/NOT, ( )

type QsToken = { t: 'op'; v: 'AND' | 'OR' | 'NOT' | '(' | ')' } | { t: 'term'; v: string }

function lexQueryString(s: string): QsToken[] {
  const out: QsToken[] = []
  let i = 0
  while (i < s.length) {
    const c = s[i] as string
    if (/\s/.test(c)) { i++; continue }
    if (c === '(' || c === ')') { out.push({ t: 'op', v: c }); i++; continue }
    if (s.startsWith('&&', i)) { out.push({ t: 'op', v: 'AND' }); i += 2; continue }
    if (s.startsWith('||', i)) { out.push({ t: 'op', v: 'OR' }); i += 2; continue }
    if (c === '!') { out.push({ t: 'op', v: 'NOT' }); i++; continue }
    let j = i
    let depth = 0
    while (j < s.length) {
      const d = s[j] as string
      if (d === '"') {
        const close = s.indexOf('"', j + 1)
        j = close < 0 ? s.length : close + 1
        continue
      }
      if (d === '[' || d === '{') depth++
      if (d === ']' || d === '}') depth--
      if (depth === 0 && (/\s/.test(d) || d === '(' || d === ')')) break
      j++
    }
    const word = s.slice(i, j)
    if (word === 'AND' || word === 'OR' || word === 'NOT') out.push({ t: 'op', v: word })
    else out.push({ t: 'term', v: word })
    i = j
  }
  return out
}

function compileQueryString(body: Json): Pred {
  if (!isObject(body) || typeof body.query !== 'string') throw parsingException('[query_string] requires query value')
  allowOnly('query_string', body, ['query', 'default_field', 'default_operator', 'boost', '_name', 'analyze_wildcard'])
  const defaultField = typeof body.default_field === 'string' && body.default_field !== '*' ? body.default_field : undefined
  const andByDefault = String(body.default_operator ?? 'OR').toUpperCase() === 'AND'
  const toks = lexQueryString(body.query)
  let pos = 0
  const unsupported = (what: string): never => {
    throw parsingException(`[query_string] ${what} is not supported by the espipe test server`)
  }
  const peek = (): QsToken | undefined => toks[pos]
  const isOp = (v: string): boolean => {
    const t = peek()
    return t !== undefined && t.t === 'op' && t.v === v
  }
  const parseOr = (): Pred => {
    const parts: Pred[] = [parseAnd()]
    while (isOp('OR')) { pos++; parts.push(parseAnd()) }
    return parts.length === 1 ? (parts[0] as Pred) : (e) => parts.some((p) => p(e))
  }
  const parseAnd = (): Pred => {
    const parts: Pred[] = [parseUnary()]
    const alternatives: Pred[][] = [parts]
    for (;;) {
      const t = peek()
      if (t === undefined || (t.t === 'op' && (t.v === 'OR' || t.v === ')'))) break
      if (isOp('AND')) { pos++; parts.push(parseUnary()); continue }
      // Juxtaposed clauses combine with default_operator.
      if (andByDefault) parts.push(parseUnary())
      else alternatives.push([parseUnary()])
    }
    const groups = alternatives.map((g) => (e: Entry) => g.every((p) => p(e)))
    return groups.length === 1 ? (groups[0] as Pred) : (e) => groups.some((p) => p(e))
  }
  const parseUnary = (): Pred => {
    const t = peek()
    if (t === undefined) return unsupported('an empty clause')
    pos++
    if (t.t === 'op') {
      if (t.v === 'NOT') {
        const inner = parseUnary()
        return (e) => !inner(e)
      }
      if (t.v === '(') {
        const inner = parseOr()
        if (!isOp(')')) unsupported('an unbalanced parenthesis')
        pos++
        return inner
      }
      return unsupported(`[${t.v}] here`)
    }
    return parseTerm(t.v)
  }
  const parseTerm = (word: string): Pred => {
    if (word === '*' || word === '*:*') return () => true
    const colon = word.search(/(?<!\\):/)
    let field = defaultField
    let value = word
    if (colon > 0) {
      field = word.slice(0, colon)
      value = word.slice(colon + 1)
    }
    if (field === undefined) return unsupported(`a term without a field [${word}]`)
    if (value === '*') return existsMatcher(field)
    const range = /^([[{])(\S+) TO (\S+)([\]}])$/.exec(value)
    if (range !== null) {
      const b: Bounds = {}
      const [, open, lo, hi, close] = range as unknown as [string, string, string, string, string]
      if (lo !== '*') b[open === '[' ? 'gte' : 'gt'] = lo
      if (hi !== '*') b[close === ']' ? 'lte' : 'lt'] = hi
      return rangeMatcher(field, b)
    }
    const cmp = /^(>=|<=|>|<)(.+)$/.exec(value)
    if (cmp !== null) {
      const key = ({ '>=': 'gte', '<=': 'lte', '>': 'gt', '<': 'lt' } as const)[cmp[1] as '>=' | '<=' | '>' | '<']
      return rangeMatcher(field, { [key]: cmp[2] })
    }
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      return phraseMatcher(field, value.slice(1, -1))
    }
    if (/[*?~^]/.test(value) || value.startsWith('(') || value === '') return unsupported(`the term syntax [${word}]`)
    return phraseMatcher(field, value.replace(/\\(.)/g, '$1'))
  }
  const result = parseOr()
  if (pos < toks.length) unsupported(`the trailing input at token ${pos + 1}`)
  return result
}

/** A query_string value: exact on keyword/number/date fields, all tokens in order on text. */
function phraseMatcher(field: string, value: string): Pred {
  const exact = termMatcher(field, value)
  const words = tokens(value)
  return (e) => {
    const t = e.index.typeOf(field)
    if (t?.type !== 'text') return exact(e)
    return fieldValues(e.doc.source, t.sourcePath).some((v) => {
      const have = tokens(String(v))
      for (let i = 0; i + words.length <= have.length; i++) {
        if (words.every((w, k) => have[i + k] === w)) return true
      }
      return false
    })
  }
}
