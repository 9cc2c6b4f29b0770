#!/usr/bin/env node
import '../lib/core/young-generation.js'
import { commonHelp, runCli, stdout } from '../lib/cli.js'
import { MAX_LINE_BYTES_FLAG, maxLineBytesHelp } from '../lib/core/line-limit.js'
import { csvRead } from '../lib/csv/read.js'
import { csvDialect, csvDialectFlags, csvDialectHelp } from '../lib/csv/dialect.js'
import { checkInputs, inputNames } from '../lib/core/input.js'
import { UsageError } from '../lib/core/errors.js'

await runCli({
  tool: 'csv-read',
  description: 'read CSV files as NDJSON records',
  importMeta: import.meta,
  counters: ['read', 'emitted'],
  flags: {
    csvFile: { type: 'string', aliases: ['csv_file'], isMultiple: true },
    idColumn: { type: 'string', default: 'id', aliases: ['csv_id_column', 'id_column'] },
    contentColumn: { type: 'string', default: 'content', aliases: ['csv_content_column', 'content_column'] },
    ...csvDialectFlags,
    header: { type: 'boolean', default: true },
    columns: { type: 'string', isMultiple: true },
    limit: { type: 'string' },
    skip: { type: 'string' },
    cast: { type: 'boolean' },
    ...MAX_LINE_BYTES_FLAG
  },
  help: `
    Usage
      $ csv-read [options] [FILE...]

    Reads CSV files (none or - means stdin) and writes one NDJSON record per row to stdout:
      {"_id": <id column>, "_source": <the row, or the parsed JSON of the content column>}

    Options
      --id-column NAME       column holding the record id (default: id)
      --content-column NAME  column holding a JSON document; when a row's value there is a
                             JSON object it becomes _source, otherwise the whole row does
                             (default: content)
${csvDialectHelp('reads quotes as\nplain characters (files with stray quotes)')}
      --no-header            the first line is data; name the columns with --columns
      --columns a,b,c        column names (with a header line, they replace its names)
      --limit N              stop after N records
      --skip N               skip the first N records
      --cast                 numbers, true/false and null (or empty) become JSON values;
                             a number keeps its text (1.0, 1e3, 9007199254740993)

    A repeated or empty header name is renamed so no cell is lost: id,name,name,, reads as
    id, name, name_2, column_4, column_5 (one warning line names them). Line numbers in
    errors are physical lines of the file (CRLF, LF or CR; inside quotes too).
${maxLineBytesHelp('CSV record')}
${commonHelp()}

    Aliases of the original tool: --csv_file, --csv_id_column, --csv_content_column;
    its --threads N is accepted and changes nothing (one note on stderr).

    Exit status: 0 all rows read; 1 a row failed or a fatal error; 2 bad usage.

    Examples
      $ csv-read people.csv | jq -c 'select(._source.age > 30)'
      $ csv-read --id-column record_id --errors bad.ndjson data.csv | jsonl-write -o data.jsonl
      $ csv-read --no-header --columns id,name,email users.csv | mysql-write --table users --create
`
}, async ({ opts, ctx }) => {
  const files = inputNames([...opts.strings('csvFile'), ...opts.input])
  const noHeader = !opts.bool('header')
  const columns = opts.strings('columns')
  if (noHeader && columns.length === 0) throw new UsageError('--no-header needs --columns to name the columns')
  const records = csvRead({
    ...csvDialect(opts),
    files,
    idColumn: opts.string('idColumn'),
    contentColumn: opts.string('contentColumn'),
    noHeader,
    columns: columns.length > 0 ? columns : undefined,
    limit: opts.int('limit', { min: 0 }),
    skip: opts.int('skip', { min: 0 }),
    cast: opts.bool('cast'),
    serialize: true,
    context: ctx
  })
  await checkInputs(files)
  return [records, stdout()]
})
