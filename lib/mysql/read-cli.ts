import { Readable } from 'node:stream'
import type { CliSpec, Options, StageStreams } from '../core/cli.js'
import type { StageContext } from '../core/context.js'
import { UsageError } from '../core/errors.js'
import { COMMON_OPTIONS, stdout } from '../core/cli.js'
import { examples } from '../core/help.js'
import { retryFlags, retryPolicy } from '../core/retry-flags.js'
import { parseSliceOption } from '../core/slice.js'
import { followFlags } from '../core/follow.js'
import { optionalName, parseNameList } from './identifiers.js'
import { withAskedPassword } from './password.js'
import { MYSQL_CONNECTION_ALIASES, MYSQL_CONNECTION_FLAGS, MYSQL_CONNECTION_SECTION, connectionSettings } from './options.js'
// Types only: the reader (and mysql2 with it) is loaded in build, once the heap is tuned.
import type { MysqlReadOptions } from './read.js'

/** mysql-read's options as mysqlRead takes them. */
function mysqlReadOptions (opts: Options): MysqlReadOptions {
  return {
    connection: connectionSettings(opts),
    table: opts.string('table'),
    query: opts.string('query'),
    columns: parseNameList(opts.values('columns'), 'column'),
    where: opts.string('where'),
    idColumns: parseNameList(opts.values('idColumn'), 'column'),
    contentColumn: optionalName(opts.string('contentColumn')),
    sinceColumn: optionalName(opts.string('sinceColumn')),
    deletedColumn: optionalName(opts.string('deletedColumn')),
    deletedWhen: opts.string('deletedWhen'),
    checkpoint: opts.string('checkpoint'),
    consistent: opts.bool('consistent'),
    slices: opts.int('slices', { min: 1 }),
    slice: parseSliceOption(opts.string('slice')),
    batchSize: opts.int('batchSize', { min: 1 }),
    limit: opts.int('limit', { min: 0 }),
    timezone: opts.string('timezone'),
    follow: opts.bool('follow'),
    intervalMs: opts.duration('interval'),
    retry: retryPolicy(opts),
    binlog: opts.bool('binlog'),
    untilNow: opts.bool('untilNow'),
    resnapshot: opts.bool('resnapshot'),
    serverId: opts.int('serverId', { min: 1 }),
    ndjson: true
  }
}

/** --schema: the table's mapping line instead of its rows. */
async function schemaStreams (options: MysqlReadOptions, ctx: StageContext): Promise<StageStreams> {
  const other = options.query !== undefined ? '--query' : options.contentColumn !== undefined ? '--content-column' : options.binlog === true ? '--binlog' : options.checkpoint !== undefined ? '--checkpoint' : undefined
  if (other !== undefined) throw new UsageError(`--schema describes a table's columns: it cannot be combined with ${other}`)
  if (options.table === undefined) throw new UsageError('--schema needs --table')
  const { mysqlTableSchema } = await import('./schema-fields.js')
  const line = await mysqlTableSchema({ ...options, table: options.table, connection: await withAskedPassword('mysql-read', options.connection) }, (m) => ctx.logger.warn(m))
  return [Readable.from([`${line}\n`]), stdout()]
}

export const mysqlReadCli: CliSpec = {
  tool: 'mysql-read',
  description: 'stream a MySQL or MariaDB table, or one SELECT, as NDJSON records',
  // As MYSQL_READ_COUNTERS, which would load the reader with it.
  counters: ['read', 'emitted', 'pages', 'retries'],
  // Peak RSS about 80 MB instead of 100-120 at the same CPU (300k-1M rows of bench/mysql-read.ts).
  heap: { fixedYoungGeneration: true },
  flags: {
    ...MYSQL_CONNECTION_FLAGS,
    table: { type: 'string', shortFlag: 't', value: 'NAME', aliases: ['db_table'], help: 'table (or database.table) to read' },
    query: { type: 'string', shortFlag: 'e', value: 'SQL', help: 'one SELECT instead of a table (read as one streamed statement unless --since-column, --checkpoint or slicing pages it)' },
    columns: { type: 'string', value: 'a,b,c', isMultiple: true, help: 'only these columns in _source (the key is read anyway)' },
    where: { type: 'string', shortFlag: 'w', value: 'COND', help: 'an SQL condition the rows must meet, e.g. \'status = "paid"\'' },
    idColumn: { type: 'string', value: 'COL[,COL]', isMultiple: true, aliases: ['id_column'], help: 'the columns of _id (default: the primary key, else a unique index on NOT NULL columns); several are joined by commas, each with % and , percent-encoded; for a query or a table without a key, also the key that pages the read (must be unique, NOT NULL)' },
    schema: { type: 'boolean', help: 'print the table as one Elasticsearch mapping line instead of its rows, {"_index","mappings","settings","aliases"} as es-read --schema prints an index: each column the field type that takes what mysql-read writes for it (BIGINT long, BIGINT UNSIGNED unsigned_long, DECIMAL scaled_float where exact, else keyword with a warning, DATETIME date, JSON object, BLOB binary; man mysql-read, SCHEMA)' },
    contentColumn: { type: 'string', value: 'COL', aliases: ['content_column'], help: "_source is this JSON column's text, as stored: the inverse of mysql-write's (id, content) layout, byte for byte" },
    sinceColumn: { type: 'string', value: 'COL', aliases: ['since_column'], help: 'read in order of (COL, key) and resume after the last pair read: with --checkpoint, each run reads the rows changed since the last' },
    deletedColumn: { type: 'string', value: 'COL', help: 'soft deletes: a row whose COL is set (a number not 0, a date or anything else not NULL) is written as {"_index","_id","_op":"delete"} in its place, for a writer to delete' },
    deletedWhen: { type: 'string', value: 'SQL', help: "the condition that makes a row deleted instead (--deleted-when \"status = 'gone'\")" },
    checkpoint: { type: 'string', value: 'FILE', help: 'save the cursor as lines are written; rerun to resume (or to read what changed since, with --since-column)' },
    ...followFlags('--since-column'),
    consistent: { type: 'boolean', help: 'the whole read in one consistent snapshot (one transaction)' },
    slices: { type: 'string', value: 'N', help: 'read N key ranges in parallel, one connection each' },
    slice: { type: 'string', value: 'I/N', help: 'read only key range I (0 to N-1) of N: run N processes' },
    batchSize: { type: 'string', value: 'N', default: '10000', aliases: ['batch_size'], help: 'rows per page' },
    limit: { type: 'string', value: 'N', help: 'stop after N records' },
    timezone: { type: 'string', value: 'TZ', default: 'UTC', help: 'zone of DATETIME and TIMESTAMP values in the output: UTC, an offset (+02:00) or a name (Europe/Paris)' },
    binlog: { type: 'boolean', help: 'change data capture: a consistent snapshot of the tables (-t a,b; none: every table of the database), then every insert, update and delete from the binary log as a record with _op index or delete, following it (see BINLOG in the man page)' },
    untilNow: { type: 'boolean', aliases: ['until_now'], help: 'with --binlog: stop at the end the binary log has when the read starts' },
    resnapshot: { type: 'boolean', help: 'with --binlog and --checkpoint: copy the tables again and stream from the new snapshot (after the server purged the checkpoint\'s place, or a TRUNCATE)' },
    serverId: { type: 'string', value: 'N', aliases: ['server_id'], help: 'with --binlog: the replica server id of the dump connection, unique among the server\'s replicas (default: one drawn at random)' },
    ...retryFlags('a page after a lost connection')
  },
  build: async ({ opts, ctx }) => {
    const options = mysqlReadOptions(opts)
    if (opts.bool('schema')) return await schemaStreams(options, ctx)
    const { mysqlRead } = await import('./read.js')
    const reader = mysqlRead({ ...options, connection: await withAskedPassword('mysql-read', options.connection), context: ctx })
    return [reader, reader.checkpoint?.output(stdout(), 1) ?? stdout()]
  },
  help: [
    { title: 'Usage', text: "$ mysql-read --table NAME [options]\n$ mysql-read --query 'SELECT …' [options]" },
    { text: 'Streams the rows of a MySQL or MariaDB table (or of one SELECT) to stdout as NDJSON, one line per row: {"_index":<table>,"_id":<key>,"_source":{<column>:<value>,…}}. Pages by key (never OFFSET), each page a short statement of its own, so no lock or transaction is held between pages; memory stays flat, and a slow consumer slows the reads.' },
    MYSQL_CONNECTION_SECTION,
    { title: 'What to read', options: ['table', 'query', 'columns', 'where', 'idColumn', 'contentColumn', 'schema'] },
    { title: 'Incremental and parallel', options: ['sinceColumn', 'deletedColumn', 'deletedWhen', 'checkpoint', 'follow', 'interval', 'consistent', 'slices', 'slice'] },
    { title: 'From the binary log', options: ['binlog', 'untilNow', 'resnapshot', 'serverId'] },
    { title: 'How', options: ['batchSize', 'limit', 'timezone', 'retries', 'retryMaxWait', 'retryFor'] },
    { title: 'Common', options: COMMON_OPTIONS },
    { text: 'Values: BIGINT and DECIMAL as JSON numbers with every digit; DATETIME and TIMESTAMP as ISO-8601 in --timezone; DATE, TIME, ENUM, SET as strings; JSON columns as JSON; binary as base64; BIT as a number; NULL as null (man mysql-read lists every type).' },
    { text: `Aliases of the original tool: ${MYSQL_CONNECTION_ALIASES}, --db_table, --batch_size.` },
    { text: 'Exit status: 0 every row written (or stdout closed early, as by head); 1 a row could not be written (dead-lettered) or a failure (connection, unknown table or column, no key for --since-column); 2 bad usage (including a --query that is not a SELECT); 130/143 after SIGINT/SIGTERM.' },
    examples(
      'mysql-read --url mysql://app@db/shop -t orders | es-write --index orders',
      'mysql-read -t orders --since-column updated_at --checkpoint orders.ckpt | es-write --index orders',
      'mysql-read -t orders --since-column updated_at --checkpoint o.ckpt --follow | es-write --index orders --checkpoint o.ckpt',
      'mysql-read --binlog -t orders,customers --checkpoint shop.ckpt | es-write --checkpoint shop.ckpt',
      'mysql-read -t docs --content-column content | jsonl-write -o docs.jsonl.gz',
      'mysql-read -t orders --schema | es-write --schema - && mysql-read -t orders | es-write --index orders',
      "mysql-read -e 'SELECT o.id, o.total, c.email FROM orders o JOIN customers c ON c.id = o.customer_id' --id-column id",
      'mysql-read -t events --slice 0/4 > part0.ndjson   # with 1/4, 2/4, 3/4 elsewhere'
    )
  ]
}
