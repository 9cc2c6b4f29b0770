import type { Transform, Writable } from 'node:stream'
import type { FlagSpecs, Options, StageStreams } from './cli.js'
import { outputSink } from './cli.js'
import type { StageContext } from './context.js'
import { checkInputs, inputNames } from './input.js'
import { WriteLedger } from './ledger.js'
import type { NdjsonInputOptions } from './ndjson.js'
import { ndjsonInputs } from './ndjson.js'

// What a writer's build returns is the same for every writer of a kind: built here once.

/** A file writer's output options, read by recordsToOutput. */
export const OUTPUT_FLAGS: FlagSpecs = {
  output: { type: 'string', shortFlag: 'o', value: 'FILE', aliases: ['output_file'], help: "write to FILE instead of stdout; the file is written under a temporary name and renamed when the run succeeds, so a failed run leaves no half file; it keeps the old file's mode and writes through a symlink; a name ending in .gz is gzipped" },
  gzip: { type: 'boolean', help: 'gzip the output whatever its name (--no-gzip: never)' }
}

/**
 * A writer into a server (es-write, mysql-write): the records of its FILE arguments (stdin
 * when none), which must exist before `open` connects, into the writer `open` makes.
 */
export async function recordsInto (opts: Options, ctx: StageContext, open: () => Promise<Writable>): Promise<StageStreams> {
  const files = inputNames(opts.input)
  await checkInputs(files)
  const writer = await open()
  // Lines are scanned, not parsed: a writer parses only the lines it must.
  return [ndjsonInputs(files, ctx, { scan: true }), writer]
}

/**
 * A writer into a file (csv-write, jsonl-write): the records of its FILE arguments through the
 * transform `make` builds, into -o FILE (with --gzip, and --append where a binary has it) or
 * stdout. A record counts as written once its bytes are in the file or taken by the pipe: the
 * ledger `make` is given counts it then.
 */
export async function recordsToOutput (opts: Options, ctx: StageContext, make: (ledger: WriteLedger) => Transform, input: NdjsonInputOptions = {}): Promise<StageStreams> {
  const files = inputNames(opts.input)
  const ledger = new WriteLedger((n) => ctx.stats.add('written', n))
  const writer = make(ledger)
  await checkInputs(files)
  const sink = outputSink(opts.string('output'), ctx, { ledger, inputs: files, gzip: opts.has('gzip') ? opts.bool('gzip') : undefined, append: opts.bool('append') })
  return [ndjsonInputs(files, ctx, input), writer, sink]
}
