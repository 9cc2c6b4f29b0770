import { Transform } from 'node:stream'
import { OpApplier } from '../core/apply-ops.js'
import { doneWhen } from '../core/callback.js'
import { UsageError } from '../core/errors.js'
import { isOpProblem, recordOp } from '../core/operation.js'
import { RecordFields } from '../core/record-fields.js'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import { stringifyExact } from '../core/json.js'
import type { WriteLedger } from '../core/ledger.js'
import type { LineMapper } from '../core/ndjson.js'
import { ParsedLine, recordId, toNdjson } from '../core/ndjson.js'
import type { JsonObject, PathGetter } from '../core/record.js'
import type { OrderedAcks } from '../core/checkpoint-writer.js'
import { POSITION_KEY, withoutPosition } from '../core/position.js'
import { RECORD_FIELDS, compilePath, isJsonObject, jsonKind } from '../core/record.js'

export type JsonlShape = 'raw' | 'envelope' | 'flat'
export const JSONL_SHAPES: readonly JsonlShape[] = ['raw', 'envelope', 'flat']
/** `deleted` and `not found` count what --apply-ops did with records that carry `_op` (shown once they count one). */
export const JSONL_WRITE_COUNTERS: Array<string | [string, string]> = ['read', 'written', 'deleted', 'not found', ['skipped', 'duplicate id']]

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
  /**
   * Write the end state of the records' operations (`_op`) instead of the records: one record
   * per id that holds one at the end, in id order, its updates merged; ids are sorted through
   * temporary files, not held in memory (see OpApplier).
   */
  applyOps?: boolean
  /** Where --apply-ops spills its sorted runs (default: the OS temporary directory). */
  tmpdir?: string
  /** Bytes of records per sorted run (default 8 MiB). */
  sortRunBytes?: number
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
  ctx.stats.showOnceCounted('deleted', 'not found')
  if (opts.applyOps === true) return applyingWrite(opts, ctx, { idField, contentField, getId, getContent, shape })

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

interface Shaping {
  idField: string
  contentField: string
  getId: PathGetter
  getContent: PathGetter
  shape: JsonlShape
}

const CHUNK = 64 * 1024

/**
 * --apply-ops: records are checked and handed to the OpApplier as they come; at the end of
 * input each id's end state is written in the shape asked, in chunks, waiting for the reader
 * of the output (the end state can be larger than memory too).
 */
function applyingWrite (opts: JsonlWriteOptions, ctx: StageContext, sh: Shaping): Transform {
  if (opts.dedupe === true) throw new UsageError('--apply-ops already writes each id once (its end state): it cannot be combined with --dedupe')
  if (opts.acks !== undefined) throw new UsageError('--apply-ops writes the file only once the input has ended, so nothing could be acknowledged as it goes: it cannot be combined with --checkpoint')
  const fields = new RecordFields(sh.idField, sh.contentField)
  if (fields.contentKey === undefined) throw new UsageError(`--apply-ops merges updates into a top-level --content-field or the whole record (.), not ${sh.contentField}`)
  const applier = new OpApplier({ fields, tmpdir: opts.tmpdir, runBytes: opts.sortRunBytes, prefix: 'jsonl-write-' })
  let wake: (() => void) | undefined
  const stream = new Transform({
    writableObjectMode: true,
    writableHighWaterMark: 256,
    transform (chunk: unknown, _enc, done) {
      const parsed = chunk instanceof ParsedLine ? chunk : undefined
      if (parsed === undefined) ctx.stats.add('read')
      const fail = (code: string, message: string, id?: string): void => {
        ctx.failures.fail({ record: parsed?.text ?? chunk, line: parsed?.line, code, message, context: { file: parsed?.file, _id: id } })
        done()
      }
      let waiting: Promise<void> | undefined
      try {
        const value = parsed?.value ?? chunk
        if (!isJsonObject(value)) { fail('RECORD_NOT_OBJECT', 'record is not a JSON object'); return }
        const id = recordId(parsed ?? value, sh.getId)
        const op = recordOp(parsed?.raw, parsed?.raw === undefined ? value : undefined)
        if (isOpProblem(op)) { fail(op.code, op.message, id); return }
        if (id === undefined) { fail('RECORD_MISSING_ID', `record has no id at '${sh.idField}' (--apply-ops finds each id's records by it)`); return }
        if (op !== 'delete') {
          const content = sh.getContent(value)
          if (content === undefined) { fail('RECORD_MISSING_CONTENT', `record has no content at '${sh.contentField}'`, id); return }
          if ((op === 'update' || op === 'upsert') && !isJsonObject(content)) { fail('RECORD_CONTENT_NOT_OBJECT', `content at '${sh.contentField}' is ${jsonKind(content)}, not an object, so there is nothing to merge (_op ${op})`, id); return }
        }
        waiting = applier.add(id, parsed?.text ?? stringifyExact(value), parsed?.line, parsed?.file)
      } catch (err) {
        done(err as Error)
        return
      }
      doneWhen(waiting, done)
    },
    flush (done) {
      write().then(async () => { await applier.dispose(); done() }, async (err: unknown) => { await applier.dispose(); done(err as Error) })
    },
    destroy (err, done) {
      wake?.()
      applier.dispose().then(() => { done(err) }, () => { done(err) })
    }
  })
  // The output's reader asks for more: a chunk held back for it may go.
  const read = stream._read.bind(stream)
  stream._read = (size: number) => { read(size); const w = wake; wake = undefined; w?.() }

  const push = async (text: string, records: number): Promise<void> => {
    if (stream.destroyed) return
    const bytes = Buffer.from(text, 'utf8')
    opts.ledger?.handed(bytes.length, records)
    if (opts.ledger === undefined) ctx.stats.add('written', records)
    if (!stream.push(bytes)) await new Promise<void>((resolve) => { wake = resolve })
  }

  async function write (): Promise<void> {
    let text = ''
    let records = 0
    for await (const r of applier.results()) {
      if (stream.destroyed) return
      const line = shaped(r.value, r.id)
      if (line === undefined) continue
      text += line + '\n'
      records++
      if (text.length >= CHUNK) { await push(text, records); text = ''; records = 0 }
    }
    if (text !== '') await push(text, records)
    const { deleted, notFound, skipped } = applier.counts
    if (deleted > 0) ctx.stats.add('deleted', deleted)
    if (notFound > 0) ctx.stats.add('not found', notFound)
    if (skipped > 0) ctx.stats.add('skipped', skipped)
  }

  /** An end-state record as a line of the shape asked (raw: the record itself). */
  function shaped (value: JsonObject, id: string): string | undefined {
    if (sh.shape === 'raw') return stringifyExact(value)
    const content = sh.getContent(value)
    if (sh.shape === 'envelope') return stringifyExact({ id, content })
    if (!isJsonObject(content)) {
      ctx.failures.fail({ record: value, code: 'RECORD_CONTENT_NOT_OBJECT', message: `content at '${sh.contentField}' is ${jsonKind(content)}, not an object, so it can't be flattened`, context: { _id: id } })
      return undefined
    }
    return stringifyExact(flatten(id, content))
  }
  return stream
}
