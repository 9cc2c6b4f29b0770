import { EspipeError } from '../core/errors.js'
import { isLosslessNumber, parseExact, stringifyExact } from '../core/json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'
import { fullSettingName } from './index-settings.js'

/**
 * What an index is made of besides its documents: one line of `es-read --schema`, the input of
 * `es-write --schema`, and the interface with the SQL connectors' schema lines:
 * `{"_index":…,"mappings":{…},"settings":{…},"aliases":{…}}`, settings flat as
 * `?flat_settings=true` prints them (`"index.number_of_shards":"1"`), numbers exact.
 */
export interface IndexSchema {
  index: string
  mappings: JsonObject
  /** Flat full names (`index.…`) → values as the engine printed them. */
  settings: JsonObject
  aliases: JsonObject
}

export function formatSchemaLine (s: IndexSchema): string {
  return `{"_index":${JSON.stringify(s.index)},"mappings":${stringifyExact(s.mappings)},"settings":${stringifyExact(s.settings)},"aliases":${stringifyExact(s.aliases)}}`
}

/**
 * Settings flat, under their full names: nested objects (`{"index":{"refresh_interval":"1s"}}`)
 * joined with dots, short names given the `index.` prefix. Arrays and exact numbers are values.
 */
export function flatSettings (settings: JsonObject): JsonObject {
  const out: JsonObject = {}
  const walk = (obj: JsonObject, prefix: string): void => {
    for (const [key, value] of Object.entries(obj)) {
      const name = prefix === '' ? key : `${prefix}.${key}`
      if (isJsonObject(value) && !isLosslessNumber(value)) walk(value, name)
      else out[fullSettingName(name)] = value
    }
  }
  walk(settings, '')
  return out
}

/** A schema line's refusal: its line number and what is wrong, in one line. */
function badLine (where: string, line: number, why: string): EspipeError {
  return new EspipeError('ES_SCHEMA_BAD_LINE', `${where} line ${line}: ${why}; a schema line is {"_index":…,"mappings":{…},"settings":{…},"aliases":{…}} as es-read --schema prints it`, { context: { line } })
}

/**
 * The schema lines of `text` (NDJSON; blank lines skipped). Settings may come nested or flat
 * and are returned flat; mappings, settings and aliases may be left out (then empty). A line
 * with anything else, or naming an index twice, is refused: it is not what es-read printed.
 */
export function parseSchemaLines (text: string, where: string): IndexSchema[] {
  const out: IndexSchema[] = []
  const seen = new Set<string>()
  const lines = text.split('\n')
  for (const [i, raw] of lines.entries()) {
    const line = i + 1
    if (raw.trim() === '') continue
    let v: unknown
    try {
      v = parseExact(raw)
    } catch (err) {
      throw badLine(where, line, `not JSON (${(err as Error).message})`)
    }
    if (!isJsonObject(v)) throw badLine(where, line, 'not a JSON object')
    const extra = Object.keys(v).filter((k) => !['_index', 'mappings', 'settings', 'aliases'].includes(k))
    if (extra.length > 0) throw badLine(where, line, `unknown member ${extra.map((k) => JSON.stringify(k)).join(', ')}${'_source' in v ? ' (a document, not a schema line)' : ''}`)
    const index = v._index
    if (typeof index !== 'string' || index === '') throw badLine(where, line, '"_index" must be a non-empty string')
    if (seen.has(index)) throw badLine(where, line, `index ${index} is named a second time`)
    seen.add(index)
    const part = (key: 'mappings' | 'settings' | 'aliases'): JsonObject => {
      const p = v[key] ?? {}
      if (!isJsonObject(p) || isLosslessNumber(p)) throw badLine(where, line, `"${key}" must be a JSON object`)
      return p
    }
    out.push({ index, mappings: part('mappings'), settings: flatSettings(part('settings')), aliases: part('aliases') })
  }
  return out
}
