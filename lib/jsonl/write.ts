import type { Transform } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import { stringifyExact } from '../core/json.js'
import type { WriteLedger } from '../core/ledger.js'
import type { LineMapper } from '../core/ndjson.js'
import { ParsedLine, recordId, toNdjson } from '../core/ndjson.js'
import type { JsonObject } from '../core/record.js'
import type { OrderedAcks } from '../core/checkpoint-writer.js'
import { POSITION_KEY, withoutPosition } from '../core/position.js'
import { RECORD_FIELDS, compilePath, isJsonObject, jsonKind } from '../core/record.js'

export type JsonlShape = 'raw' | 'envelope' | 'flat'
export const JSONL_SHAPES: readonly JsonlShape[] = ['raw', 'envelope', 'flat']
export const JSONL_WRITE_COUNTERS: Array<string | [string, string]> = ['read', 'written', ['skipped', 'duplicate id']]

/** What jsonlWrite does unless told; jsonl-write's options show these. */
export const JSONL_WRITE_DEFAULTS = { shape: 'raw' as JsonlShape, ...RECORD_FIELDS }

export interface JsonlWriteOptions {
  /** raw: the record as it came; envelope: `{"id","content"}`; flat: `{"id", ...content}`. */
  shape?: JsonlShape
  idField?: string
  contentField?: string
  /** Skip a repeated id (the first wins). Keeps every id seen in memory. */
  dedupe?: boolean
  /**
   * Counts `written` as the sink confirms the bytes (fileSink / ledgerSink with the same
   * ledger); without one, a record counts as written when it is handed on.
   */
  ledger?: WriteLedger
  /** With --checkpoint: each record's ticket, settled once its bytes are committed (see OrderedAcks). */
  acks?: OrderedAcks
  /** Ids written by the runs this one continues (--dedupe with --checkpoint). */
  seen?: Iterable<string>
  context?: StageContext
}

/** `{"id": id, ...content}` with the record's id first, winning over an `id` inside the content. */
function flatten (id: string, content: JsonObject): JsonObject {
  // No prototype: a "__proto__" key in the content stays a key.
  const flat = Object.create(null) as JsonObject
  flat.id = id
  for (const k of Object.keys(content)) if (k !== 'id') flat[k] = content[k]
  return flat
}

/**
 * Records in (parsed lines or plain objects), JSON Lines bytes out, shaped as asked.
 * Pipe it into a file sink or stdout. Every number keeps the digits it was written with; a
 * key given twice in one object keeps its last value when a record is reshaped (raw lines
 * are copied byte for byte).
 */
export function jsonlWrite (opts: JsonlWriteOptions = {}): Transform {
  const ctx = opts.context ?? createContext({ tool: 'jsonl-write', counters: JSONL_WRITE_COUNTERS })
  const shape = opts.shape ?? JSONL_WRITE_DEFAULTS.shape
  const idField = opts.idField ?? JSONL_WRITE_DEFAULTS.idField
  const contentField = opts.contentField ?? JSONL_WRITE_DEFAULTS.contentField
  const getId = compilePath(idField)
  const getContent = compilePath(contentField)
  const needsId = shape !== 'raw' || opts.dedupe === true
  const seen = opts.dedupe === true ? new Set<string>(opts.seen) : undefined
  const acks = opts.acks
  // The whole record is the content: its checkpoint position is not part of it.
  const whole = contentField === '.' || contentField === ''

  const map: LineMapper = (chunk) => {
    const parsed = chunk instanceof ParsedLine ? chunk : undefined
    // Parsed lines were counted by the parser; objects handed in by code are counted here.
    if (parsed === undefined) ctx.stats.add('read')
    const ticket = acks?.take(parsed?.raw, parsed?.raw === undefined ? (parsed?.value ?? chunk) as JsonObject : undefined, parsed === undefined ? 'a record' : `line ${parsed.line}`)
    const fail = (code: string, message: string): undefined => {
      ctx.failures.fail({ record: parsed?.text ?? chunk, line: parsed?.line, code, message, context: { file: parsed?.file } })
      if (ticket !== undefined) acks?.done(ticket)
      return undefined
    }
    const out = (line: string): string => {
      if (opts.ledger === undefined) ctx.stats.add('written')
      if (ticket !== undefined) acks?.written(ticket)
      return line
    }
    // A scanned line (ParsedLine.raw) is an object already, and a raw-shape line is written as
    // its text (without a checkpoint position): its value is parsed only when a shape or
    // --dedupe needs it.
    if (parsed?.raw !== undefined && shape === 'raw' && !needsId) return out(parsed.raw.without(POSITION_KEY))
    const value = parsed?.value ?? chunk
    if (!isJsonObject(value)) return fail('RECORD_NOT_OBJECT', 'record is not a JSON object')
    let id: string | undefined
    if (needsId) {
      id = recordId(parsed ?? value, getId)
      if (id === undefined) return fail('RECORD_MISSING_ID', `record has no id at '${idField}'`)
      if (seen !== undefined) {
        if (seen.has(id)) {
          ctx.stats.add('skipped')
          if (ticket !== undefined) acks?.done(ticket)
          return undefined
        }
        seen.add(id)
      }
    }
    let line: string
    if (shape === 'raw') {
      line = withoutPosition(parsed?.text ?? stringifyExact(value), parsed?.raw)
    } else {
      let content = getContent(parsed?.exact ?? value)
      if (whole && isJsonObject(content) && POSITION_KEY in content) {
        const { [POSITION_KEY]: _pos, ...rest } = content
        content = rest
      }
      if (content === undefined) return fail('RECORD_MISSING_CONTENT', `record has no content at '${contentField}'`)
      if (shape === 'envelope') {
        line = stringifyExact({ id, content })
      } else {
        if (!isJsonObject(content)) return fail('RECORD_CONTENT_NOT_OBJECT', `content at '${contentField}' is ${jsonKind(content)}, not an object, so it can't be flattened`)
        line = stringifyExact(flatten(id as string, content))
      }
    }
    return out(line)
  }
  return toNdjson(map, opts.ledger)
}
