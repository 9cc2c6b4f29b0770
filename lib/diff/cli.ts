import { access, constants } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { Writable } from 'node:stream'
import type { Cli, CliSpec, StageStreams } from '../core/cli.js'
import { COMMON_OPTIONS, commonFlags, stdout } from '../core/cli.js'
import { examples } from '../core/help.js'
import { EspipeError, UsageError } from '../core/errors.js'
import { checkInputs } from '../core/input.js'
import type { Stats } from '../core/stats.js'
import { groupDigits } from '../core/stats.js'
import { parseByteSize } from '../core/size.js'
import type { DiffKind } from './diff.js'
import { DIFF_KINDS, REC_DIFF_COUNTERS, recDiff } from './diff.js'
import type { NumberRule } from './equal.js'

const NUMBER_RULES: readonly NumberRule[] = ['value', 'text']

/** The kinds --only names (all three without it). */
function selected (cli: Cli): Set<DiffKind> {
  const only = cli.opts.strings('only')
  for (const k of only) {
    if (!(DIFF_KINDS as readonly string[]).includes(k)) throw new UsageError(`invalid value for ${cli.opts.label('only')}: '${k}' (choose from ${DIFF_KINDS.join(', ')})`)
  }
  return new Set(only.length === 0 ? DIFF_KINDS : only as DiffKind[])
}

/** `1,000,000 compared: 999,990 same, 4 missing, 5 changed, 1 extra; 2,000,000 records read in 3.1 s (645,161/s)` */
function summary (stats: Stats): string {
  const n = (name: string): string => groupDigits(stats.get(name))
  const failed = stats.get('failed') > 0 ? `, ${n('failed')} failed` : ''
  const secs = stats.elapsedSeconds()
  const rate = secs > 0 ? Math.round(stats.get('read') / secs) : stats.get('read')
  return `${n('compared')} compared: ${n('same')} same, ${n('missing')} missing, ${n('changed')} changed, ${n('extra')} extra${failed}; ${n('read')} records read in ${secs.toFixed(1)} s (${groupDigits(rate)}/s)`
}

/**
 * diff(1)'s status: 2 when something could not be compared (a record error: a line that is
 * no record, an id given twice), else 1 when the inputs differ in a kind --only selects, else 0.
 */
function status (cli: Cli): number {
  const { ctx } = cli
  if (ctx.failures.count > 0) return 2
  for (const kind of selected(cli)) if (ctx.stats.get(kind) > 0) return 1
  return 0
}

async function build (cli: Cli): Promise<StageStreams> {
  const { opts, ctx } = cli
  if (opts.input.length !== 2) throw new UsageError(`two inputs are needed, SOURCE and TARGET (${opts.input.length === 0 ? 'none was' : opts.input.length === 1 ? 'one was' : `${opts.input.length} were`} given)`)
  const [source, target] = opts.input
  if (source === '-' && target === '-') throw new UsageError('stdin (-) can be SOURCE or TARGET, not both')
  const memory = parseByteSize(opts.string('memory') as string, 'memory')
  if (memory < 1024 * 1024) throw new UsageError(`invalid value for ${opts.label('memory')}: '${opts.string('memory') as string}' (at least 1mb)`)
  const sorted = opts.bool('sorted')
  const dir = opts.string('tmpdir') ?? tmpdir()
  const brief = opts.bool('brief')
  const only = selected(cli)
  try {
    await checkInputs(opts.input)
    if (!sorted) await access(dir, constants.W_OK | constants.X_OK).catch((err: NodeJS.ErrnoException) => {
      throw new EspipeError(err.code ?? 'EIO', `cannot write temporary files in ${dir}: ${err.message} (--tmpdir picks another place)`, { context: { file: dir } })
    })
  } catch (err) {
    const e = err as EspipeError
    throw new EspipeError(e.code, e.message, { context: e.context, cause: err, exitCode: 2 })
  }
  const diff = recDiff({
    source,
    target,
    idField: opts.string('idField') as string,
    contentField: opts.string('contentField') as string,
    byIndex: opts.bool('byIndex'),
    numbers: opts.string('numbers', { choices: NUMBER_RULES }) as NumberRule,
    only,
    brief,
    sorted,
    memory,
    tmpdir: dir,
    report: opts.string('report'),
    context: ctx
  })
  // -q writes nothing, so standard output is left alone (see stdout()).
  return [diff, brief ? new Writable({ write: (_chunk, _enc, done) => done() }) : stdout()]
}

/** rec-diff's command line: the options, help and counters, and the build of its streams. */
export const recDiffCli: CliSpec = {
  tool: 'rec-diff',
  description: 'compare two sets of NDJSON records by id; print the operations that make TARGET equal SOURCE',
  counters: REC_DIFF_COUNTERS,
  // Records held for comparison live long enough to be promoted: a fixed young generation keeps
  // the heap inside --memory.
  heap: { fixedYoungGeneration: true },
  summary,
  status,
  build,
  flags: {
    idField: { type: 'string', value: 'PATH', default: '_id', aliases: ['id_field'], help: 'where the id is (default: {default}); a string, or a number as written' },
    contentField: { type: 'string', value: 'PATH', default: '_source', aliases: ['content_field'], help: 'what is compared (default: {default}; . is the whole record)' },
    byIndex: { type: 'boolean', help: 'match by _index and id (an id may then be in several indices)' },
    numbers: { type: 'string', value: 'RULE', default: 'value', help: 'value (default): by exact decimal value; text: as written' },
    only: { type: 'string', value: 'KINDS', isMultiple: true, help: 'write only these operations: missing, changed, extra (comma-separated); the exit status then counts only them' },
    brief: { type: 'boolean', shortFlag: 'q', help: 'write no operations, only the summary' },
    report: { type: 'string', value: 'FILE', help: 'write one line per differing id to FILE: kind, id, and for a changed record its first difference (_source.price: 10 ≠ 10.5)' },
    sorted: { type: 'boolean', help: 'both inputs are sorted by id (byte order, as LC_ALL=C sort): merge them as they stream, no temporary files; an input out of order stops the run (status 2)' },
    memory: { type: 'string', value: 'SIZE', default: '256mb', help: 'memory to hold records in (default: {default}); beyond it they go to temporary files, partitioned by a hash of the id' },
    tmpdir: { type: 'string', value: 'DIR', help: 'where the temporary files go (default: $TMPDIR or /tmp); they are removed on every exit, SIGINT and SIGTERM included' },
    // diff(1)'s trouble status: a record error is 2 here.
    maxErrors: { ...commonFlags.maxErrors, help: 'stop (exit 2) once more than N records have failed' }
  },
  help: [
    { title: 'Usage', text: '$ rec-diff [options] SOURCE TARGET' },
    { text: 'Compares two inputs of NDJSON records (files, - for stdin, <(command) for a reader\'s output; gzipped ones are decompressed), matched by id, and writes to stdout the operations that make TARGET equal SOURCE, as records a writer takes: SOURCE\'s record with "_op":"index" for an id TARGET lacks (missing) or has with other content (changed), and {"_index","_id","_op":"delete"} for an id only TARGET has (extra). The summary on stderr counts them.' },
    { text: 'Equality is exact: object members in any order; strings by their characters (escapes read, no Unicode normalisation); numbers by exact decimal value (1.0 = 1, 2^53+1 is not 2^53); arrays in order. Dates are strings.' },
    { title: 'Options', options: ['idField', 'contentField', 'byIndex', 'numbers', 'only', 'brief', 'report', 'sorted', 'memory', 'tmpdir'] },
    { title: 'Common', options: COMMON_OPTIONS },
    { text: 'Aliases of the original tool: --id_field, --content_field.' },
    { text: 'Exit status: 0 the inputs are the same; 1 they differ; 2 bad usage, an input that can\'t be read, or a record error (a line that is no record, an id given twice in one input).' },
    examples(
      'rec-diff <(es-read --index logs) <(mysql-read -t logs --content-column content)',
      'rec-diff <(mysql-read -t logs) <(es-read --index logs) | es-write --index logs',
      'rec-diff <(es-read --index logs) <(mysql-read -t logs --content-column content) | mysql-write -t logs --mode upsert',
      "rec-diff -q --report diff.tsv <(es-read --index logs) copy.ndjson || mail -s 'copies differ' ops < diff.tsv",
      'rec-diff --sorted --id-field id --content-field . yesterday.jsonl today.jsonl'
    )
  ]
}
