import type { CliSpec, Options } from '../core/cli.js'
import { COMMON_OPTIONS, RECORD_FIELD_FLAGS } from '../core/cli.js'
import { FILE_FLUSH_FLAG, OUTPUT_FLAGS, toOutput } from '../core/cli-streams.js'
import { examples } from '../core/help.js'
import { csvDialect, csvDialectFlags } from './dialect.js'
import type { CsvWriteOptions, ExtraKeys } from './write.js'
import { CSV_WRITE_COUNTERS, CSV_WRITE_DEFAULTS, EXTRA_KEYS, csvWrite } from './write.js'
import { maxLineBytesFlag } from '../core/line-limit.js'
import { WRITER_CHECKPOINT_FLAG } from '../core/checkpoint-writer.js'
import { UsageError } from '../core/errors.js'

/** csv-write's options as csvWrite takes them. */
function csvWriteOptions (opts: Options): CsvWriteOptions {
  if (opts.bool('applyOps') && opts.has('checkpoint')) throw new UsageError('--apply-ops writes the file only once the input has ended, so nothing could be acknowledged as it goes: it cannot be combined with --checkpoint (rerun the whole input instead: the end state is the same)')
  const columns = opts.strings('columns')
  return {
    ...csvDialect(opts),
    columns: columns.length > 0 ? columns : undefined,
    sample: opts.int('sample', { min: 1 }),
    idColumn: opts.bool('id') ? opts.string('idColumn') : false,
    idField: opts.string('idField'),
    contentField: opts.string('contentField'),
    extraKeys: opts.string('extraKeys', { choices: EXTRA_KEYS }) as ExtraKeys,
    header: opts.bool('header'),
    crlf: opts.bool('crlf'),
    bom: opts.bool('bom'),
    escapeFormulas: opts.bool('escapeFormulas'),
    // A checkpointed run commits at least every --flush-interval: held in the sample, a
    // trickle (a followed reader) would wait for a thousand records instead.
    sampleIdleMs: opts.has('checkpoint') ? opts.duration('flushInterval') ?? 1000 : undefined,
    applyOps: opts.bool('applyOps'),
    tmpdir: opts.string('tmpdir')
  }
}

export const csvWriteCli: CliSpec = {
  tool: 'csv-write',
  description: 'write NDJSON records as a CSV file',
  counters: CSV_WRITE_COUNTERS,
  // Peak RSS 88 MB instead of 110-120, for about 10% more CPU (200k records).
  heap: { fixedYoungGeneration: true },
  flags: {
    ...maxLineBytesFlag(),
    ...OUTPUT_FLAGS,
    columns: { type: 'string', value: 'a,b.c,d', isMultiple: true, help: 'the columns, in order: dot paths into the content (an object or array there is written as JSON); default: every key of the first --sample records, nested objects flattened to dot paths' },
    sample: { type: 'string', value: 'N', default: String(CSV_WRITE_DEFAULTS.sample), help: 'records looked at for the columns (default: {default}); they are held in memory, then written in input order; with --checkpoint, the sample also ends when no record has come for --flush-interval (give --columns to a followed pipe)' },
    extraKeys: { type: 'string', value: 'MODE', default: CSV_WRITE_DEFAULTS.extraKeys, help: 'a later record with a key outside the columns: fail (it is a failed record, not written) or ignore (written without it); either way each such key is reported once, with a count (default: {default})' },
    idColumn: { type: 'string', value: 'NAME', default: CSV_WRITE_DEFAULTS.idColumn, aliases: ['id_column', 'csv_id_column'], help: "the id's column (default: {default}): first, or where the content (or --columns) has a key of that name, whose value must then be the id" },
    id: { type: 'boolean', default: true, help: "no id column: only the content's keys" },
    ...RECORD_FIELD_FLAGS,
    ...csvDialectFlags('quotes nothing: a cell that needs quotes is then a failed record'),
    header: { type: 'boolean', default: true, help: 'write no header line' },
    crlf: { type: 'boolean', help: 'end lines with CRLF (RFC 4180, Windows) instead of LF' },
    bom: { type: 'boolean', help: 'start with a byte order mark (Excel then reads UTF-8 right)' },
    escapeFormulas: { type: 'boolean', help: "put ' before a text cell starting with = + - @ (or a tab/CR), so a spreadsheet shows it instead of running it; changes the data" },
    applyOps: { type: 'boolean', help: 'write the end state of the records\' operations ("_op": index, create, update, upsert, delete) instead of the records: one row per id that holds one at the end, in id order, updates merged; the ids are sorted through temporary files, not held in memory. Without it, a record\'s _op is kept as an _op column, so the file replays' },
    tmpdir: { type: 'string', value: 'DIR', help: 'where --apply-ops sorts (default: the OS temporary directory); it needs about the input\'s size' },
    ...WRITER_CHECKPOINT_FLAG,
    ...FILE_FLUSH_FLAG
  },
  build: toOutput(csvWriteOptions, csvWrite),
  help: [
    { title: 'Usage', text: '$ csv-write [options] [FILE...]' },
    { text: 'Reads NDJSON records (none or - means stdin; gzipped ones are decompressed) and writes them as CSV to stdout or to the file given with -o: a header of column names, then one row per record, the id first.' },
    { title: 'Options', options: ['output', 'gzip', 'columns', 'sample', 'extraKeys', 'idColumn', 'id', 'idField', 'contentField', 'delimiter', 'quote', 'encoding', 'header', 'crlf', 'bom', 'escapeFormulas', 'applyOps', 'tmpdir', 'maxLineBytes', 'checkpoint', 'flushInterval'] },
    { title: 'Common', options: COMMON_OPTIONS },
    { text: 'Values: strings as they are, numbers with every digit they came with, true/false, null as an empty cell, arrays and objects as compact JSON. Cells holding the delimiter, the quote or a line end are quoted (RFC 4180). csv-read reads the file back.' },
    { text: 'Aliases of the original tool: --output_file, --csv_id_column; its --threads N is accepted and changes nothing (one note on stderr).' },
    { text: 'Exit status: 0 every record written; 1 a record failed (or had keys outside the columns) or a fatal error; 2 bad usage.' },
    examples(
      'es-read --index people | csv-write -o people.csv',
      'es-read --index logs | csv-write --columns @timestamp,level,message,user.name -o logs.csv.gz',
      "csv-read people.csv | csv-write -d ';' --bom --crlf -o for-excel.csv",
      'cat events.jsonl | csv-write --content-field . --no-id --extra-keys ignore'
    )
  ]
}
