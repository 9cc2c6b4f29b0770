#!/usr/bin/env node
import '../lib/core/young-generation.js'
import { commonHelp, runCli, stdout } from '../lib/cli.js'
import { parseDuration } from '../lib/core/retry.js'
import { parseSliceOption } from '../lib/core/slice.js'
import { MYSQL_CONNECTION_ALIASES, MYSQL_CONNECTION_FLAGS, MYSQL_CONNECTION_HELP, connectionSettings } from '../lib/mysql/options.js'
import { MYSQL_READ_COUNTERS, mysqlRead } from '../lib/mysql/read.js'

await runCli({
  tool: 'mysql-read',
  description: 'stream a MySQL or MariaDB table, or one SELECT, as NDJSON records',
  importMeta: import.meta,
  counters: MYSQL_READ_COUNTERS,
  flags: {
    ...MYSQL_CONNECTION_FLAGS,
    table: { type: 'string', shortFlag: 't', aliases: ['db_table'] },
    query: { type: 'string', shortFlag: 'e' },
    columns: { type: 'string', isMultiple: true },
    where: { type: 'string', shortFlag: 'w' },
    idColumn: { type: 'string', isMultiple: true, aliases: ['id_column'] },
    contentColumn: { type: 'string', aliases: ['content_column'] },
    sinceColumn: { type: 'string', aliases: ['since_column'] },
    checkpoint: { type: 'string' },
    consistent: { type: 'boolean' },
    slices: { type: 'string' },
    slice: { type: 'string' },
    batchSize: { type: 'string', default: '10000', aliases: ['batch_size'] },
    limit: { type: 'string' },
    timezone: { type: 'string', default: 'UTC' },
    retries: { type: 'string', default: '8' },
    retryMaxWait: { type: 'string', default: '30s', aliases: ['retry_max_wait'] }
  },
  help: `
    Usage
      $ mysql-read --table NAME [options]
      $ mysql-read --query 'SELECT …' [options]

    Streams the rows of a MySQL or MariaDB table (or of one SELECT) to stdout as NDJSON, one
    line per row: {"_index":<table>,"_id":<key>,"_source":{<column>:<value>,…}}. Pages by key
    (never OFFSET), each page a short statement of its own, so no lock or transaction is held
    between pages; memory stays flat, and a slow consumer slows the reads.

${MYSQL_CONNECTION_HELP}

    What to read
      -t, --table NAME       table (or database.table) to read
      -e, --query SQL        one SELECT instead of a table (read as one streamed statement
                             unless --since-column, --checkpoint or slicing pages it)
      --columns a,b,c        only these columns in _source (the key is read anyway)
      -w, --where COND       an SQL condition the rows must meet, e.g. 'status = "paid"'
      --id-column COL[,COL]  the columns of _id (default: the primary key, else a unique
                             index on NOT NULL columns); several are joined by commas, each
                             with % and , percent-encoded; for a query or a table without a
                             key, also the key that pages the read (must be unique, NOT NULL)
      --content-column COL   _source is this JSON column's text, as stored: the inverse of
                             mysql-write's (id, content) layout, byte for byte

    Incremental and parallel
      --since-column COL     read in order of (COL, key) and resume after the last pair read:
                             with --checkpoint, each run reads the rows changed since the last
      --checkpoint FILE      save the cursor as lines are written; rerun to resume (or to read
                             what changed since, with --since-column)
      --consistent           the whole read in one consistent snapshot (one transaction)
      --slices N             read N key ranges in parallel, one connection each
      --slice I/N            read only key range I (0 to N-1) of N: run N processes

    How
      --batch-size N         rows per page (default 10000)
      --limit N              stop after N records
      --timezone TZ          zone of DATETIME and TIMESTAMP values in the output: UTC (the
                             default), an offset (+02:00) or a name (Europe/Paris)
      --retries N            retries of a page after a lost connection (default 8)
      --retry-max-wait T     longest wait between two retries (default 30s)

    Common
${commonHelp()}

    Values: BIGINT and DECIMAL as JSON numbers with every digit; DATETIME and TIMESTAMP as
    ISO-8601 in --timezone; DATE, TIME, ENUM, SET as strings; JSON columns as JSON; binary as
    base64; BIT as a number; NULL as null (man mysql-read lists every type).

    Aliases of the original tool: ${MYSQL_CONNECTION_ALIASES}, --db_table, --batch_size.

    Exit status: 0 every row written (or stdout closed early, as by head); 1 a row could not
    be written (dead-lettered) or a failure (connection, unknown table or column, no key for
    --since-column); 2 bad usage (including a --query that is not a SELECT); 130/143 after
    SIGINT/SIGTERM.

    Examples
      $ mysql-read --url mysql://app@db/shop -t orders | es-write --index orders
      $ mysql-read -t orders --since-column updated_at --checkpoint orders.ckpt | es-write --index orders
      $ mysql-read -t docs --content-column content | jsonl-write -o docs.jsonl.gz
      $ mysql-read -e 'SELECT o.id, o.total, c.email FROM orders o JOIN customers c ON c.id = o.customer_id' --id-column id
      $ mysql-read -t events --slice 0/4 > part0.ndjson   # with 1/4, 2/4, 3/4 elsewhere
`
}, async ({ opts, ctx }) => {
  const slice = parseSliceOption(opts.string('slice'))
  const reader = mysqlRead({
    connection: connectionSettings(opts),
    table: opts.string('table'),
    query: opts.string('query'),
    columns: opts.strings('columns'),
    where: opts.string('where'),
    idColumns: opts.strings('idColumn'),
    contentColumn: opts.string('contentColumn'),
    sinceColumn: opts.string('sinceColumn'),
    checkpoint: opts.string('checkpoint'),
    consistent: opts.bool('consistent'),
    slices: opts.int('slices', { min: 1 }),
    slice,
    batchSize: opts.int('batchSize', { min: 1 }),
    limit: opts.int('limit', { min: 0 }),
    timezone: opts.string('timezone'),
    retry: { retries: opts.int('retries', { min: 0 }) ?? 8, maxWaitMs: parseDuration(opts.string('retryMaxWait') as string, 'retry-max-wait') },
    ndjson: true,
    context: ctx
  })
  return [reader, reader.checkpoint?.output(stdout(), 1) ?? stdout()]
})
