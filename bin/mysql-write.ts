#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8'
import { commonHelp, runCli } from '../lib/cli.js'
import { MAX_LINE_BYTES_FLAG, maxLineBytesHelp } from '../lib/core/line-limit.js'
import { UsageError } from '../lib/core/errors.js'
import { checkInputs, inputNames } from '../lib/core/input.js'
import { MYSQL_CONNECTION_ALIASES, MYSQL_CONNECTION_FLAGS, MYSQL_CONNECTION_HELP, connectionSettings } from '../lib/mysql/options.js'
import type { WriteMode } from '../lib/mysql/statement.js'
import { WRITE_MODES } from '../lib/mysql/statement.js'
import type { SortIds } from '../lib/mysql/write.js'
import { MYSQL_WRITE_COUNTERS, SORT_IDS, mysqlWrite } from '../lib/mysql/write.js'
import { ndjsonInputs } from '../lib/core/ndjson.js'

// Rows wait in batches long enough to reach the old generation, which V8 then lets grow to
// ~130 MB of mostly garbage before collecting. A smaller growth step bounds that; at 30% the
// old generation was collected ~95 times per 1M rows, a fifth of the client's CPU once lines
// were scanned instead of parsed. 60%: ~35 collections, ~20% less CPU, peak RSS ~135-140 MB
// instead of ~125-135 (measured at 1M rows, bench/mysql-write.ts's input).
setFlagsFromString('--heap-growing-percent=60')

await runCli({
  tool: 'mysql-write',
  description: 'load NDJSON records into a MySQL or MariaDB table',
  importMeta: import.meta,
  counters: MYSQL_WRITE_COUNTERS,
  flags: {
    ...MYSQL_CONNECTION_FLAGS,
    table: { type: 'string', shortFlag: 't', aliases: ['db_table'] },
    idField: { type: 'string', default: '_id', aliases: ['id_field'] },
    contentField: { type: 'string', default: '_source', aliases: ['content_field'] },
    idColumn: { type: 'string', default: 'id', aliases: ['id_column'] },
    contentColumn: { type: 'string', default: 'content', aliases: ['content_column'] },
    columns: { type: 'string', isMultiple: true },
    map: { type: 'string', isMultiple: true },
    create: { type: 'boolean' },
    allowIdMerge: { type: 'boolean' },
    mode: { type: 'string', default: 'ignore' },
    batchSize: { type: 'string', default: '1000', aliases: ['batch_size'] },
    concurrency: { type: 'string', shortFlag: 'c', default: '2', aliases: ['threads'] },
    retryFor: { type: 'string', default: '60', aliases: ['retry_for'] },
    sortIds: { type: 'string', default: 'auto', aliases: ['sort_ids'] },
    tmpdir: { type: 'string' },
    ...MAX_LINE_BYTES_FLAG
  },
  help: `
    Usage
      $ mysql-write --table NAME [options] [FILE...]

    Loads NDJSON records (none or - means stdin) into a MySQL or MariaDB table: by default
    the record's _id into the id column and its _source, as JSON, into the content column.
    Rows go in multi-row batches over several connections; a row MySQL refuses is
    dead-lettered and the rest of its batch lands. Rerunning the same input is safe.

${MYSQL_CONNECTION_HELP}

    Table
      -t, --table NAME       table (or database.table) to write to; required
      --create               create the table if missing: id VARCHAR(512) COLLATE
                             utf8mb4_nopad_bin (MySQL 8: utf8mb4_0900_bin; else
                             VARBINARY(512)) PRIMARY KEY, content JSON: ids compare byte for
                             byte, as in Elasticsearch ('a', 'A' and 'a ' are three rows)
      --allow-id-merge       write even into an id column that would merge distinct ids
                             (case-insensitive or PAD SPACE collation such as utf8mb4_bin,
                             CHAR, a key on a prefix, '01' into an integer column): such
                             ids then share one row; without it the run is refused up front
      --id-column NAME       column for the id (default: id)
      --content-column NAME  column for the content as JSON (default: content)
      --columns a,b,c        write these content fields into columns of the same name
                             instead of one JSON column (the id still goes to --id-column)
      --map col=path,...     write the content field at path into column col
                             Numbers go as written; one the column would round (1.5 into
                             INT, a third decimal into DECIMAL(9,2), 2^53+1 into DOUBLE)
                             fails its record (RECORD_INEXACT_VALUE), never a rounded row
      --id-field PATH        where the id is in the record (default: _id)
      --content-field PATH   where the content is (default: _source; . is the whole record)

    Writing
      --mode MODE            ignore (default): a duplicate id is skipped, the first wins;
                             upsert: the last one wins (counted as updated);
                             replace: REPLACE INTO (delete and insert, the last one wins);
                             insert: a duplicate id is a failed record
      --batch-size N         rows per INSERT (default 1000), also kept under the server's
                             max_allowed_packet and 65,535 placeholders
      -c, --concurrency N    connections writing in parallel (default 2); rows with the same
                             id are always written in input order. When the server refuses
                             connections for its limit, fewer are used (said in one line)
      --sort-ids WHEN        auto (default): once ids prove to arrive unordered, sort them
                             through temporary files and write in id order at the end of
                             input; always; never (write as records arrive)
      --tmpdir DIR           where sorting spills (default: the system temporary directory)
      --retry-for SECONDS    keep retrying a batch through lost connections, deadlocks and
                             lock wait timeouts this long (default 60), then exit 1
${maxLineBytesHelp()}
${commonHelp()}

    Aliases of the original tool: ${MYSQL_CONNECTION_ALIASES}, --db_table,
    --threads, --batch_size.

    Exit status: 0 all records written or skipped; 1 a record failed or a fatal error
    (the summary says how many rows were committed); 2 bad usage; 130/143 after
    SIGINT/SIGTERM, once the batches in flight are committed.

    Examples
      $ es-read --index logs | mysql-write --table logs --create
      $ csv-read people.csv | mysql-write -t people --columns name,age --mode upsert
      $ MYSQL_PWD=secret mysql-write --url mysql://app@db:3306/shop -t orders --errors bad.ndjson orders.ndjson
      $ jq -c .record bad.ndjson | mysql-write -t orders --url mysql://app@db/shop
`
}, async ({ opts, ctx }) => {
  const table = opts.string('table', { required: true }) as string
  const map = opts.strings('map').map((m) => {
    const eq = m.indexOf('=')
    if (eq <= 0 || eq === m.length - 1) throw new UsageError(`invalid value for --map: '${m}' (expected column=path)`)
    return [m.slice(0, eq), m.slice(eq + 1)] as const
  })
  const connection = connectionSettings(opts)
  const files = inputNames(opts.input)
  const writer = await (async () => {
    await checkInputs(files)
    return await mysqlWrite({
      connection,
      table,
      mode: opts.string('mode', { choices: WRITE_MODES }) as WriteMode,
      idField: opts.string('idField'),
      contentField: opts.string('contentField'),
      idColumn: opts.string('idColumn'),
      contentColumn: opts.string('contentColumn'),
      columns: opts.strings('columns'),
      map,
      create: opts.bool('create'),
      allowIdMerge: opts.bool('allowIdMerge'),
      batchSize: opts.int('batchSize', { min: 1 }),
      concurrency: opts.int('concurrency', { min: 1 }),
      retryFor: opts.int('retryFor', { min: 0 }),
      sortIds: opts.string('sortIds', { choices: SORT_IDS }) as SortIds,
      tmpdir: opts.string('tmpdir'),
      context: ctx
    })
  })()
  return [ndjsonInputs(files, ctx, { scan: true }), writer]
})
