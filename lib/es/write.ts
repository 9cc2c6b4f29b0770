import { Writable } from 'node:stream'
import { doneWhen } from '../core/callback.js'
import type { StageContext } from '../core/context.js'
import { createContext } from '../core/context.js'
import { EspipeError, UsageError } from '../core/errors.js'
import { ParsedLine } from '../core/ndjson.js'
import { WriterCheckpoint } from '../core/checkpoint-writer.js'
import { recordPosition } from '../core/position.js'
import type { JsonObject } from '../core/record.js'
import { isJsonObject } from '../core/record.js'
import type { RetryPolicy } from '../core/retry.js'
import { DEFAULT_RETRY } from '../core/retry.js'
import { formatBytes } from '../core/size.js'
import type { BulkOp } from './bulk-item.js'
import { ItemBuilder, exactRecord, isProblem } from './bulk-item.js'
import { BulkWriter, SKIPPED } from './bulk-writer.js'
import type { EsConnectionOptions } from './client.js'
import { EsConnection } from './client.js'
import type { EsWhere } from './errors.js'
import { checkServer, createIndex, indexBody, refreshIndices } from './index-setup.js'
import { engineName } from './paging.js'
import type { SchemaExists } from './schema-write.js'
import { applySchemas } from './schema-write.js'

/** `not found`: deletes of an id that held nothing (shown once it counts one). */
export const ES_WRITE_COUNTERS: Array<string | [string, string]> = ['read', 'created', 'updated', 'deleted', 'not found', ['skipped', 'exists'], 'failed', 'retries']

export const ES_WRITE_DEFAULTS = { op: 'index' as BulkOp, batchSize: 1000, batchBytes: 5 * 1024 * 1024, concurrency: 3, flushIntervalMs: 1000 }

export interface EsWriteOptions {
  /** Index for every record; otherwise each record's `_index`. */
  index?: string
  /** How to connect, or an open connection to share. */
  connection?: EsConnectionOptions | EsConnection
  /** index (default): the last write wins; create: an existing id is skipped; update; upsert; delete. */
  op?: BulkOp
  /** Where each record's id is (default `_id`). */
  idField?: string
  /** Where each record's document is (default `_source`; `.` is the whole record). */
  contentField?: string
  /** Ingest pipeline to run every document through. */
  pipeline?: string
  batchSize?: number
  batchBytes?: number
  concurrency?: number
  flushIntervalMs?: number
  /** Create `index` first (needs `index`); an existing index is used as it is. */
  createIndex?: boolean
  /** JSON text of the mappings and settings for a created index (with `schema`: settings over every line's). */
  mappings?: string
  settings?: string
  /**
   * Schema lines (es-read --schema's output, as text): each index is created from its line,
   * translated for this engine, before any record is written (see schema-write.ts); with
   * `index`, the one index of the schema is created under that name.
   */
  schema?: string
  /** Where `schema` came from, for messages (a file name; default `the schema`). */
  schemaSource?: string
  /** An index of the schema that exists with another mapping: refused (default), or kept as it is. */
  schemaExists?: SchemaExists
  /** One refresh of the written indices at the end. */
  refresh?: boolean
  retry?: RetryPolicy
  /**
   * Acknowledge what is written (CONTRACT.md §6): each record's position (put there by a reader
   * given the same file) is saved here once its _bulk item is settled, so a rerun of the pipe
   * resumes after it. Every record needs an id: only writes by id can be repeated safely.
   */
  checkpoint?: string
  context?: StageContext
}

function positive (name: string, v: number | undefined, dflt: number, min = 1): number {
  const n = v ?? dflt
  if (!Number.isInteger(n) || n < min) throw new UsageError(`invalid value for --${name}: ${n} (at least ${min})`)
  return n
}

/**
 * Records in, documents in Elasticsearch through _bulk: each record written exactly once or
 * dead-lettered with the server's reason (see BulkWriter). Checks the server, and creates the
 * index when asked, before it returns, so a wrong URL or password fails before any input is read.
 */
export async function esWrite (opts: EsWriteOptions): Promise<Writable> {
  const ctx = opts.context ?? createContext({ tool: 'es-write', counters: ES_WRITE_COUNTERS })
  const op = opts.op ?? ES_WRITE_DEFAULTS.op
  const builder = new ItemBuilder({ op, index: opts.index, idField: opts.idField, contentField: opts.contentField })
  const batchSize = positive('batch-size', opts.batchSize, ES_WRITE_DEFAULTS.batchSize)
  const batchBytes = positive('batch-bytes', opts.batchBytes, ES_WRITE_DEFAULTS.batchBytes)
  const concurrency = positive('concurrency', opts.concurrency, ES_WRITE_DEFAULTS.concurrency)
  const flushIntervalMs = positive('flush-interval', opts.flushIntervalMs, ES_WRITE_DEFAULTS.flushIntervalMs, 0)
  if (opts.createIndex === true && opts.index === undefined) throw new UsageError('--create-index needs --index (records naming their own _index are written to indices that exist or are created by Elasticsearch)')
  if (opts.schema !== undefined && opts.createIndex === true) throw new UsageError('--schema creates the indices it names: drop --create-index')
  if (opts.schema !== undefined && opts.mappings !== undefined) throw new UsageError('--schema holds the mappings: drop --mappings (--settings, if given, applies over the schema\'s)')
  if (opts.schema === undefined && opts.schemaExists !== undefined) throw new UsageError('--schema-exists applies to --schema')
  if ((opts.mappings !== undefined || opts.settings !== undefined) && opts.createIndex !== true && opts.schema === undefined) throw new UsageError('--mappings and --settings apply to an index es-write creates: add --create-index (or --schema FILE)')
  const created = opts.createIndex === true ? indexBody(opts.mappings, opts.settings) : undefined
  const retry = opts.retry ?? DEFAULT_RETRY

  const own = !(opts.connection instanceof EsConnection)
  const conn = opts.connection instanceof EsConnection ? opts.connection : new EsConnection(opts.connection ?? {}, ctx)
  if (own) ctx.onCleanup(async () => await conn.close().catch(() => undefined))
  const where: EsWhere = { host: conn.host, index: opts.index }
  const info = await checkServer(conn, where, retry, ctx)
  if (created !== undefined) {
    if (created.dropped.length > 0) ctx.logger.info(`--settings: left out ${created.dropped.join(', ')}: the engine sets them itself on a new index`)
    await createIndex(conn, where, opts.index as string, created.body, ctx)
  }
  if (opts.schema !== undefined) {
    await applySchemas(conn, info, { text: opts.schema, source: opts.schemaSource ?? 'the schema', rename: opts.index, exists: opts.schemaExists, settings: opts.settings }, ctx)
  }

  ctx.stats.setNote('skipped', SKIPPED[op])
  ctx.stats.showOnceCounted('not found')
  ctx.logger.start(`writing to ${opts.index ?? 'the _index of each record'} at ${conn.host} (${engineName(info)}): --op ${op}, batches of up to ${batchSize} records or ${formatBytes(batchBytes)}, ${concurrency} in flight${opts.pipeline !== undefined ? `, pipeline ${opts.pipeline}` : ''}`, { host: conn.host, index: opts.index, op, engine: info.distribution, version: info.version })
  const ack = opts.checkpoint === undefined ? undefined : new WriterCheckpoint(opts.checkpoint, 'es-write', `${opts.index ?? 'the _index of each record'} at ${conn.host}`)
  const writer = new BulkWriter({
    conn,
    where,
    batchSize,
    batchBytes,
    concurrency,
    flushIntervalMs,
    pipeline: opts.pipeline,
    retry,
    ctx,
    settled: ack === undefined ? undefined : (item) => { if (item.ticket !== undefined) ack.settle(item.ticket) },
    batchDone: ack === undefined ? undefined : () => ack.save()
  })
  let warnedNoId = false
  let warnedRewrite = false

  return new Writable({
    objectMode: true,
    highWaterMark: 16,
    write (chunk: unknown, _enc, done) {
      if (writer.error !== undefined) { done(writer.error as Error); return }
      let next: Promise<void> | undefined
      try {
        // Parsed lines were counted by the parser; objects handed in by code are counted here.
        if (!(chunk instanceof ParsedLine)) ctx.stats.add('read')
        if (!(chunk instanceof ParsedLine) && !isJsonObject(chunk)) {
          ctx.failures.fail({ record: chunk, code: 'RECORD_NOT_OBJECT', message: 'record is not a JSON object', context: { host: conn.host } })
          done()
          return
        }
        const line = chunk instanceof ParsedLine ? chunk : undefined
        const ticket = ack?.take(recordPosition(line?.raw, line?.raw === undefined ? line?.value ?? chunk as JsonObject : undefined), line === undefined ? 'a record' : `line ${line.line}`)
        const item = builder.build(chunk)
        if (isProblem(item)) {
          ctx.failures.fail({ record: line !== undefined ? exactRecord(line.text) : chunk, line: line?.line, code: item.code, message: item.message, context: { host: conn.host, index: opts.index, _id: item.id, file: line?.file } })
          if (ticket !== undefined) ack?.settle(ticket)
          done()
          return
        }
        item.ticket = ticket
        if (item.id === undefined && ack !== undefined) {
          throw new EspipeError('ES_CHECKPOINT_NEEDS_ID', `line ${item.line ?? '?'} has no id at '${opts.idField ?? '_id'}': with --checkpoint, every record needs one (Elasticsearch would give a repeated record a second id after a rerun); name it with --id-field`)
        }
        if (item.id === undefined && !warnedNoId) {
          warnedNoId = true
          ctx.logger.warn(`records without an id (the first at line ${item.line ?? '?'}): Elasticsearch gives each a new one, so writing the same input again duplicates them; name the id with --id-field for exactly once`)
        }
        if ((op === 'update' || op === 'upsert') && !warnedRewrite) {
          // Once, at the first update sent: whatever the record holds, the engine rewrites the
          // whole stored document, fields the record does not name included (es-write(1)).
          warnedRewrite = true
          ctx.logger.warn(`--op ${op} is a partial update: the engine merges each record into the document it holds and writes the whole _source again in its own JSON, so values in any field, named in the record or not, may change form (1e400 becomes "Infinity", -0 0, 1.5e3 1500.0, digits past a double's are lost, \\u escapes are decoded); --op index stores each document as the bytes of its line (es-write(1), PARTIAL UPDATES)`)
        }
        next = writer.add(item)
      } catch (err) {
        done(err as Error)
        return
      }
      doneWhen(next, done)
    },
    final (done) {
      doneWhen((async () => {
        await writer.flush()
        if (opts.refresh === true && writer.touched.size > 0) await refreshIndices(conn, where, writer.touched, ctx)
        ack?.end()
      })(), done)
    },
    destroy (err, done) {
      writer.close().then(() => { done(err) }, () => { done(err) })
    }
  })
}
