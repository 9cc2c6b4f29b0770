import { readFileSync } from 'node:fs'
import type { CliSpec, Options } from '../core/cli.js'
import { COMMON_OPTIONS, RECORD_FIELD_FLAGS } from '../core/cli.js'
import { intoServer } from '../core/cli-streams.js'
import { examples } from '../core/help.js'
import { EspipeError, UsageError } from '../core/errors.js'
import { formatDuration } from '../core/retry.js'
import { retryFlags, retryPolicy } from '../core/retry-flags.js'
import { byteSizeText, parseByteSize } from '../core/size.js'
import type { BulkOp } from './bulk-item.js'
import { BULK_OPS } from './bulk-item.js'
import { ES_CONNECTION_FLAGS, ES_CONNECTION_SECTION, esConnectionOptions, indexOption, writerUrl } from './cli-options.js'
import { DEFAULT_REQUEST_TIMEOUT_MS } from './client.js'
import type { EsWriteOptions } from './write.js'
import { ES_WRITE_COUNTERS, ES_WRITE_DEFAULTS, esWrite } from './write.js'
import { maxLineBytesFlag } from '../core/line-limit.js'
import { WRITER_CHECKPOINT_FLAG } from '../core/checkpoint-writer.js'
import { checkInputs, inputNames } from '../core/input.js'
import { ndjsonInputs } from '../core/ndjson.js'
import { Readable } from 'node:stream'
import type { SchemaExists } from './schema-write.js'
import { SCHEMA_EXISTS } from './schema-write.js'

function readJsonFile (opts: Options, name: 'mappings' | 'settings' | 'schema'): string | undefined {
  const file = opts.string(name)
  if (file === undefined) return undefined
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot read --${name} ${file}: ${(err as Error).message}`, { context: { file } })
  }
}

/** es-write's options as esWrite takes them; a search URL's index is --index's default. */
function esWriteOptions (opts: Options): EsWriteOptions {
  const { node, index: urlIndex } = writerUrl(opts.string('url') as string, opts.label('url'))
  const timeout = opts.duration('timeout') as number
  if (timeout <= 0) throw new UsageError(`invalid value for --timeout: '${opts.string('timeout') as string}' (more than 0)`)
  return {
    index: indexOption(opts, urlIndex),
    connection: { ...esConnectionOptions(opts, node), requestTimeoutMs: timeout },
    op: opts.string('op', { choices: BULK_OPS }) as BulkOp,
    idField: opts.string('idField'),
    contentField: opts.string('contentField'),
    pipeline: opts.string('pipeline'),
    batchSize: opts.int('batchSize', { min: 1 }),
    batchBytes: parseByteSize(opts.string('batchBytes') as string, 'batch-bytes'),
    concurrency: opts.int('concurrency', { min: 1 }),
    flushIntervalMs: opts.duration('flushInterval'),
    createIndex: opts.bool('createIndex'),
    mappings: readJsonFile(opts, 'mappings'),
    settings: readJsonFile(opts, 'settings'),
    // `-` (stdin) is read by the build, before the records of the FILE arguments.
    schema: opts.string('schema') === '-' ? undefined : readJsonFile(opts, 'schema'),
    schemaSource: opts.string('schema'),
    schemaExists: opts.has('schemaExists') ? opts.string('schemaExists', { choices: SCHEMA_EXISTS }) as SchemaExists : undefined,
    refresh: opts.bool('refresh'),
    retry: retryPolicy(opts),
    checkpoint: opts.string('checkpoint')
  }
}

export const esWriteCli: CliSpec = {
  tool: 'es-write',
  description: 'load NDJSON records into Elasticsearch or OpenSearch through _bulk, exactly once, nothing dropped',
  counters: ES_WRITE_COUNTERS,
  // Records wait in batches long enough to be promoted, and V8 would let the old generation
  // fill with garbage between collections: a smaller growth step keeps RSS near half of that
  // for a few percent more CPU (measured: bench/es-write-bench.ts).
  heap: { growingPercent: 30 },
  flags: {
    ...maxLineBytesFlag(),
    ...ES_CONNECTION_FLAGS,
    index: { type: 'string', shortFlag: 'i', value: 'NAME', help: "index (or alias, data stream) for every record; without it each record's own _index" },
    ...RECORD_FIELD_FLAGS,
    idField: { ...RECORD_FIELD_FLAGS.idField, help: 'where the id is in the record (default: {default}); records without one get an id from Elasticsearch, and a rerun would duplicate them' },
    contentField: { ...RECORD_FIELD_FLAGS.contentField, help: 'where the document is (default: {default}; . is the whole record)' },
    op: { type: 'string', value: 'OP', default: ES_WRITE_DEFAULTS.op, help: 'what a record does when it carries no "_op" of its own (default: {default}):\nindex: create or replace, the last write wins;\ncreate: an id that exists is skipped (counted as skipped);\nupdate: a partial document, a missing id is a failed record;\nupsert: update, or create when missing (doc_as_upsert);\ndelete: delete by id (a missing id is counted as not found)' },
    pipeline: { type: 'string', value: 'NAME', help: 'run every document through this ingest pipeline' },
    createIndex: { type: 'boolean', aliases: ['create_index'], help: 'create --index first if it does not exist' },
    mappings: { type: 'string', value: 'FILE', help: 'JSON mappings for --create-index (as GET _mapping prints them too)' },
    settings: { type: 'string', value: 'FILE', help: 'JSON settings for --create-index; with --schema, settings over every index\'s own (e.g. {"index.number_of_replicas":"0"})' },
    schema: { type: 'string', value: 'FILE|-', help: 'create each index of FILE (lines of es-read --schema: mappings, settings, aliases), translated for this engine, before any record is written; - reads them from stdin, and the records then come from FILE arguments only (none: only the indices are created); with --index, the one index of FILE under that name' },
    schemaExists: { type: 'string', value: 'WHAT', default: 'refuse', help: 'an index of --schema that exists with another mapping (default: {default}): refuse names the first field that differs and writes nothing; keep writes into it as it is (one with the same mapping is always written into: a rerun resumes)' },
    refresh: { type: 'boolean', help: 'refresh the written indices once at the end, so a search right after es-write sees everything (never per batch)' },
    batchSize: { type: 'string', value: 'N', default: String(ES_WRITE_DEFAULTS.batchSize), aliases: ['batch_size'], help: 'records per _bulk request' },
    batchBytes: { type: 'string', value: 'SIZE', default: byteSizeText(ES_WRITE_DEFAULTS.batchBytes), aliases: ['batch_bytes'], help: 'bytes per request (default: {default}); a request the server refuses as too large (413) is split and later ones made smaller' },
    concurrency: { type: 'string', shortFlag: 'c', value: 'N', default: String(ES_WRITE_DEFAULTS.concurrency), aliases: ['threads'], help: 'requests in flight (default: {default}); input is read only while one of them is free, so memory stays flat on any input size' },
    flushInterval: { type: 'string', value: 'T', default: formatDuration(ES_WRITE_DEFAULTS.flushIntervalMs), aliases: ['flush_interval'], help: 'send a batch that has not filled up after this long (default: {default}; 0: only full batches, and the last one at the end)' },
    timeout: { type: 'string', value: 'T', default: formatDuration(DEFAULT_REQUEST_TIMEOUT_MS), help: 'how long one request may take before it counts as lost and is sent again' },
    ...retryFlags('a refused or lost request, and of each record refused alone (429, 5xx)'),
    ...WRITER_CHECKPOINT_FLAG
  },
  build: async (args) => {
    if (args.opts.string('schema') !== '-') return await intoServer(esWriteOptions, esWrite)(args)
    const { opts, ctx } = args
    const options = esWriteOptions(opts)
    if (opts.input.includes('-')) throw new UsageError('--schema - reads the schema from stdin: give the records as FILE arguments')
    const files = inputNames(opts.input)
    if (opts.input.length > 0) await checkInputs(files)
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    const writer = await esWrite({ ...options, schema: Buffer.concat(chunks).toString('utf8'), schemaSource: 'stdin', context: ctx })
    return [opts.input.length > 0 ? ndjsonInputs(files, ctx, { scan: true }) : Readable.from([]), writer]
  },
  help: [
    { title: 'Usage', text: '$ es-write [--index NAME] [options] [FILE...]' },
    { text: "Loads NDJSON records (none or - means stdin; gzipped ones are decompressed) into Elasticsearch or OpenSearch through _bulk: by default each record's _source as the document, under its _id, into its _index (or --index). The document goes as the bytes it had in the input, so numbers keep every digit (a key given twice, which both engines refuse, is written once with its last value). Every record is written exactly once or written with the server's reason to --errors: items refused for load (429) are sent again with backoff, lost requests are repeated, oversized requests are split. Rerunning the same input is safe (with ids)." },
    ES_CONNECTION_SECTION,
    { title: 'Where and what', options: ['index', 'idField', 'contentField', 'op', 'pipeline', 'createIndex', 'mappings', 'settings', 'refresh'] },
    { title: 'Whole indices', text: 'es-read --schema prints what an index is made of besides its documents, one line per index; es-write --schema creates the indices from those lines first. Across engines, what means the same under another name is translated (flattened and flat_object, dense_vector and knn_vector), and what has no equivalent is refused, one line per field, before anything is created.', options: ['schema', 'schemaExists'] },
    { title: 'How', options: ['batchSize', 'batchBytes', 'concurrency', 'flushInterval', 'timeout', 'retries', 'retryMaxWait', 'retryFor', 'maxLineBytes', 'checkpoint'] },
    { title: 'Common', options: COMMON_OPTIONS },
    { text: 'Aliases of the original tool: --es_url, --es_user, --es_pass, --api_key, --batch_size, --threads.' },
    { text: 'Exit status: 0 every record written or skipped; 1 a record failed (see --errors) or a fatal error (server unreachable, authentication refused, retries spent: the summary says how far it got); 2 bad usage; 130/143 after SIGINT/SIGTERM, once the requests in flight are answered.' },
    examples(
      'es-read --index logs | es-write --index logs-copy --create-index',
      'es-read --url http://old:9200 --index logs | es-write --url https://new:9200 --index logs',
      'es-write --index people --id-field id --content-field . --errors bad.ndjson people.jsonl',
      'es-write --index logs --op create --refresh < export.ndjson',
      'jq -c .record bad.ndjson | es-write --index people --id-field id --content-field .',
      "es-read --url http://old:9200 --index 'logs-*' --schema | es-write --url https://new:9200 --schema -"
    )
  ]
}
