import { UsageError } from '../core/errors.js'
import { keysMatch, numberText, parseExact, stringifyExact } from '../core/json.js'
import { ParsedLine, rawIdAt, recordId } from '../core/ndjson.js'
import type { RawObject } from '../core/raw-json.js'
import { rawMemberRange, stringToken } from '../core/raw-json.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject, jsonKind } from '../core/record.js'
import { RecordFields } from '../core/record-fields.js'
import type { RecordOp } from '../core/operation.js'
import { RECORD_OPS, RESERVED_KEYS, isOpProblem, recordOp, withoutReserved } from '../core/operation.js'

/** How each record is written: the _bulk action, and `upsert` as an update with doc_as_upsert. */
export type BulkOp = RecordOp
export const BULK_OPS: readonly BulkOp[] = RECORD_OPS

/** One record as it goes into a _bulk body, with what the writer needs to account for it. */
export interface BulkItem {
  /** What the record asked for (its `_op`), or the writer's --op. */
  readonly op: BulkOp
  /** The action/metadata line, without its newline. */
  readonly action: string
  /** The document line (none for delete), without its newline. */
  readonly doc: string | undefined
  /** UTF-8 bytes of both lines and their newlines. */
  readonly bytes: number
  readonly index: string
  readonly id: string | undefined
  /** index, id and routing: two items with the same key must reach the server in input order. */
  readonly key: string | undefined
  /** The record as it came (its line), for the dead-letter file. */
  readonly record: string
  readonly line?: number
  readonly file?: string
  /** Its ticket with the checkpoint's writer (see WriterCheckpoint), when one acknowledges records. */
  ticket?: number
  /** Item-level retries spent (429, 5xx of this item alone). */
  attempts: number
  /** A request holding this item failed after it was sent: it may already be written. */
  ambiguous: boolean
}

/** A record that cannot become a bulk item, with why. */
export interface RecordProblem {
  code: string
  message: string
  id?: string
}

export interface ItemOptions {
  /** The operation of a record without `_op`. */
  op: BulkOp
  /** Target index for every record; otherwise each record's `_index`. */
  index?: string
  /** Where the id is (default `_id`); none → Elasticsearch assigns one (index and create only). */
  idField?: string
  /** Where the document is (default `_source`; `.` is the whole record). */
  contentField?: string
}

const ES_ACTION: Record<BulkOp, string> = { index: 'index', create: 'create', update: 'update', upsert: 'update', delete: 'delete' }

/** Updates race with other writers on the same document: let the server retry those itself. */
const RETRY_ON_CONFLICT = 3

/**
 * Turns records into bulk items. The document goes out as the bytes it had in the input line
 * (a top-level member is cut from the line; anything else, and a line with a key given twice,
 * is re-serialised exactly), so numbers keep every digit. A record's `_op` picks its action
 * over the writer's op. Returns a RecordProblem for a record that cannot be written.
 */
export class ItemBuilder {
  readonly op: BulkOp
  private readonly fields: RecordFields
  private readonly fixedIndex: string | undefined
  /** Records without an id seen so far (the writer warns about the first). */
  withoutId = 0

  constructor (o: ItemOptions) {
    if (!BULK_OPS.includes(o.op)) throw new UsageError(`invalid value for --op: '${String(o.op)}' (choose ${BULK_OPS.join(', ')})`)
    if (o.index !== undefined && o.index === '') throw new UsageError('option --index needs a value')
    this.op = o.op
    this.fixedIndex = o.index
    this.fields = new RecordFields(o.idField, o.contentField)
  }

  build (record: ParsedLine | JsonObject): BulkItem | RecordProblem {
    const parsed = record instanceof ParsedLine ? record : undefined
    if (parsed?.raw !== undefined) {
      const item = this.buildRaw(parsed, parsed.raw)
      if (item !== undefined) return item
    }
    const value = parsed?.value ?? record as JsonObject
    const text = parsed?.text ?? stringifyExact(value)
    // Every digit of a number: the line parsed again, exactly, only when a value is taken from it.
    const exact = (): JsonObject => parsed?.exact ?? value
    const asked = recordOp(undefined, value)
    if (isOpProblem(asked)) return { code: asked.code, message: asked.message, id: recordId(record, this.fields.getId) }
    const op = asked ?? this.op

    const index = this.fixedIndex ?? value._index
    if (typeof index !== 'string' || index === '') {
      const message = index === undefined
        ? 'record has no _index, and no --index was given'
        : index === '' ? "record's _index is empty: give it an index name, or give --index" : `record's _index is ${jsonKind(index)}, not an index name`
      return { code: 'RECORD_MISSING_INDEX', message }
    }

    const rawId = this.fields.getId(value)
    let id: string | undefined
    if (typeof rawId === 'string') {
      if (rawId === '') return { code: 'RECORD_EMPTY_ID', message: `record's id at '${this.fields.idPath}' is empty (Elasticsearch refuses empty ids)` }
      id = rawId
    } else if (typeof rawId === 'number') {
      id = recordId(record, this.fields.getId)
    } else if (rawId !== undefined && rawId !== null) {
      return { code: 'RECORD_BAD_ID', message: `record's id at '${this.fields.idPath}' is ${jsonKind(rawId)}, not a string or number` }
    }
    if (id === undefined) {
      if (op !== 'index' && op !== 'create') return { code: 'RECORD_MISSING_ID', message: `record has no id at '${this.fields.idPath}' (${asked === undefined ? '--op' : 'its _op'} ${op} needs one)` }
      this.withoutId++
    }

    let routing: string | undefined
    const rawRouting = value._routing
    if (typeof rawRouting === 'string') routing = rawRouting
    else if (typeof rawRouting === 'number') routing = numberText(exact()._routing)
    else if (rawRouting !== undefined && rawRouting !== null) return { code: 'RECORD_BAD_ROUTING', message: `record's _routing is ${jsonKind(rawRouting)}, not a string`, id }

    let doc: string | undefined
    if (op !== 'delete') {
      const content = this.fields.getContent(value)
      if (content === undefined) return { code: 'RECORD_MISSING_CONTENT', message: `record has no document at '${this.fields.contentPath}'`, id }
      if (!isJsonObject(content)) return { code: 'RECORD_CONTENT_NOT_OBJECT', message: `the document at '${this.fields.contentPath}' is ${jsonKind(content)}; Elasticsearch documents are objects`, id }
      // The document's bytes as they came, unless some object in the line has a key twice: the
      // engines refuse that (Duplicate field), and our rule for every writer is that the last one
      // wins, so the document is then written once, with the last value of each key.
      let range: [number, number] | undefined
      if (parsed !== undefined && this.fields.contentKey !== undefined) {
        range = this.fields.contentKey === '' ? [0, text.length] : rawMemberRange(text, value, this.fields.contentKey)
        if (range !== undefined && !keysMatch(text, value)) range = undefined
      }
      let source = range !== undefined ? text.slice(range[0], range[1]) : stringifyExact(this.fields.getContent(exact()))
      // The whole record is the document: its position and operation are not part of it.
      if (this.fields.contentKey === '') source = withoutReserved(source)
      doc = op === 'update' ? `{"doc":${source}}` : op === 'upsert' ? `{"doc":${source},"doc_as_upsert":true}` : source
    }

    return this.item(op, index, id, routing, doc, text, parsed)
  }

  /**
   * build() for a scanned line (ParsedLine.raw): index, id, routing and document read from the
   * text, never parsed. Undefined for anything but the plain case (a member that is not where
   * or what it should be), which build() then handles, and words, from the parsed line.
   */
  private buildRaw (parsed: ParsedLine, raw: RawObject): BulkItem | undefined {
    if (this.fields.idKey === undefined || this.fields.contentKey === undefined) return undefined
    const text = parsed.text
    const asked = recordOp(raw, undefined)
    // A bad _op is build()'s to word.
    if (isOpProblem(asked)) return undefined
    const op = asked ?? this.op
    const index = this.fixedIndex ?? raw.string('_index')
    if (index === undefined || index === '') return undefined
    let id: string | undefined
    const idRange = raw.member(this.fields.idKey)
    if (idRange !== undefined) {
      // A string or a number; an empty string, null or anything else is build()'s to judge.
      id = rawIdAt(text, idRange)
      if (id === undefined) return undefined
    } else if (op !== 'index' && op !== 'create') return undefined
    let routing: string | undefined
    const routingRange = raw.member('_routing')
    if (routingRange !== undefined) {
      // Any string, even an empty one, or a number as written.
      routing = text.charCodeAt(routingRange[0]) === 0x22 /* " */ ? stringToken(text, routingRange[0], routingRange[1]) : rawIdAt(text, routingRange)
      if (routing === undefined) return undefined
    }
    let doc: string | undefined
    if (op !== 'delete') {
      // A scanned line has no key twice at any depth: its bytes are the document as parsed.
      const range = this.fields.contentKey === '' ? [0, text.length] : raw.member(this.fields.contentKey)
      if (range === undefined || text.charCodeAt(range[0]) !== 0x7b /* { */) return undefined
      const source = this.fields.contentKey === '' ? raw.withoutAll(RESERVED_KEYS) : text.slice(range[0], range[1])
      doc = op === 'update' ? `{"doc":${source}}` : op === 'upsert' ? `{"doc":${source},"doc_as_upsert":true}` : source
    }
    if (id === undefined) this.withoutId++
    return this.item(op, index, id, routing, doc, text, parsed)
  }

  private item (op: BulkOp, index: string, id: string | undefined, routing: string | undefined, doc: string | undefined, text: string, parsed: ParsedLine | undefined): BulkItem {
    let meta = '{"_index":' + JSON.stringify(index)
    if (id !== undefined) meta += ',"_id":' + JSON.stringify(id)
    if (routing !== undefined) meta += ',"routing":' + JSON.stringify(routing)
    if (op === 'update' || op === 'upsert') meta += `,"retry_on_conflict":${RETRY_ON_CONFLICT}`
    const action = `{"${ES_ACTION[op]}":${meta}}}`
    const bytes = Buffer.byteLength(action) + (doc === undefined ? 1 : Buffer.byteLength(doc) + 2)
    return {
      op,
      action,
      doc,
      bytes,
      index,
      id,
      key: id === undefined ? undefined : `${index}\u0000${id}\u0000${routing ?? ''}`,
      record: text,
      line: parsed?.line,
      file: parsed?.file,
      attempts: 0,
      ambiguous: false
    }
  }
}

/** A record for the dead-letter file: parsed exactly, so numbers keep their digits; the raw line if that fails. */
export function exactRecord (text: string): unknown {
  try {
    return parseExact(text)
  } catch {
    return text
  }
}

export function isProblem (v: BulkItem | RecordProblem): v is RecordProblem {
  return 'code' in v
}
