/**
 * Record access by path. A path is a dot-separated list of keys (`_source.user.id`);
 * `.` means the whole object. Keys containing dots can't be addressed: ES field names
 * with dots are stored as nested objects by the time they reach _source anyway.
 */
import { numberText } from './json.js'

export type JsonObject = Record<string, unknown>

/** Where a writer finds a record's id and its content unless told: the shape readers emit (an Elasticsearch hit). */
export const RECORD_FIELDS = { idField: '_id', contentField: '_source' } as const

export function isJsonObject (v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

export type PathGetter = (obj: JsonObject) => unknown

/**
 * The top-level key a path names ('' for the whole record: `.` or an empty path), or undefined
 * for a nested path: what a writer can cut from a scanned line without parsing it.
 */
export function topLevelKey (path: string): string | undefined {
  const key = path.replace(/^\./, '')
  return key.includes('.') ? undefined : key
}

export function compilePath (path: string): PathGetter {
  if (path === '.' || path === '') return (obj) => obj
  const keys = path.replace(/^\./, '').split('.')
  if (keys.length === 1) {
    const k = keys[0]
    return (obj) => obj[k]
  }
  return (obj) => {
    let cur: unknown = obj
    for (const k of keys) {
      if (!isJsonObject(cur)) return undefined
      cur = cur[k]
    }
    return cur
  }
}

/** What a JSON value is, for a message: `an array`, `a string`, `a number`, `a boolean`, `null`, `an object`. */
export function jsonKind (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'string') return 'a string'
  if (typeof v === 'number' || typeof v === 'bigint' || (typeof v === 'object' && (v as { isLosslessNumber?: unknown }).isLosslessNumber === true)) return 'a number'
  if (typeof v === 'boolean') return 'a boolean'
  return 'an object'
}

/**
 * An id as it goes into a key column: strings as they are, numbers as written (give it the
 * exact parse: a LosslessNumber keeps 9007199254740993 and 1.0), anything else refused.
 */
export function idToString (v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v
  return numberText(v)
}
