#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import { commonHelp, runCli } from '../lib/cli.js'
import { MAX_LINE_BYTES_FLAG, maxLineBytesHelp } from '../lib/core/line-limit.js'
import { EspipeError, UsageError } from '../lib/core/errors.js'
import { checkInputs, inputNames } from '../lib/core/input.js'
import { keepHeapSmall } from '../lib/core/memory.js'
import { ndjsonInputs } from '../lib/core/ndjson.js'
import { parseDuration } from '../lib/core/retry.js'
import { parseByteSize } from '../lib/core/size.js'
import type { BulkOp } from '../lib/es/bulk-item.js'
import { BULK_OPS } from '../lib/es/bulk-item.js'
import { ES_CONNECTION_FLAGS, ES_CONNECTION_HELP, esConnectionOptions, writerUrl } from '../lib/es/cli-options.js'
import { ES_WRITE_COUNTERS, esWrite } from '../lib/es/write.js'

const readJsonFile = (file: string | undefined, option: string): string | undefined => {
  if (file === undefined) return undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot read --${option} ${file}: ${(err as Error).message}`, { context: { file } })
  }
}

keepHeapSmall()

await runCli({
  tool: 'es-write',
  description: 'load NDJSON records into Elasticsearch or OpenSearch through _bulk, exactly once, nothing dropped',
  importMeta: import.meta,
  counters: ES_WRITE_COUNTERS,
  flags: {
    ...ES_CONNECTION_FLAGS,
    index: { type: 'string', shortFlag: 'i' },
    idField: { type: 'string', default: '_id', aliases: ['id_field'] },
    contentField: { type: 'string', default: '_source', aliases: ['content_field'] },
    op: { type: 'string', default: 'index' },
    pipeline: { type: 'string' },
    batchSize: { type: 'string', default: '1000', aliases: ['batch_size'] },
    batchBytes: { type: 'string', default: '5mb', aliases: ['batch_bytes'] },
    concurrency: { type: 'string', shortFlag: 'c', default: '3', aliases: ['threads'] },
    flushInterval: { type: 'string', default: '1s', aliases: ['flush_interval'] },
    createIndex: { type: 'boolean', aliases: ['create_index'] },
    mappings: { type: 'string' },
    settings: { type: 'string' },
    refresh: { type: 'boolean' },
    timeout: { type: 'string', default: '2m' },
    retries: { type: 'string', default: '8' },
    retryMaxWait: { type: 'string', default: '30s', aliases: ['retry_max_wait'] },
    ...MAX_LINE_BYTES_FLAG
  },
  help: `
    Usage
      $ es-write [--index NAME] [options] [FILE...]

    Loads NDJSON records (none or - means stdin) into Elasticsearch or OpenSearch through _bulk:
    by default each record's _source as the document, under its _id, into its _index (or
    --index). The document goes as the bytes it had in the input, so numbers keep every digit
    (a key given twice, which both engines refuse, is written once with its last value). Every
    record is written exactly once or written with the server's reason to --errors: items
    refused for load (429) are sent again with backoff, lost requests are repeated, oversized
    requests are split. Rerunning the same input is safe (with ids).

    Connection
      --url URL              node URL (env ES_URL; default http://localhost:9200); a search URL
                             such as http://host:9200/logs/_search also names the index
${ES_CONNECTION_HELP}

    Where and what
      -i, --index NAME       index (or alias, data stream) for every record; without it each
                             record's own _index
      --id-field PATH        where the id is in the record (default _id); records without one
                             get an id from Elasticsearch, and a rerun would duplicate them
      --content-field PATH   where the document is (default _source; . is the whole record)
      --op OP                index (default): create or replace, the last write wins;
                             create: an id that exists is skipped (counted as skipped);
                             update: a partial document, a missing id is a failed record;
                             upsert: update, or create when missing (doc_as_upsert);
                             delete: delete by id (a missing id is skipped)
      --pipeline NAME        run every document through this ingest pipeline
      --create-index         create --index first if it does not exist
      --mappings FILE        JSON mappings for --create-index (as GET _mapping prints them too)
      --settings FILE        JSON settings for --create-index
      --refresh              refresh the written indices once at the end, so a search right
                             after es-write sees everything (never per batch)

    How
      --batch-size N         records per _bulk request (default 1000)
      --batch-bytes SIZE     bytes per request (default 5mb); a request the server refuses as
                             too large (413) is split and later ones made smaller
      -c, --concurrency N    requests in flight (default 3); input is read only while one of
                             them is free, so memory stays flat on any input size
      --flush-interval T     send a batch that has not filled up after this long (default 1s;
                             0: only full batches, and the last one at the end)
      --timeout T            how long one request may take before it counts as lost and is
                             sent again (default 2m)
      --retries N            retries of a refused or lost request, and of each record refused
                             alone (429, 5xx) (default 8)
      --retry-max-wait T     longest wait between two retries (default 30s)

    Common
${maxLineBytesHelp()}
${commonHelp()}

    Aliases of the original tool: --es_url, --es_user, --es_pass, --api_key, --batch_size,
    --threads.

    Exit status: 0 every record written or skipped; 1 a record failed (see --errors) or a
    fatal error (server unreachable, authentication refused, retries spent: the summary says
    how far it got); 2 bad usage; 130/143 after SIGINT/SIGTERM, once the requests in flight
    are answered.

    Examples
      $ es-read --index logs | es-write --index logs-copy --create-index
      $ es-read --url http://old:9200 --index logs | es-write --url https://new:9200 --index logs
      $ es-write --index people --id-field id --content-field . --errors bad.ndjson people.jsonl
      $ es-write --index logs --op create --refresh < export.ndjson
      $ jq -c .record bad.ndjson | es-write --index people --id-field id --content-field .
`
}, async ({ opts, ctx }) => {
  const { node, index: urlIndex } = writerUrl(opts.string('url') as string, opts.label('url'))
  const timeout = parseDuration(opts.string('timeout') as string, 'timeout')
  if (timeout <= 0) throw new UsageError(`invalid value for --timeout: '${opts.string('timeout') as string}' (more than 0)`)
  const files = inputNames(opts.input)
  await checkInputs(files)
  const writer = await esWrite({
    index: opts.string('index') ?? urlIndex,
    connection: { ...esConnectionOptions(opts, node), requestTimeoutMs: timeout },
    op: opts.string('op', { choices: BULK_OPS }) as BulkOp,
    idField: opts.string('idField'),
    contentField: opts.string('contentField'),
    pipeline: opts.string('pipeline'),
    batchSize: opts.int('batchSize', { min: 1 }),
    batchBytes: parseByteSize(opts.string('batchBytes') as string, 'batch-bytes'),
    concurrency: opts.int('concurrency', { min: 1 }),
    flushIntervalMs: parseDuration(opts.string('flushInterval') as string, 'flush-interval'),
    createIndex: opts.bool('createIndex'),
    mappings: readJsonFile(opts.string('mappings'), 'mappings'),
    settings: readJsonFile(opts.string('settings'), 'settings'),
    refresh: opts.bool('refresh'),
    retry: { retries: opts.int('retries', { min: 0 }) ?? 8, maxWaitMs: parseDuration(opts.string('retryMaxWait') as string, 'retry-max-wait') },
    context: ctx
  })
  return [ndjsonInputs(files, ctx, { scan: true }), writer]
})
