#!/usr/bin/env node
import '../lib/core/young-generation.js'
import { commonHelp, outputSink, runCli } from '../lib/cli.js'
import { MAX_LINE_BYTES_FLAG, maxLineBytesHelp } from '../lib/core/line-limit.js'
import { checkInputs, inputNames } from '../lib/core/input.js'
import { WriteLedger } from '../lib/core/ledger.js'
import { ndjsonInputs } from '../lib/core/ndjson.js'
import { csvDialect, csvDialectFlags, csvDialectHelp } from '../lib/csv/dialect.js'
import type { ExtraKeys } from '../lib/csv/write.js'
import { CSV_WRITE_COUNTERS, EXTRA_KEYS, csvWrite } from '../lib/csv/write.js'

await runCli({
  tool: 'csv-write',
  description: 'write NDJSON records as a CSV file',
  importMeta: import.meta,
  counters: CSV_WRITE_COUNTERS,
  flags: {
    output: { type: 'string', shortFlag: 'o', aliases: ['output_file'] },
    gzip: { type: 'boolean' },
    columns: { type: 'string', isMultiple: true },
    sample: { type: 'string', default: '1000' },
    idColumn: { type: 'string', default: 'id', aliases: ['id_column', 'csv_id_column'] },
    id: { type: 'boolean', default: true },
    idField: { type: 'string', default: '_id', aliases: ['id_field'] },
    contentField: { type: 'string', default: '_source', aliases: ['content_field'] },
    extraKeys: { type: 'string', default: 'fail' },
    ...csvDialectFlags,
    header: { type: 'boolean', default: true },
    crlf: { type: 'boolean' },
    bom: { type: 'boolean' },
    escapeFormulas: { type: 'boolean' },
    ...MAX_LINE_BYTES_FLAG
  },
  help: `
    Usage
      $ csv-write [options] [FILE...]

    Reads NDJSON records (none or - means stdin) and writes them as CSV to stdout or to the
    file given with -o: a header of column names, then one row per record, the id first.

    Options
      -o, --output FILE      write to FILE instead of stdout; the file is written under a
                             temporary name and renamed when the run succeeds, so a failed
                             run leaves no half file; it keeps the old file's mode and
                             writes through a symlink; a name ending in .gz is gzipped
      --gzip                 gzip the output whatever its name (--no-gzip: never)
      --columns a,b.c,d      the columns, in order: dot paths into the content (an object
                             or array there is written as JSON); default: every key of the
                             first --sample records, nested objects flattened to dot paths
      --sample N             records looked at for the columns (default: 1000); they are held
                             in memory, then written in input order
      --extra-keys MODE      a later record with a key outside the columns: fail (default: it
                             is a failed record, not written) or ignore (written without it);
                             either way each such key is reported once, with a count
      --id-column NAME       the id's column (default: id): first, or where the content (or
                             --columns) has a key of that name, whose value must then be the id
      --no-id                no id column: only the content's keys
      --id-field PATH        where the id is (default: _id)
      --content-field PATH   where the content is (default: _source; . is the whole record)
${csvDialectHelp('quotes nothing: a cell\nthat needs quotes is then a failed record')}
      --no-header            write no header line
      --crlf                 end lines with CRLF (RFC 4180, Windows) instead of LF
      --bom                  start with a byte order mark (Excel then reads UTF-8 right)
      --escape-formulas      put ' before a text cell starting with = + - @ (or a tab/CR), so
                             a spreadsheet shows it instead of running it; changes the data
${maxLineBytesHelp()}
${commonHelp()}

    Values: strings as they are, numbers with every digit they came with, true/false, null as
    an empty cell, arrays and objects as compact JSON. Cells holding the delimiter, the quote
    or a line end are quoted (RFC 4180). csv-read reads the file back.

    Aliases of the original tool: --output_file, --csv_id_column; its --threads N is
    accepted and changes nothing (one note on stderr).

    Exit status: 0 every record written; 1 a record failed (or had keys outside the columns)
    or a fatal error; 2 bad usage.

    Examples
      $ es-read --index people | csv-write -o people.csv
      $ es-read --index logs | csv-write --columns @timestamp,level,message,user.name -o logs.csv.gz
      $ csv-read people.csv | csv-write -d ';' --bom --crlf -o for-excel.csv
      $ cat events.jsonl | csv-write --content-field . --no-id --extra-keys ignore
`
}, async ({ opts, ctx }) => {
  const files = inputNames(opts.input)
  const columns = opts.strings('columns')
  // A record counts as written once its bytes are in the file (or taken by the pipe).
  const ledger = new WriteLedger((n) => ctx.stats.add('written', n))
  const writer = csvWrite({
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
    ledger,
    context: ctx
  })
  await checkInputs(files)
  const sink = outputSink(opts.string('output'), ctx, { gzip: opts.has('gzip') ? opts.bool('gzip') : undefined, ledger, inputs: files })
  return [ndjsonInputs(files, ctx), writer, sink]
})
