#!/usr/bin/env node
import { commonHelp, runCli, stdout } from '../lib/cli.js'
import { UsageError } from '../lib/core/errors.js'
import { ES_CONNECTION_FLAGS, ES_CONNECTION_HELP, esConnectionOptions } from '../lib/es/cli-options.js'
import { splitSearchUrl } from '../lib/es/client.js'
import { ES_READ_COUNTERS, esRead } from '../lib/es/read.js'
import { parseDuration } from '../lib/core/retry.js'
import { parseSliceOption } from '../lib/core/slice.js'

await runCli({
  tool: 'es-read',
  description: 'stream an Elasticsearch or OpenSearch index as NDJSON records, exactly once, in flat memory',
  importMeta: import.meta,
  counters: ES_READ_COUNTERS,
  flags: {
    ...ES_CONNECTION_FLAGS,
    index: { type: 'string', shortFlag: 'i' },
    query: { type: 'string' },
    q: { type: 'string' },
    timeField: { type: 'string', default: '@timestamp', aliases: ['time_field'] },
    gte: { type: 'string' },
    lte: { type: 'string' },
    matchAll: { type: 'boolean', aliases: ['match_all'] },
    sourceIncludes: { type: 'string', isMultiple: true, aliases: ['source_includes'] },
    sourceExcludes: { type: 'string', isMultiple: true, aliases: ['source_excludes'] },
    fields: { type: 'string', isMultiple: true },
    sort: { type: 'string', isMultiple: true },
    size: { type: 'string', default: '1000', aliases: ['batch_size'] },
    limit: { type: 'string' },
    keepAlive: { type: 'string', default: '5m', aliases: ['keep_alive'] },
    slices: { type: 'string' },
    slice: { type: 'string' },
    scroll: { type: 'boolean' },
    checkpoint: { type: 'string' },
    retries: { type: 'string', default: '8' },
    retryMaxWait: { type: 'string', default: '30s', aliases: ['retry_max_wait'] }
  },
  help: `
    Usage
      $ es-read --index NAME [options]

    Streams every hit of an Elasticsearch index (or comma list, wildcard, alias) to stdout as
    NDJSON, one line per document: {"_index":…,"_id":…,"_source":{…}} (plus "fields" with
    --fields). Pages with a point in time and search_after; every document exactly once, in
    flat memory, closing the point in time on every exit.

    Connection
      --url URL              node URL (env ES_URL; default http://localhost:9200); a search URL
                             such as http://host:9200/logs/_search also names the index, and
                             its ?q= is taken as --q (any other parameter is refused)
${ES_CONNECTION_HELP}

    What to read
      -i, --index NAME       index, comma list, wildcard or alias (required unless in --url)
      --query JSON|@FILE     query DSL object, e.g. '{"term":{"status":500}}'
      --q TEXT               Lucene query string, e.g. 'status:500 AND host:web*' (long
                             option only: -q is --quiet, as in every espipe binary)
      --time-field F         field for --gte/--lte (default @timestamp)
      --gte TIME, --lte TIME range on the time field (dates or date math: now-1d/d)
      --match-all            every document (the default when no query is given)
      --source-includes F,…  only these _source fields (wildcards allowed)
      --source-excludes F,…  drop these _source fields
      --fields F,…           also return these fields (doc values, runtime) under "fields"
      --sort F[:asc|desc],…  order by these fields (default: index order, the fastest)

    How
      --size N               hits per request (default 1000, at most 10000)
      --limit N              stop after N documents
      --keep-alive T         how long the server keeps the point in time (or scroll) between
                             two pages (default 5m)
      --slices N             read N slices of one point in time in parallel
      --slice I/N            read only slice I (0 to N-1) of N: run N processes to split a read
      --scroll               page with the scroll API (clusters or aliases without point in time)
      --checkpoint FILE      save the cursor after every page written; rerun to resume (an
                             empty FILE starts fresh; one that can't be written is refused)
      --retries N            retries of a failed request (429, 5xx, reset) (default 8)
      --retry-max-wait T     longest wait between two retries (default 30s)

    Common
${commonHelp()}

    Aliases of the original tool: --es_url (with the index in its path, and ?q=), --es_user,
    --es_pass, --api_key, --batch_size; its --threads N is accepted and changes nothing
    (one note on stderr; --slices reads in parallel).

    Exit status: 0 every document written (or stdout closed early, as by head); 1 a failure
    (connection, authentication, unknown index, shard failures, expired point in time);
    2 bad usage (including a bad --query); 130/143 after SIGINT/SIGTERM.

    Examples
      $ es-read --index logs-2024 --gte now-1d | jq -c 'select(._source.status >= 500)'
      $ ES_PASSWORD=… es-read --url https://es:9200 --username elastic --index logs --slices 4 > logs.ndjson
      $ es-read --index logs --checkpoint logs.ckpt | jsonl-write -o logs.jsonl.gz
      $ es-read --index 'logs-*' --q 'level:error' --source-includes msg,host --limit 100
`
}, async ({ opts, ctx }) => {
  const { node, index: urlIndex, q: urlQ } = splitSearchUrl(opts.string('url') as string, opts.label('url'))
  const q = opts.string('q')
  if (urlQ !== undefined && q !== undefined && q !== urlQ) throw new UsageError(`${opts.label('url')} has q=${urlQ} and ${opts.label('q')} says ${q}: give the query once`)
  const index = opts.string('index') ?? urlIndex
  if (index === undefined) throw new UsageError('missing required option --index (or an index in --url, as in http://host:9200/NAME/_search)')
  const slice = parseSliceOption(opts.string('slice'))
  const reader = esRead({
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
    size: opts.int('size', { min: 1, max: 10_000 }),
    limit: opts.int('limit', { min: 0 }),
    keepAlive: opts.string('keepAlive'),
    slices: opts.int('slices', { min: 1 }),
    slice,
    scroll: opts.bool('scroll'),
    checkpoint: opts.string('checkpoint'),
    ndjson: true,
    retry: { retries: opts.int('retries', { min: 0 }) ?? 8, maxWaitMs: parseDuration(opts.string('retryMaxWait') as string, 'retry-max-wait') },
    context: ctx
  })
  return [reader, reader.checkpoint?.output(stdout(), 1) ?? stdout()]
})
