import { EspipeError } from './errors.js'
import { parseExact, stringifyExact } from './json.js'
import type { RawObject } from './raw-json.js'
import { scanObject } from './raw-json.js'

/**
 * A record's place in its read, carried on the pipe so that the last writer can say what it
 * committed (CONTRACT.md §6): `"_pos":"STREAM:N:AFTER"`, where STREAM is the reader's stream (its
 * slice), N how many records that stream has emitted up to this one (over all runs), and AFTER
 * the connector's cursor as JSON text (sort values, key values, a byte offset). A string, so
 * that jq passes it through unchanged whatever its filter does to numbers; reserved: writers
 * never write it into a table, an index or a file.
 */
export const POSITION_KEY = '_pos'

export interface RecordPosition {
  stream: number
  n: number
  /** The cursor, as JSON text. */
  after: string
}

/** The value of `_pos`. */
export function positionText (stream: number, n: number, after: string): string {
  return `${stream}:${n}:${after}`
}

/** `,"_pos":"…"`: the member as it is appended to a record's object, before its closing brace. */
export function positionMember (stream: number, n: number, after: string): string {
  return `,"${POSITION_KEY}":${JSON.stringify(positionText(stream, n, after))}`
}

/** The position in a `_pos` value, or undefined when it is not one. */
export function parsePosition (text: string): RecordPosition | undefined {
  const a = text.indexOf(':')
  const b = a < 0 ? -1 : text.indexOf(':', a + 1)
  if (b < 0) return undefined
  const stream = Number(text.slice(0, a))
  const n = Number(text.slice(a + 1, b))
  if (!Number.isSafeInteger(stream) || stream < 0 || !Number.isSafeInteger(n) || n < 1) return undefined
  return { stream, n, after: text.slice(b + 1) }
}

/** The record's position, read from its scanned members or its parsed value; undefined when it carries none. */
export function recordPosition (raw: RawObject | undefined, value: Record<string, unknown> | undefined): RecordPosition | undefined {
  // A member that is there but not a string (a number, null) is a bad position, not a missing one.
  const member = raw?.member(POSITION_KEY)
  const text = raw !== undefined ? (member === undefined ? undefined : raw.string(POSITION_KEY) ?? raw.text.slice(member[0], member[1])) : value?.[POSITION_KEY]
  if (text === undefined) return undefined
  const isString = raw !== undefined ? raw.string(POSITION_KEY) !== undefined : typeof text === 'string'
  const pos = isString && typeof text === 'string' ? parsePosition(text) : undefined
  const shown = raw !== undefined && !isString ? String(text) : JSON.stringify(text)
  if (pos === undefined) throw new EspipeError('RECORD_BAD_POSITION', `its ${POSITION_KEY} member is not a position espipe wrote (${shown.slice(0, 80)}); it is reserved for the reader's checkpoint positions`)
  return pos
}

/**
 * A record's line without its position (writers never write `_pos`): cut from the text when
 * the line scans (see scanObject), else written again exactly without it. The line itself when
 * it has none.
 */
export function withoutPosition (text: string, raw?: RawObject): string {
  if (!text.includes(`"${POSITION_KEY}"`)) return text
  const scanned = raw ?? scanObject(text)
  if (scanned !== undefined) return scanned.without(POSITION_KEY)
  const value = parseExact(text) as Record<string, unknown>
  if (value === null || typeof value !== 'object' || !(POSITION_KEY in value)) return text
  delete value[POSITION_KEY]
  return stringifyExact(value)
}
