import type { BulkItem, BulkOp } from './bulk-item.js'
import type { EsWhere } from './errors.js'
import { EsRequestError } from './errors.js'

/**
 * What to ask _bulk to send back: enough to match every item to its record (items keep request
 * order, and every item has a status, so none is dropped by the filter) and nothing per success
 * beyond its status and result.
 */
export const BULK_FILTER_PATH = 'errors,items.*.status,items.*.result,items.*._version,items.*.error'

/** The counter an item lands in, or what to do with it. */
export type Outcome =
  | { kind: 'created' | 'updated' | 'deleted' | 'skipped' | 'not found' }
  | Refusal

/** An item the server did not write: sent again alone (`retry`) or dead-lettered (`failed`). */
export interface Refusal { kind: 'retry' | 'failed', status: number, code: string, message: string }

interface ItemError {
  type?: string
  reason?: string
  caused_by?: ItemError
}

interface RawItem {
  status?: number
  result?: string
  _version?: number
  error?: ItemError | string
}

/** `type: reason (caused by type: reason)`: what the dead-letter file and the log say. */
export function describeItemError (error: ItemError | string | undefined, status: number): { code: string, message: string } {
  if (error === undefined) return { code: `HTTP_${status}`, message: `status ${status}` }
  if (typeof error === 'string') return { code: `HTTP_${status}`, message: error }
  const code = error.type ?? `HTTP_${status}`
  let message = error.reason ?? code
  const cause = error.caused_by
  if (cause?.reason !== undefined && cause.reason !== error.reason) message += ` (caused by ${cause.type ?? 'error'}: ${cause.reason})`
  return { code, message }
}

/**
 * Reads a _bulk response into one outcome per item, in request order. A response that cannot
 * be matched to the request (not JSON, wrong number of items) is an `ambiguous` failure: the
 * writer retries the request, which is safe because writes by id are idempotent.
 */
export function readBulkResponse (text: string, items: readonly BulkItem[], where: EsWhere): Outcome[] {
  let body: { items?: Array<Record<string, RawItem>> }
  try {
    body = JSON.parse(text) as typeof body
  } catch {
    throw new EsRequestError('ES_BAD_RESPONSE', `_bulk at ${where.host} answered with something that is not JSON: '${text.slice(0, 100)}'`, { stage: 'ambiguous', where })
  }
  const got = body.items
  if (!Array.isArray(got) || got.length !== items.length) {
    throw new EsRequestError('ES_BAD_RESPONSE', `_bulk at ${where.host} answered for ${Array.isArray(got) ? got.length : 'no'} items, not the ${items.length} sent`, { stage: 'ambiguous', where })
  }
  return got.map((entry, i) => classify((items[i] as BulkItem).op, Object.values(entry)[0] ?? {}, (items[i] as BulkItem).ambiguous))
}

/**
 * One item's outcome. Rejections (429) and server-side failures (5xx) of an item are retried
 * alone. When an earlier attempt of this very item was lost after it was sent (`ambiguous`),
 * that attempt may have been written, and the answer to the repeat is read in that light:
 * - create: a 409 means the id exists: skipped, or created by the lost attempt;
 * - delete: not found (no such document, or no such index) means there was nothing to delete,
 *   or the lost attempt deleted it;
 * - index: "updated" to version 2 is the lost attempt's version 1 replaced: created.
 */
export function classify (op: BulkOp, item: RawItem, ambiguous: boolean): Outcome {
  const status = item.status ?? 0
  if (status >= 200 && status < 300) {
    switch (item.result) {
      case 'created': return { kind: 'created' }
      case 'deleted': return { kind: 'deleted' }
      case 'noop': return { kind: 'skipped' }
      case 'not_found': return { kind: ambiguous ? 'deleted' : 'not found' }
      case 'updated': return { kind: ambiguous && op === 'index' && item._version === 2 ? 'created' : 'updated' }
      default: return { kind: op === 'delete' ? 'deleted' : status === 201 ? 'created' : 'updated' }
    }
  }
  if (status === 404 && op === 'delete' && item.error === undefined) return { kind: ambiguous ? 'deleted' : 'not found' }
  const { code, message } = describeItemError(item.error, status)
  // The engines create no index for a delete: one into an index that does not exist (yet) has
  // nothing to delete, as a stream of changes that starts with a delete meets it.
  if (status === 404 && op === 'delete' && code === 'index_not_found_exception') return { kind: 'not found' }
  if (status === 409 && op === 'create' && code === 'version_conflict_engine_exception') return { kind: ambiguous ? 'created' : 'skipped' }
  // An update that lost a race with another writer more often than retry_on_conflict allows.
  if (status === 409 && (op === 'update' || op === 'upsert')) return { kind: 'retry', status, code, message }
  if (status === 429 || status >= 500 || status === 0) return { kind: 'retry', status, code, message }
  return { kind: 'failed', status, code, message }
}
