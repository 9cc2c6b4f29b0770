import type { CliSpec, Options } from '../core/cli.js'
import { COMMON_OPTIONS, RECORD_FIELD_FLAGS } from '../core/cli.js'
import { FILE_FLUSH_FLAG, OUTPUT_FLAGS, toOutput } from '../core/cli-streams.js'
import { examples } from '../core/help.js'
import type { JsonlShape, JsonlWriteOptions } from './write.js'
import { JSONL_SHAPES, JSONL_WRITE_COUNTERS, JSONL_WRITE_DEFAULTS, jsonlWrite } from './write.js'
import { maxLineBytesFlag } from '../core/line-limit.js'
import { WRITER_CHECKPOINT_FLAG } from '../core/checkpoint-writer.js'
import { UsageError } from '../core/errors.js'

/** jsonl-write's options as jsonlWrite takes them. */
function jsonlWriteOptions (opts: Options): JsonlWriteOptions {
  if (opts.bool('dedupe') && opts.has('checkpoint')) throw new UsageError('--dedupe keeps the ids it wrote in memory, and a rerun after a crash would not know those of the runs before it: it cannot be combined with --checkpoint')
  if (opts.bool('applyOps') && opts.has('checkpoint')) throw new UsageError('--apply-ops writes the file only once the input has ended, so nothing could be acknowledged as it goes: it cannot be combined with --checkpoint (rerun the whole input instead: the end state is the same)')
  if (opts.bool('applyOps') && opts.bool('append')) throw new UsageError('--apply-ops writes the end state of its input; the records already in FILE would not take part in it: it cannot be combined with --append')
  return {
    shape: opts.string('shape', { choices: JSONL_SHAPES }) as JsonlShape,
    idField: opts.string('idField'),
    contentField: opts.string('contentField'),
    dedupe: opts.bool('dedupe'),
    applyOps: opts.bool('applyOps'),
    tmpdir: opts.string('tmpdir')
  }
}

export const jsonlWriteCli: CliSpec = {
  tool: 'jsonl-write',
  description: 'write NDJSON records to a JSON Lines file',
  counters: JSONL_WRITE_COUNTERS,
  // Peak RSS 80-90 MB instead of 110-118 for the same CPU (500k rows).
  heap: { fixedYoungGeneration: true },
  flags: {
    ...maxLineBytesFlag(),
    ...OUTPUT_FLAGS,
    append: { type: 'boolean', help: 'add to FILE instead of replacing it (written in place; after a newline if its last line is unfinished; a .gz gets a new gzip member); refused when FILE is also an input' },
    shape: { type: 'string', value: 'SHAPE', default: JSONL_WRITE_DEFAULTS.shape, help: 'how each record is written (default: {default}); every shape keeps numbers as written (2^53+1, 1e400, 1.0):\nraw: each record exactly as it came;\nenvelope: {"id": ..., "content": ...} (the original FileSink);\nflat: {"id": ..., ...content} (the original JSONLSink)' },
    ...RECORD_FIELD_FLAGS,
    dedupe: { type: 'boolean', help: 'skip a record whose id was already written (the first wins); keeps every id in memory (about 100 bytes per record)' },
    applyOps: { type: 'boolean', help: 'write the end state of the records\' operations ("_op": index, create, update, upsert, delete) instead of the records: one record per id that holds one at the end, in id order, updates merged, without _op; the ids are sorted through temporary files, not held in memory. Without it, _op stays on each record, so the file replays into a writer' },
    tmpdir: { type: 'string', value: 'DIR', help: 'where --apply-ops sorts (default: the OS temporary directory); it needs about the input\'s size' },
    ...WRITER_CHECKPOINT_FLAG,
    ...FILE_FLUSH_FLAG
  },
  // Lines are scanned, not parsed: a record written as it came needs no object (see scanObject).
  build: toOutput(jsonlWriteOptions, jsonlWrite, { scan: true }),
  help: [
    { title: 'Usage', text: '$ jsonl-write [options] [FILE...]' },
    { text: 'Reads NDJSON records (none or - means stdin) and writes them as JSON Lines to stdout or to the file given with -o.' },
    { title: 'Options', options: ['output', 'append', 'gzip', 'shape', 'idField', 'contentField', 'dedupe', 'applyOps', 'tmpdir', 'maxLineBytes', 'checkpoint', 'flushInterval'] },
    { title: 'Common', options: COMMON_OPTIONS },
    { text: 'Alias of the original tool: --output_file; its --threads N is accepted and changes nothing (one note on stderr).' },
    { text: 'Exit status: 0 all records written; 1 a record failed or a fatal error; 2 bad usage.' },
    examples(
      'es-read --index logs | jsonl-write -o logs.jsonl.gz',
      'csv-read people.csv | jsonl-write --shape flat --dedupe -o people.jsonl',
      'cat events.jsonl | jsonl-write --id-field id --content-field . --shape envelope',
      'rec-diff new.ndjson old.ndjson | cat old.ndjson - | jsonl-write --apply-ops -o repaired.ndjson'
    )
  ]
}
