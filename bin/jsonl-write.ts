#!/usr/bin/env node
import '../lib/core/young-generation.js'
import { commonHelp, outputSink, runCli } from '../lib/cli.js'
import { MAX_LINE_BYTES_FLAG, maxLineBytesHelp } from '../lib/core/line-limit.js'
import { WriteLedger } from '../lib/core/ledger.js'
import { checkInputs, inputNames } from '../lib/core/input.js'
import type { JsonlShape } from '../lib/jsonl/write.js'
import { JSONL_SHAPES, jsonlWrite } from '../lib/jsonl/write.js'
import { ndjsonInputs } from '../lib/core/ndjson.js'

await runCli({
  tool: 'jsonl-write',
  description: 'write NDJSON records to a JSON Lines file',
  importMeta: import.meta,
  counters: ['read', 'written', ['skipped', 'duplicate id']],
  flags: {
    output: { type: 'string', shortFlag: 'o', aliases: ['output_file'] },
    shape: { type: 'string', default: 'raw' },
    idField: { type: 'string', default: '_id', aliases: ['id_field'] },
    contentField: { type: 'string', default: '_source', aliases: ['content_field'] },
    dedupe: { type: 'boolean' },
    append: { type: 'boolean' },
    gzip: { type: 'boolean' },
    ...MAX_LINE_BYTES_FLAG
  },
  help: `
    Usage
      $ jsonl-write [options] [FILE...]

    Reads NDJSON records (none or - means stdin) and writes them as JSON Lines to stdout
    or to the file given with -o.

    Options
      -o, --output FILE      write to FILE instead of stdout; the file is written under a
                             temporary name and renamed when the run succeeds, so a failed
                             run leaves no half file; it keeps the old file's mode and
                             writes through a symlink; a name ending in .gz is gzipped
      --append               add to FILE instead of replacing it (written in place; after
                             a newline if its last line is unfinished; a .gz gets a new
                             gzip member); refused when FILE is also an input
      --gzip                 gzip the output whatever its name (--no-gzip: never)
      --shape SHAPE          (every shape keeps numbers as written: 2^53+1, 1e400, 1.0)
                             raw (default): each record exactly as it came;
                             envelope: {"id": ..., "content": ...} (the original FileSink);
                             flat: {"id": ..., ...content} (the original JSONLSink)
      --id-field PATH        where the id is (default: _id)
      --content-field PATH   where the content is (default: _source; . is the whole record)
      --dedupe               skip a record whose id was already written (the first wins);
                             keeps every id in memory (about 100 bytes per record)
${maxLineBytesHelp()}
${commonHelp()}

    Alias of the original tool: --output_file; its --threads N is accepted and changes
    nothing (one note on stderr).

    Exit status: 0 all records written; 1 a record failed or a fatal error; 2 bad usage.

    Examples
      $ es-read --index logs | jsonl-write -o logs.jsonl.gz
      $ csv-read people.csv | jsonl-write --shape flat --dedupe -o people.jsonl
      $ cat events.jsonl | jsonl-write --id-field id --content-field . --shape envelope
`
}, async ({ opts, ctx }) => {
  const files = inputNames(opts.input)
  // A record counts as written once its bytes are in the file (or taken by the pipe).
  const ledger = new WriteLedger((n) => ctx.stats.add('written', n))
  const writer = jsonlWrite({
    shape: opts.string('shape', { choices: JSONL_SHAPES }) as JsonlShape,
    idField: opts.string('idField'),
    contentField: opts.string('contentField'),
    dedupe: opts.bool('dedupe'),
    ledger,
    context: ctx
  })
  await checkInputs(files)
  const sink = outputSink(opts.string('output'), ctx, { append: opts.bool('append'), gzip: opts.has('gzip') ? opts.bool('gzip') : undefined, ledger, inputs: files })
  // Lines are scanned, not parsed: a record written as it came needs no object (see scanObject).
  return [ndjsonInputs(files, ctx, { scan: true }), writer, sink]
})
