import { parseExact, stringifyExact } from './json.js'
import { POSITION_KEY } from './position.js'
import type { RawObject } from './raw-json.js'
import { scanObject } from './raw-json.js'
import type { JsonObject } from './record.js'
import { isJsonObject, jsonKind } from './record.js'

/**
 * What a record asks to be done with it, as Elasticsearch's bulk actions say it: the reserved
 * top-level member `"_op"`. A record without one is written as the writer's option says
 * (es-write --op, mysql-write --mode); rec-diff's repairs, mysql-read --deleted-column and the
 * binary log reader put it there. Reserved like `_pos`: a writer reads it and never writes it
 * into a document, a row or a column; a file writer keeps it on the record so the file replays.
 */
export const OP_KEY = '_op'

/**
 * index: the record replaces what the id holds (or is added); create: added unless the id
 * exists (then skipped); update: merged into what the id holds (not found when it holds
 * nothing); upsert: merged, or added when the id holds nothing; delete: the id removed (not
 * found when it holds nothing); a delete needs the id only.
 */
export type RecordOp = 'index' | 'create' | 'update' | 'upsert' | 'delete'
export const RECORD_OPS: readonly RecordOp[] = ['index', 'create', 'update', 'upsert', 'delete']

/** The reserved members writers take from a record and never write into what they store. */
export const RESERVED_KEYS: readonly string[] = [POSITION_KEY, OP_KEY]

/** Why a record's `_op` cannot be obeyed: the record is bad (dead-lettered with this). */
export interface OpProblem {
  code: 'RECORD_BAD_OP'
  message: string
}

export function isOpProblem (v: RecordOp | OpProblem | undefined): v is OpProblem {
  return typeof v === 'object'
}

function problem (shown: string): OpProblem {
  return { code: 'RECORD_BAD_OP', message: `its ${OP_KEY} is ${shown.length > 60 ? shown.slice(0, 60) + '…' : shown}, not an operation (${RECORD_OPS.join(', ')})` }
}

function opOf (v: unknown): RecordOp | OpProblem {
  if (typeof v === 'string' && (RECORD_OPS as readonly string[]).includes(v)) return v as RecordOp
  return problem(typeof v === 'string' ? JSON.stringify(v) : jsonKind(v))
}

/**
 * The operation a record carries: read from its scanned members (a scanned line) or its parsed
 * value; undefined when it has no `_op`; an OpProblem when `_op` is not one of RECORD_OPS
 * (written exactly so: `"Delete"`, `null` or `1` are not operations).
 */
export function recordOp (raw: RawObject | undefined, value: JsonObject | undefined): RecordOp | OpProblem | undefined {
  if (raw !== undefined) {
    const range = raw.member(OP_KEY)
    if (range === undefined) return undefined
    const text = raw.text.slice(range[0], range[1])
    const s = raw.string(OP_KEY)
    return s === undefined ? problem(text) : opOf(s)
  }
  if (value === undefined || !(OP_KEY in value)) return undefined
  return opOf(value[OP_KEY])
}

/** Whether an operation writes a document (all but delete, which needs the id alone). */
export function writesContent (op: RecordOp): boolean {
  return op !== 'delete'
}

/**
 * A record's line without its reserved members (`_pos`, `_op`), for a writer whose document is
 * the whole record: cut from the text when the line scans (every other byte kept), else written
 * again exactly without them. The line itself when it has none.
 */
export function withoutReserved (text: string, raw?: RawObject): string {
  if (!RESERVED_KEYS.some((k) => text.includes(`"${k}"`))) return text
  const scanned = raw ?? scanObject(text)
  if (scanned !== undefined) return scanned.withoutAll(RESERVED_KEYS)
  const value = parseExact(text)
  if (!isJsonObject(value) || !RESERVED_KEYS.some((k) => k in value)) return text
  for (const k of RESERVED_KEYS) delete value[k]
  return stringifyExact(value)
}

/** An object without the reserved members (a copy when it has any). */
export function withoutReservedKeys (value: JsonObject): JsonObject {
  if (!RESERVED_KEYS.some((k) => k in value)) return value
  const out = Object.create(null) as JsonObject
  for (const k of Object.keys(value)) if (!RESERVED_KEYS.includes(k)) out[k] = value[k]
  return out
}
