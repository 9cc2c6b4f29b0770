import { IdSorter } from './id-sort.js'
import { parseExact } from './json.js'
import { mergeDocument } from './merge.js'
import { isOpProblem, recordOp, withoutReservedKeys } from './operation.js'
import type { JsonObject } from './record.js'
import { isJsonObject } from './record.js'
import type { RecordFields } from './record-fields.js'

/** What applying the operations did beyond leaving records: the summary's counters. */
export interface AppliedCounts {
  deleted: number
  /** Updates and deletes of an id that held nothing. */
  notFound: number
  /** Creates of an id that held something. */
  skipped: number
}

export interface OpApplierOptions {
  /** Where each record's content is: a top-level member, or the whole record ('' / '.'). */
  fields: RecordFields
  /** Bytes of records per sorted run held in memory (default 8 MiB, see IdSorter). */
  runBytes?: number
  tmpdir?: string
  /** The temporary directory's name starts so. */
  prefix?: string
}

/** One id's record once every operation on it is applied. */
export interface AppliedRecord {
  id: string
  /** The record, its content merged, without `_op` and `_pos`. */
  value: JsonObject
  line?: number
  file?: string
}

/**
 * The end state of a stream of records that carry operations (`_op`, operation.ts), as
 * Elasticsearch would hold it: the records go through the external id sort (id-sort.ts, runs
 * spilled to temporary files, so memory stays at one run whatever the input), come back
 * grouped by id in stream order, and each id's operations are folded: index replaces, create
 * adds unless the id holds a record, update merges its content into what the id holds, upsert
 * merges or adds, delete removes. What is left comes out in id order.
 */
export class OpApplier {
  readonly counts: AppliedCounts = { deleted: 0, notFound: 0, skipped: 0 }
  private readonly sorter: IdSorter
  private readonly contentKey: string

  constructor (o: OpApplierOptions) {
    const key = o.fields.contentKey
    if (key === undefined) throw new Error('OpApplier takes a top-level content member or the whole record')
    this.contentKey = key
    this.sorter = new IdSorter(o.runBytes, o.tmpdir, o.prefix ?? 'espipe-apply-')
  }

  /** Adds a record (its `_op` already checked); a promise means a run is being spilled: wait for it. */
  add (id: string, text: string, line?: number, file?: string): Promise<void> | undefined {
    return this.sorter.add({ key: id, text, line, file })
  }

  /** Every id that holds a record at the end, in id order. */
  async * results (): AsyncGenerator<AppliedRecord> {
    let id: string | undefined
    let state: AppliedRecord | undefined
    for await (const e of this.sorter.drain()) {
      if (e.key !== id) {
        if (state !== undefined) yield state
        id = e.key
        state = undefined
      }
      state = this.apply(state, e.key, parseExact(e.text) as JsonObject, e.line, e.file)
    }
    if (state !== undefined) yield state
  }

  async dispose (): Promise<void> {
    await this.sorter.dispose()
  }

  private apply (state: AppliedRecord | undefined, id: string, rec: JsonObject, line?: number, file?: string): AppliedRecord | undefined {
    const op = recordOp(undefined, rec)
    const kind = isOpProblem(op) ? 'index' : op ?? 'index'
    const whole = (): AppliedRecord => ({ id, value: withoutReservedKeys(rec), line, file })
    switch (kind) {
      case 'index':
        return whole()
      case 'create':
        if (state === undefined) return whole()
        this.counts.skipped++
        return state
      case 'update':
      case 'upsert':
        if (state === undefined) {
          if (kind === 'upsert') return whole()
          this.counts.notFound++
          return undefined
        }
        return { ...state, value: this.merged(state.value, withoutReservedKeys(rec)) }
      case 'delete':
        if (state === undefined) this.counts.notFound++
        else this.counts.deleted++
        return undefined
    }
  }

  /** The held record with the update's content merged into its content. */
  private merged (held: JsonObject, update: JsonObject): JsonObject {
    if (this.contentKey === '') return mergeDocument(held, update)
    const base = held[this.contentKey]
    const partial = update[this.contentKey]
    const out = Object.create(null) as JsonObject
    for (const k of Object.keys(held)) out[k] = held[k]
    out[this.contentKey] = isJsonObject(base) && isJsonObject(partial) ? mergeDocument(base, partial) : partial
    return out
  }
}
