import type { CliSpec, Options } from '../core/cli.js'
import { COMMON_OPTIONS, RECORD_FIELD_FLAGS } from '../core/cli.js'
import { Readable } from 'node:stream'
import { readFile } from 'node:fs/promises'
import { intoServer } from '../core/cli-streams.js'
import { stdout } from '../core/cli.js'
import { checkInputs, inputNames } from '../core/input.js'
import { ndjsonInputs } from '../core/ndjson.js'
import { EspipeError } from '../core/errors.js'
import { examples } from '../core/help.js'
import { UsageError } from '../core/errors.js'
import { retryFlags, retryPolicy } from '../core/retry-flags.js'
import { formatDuration } from '../core/retry.js'
import { optionalName, parseColumnMapping, parseNameList, parseTableName, splitOutsideQuotes } from './identifiers.js'
import { withAskedPassword } from './password.js'
import { MYSQL_CONNECTION_ALIASES, MYSQL_CONNECTION_FLAGS, MYSQL_CONNECTION_SECTION, connectionSettings } from './options.js'
import type { WriteMode } from './statement.js'
import { WRITE_MODES } from './statement.js'
import type { MysqlWriteOptions, SortIds } from './write.js'
import { MYSQL_WRITE_COUNTERS, SORT_IDS, mysqlWrite } from './write.js'
import { MYSQL_WRITE_DEFAULTS } from './write-defaults.js'
import { maxLineBytesFlag } from '../core/line-limit.js'
import { mapOption, parseSchemaLine, tableFromMapping } from './schema-mapping.js'
import { schemaDryRun } from './schema-table.js'
import { WRITER_CHECKPOINT_FLAG } from '../core/checkpoint-writer.js'

/** `--map col=path,…` as [column, path] pairs (a column that holds `,` or `=` backquoted). */
function columnMap (opts: Options): Array<readonly [string, string]> {
  return opts.values('map').flatMap((v) => splitOutsideQuotes(v, ',')).filter((m) => m.trim() !== '').map((m) => {
    const pair = parseColumnMapping(m.trim())
    if (pair === undefined) throw new UsageError(`invalid value for --map: '${m}' (expected column=path)`)
    return pair
  })
}

/** mysql-write's options as mysqlWrite takes them. */
function mysqlWriteOptions (opts: Options): MysqlWriteOptions {
  return {
    table: opts.string('table', { required: true }) as string,
    map: columnMap(opts),
    connection: connectionSettings(opts),
    mode: opts.string('mode', { choices: WRITE_MODES }) as WriteMode,
    idField: opts.string('idField'),
    contentField: opts.string('contentField'),
    idColumn: optionalName(opts.string('idColumn')),
    contentColumn: optionalName(opts.string('contentColumn')),
    columns: parseNameList(opts.values('columns'), 'column'),
    create: opts.bool('create'),
    allowIdMerge: opts.bool('allowIdMerge'),
    batchSize: opts.int('batchSize', { min: 1 }),
    concurrency: opts.int('concurrency', { min: 1 }),
    retry: retryPolicy(opts),
    sortIds: opts.string('sortIds', { choices: SORT_IDS }) as SortIds,
    tmpdir: opts.string('tmpdir'),
    checkpoint: opts.string('checkpoint'),
    flushIntervalMs: opts.duration('flushInterval'),
    timezone: opts.string('timezone')
  }
}

/** The schema line of --schema FILE|- (stdin: then it is the whole input). */
async function readSchema (from: string): Promise<string> {
  if (from !== '-') {
    try {
      return await readFile(from, 'utf8')
    } catch (err) {
      throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot read --schema ${from}: ${(err as Error).message}`)
    }
  }
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * --schema: the table of an es-read --schema line. Its --map goes to stdout once the table is
 * there (or, with --dry-run, the CREATE TABLE and the map, and nothing runs); then the input
 * is loaded through it, unless the schema was the input (-).
 */
const build: CliSpec['build'] = async (cli) => {
  const { opts, ctx } = cli
  const from = opts.string('schema')
  if (from === undefined) {
    if (opts.bool('dryRun')) throw new UsageError('--dry-run goes with --schema (it prints the table --schema would make)')
    return await intoServer(mysqlWriteOptions, async (o) => await mysqlWrite({ ...o, connection: await withAskedPassword('mysql-write', o.connection) }))(cli)
  }
  const options = mysqlWriteOptions(opts)
  const files = from === '-' ? [] : inputNames(opts.input)
  if (from === '-' && opts.input.length > 0) throw new UsageError('--schema - reads the schema from stdin: it cannot be combined with input files (give the schema as a file)')
  await checkInputs(files)
  const { index, mappings } = parseSchemaLine(await readSchema(from), from === '-' ? 'stdin' : from, parseTableName(options.table).table)
  const plan = tableFromMapping(mappings, index, { idColumn: options.idColumn ?? MYSQL_WRITE_DEFAULTS.idColumn, names: options.map })
  for (const note of plan.notes) ctx.logger.info(note)
  const connection = await withAskedPassword('mysql-write', options.connection)
  if (opts.bool('dryRun')) {
    const sql = await schemaDryRun({ ...options, connection }, plan)
    return [Readable.from([`${sql};\n-- map: ${mapOption(plan)}\n`]), stdout()]
  }
  const writer = await mysqlWrite({ ...options, map: [], connection, schema: plan, context: ctx })
  stdout().write(`${mapOption(plan)}\n`)
  return [from === '-' ? Readable.from([]) : ndjsonInputs(files, ctx, { scan: true }), writer]
}

export const mysqlWriteCli: CliSpec = {
  tool: 'mysql-write',
  description: 'load NDJSON records into a MySQL or MariaDB table',
  counters: MYSQL_WRITE_COUNTERS,
  // Rows wait in batches long enough to reach the old generation, which V8 then lets grow to
  // ~130 MB of mostly garbage before collecting. A smaller growth step bounds that; at 30% the
  // old generation was collected ~95 times per 1M rows, a fifth of the client's CPU once lines
  // were scanned instead of parsed. 60%: ~35 collections, ~20% less CPU, peak RSS ~135-140 MB
  // instead of ~125-135 (measured at 1M rows, bench/mysql-write.ts's input).
  heap: { growingPercent: 60 },
  flags: {
    ...maxLineBytesFlag(),
    ...MYSQL_CONNECTION_FLAGS,
    table: { type: 'string', shortFlag: 't', value: 'NAME', aliases: ['db_table'], help: 'table (or database.table) to write to; required' },
    schema: { type: 'string', value: 'FILE|-', help: "the table is the one of this es-read --schema line (an index's mapping): with --create it is made, one typed column per field (dots become _, or the name --map gives: --map col=path), and it prints the --map of its columns on stdout; then the input is loaded, each value checked to read back as it came (a field with no column, an array in a one-value column: RECORD_INEXACT_VALUE). - reads the line from stdin and loads nothing. man mysql-write, SCHEMA, has the types" },
    dryRun: { type: 'boolean', help: 'with --schema: print the CREATE TABLE and the map, and run nothing' },
    create: { type: 'boolean', help: "create the table if missing: id VARCHAR(512) COLLATE utf8mb4_nopad_bin (MySQL 8: utf8mb4_0900_bin; else VARBINARY(512)) PRIMARY KEY, content JSON: ids compare byte for byte, as in Elasticsearch ('a', 'A' and 'a ' are three rows); with --schema, that id and a typed column per field" },
    allowIdMerge: { type: 'boolean', help: "write even into an id column that would merge distinct ids (case-insensitive or PAD SPACE collation such as utf8mb4_bin, CHAR, a key on a prefix, '01' into an integer column): such ids then share one row; without it the run is refused up front" },
    idColumn: { type: 'string', value: 'NAME', default: MYSQL_WRITE_DEFAULTS.idColumn, aliases: ['id_column'], help: 'column for the id' },
    contentColumn: { type: 'string', value: 'NAME', default: MYSQL_WRITE_DEFAULTS.contentColumn, aliases: ['content_column'], help: 'column for the content as JSON' },
    columns: { type: 'string', value: 'a,b,c', isMultiple: true, help: 'write these content fields into columns of the same name instead of one JSON column (the id still goes to --id-column)' },
    map: { type: 'string', value: 'col=path,...', isMultiple: true, help: 'write the content field at path into column col\nNumbers go as written; one the column would round (1.5 into INT, a third decimal into DECIMAL(9,2), 2^53+1 into DOUBLE) fails its record (RECORD_INEXACT_VALUE), never a rounded row' },
    timezone: { type: 'string', value: 'TZ', default: 'UTC', help: "zone of DATETIME and TIMESTAMP values written without an offset, and the zone whose wall time a DATETIME stores (default: {default}): UTC, an offset (+02:00) or a name (Europe/Paris), as mysql-read's --timezone" },
    ...RECORD_FIELD_FLAGS,
    mode: { type: 'string', value: 'MODE', default: MYSQL_WRITE_DEFAULTS.mode, help: 'what a duplicate id does in a record without "_op" of its own (default: {default}):\nignore: it is skipped, the first wins;\nupsert: the last one wins (counted as updated);\nreplace: REPLACE INTO (delete and insert, the last one wins);\ninsert: it is a failed record' },
    batchSize: { type: 'string', value: 'N', default: String(MYSQL_WRITE_DEFAULTS.batchSize), aliases: ['batch_size'], help: "rows per INSERT (default: {default}), also kept under the server's max_allowed_packet and 65,535 placeholders" },
    concurrency: { type: 'string', shortFlag: 'c', value: 'N', default: String(MYSQL_WRITE_DEFAULTS.concurrency), aliases: ['threads'], help: 'connections writing in parallel (default: {default}); rows with the same id are always written in input order. When the server refuses connections for its limit, fewer are used (said in one line)' },
    sortIds: { type: 'string', value: 'WHEN', default: MYSQL_WRITE_DEFAULTS.sortIds, aliases: ['sort_ids'], help: 'when to write rows in id order (default: {default}):\nauto: once ids prove to arrive unordered, sort them through temporary files and write in id order at the end of input;\nalways;\nnever: write as records arrive' },
    tmpdir: { type: 'string', value: 'DIR', help: 'where sorting spills (default: the system temporary directory)' },
    // --retry-for has bounded mysql-write's retries to 60 s since its first version.
    ...retryFlags('a batch through lost connections, deadlocks and lock wait timeouts, then exit 1', { forMs: 60_000 }),
    ...WRITER_CHECKPOINT_FLAG,
    flushInterval: { type: 'string', value: 'T', default: formatDuration(MYSQL_WRITE_DEFAULTS.flushIntervalMs), aliases: ['flush_interval'], help: 'write a batch that has not filled up after this long (default: {default}), so a trickle of input (a followed read) lands; 0: only full batches, and the last one at the end' }
  },
  build,
  help: [
    { title: 'Usage', text: '$ mysql-write --table NAME [options] [FILE...]' },
    { text: "Loads NDJSON records (none or - means stdin; gzipped ones are decompressed) into a MySQL or MariaDB table: by default the record's _id into the id column and its _source, as JSON, into the content column. Rows go in multi-row batches over several connections; a row MySQL refuses is dead-lettered and the rest of its batch lands. Rerunning the same input is safe." },
    MYSQL_CONNECTION_SECTION,
    { title: 'Table', options: ['table', 'create', 'schema', 'dryRun', 'allowIdMerge', 'idColumn', 'contentColumn', 'columns', 'map', 'idField', 'contentField', 'timezone'] },
    { text: "Values into --columns/--map go back as mysql-read writes them, by the column's type: BIT a number, binary columns base64, DATETIME and TIMESTAMP ISO-8601 (in --timezone when no offset), a JSON column any JSON value (null is JSON null; a missing member is SQL NULL); ids into a binary id column as mysql-read makes them (base64: and base64 for bytes that are not UTF-8). man mysql-write lists every type." },
    { title: 'Writing', options: ['mode', 'batchSize', 'concurrency', 'sortIds', 'tmpdir', 'retries', 'retryMaxWait', 'retryFor', 'flushInterval', 'maxLineBytes', 'checkpoint'] },
    { title: 'Common', options: COMMON_OPTIONS },
    { text: `Aliases of the original tool: ${MYSQL_CONNECTION_ALIASES}, --db_table, --threads, --batch_size.` },
    { text: 'Exit status: 0 all records written or skipped; 1 a record failed or a fatal error (the summary says how many rows were committed); 2 bad usage; 130/143 after SIGINT/SIGTERM, once the batches in flight are committed.' },
    examples(
      'es-read --index logs | mysql-write --table logs --create',
      'es-read --index logs --schema > logs.schema && es-read --index logs | mysql-write -t logs --create --schema logs.schema',
      'csv-read people.csv | mysql-write -t people --columns name,age --mode upsert',
      'MYSQL_PWD=secret mysql-write --url mysql://app@db:3306/shop -t orders --errors bad.ndjson orders.ndjson',
      'jq -c .record bad.ndjson | mysql-write -t orders --url mysql://app@db/shop'
    )
  ]
}
