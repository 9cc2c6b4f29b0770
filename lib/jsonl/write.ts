import type { Transform } from 'node:stream'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import type { LineMapper } from '../core/ndjson.js'
import { ParsedLine, toNdjson } from '../core/ndjson.js'
import { compilePath, idToString, isJsonObject, jsonKind } from '../core/record.js'

export type JsonlShape = 'raw' | 'envelope' | 'flat'
export const JSONL_SHAPES: readonly JsonlShape[] = ['raw', 'envelope', 'flat']

export interface JsonlWriteOptions {
  /** raw: the record as it came; envelope: `{"id","content"}`; flat: `{"id", ...content}`. */
  shape?: JsonlShape
  idField?: string
  contentField?: string
  /** Skip a repeated id (the first wins). Keeps every id seen in memory. */
  dedupe?: boolean
  context?: StageContext
}

/**
 * Records in (parsed lines or plain objects), JSON Lines bytes out, shaped as asked.
 * Pipe it into a file sink or stdout.
 */
export function jsonlWrite (opts: JsonlWriteOptions = {}): Transform {
  const ctx = opts.context ?? createContext({ tool: 'jsonl-write', counters: ['read', 'written', ['skipped', 'duplicate id']] })
  const shape = opts.shape ?? 'raw'
  const getId = compilePath(opts.idField ?? '_id')
  const getContent = compilePath(opts.contentField ?? '_source')
  const needsId = shape !== 'raw' || opts.dedupe === true
  const seen = opts.dedupe === true ? new Set<string>() : undefined

  const map: LineMapper = (chunk) => {
    const parsed = chunk instanceof ParsedLine ? chunk : undefined
    const value = parsed?.value ?? chunk
    // Parsed lines were counted by the parser; objects handed in by code are counted here.
    if (parsed === undefined) ctx.stats.add('read')
    const fail = (code: string, message: string): undefined => {
      ctx.failures.fail({ record: parsed?.text ?? value, line: parsed?.line, code, message, context: { file: parsed?.file } })
      return undefined
    }
    if (!isJsonObject(value)) return fail('RECORD_NOT_OBJECT', 'record is not a JSON object')
    let id: string | undefined
    if (needsId) {
      id = idToString(getId(value))
      if (id === undefined) return fail('RECORD_MISSING_ID', `record has no id at '${opts.idField ?? '_id'}'`)
      if (seen !== undefined) {
        if (seen.has(id)) { ctx.stats.add('skipped'); return undefined }
        seen.add(id)
      }
    }
    let line: string
    if (shape === 'raw') {
      line = parsed?.text ?? JSON.stringify(value)
    } else {
      const content = getContent(value)
      if (content === undefined) return fail('RECORD_MISSING_CONTENT', `record has no content at '${opts.contentField ?? '_source'}'`)
      if (shape === 'envelope') {
        line = JSON.stringify({ id, content })
      } else {
        if (!isJsonObject(content)) return fail('RECORD_CONTENT_NOT_OBJECT', `content at '${opts.contentField ?? '_source'}' is ${jsonKind(content)}, not an object, so it can't be flattened`)
        // The record's id wins over an `id` key inside the content, and stays the first key.
        line = JSON.stringify(Object.assign({ id }, content, { id }))
      }
    }
    ctx.stats.add('written')
    return line
  }
  return toNdjson(map)
}
