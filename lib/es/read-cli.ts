import type { CliSpec, Options } from '../core/cli.js'
import { COMMON_OPTIONS, stdout } from '../core/cli.js'
import { examples } from '../core/help.js'
import { UsageError } from '../core/errors.js'
import { retryFlags, retryPolicy } from '../core/retry-flags.js'
import { formatDuration } from '../core/retry.js'
import { followFlags } from '../core/follow.js'
import { parseSliceOption } from '../core/slice.js'
import { ES_CONNECTION_FLAGS, ES_CONNECTION_SECTION, esConnectionOptions, indexOption } from './cli-options.js'
import { splitSearchUrl } from './client.js'
import type { EsReadOptions } from './read.js'
import { DEFAULT_SETTLE_MS, ES_READ_COUNTERS, esRead } from './read.js'
import { EsConnection } from './client.js'
import type { EsConnectionOptions } from './client.js'
import { esReadSchema } from './schema-read.js'

/** Options about documents, which --schema (no documents) refuses rather than ignores. */
const DOCUMENT_FLAGS = ['query', 'q', 'timeField', 'gte', 'lte', 'matchAll', 'sourceIncludes', 'sourceExcludes', 'fields', 'sort', 'size', 'limit', 'keepAlive', 'slices', 'slice', 'scroll', 'checkpoint', 'sinceField', 'settle', 'follow', 'interval']

/** Hits per request at most: Elasticsearch's index.max_result_window for one page. */
const MAX_SIZE = 10_000

/**
 * es-read's options as esRead takes them. The original tool's `--es_url` names the index in
 * its path and may carry `?q=`: both are taken, and must agree with --index and --q.
 */
function esReadOptions (opts: Options): EsReadOptions & { index: string } {
  const { node, index: urlIndex, q: urlQ } = splitSearchUrl(opts.string('url') as string, opts.label('url'))
  const q = opts.string('q')
  if (urlQ !== undefined && q !== undefined && q !== urlQ) throw new UsageError(`${opts.label('url')} has q=${urlQ} and ${opts.label('q')} says ${q}: give the query once`)
  const index = indexOption(opts, urlIndex)
  if (index === undefined) {
    const path = new URL(node).pathname.replace(/\/+$/, '')
    // http://host:9200/logs: an index where a node's URL goes.
    if (path !== '') throw new UsageError(`missing required option --index: ${opts.label('url')} has a path (${path}), which es-read takes as a proxy's, not as an index; for an index, give --url ${new URL(node).origin} --index ${decodeURIComponent(path.split('/').pop() as string)}, or ${new URL(node).origin}${path}/_search`)
    throw new UsageError('missing required option --index (or an index in --url, as in http://host:9200/NAME/_search)')
  }
  return {
    index,
    connection: esConnectionOptions(opts, node),
    query: opts.string('query'),
    q: q ?? urlQ,
    timeField: opts.string('timeField'),
    gte: opts.string('gte'),
    lte: opts.string('lte'),
    matchAll: opts.bool('matchAll'),
    sourceIncludes: opts.strings('sourceIncludes'),
    sourceExcludes: opts.strings('sourceExcludes'),
    fields: opts.strings('fields'),
    sort: opts.strings('sort'),
    size: opts.int('size', { min: 1, max: MAX_SIZE }),
    limit: opts.int('limit', { min: 0 }),
    keepAlive: opts.string('keepAlive'),
    slices: opts.int('slices', { min: 1 }),
    slice: parseSliceOption(opts.string('slice')),
    scroll: opts.bool('scroll'),
    checkpoint: opts.string('checkpoint'),
    sinceField: opts.string('sinceField'),
    settleMs: opts.duration('settle'),
    follow: opts.bool('follow'),
    intervalMs: opts.duration('interval'),
    retry: retryPolicy(opts),
    ndjson: true
  }
}

export const esReadCli: CliSpec = {
  tool: 'es-read',
  description: 'stream an Elasticsearch or OpenSearch index as NDJSON records, exactly once, in flat memory',
  counters: ES_READ_COUNTERS,
  flags: {
    ...ES_CONNECTION_FLAGS,
    url: { ...ES_CONNECTION_FLAGS.url, help: `${ES_CONNECTION_FLAGS.url.help as string}, and its ?q= is taken as --q (any other parameter is refused)` },
    index: { type: 'string', shortFlag: 'i', value: 'NAME', help: 'index, comma list, wildcard or alias (required unless in --url)' },
    query: { type: 'string', value: 'JSON|@FILE', help: 'query DSL object, e.g. \'{"term":{"status":500}}\'' },
    q: { type: 'string', value: 'TEXT', help: "Lucene query string, e.g. 'status:500 AND host:web*' (long option only: -q is --quiet, as in every espipe binary)" },
    timeField: { type: 'string', value: 'F', default: '@timestamp', aliases: ['time_field'], help: 'field for --gte/--lte' },
    gte: { type: 'string', value: 'TIME', help: 'only documents from TIME on, in the time field (a date or date math: now-1d/d)' },
    lte: { type: 'string', value: 'TIME', help: 'only documents up to TIME, in the time field' },
    matchAll: { type: 'boolean', aliases: ['match_all'], help: 'every document (the default when no query is given)' },
    sourceIncludes: { type: 'string', value: 'F,…', isMultiple: true, aliases: ['source_includes'], help: 'only these _source fields (wildcards allowed)' },
    sourceExcludes: { type: 'string', value: 'F,…', isMultiple: true, aliases: ['source_excludes'], help: 'drop these _source fields' },
    fields: { type: 'string', value: 'F,…', isMultiple: true, help: 'also return these fields (doc values, runtime) under "fields"' },
    sort: { type: 'string', value: 'F[:asc|desc],…', isMultiple: true, help: 'order by these fields (default: index order, the fastest)' },
    size: { type: 'string', value: 'N', default: '1000', aliases: ['batch_size'], help: `hits per request (default: {default}, at most ${MAX_SIZE})` },
    limit: { type: 'string', value: 'N', help: 'stop after N documents' },
    keepAlive: { type: 'string', value: 'T', default: '5m', aliases: ['keep_alive'], help: 'how long the server keeps the point in time (or scroll) between two pages' },
    slices: { type: 'string', value: 'N', help: 'read N slices of one point in time in parallel' },
    slice: { type: 'string', value: 'I/N', help: 'read only slice I (0 to N-1) of N: run N processes to split a read' },
    scroll: { type: 'boolean', help: 'page with the scroll API (clusters or aliases without point in time)' },
    checkpoint: { type: 'string', value: 'FILE', help: "save the cursor after every page written; rerun to resume (an empty FILE starts fresh; one that can't be written is refused); with --since-field, rerun to read what came since" },
    sinceField: { type: 'string', value: 'F', aliases: ['since_field'], help: 'read in order of F (a date or numeric field), from where the last run\'s committed records ended (with --checkpoint): documents sharing a value are each read once (see CHECKPOINT in the man page)' },
    settle: { type: 'string', value: 'T', default: formatDuration(DEFAULT_SETTLE_MS), help: 'with a date --since-field, read only documents whose F is older than T, so that one searchable late (refresh, ingest lag, clock skew) is not passed by (default: {default}; 0: up to now)' },
    schema: { type: 'boolean', help: 'print each index\'s definition instead of its documents, one line per index: {"_index":…,"mappings":{…},"settings":{…},"aliases":{…}}, settings flat and without what the engine sets itself (uuid, creation date, version, tier); es-write --schema creates indices from them' },
    ...followFlags('--since-field'),
    ...retryFlags('a failed request (429, 5xx, reset)')
  },
  build: async ({ opts, ctx }) => {
    if (opts.bool('schema')) {
      const given = DOCUMENT_FLAGS.filter((name) => opts.has(name))
      if (given.length > 0) throw new UsageError(`--schema prints the indices' definitions, not documents: drop ${given.map((n) => opts.label(n)).join(', ')}`)
      const options = esReadOptions(opts)
      const conn = new EsConnection(options.connection as EsConnectionOptions, ctx)
      ctx.onCleanup(async () => await conn.close().catch(() => undefined))
      return [await esReadSchema({ index: options.index, connection: conn, retry: options.retry as NonNullable<typeof options.retry>, context: ctx }), stdout()]
    }
    const reader = esRead({ ...esReadOptions(opts), context: ctx })
    return [reader, reader.checkpoint?.output(stdout(), 1) ?? stdout()]
  },
  help: [
    { title: 'Usage', text: '$ es-read --index NAME [options]' },
    { text: 'Streams every hit of an Elasticsearch index (or comma list, wildcard, alias) to stdout as NDJSON, one line per document: {"_index":…,"_id":…,"_source":{…}} (plus "fields" with --fields). Pages with a point in time and search_after; every document exactly once, in flat memory, closing the point in time on every exit.' },
    ES_CONNECTION_SECTION,
    { title: 'What to read', options: ['index', 'schema', 'query', 'q', 'timeField', 'gte', 'lte', 'matchAll', 'sourceIncludes', 'sourceExcludes', 'fields', 'sort'] },
    { title: 'Incremental and continuous', options: ['sinceField', 'settle', 'follow', 'interval', 'checkpoint'] },
    { title: 'How', options: ['size', 'limit', 'keepAlive', 'slices', 'slice', 'scroll', 'retries', 'retryMaxWait', 'retryFor'] },
    { title: 'Common', options: COMMON_OPTIONS },
    { text: 'Aliases of the original tool: --es_url (with the index in its path, and ?q=), --es_user, --es_pass, --api_key, --batch_size; its --threads N is accepted and changes nothing (one note on stderr; --slices reads in parallel).' },
    { text: 'Exit status: 0 every document written (or stdout closed early, as by head); 1 a failure (connection, authentication, unknown index, shard failures, expired point in time); 2 bad usage (including a bad --query); 130/143 after SIGINT/SIGTERM.' },
    examples(
      "es-read --index logs-2024 --gte now-1d | jq -c 'select(._source.status >= 500)'",
      'ES_PASSWORD=… es-read --url https://es:9200 --username elastic --index logs --slices 4 > logs.ndjson',
      'es-read --index logs --checkpoint logs.ckpt | jsonl-write -o logs.jsonl.gz',
      'es-read --index orders --since-field updated_at --checkpoint o.ckpt --follow | mysql-write -t orders --checkpoint o.ckpt',
      "es-read --index 'logs-*' --q 'level:error' --source-includes msg,host --limit 100",
      "es-read --index 'logs-*' --schema > logs.schema.ndjson"
    )
  ]
}
