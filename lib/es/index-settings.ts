import { isLosslessNumber } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'

/**
 * Settings the engine gives an index when it creates it, which `GET /NAME/_settings` prints and
 * the create index API refuses to be given ("unknown setting", "private index setting … can not
 * be set explicitly"): its identity, its birth, the version that wrote it, and what a resize,
 * shrink or close left in it, and the data tier Elasticsearch routes a new index to by itself
 * (`_tier_preference`: a node attribute OpenSearch's nodes lack). A name ending in `.` covers
 * every setting under it.
 */
export const ENGINE_OWN_SETTINGS: readonly string[] = [
  'index.uuid',
  'index.creation_date',
  'index.creation_date_string',
  'index.provided_name',
  'index.version.',
  'index.resize.source.',
  'index.shrink.source.',
  'index.routing.allocation.initial_recovery.',
  'index.routing.allocation.include._tier_preference',
  'index.verified_before_close'
]

/** A setting's full name: settings may leave out the `index.` prefix. */
export function fullSettingName (name: string): string {
  return name.startsWith('index.') ? name : `index.${name}`
}

/** Whether the create index API refuses to be given this setting (full or short name). */
export function isEngineOwnSetting (name: string): boolean {
  const full = fullSettingName(name)
  return ENGINE_OWN_SETTINGS.some((s) => s.endsWith('.') ? full.startsWith(s) : full === s)
}

/**
 * `settings` (nested, flat as `?flat_settings=true` prints them, or both) without what the
 * create index API refuses, and the full names of what was left out, in the order met. An
 * object emptied by it goes too. Values are kept as they are (exact numbers stay exact).
 */
export function creatableSettings (settings: JsonObject): { settings: JsonObject, dropped: string[] } {
  const dropped: string[] = []
  const walk = (obj: JsonObject, prefix: string): JsonObject => {
    const out: JsonObject = {}
    for (const [key, value] of Object.entries(obj)) {
      const name = prefix === '' ? key : `${prefix}.${key}`
      // An exact number (parseExact's LosslessNumber) is an object too, but a value.
      if (isJsonObject(value) && !isLosslessNumber(value)) {
        const kept = walk(value, name)
        if (Object.keys(kept).length > 0 || Object.keys(value).length === 0) out[key] = kept
      } else if (isEngineOwnSetting(name)) {
        dropped.push(fullSettingName(name))
      } else {
        out[key] = value
      }
    }
    return out
  }
  return { settings: walk(settings, ''), dropped }
}
