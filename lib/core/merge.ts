import type { JsonObject } from './record.js'
import { isJsonObject } from './record.js'

/**
 * A partial document merged into a stored one as Elasticsearch merges an update's `doc`: key by
 * key, an object into an object recursively, anything else (an array, null, a value where an
 * object was) replaced. Keys keep their place; new ones come after. Values are taken as they
 * are (give it exact parses: json.ts), so numbers keep every digit. Neither input is changed.
 */
export function mergeDocument (base: JsonObject, partial: JsonObject): JsonObject {
  // No prototype: a "__proto__" key stays a key.
  const out = Object.create(null) as JsonObject
  for (const k of Object.keys(base)) out[k] = base[k]
  for (const k of Object.keys(partial)) {
    const old = out[k]
    const v = partial[k]
    out[k] = isJsonObject(old) && isJsonObject(v) && !isNumberObject(old) && !isNumberObject(v) ? mergeDocument(old, v) : v
  }
  return out
}

/** A LosslessNumber is an object to isJsonObject: it is a value, not a document. */
function isNumberObject (v: JsonObject): boolean {
  return (v as { isLosslessNumber?: unknown }).isLosslessNumber === true
}
