import type { Transform, Writable } from 'node:stream'
import type { CliSpec, FlagSpecs, Options } from './cli.js'
import { outputSink } from './cli.js'
import type { StageContext } from './context.js'
import { checkInputs, inputNames } from './input.js'
import { WriteLedger } from './ledger.js'
import { OrderedAcks, WriterCheckpoint } from './checkpoint-writer.js'
import { UsageError } from './errors.js'
import type { FileOutputState } from './file-sink.js'
import { checkpointedFileSink, outputTarget } from './file-sink.js'
import type { NdjsonInputOptions } from './ndjson.js'
import { ndjsonInputs } from './ndjson.js'

// What a writer's build returns is the same for every writer of a kind: built here once.

/** How long a record may wait before it is written out (a trickle of input still flows). */
export const DEFAULT_FLUSH_INTERVAL_MS = 1000

/** A file writer's --flush-interval: with --checkpoint, how often what is written is committed. */
export const FILE_FLUSH_FLAG: FlagSpecs = {
  flushInterval: { type: 'string', value: 'T', default: '1s', aliases: ['flush_interval'], help: 'with --checkpoint, commit what is written at least this often (default: {default}): synced to the disk and acknowledged; a crash repeats at most this much' }
}

/** A file writer's output options, read by toOutput. */
export const OUTPUT_FLAGS: FlagSpecs = {
  output: { type: 'string', shortFlag: 'o', value: 'FILE', aliases: ['output_file'], help: "write to FILE instead of stdout; the file is written under a temporary name and renamed when the run succeeds, so a failed run leaves no half file; it keeps the old file's mode and writes through a symlink; a name ending in .gz is gzipped" },
  gzip: { type: 'boolean', help: 'gzip the output whatever its name (--no-gzip: never)' }
}

/**
 * The build of a writer into a server (es-write, mysql-write): its options parsed, then the
 * records of its FILE arguments (stdin when none), which must exist before the writer
 * connects, into the writer `open` makes.
 */
export function intoServer<O extends { context?: StageContext }> (parse: (opts: Options) => O, open: (options: O) => Promise<Writable>): CliSpec['build'] {
  return async ({ opts, ctx }) => {
    const options = parse(opts)
    const files = inputNames(opts.input)
    await checkInputs(files)
    const writer = await open({ ...options, context: ctx })
    // Lines are scanned, not parsed: a writer parses only the lines it must.
    return [ndjsonInputs(files, ctx, { scan: true }), writer]
  }
}

/**
 * The build of a writer into a file (csv-write, jsonl-write): its options parsed, then the
 * records of its FILE arguments through the transform `make` builds, into -o FILE (with
 * --gzip, and --append where a binary has it) or stdout. A record counts as written once its
 * bytes are in the file or taken by the pipe: the ledger the transform is given counts it then.
 */
export function toOutput<O extends { context?: StageContext, ledger?: WriteLedger, acks?: OrderedAcks }> (parse: (opts: Options) => O, make: (options: O, resume?: Record<string, unknown>) => Transform & { outputState?: () => Record<string, unknown> }, input: NdjsonInputOptions = {}): CliSpec['build'] {
  return async ({ opts, ctx }) => {
    const options = parse(opts)
    const files = inputNames(opts.input)
    const output = opts.string('output')
    const gzip = opts.has('gzip') ? opts.bool('gzip') : undefined
    const checkpoint = opts.has('checkpoint') ? opts.string('checkpoint') : undefined
    if (checkpoint !== undefined) {
      // Committed records are acknowledged: the file is written in place and cut back on a rerun.
      if (output === undefined || output === '-') throw new UsageError(`--checkpoint needs -o FILE: ${ctx.tool} continues a file, which it cuts back to what it committed; standard output cannot be`)
      const ack = new WriterCheckpoint(checkpoint, ctx.tool, `file ${outputTarget(output)}`)
      const acks = new OrderedAcks(ack)
      const ledger = new WriteLedger((n) => { ctx.stats.add('written', n); acks.confirm(n) })
      const resume = ack.current.output as FileOutputState | undefined
      const writer = make({ ...options, ledger, acks, context: ctx }, resume)
      await checkInputs(files)
      const sink = checkpointedFileSink(output, {
        ledger,
        commitEveryMs: opts.duration('flushInterval') ?? DEFAULT_FLUSH_INTERVAL_MS,
        gzip,
        append: opts.bool('append'),
        inputs: files,
        resume,
        committed: (state, final) => {
          const full = { ...state, ...writer.outputState?.() }
          if (final) ack.end(full)
          else ack.save(full)
        }
      })
      return [ndjsonInputs(files, ctx, input), writer, sink]
    }
    const ledger = new WriteLedger((n) => ctx.stats.add('written', n))
    const writer = make({ ...options, ledger, context: ctx })
    await checkInputs(files)
    const sink = outputSink(output, ctx, { ledger, inputs: files, gzip, append: opts.bool('append') })
    return [ndjsonInputs(files, ctx, input), writer, sink]
  }
}
