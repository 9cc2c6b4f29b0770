import { isLosslessNumber } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'

/**
 * Whether two mappings say the same, and if not, the first place they differ, in the
 * schema's order: `field user.name: type keyword in the schema, text in the index`. The same
 * means: the same fields with the same parameters, whatever their key order, `"type":"object"`
 * implied by `properties`, and values equal as text (`100` and `100.0`, `true` and `"true"`:
 * the engine prints what it was given in its own form).
 */
export function firstMappingDifference (want: JsonObject, have: JsonObject): string | undefined {
  return objectDiff(want, have)
}

function isNumber (v: unknown): boolean {
  return typeof v === 'number' || isLosslessNumber(v)
}

function text (v: unknown): string {
  if (isLosslessNumber(v)) return v.value
  return typeof v === 'string' ? v : JSON.stringify(v)
}

function sameScalar (a: unknown, b: unknown): boolean {
  if (isNumber(a) || isNumber(b)) {
    const x = Number(text(a))
    const y = Number(text(b))
    return Number.isFinite(x) && x === y && (Number.isSafeInteger(x) || text(a) === text(b) || !Number.isInteger(x))
  }
  return text(a) === text(b)
}

function show (v: unknown): string {
  if (v === undefined) return 'nothing'
  if (isLosslessNumber(v) || typeof v !== 'object' || v === null) return text(v)
  const s = JSON.stringify(v, (_k, x: unknown) => isLosslessNumber(x) ? Number(x.value) : x)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

function withoutImpliedObject (def: JsonObject): JsonObject {
  if (def.type === 'object' && isJsonObject(def.properties)) {
    const { type: _type, ...rest } = def
    return rest
  }
  return def
}

/** The mapping's root parameters in the schema's order; its fields (`properties`) where they come. */
function objectDiff (want: JsonObject, have: JsonObject): string | undefined {
  for (const key of [...Object.keys(want), ...Object.keys(have).filter((k) => !(k in want))]) {
    const a = want[key]
    const b = have[key]
    if (key === 'properties' && isJsonObject(a) && isJsonObject(b)) {
      const d = fieldsDiff(a, b, '')
      if (d !== undefined) return d
    } else if (valueDiff(a, b)) {
      return `mapping ${key}: ${show(a)} in the schema, ${show(b)} in the existing index`
    }
  }
  return undefined
}

/** The fields of a `properties` (or multi-fields of a `fields`) under `path`, by name. */
function fieldsDiff (want: JsonObject, have: JsonObject, path: string): string | undefined {
  for (const key of [...Object.keys(want), ...Object.keys(have).filter((k) => !(k in want))]) {
    const a = want[key]
    const b = have[key]
    const name = path === '' ? key : `${path}.${key}`
    if (a === undefined) return `field ${name}: only in the existing index`
    if (b === undefined) return `field ${name}: not in the existing index`
    if (!isJsonObject(a) || !isJsonObject(b)) {
      if (valueDiff(a, b)) return `field ${name}: ${show(a)} in the schema, ${show(b)} in the existing index`
      continue
    }
    const d = fieldDiff(withoutImpliedObject(a), withoutImpliedObject(b), name)
    if (d !== undefined) return d
  }
  return undefined
}

/**
 * Parameters an engine prints for a field although they were not given: its defaults, which a
 * schema from the other engine (or written by hand) leaves out. Only in the existing index and
 * with this value, they are no difference; with another value, they are.
 */
const PRINTED_DEFAULTS: Record<string, Record<string, unknown>> = {
  wildcard: { doc_values: false },
  search_as_you_type: { doc_values: false, max_shingle_size: 3 },
  completion: { analyzer: 'simple', search_analyzer: 'simple', preserve_separators: true, preserve_position_increments: true, max_input_length: 50 }
}

/** A field's parameters, then its sub-fields (`properties`) and multi-fields (`fields`). */
function fieldDiff (want: JsonObject, have: JsonObject, path: string): string | undefined {
  const keys = [...Object.keys(want), ...Object.keys(have).filter((k) => !(k in want))]
  const defaults = PRINTED_DEFAULTS[typeof have.type === 'string' ? have.type : ''] ?? {}
  for (const key of keys) {
    const a = want[key]
    const b = have[key]
    if (a === undefined && key in defaults && !valueDiff(defaults[key], b)) continue
    if ((key === 'properties' || key === 'fields') && isJsonObject(a) && isJsonObject(b)) {
      const d = fieldsDiff(a, b, path)
      if (d !== undefined) return d
      continue
    }
    if (valueDiff(a, b)) return `field ${path}: ${key} ${show(a)} in the schema, ${show(b)} in the existing index`
  }
  return undefined
}

/** Whether two parameter values differ (objects and arrays compared member by member). */
function valueDiff (a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a !== b
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return true
    return a.some((x, i) => valueDiff(x, b[i]))
  }
  const objA = isJsonObject(a) && !isLosslessNumber(a)
  const objB = isJsonObject(b) && !isLosslessNumber(b)
  if (objA || objB) {
    if (!objA || !objB) return true
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    for (const k of keys) if (valueDiff(a[k], b[k])) return true
    return false
  }
  return !sameScalar(a, b)
}
