import { parseArgs } from 'node:util'
import type { Readable, Writable, Duplex } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { StageContext } from './context.js'
import { createContext } from './context.js'
import type { ErrorContext } from './errors.js'
import { EspipeError, UsageError, errorCode, errorMessage } from './errors.js'
import type { FileSinkOptions } from './file-sink.js'
import { fileSink, ledgerSink } from './file-sink.js'
import type { LogFormat } from './events.js'
import { Logger } from './events.js'
import { maxLineBytes } from './line-limit.js'
import { OutputClosed } from './input.js'
import type { PipeOut } from './pipe-out.js'
import { pipeStdout } from './pipe-out.js'
import { SecretMasker } from './mask.js'
import { CORE_TOOLS, ToolRegistry } from './tools.js'
import type { HeapTuning } from './heap.js'
import { applyHeapTuning } from './heap.js'
import type { HelpSection } from './help.js'
import { renderHelp } from './help.js'
import { RECORD_FIELDS } from './record.js'
import { parseDuration } from './retry.js'
import type { Stats } from './stats.js'

export interface FlagSpec {
  type: 'string' | 'boolean'
  /** One letter: `-x VALUE`, `-xVALUE`; booleans group (`-qx`). */
  shortFlag?: string
  /** Other spellings, such as the original tool's snake_case names. */
  aliases?: string[]
  /** Environment variable used when the flag is not given. */
  env?: string
  default?: string | boolean
  isMultiple?: boolean
  /** An explicitly empty value (`-p ''`) is a value, not a missing one: a password may be empty. */
  allowEmpty?: boolean
  /**
   * May be given with no value, as mysql's `-p`: alone at the end of the line or before another
   * option, it is there without one (Options.bare says so, and the binary asks for the value).
   */
  bare?: boolean
  /**
   * An option of the original tool that means nothing to this binary: accepted so old scripts
   * keep working, with one note (this text) saying why it changes nothing.
   */
  ignored?: string
  /**
   * The option's line in --help. Its default and environment variable are added from the
   * fields above, at `{default}` and `{env}` when the text has them, else at the end.
   */
  help?: string
  /** What --help calls the value: `--size N`, `--output FILE`. */
  value?: string
}

export type FlagSpecs = Record<string, FlagSpec>

/** Options every binary takes (CONTRACT.md §2, §4). */
export const commonFlags: FlagSpecs = {
  errors: { type: 'string', value: 'FILE', help: 'write each failed record with its reason to FILE (NDJSON)' },
  maxErrors: { type: 'string', value: 'N', aliases: ['max_errors'], help: 'stop (exit 1) once more than N records have failed' },
  quiet: { type: 'boolean', shortFlag: 'q', help: 'print only errors on stderr' },
  logFormat: { type: 'string', value: 'FMT', default: 'text', aliases: ['log_format'], help: 'text or json: stderr lines as NDJSON events' },
  progress: { type: 'boolean', help: 'draw a progress line even when stderr is not a terminal' },
  metricsPort: { type: 'string', value: '[HOST:]PORT', aliases: ['metrics_port'], help: 'serve Prometheus metrics at http://HOST:PORT/metrics' },
  // The original tool's flags: explain this run's own failure on stderr at exit.
  simpleErrors: { type: 'boolean', aliases: ['simple_errors'], help: 'after a failed run, explain its errors (rule-based, offline)' },
  aiErrors: { type: 'boolean', aliases: ['ai_errors'], help: 'the same, asking Claude first (ANTHROPIC_API_KEY)' },
  // The original tool's worker threads. A binary where it means something (mysql-write's
  // connections) claims the spelling as an alias of its own option and this one steps aside.
  threads: { type: 'string', ignored: 'each espipe binary is one stream; mysql-write -c and es-read --slices are the parallel ones, and GNU parallel runs several' }
}

/** Where a writer finds a record's id and content: the same two options in every writer. */
export const RECORD_FIELD_FLAGS: FlagSpecs = {
  idField: { type: 'string', value: 'PATH', default: RECORD_FIELDS.idField, aliases: ['id_field'], help: 'where the id is in the record' },
  contentField: { type: 'string', value: 'PATH', default: RECORD_FIELDS.contentField, aliases: ['content_field'], help: 'where the content is (default: {default}; . is the whole record)' }
}

/** The --help section of the options every binary takes, in the order it lists them. */
export const COMMON_OPTIONS: string[] = ['errors', 'maxErrors', 'quiet', 'logFormat', 'progress', 'metricsPort', 'simpleErrors', 'aiErrors', 'help', 'version']

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())

/** Typed, validated access to parsed flags with environment fallbacks; bad values are usage errors. */
export class Options {
  readonly input: string[]
  private readonly flags: Record<string, unknown>
  private readonly specs: FlagSpecs
  private readonly env: NodeJS.ProcessEnv
  private readonly typed: Record<string, string>

  private readonly bareFlags: ReadonlySet<string>

  /** `typed`: each given option's spelling as it was typed (`--db_pass`, `-p`), for messages; `bare`: options given with no value. */
  constructor (flags: Record<string, unknown>, input: string[], specs: FlagSpecs, env: NodeJS.ProcessEnv = process.env, typed: Record<string, string> = {}, bare: ReadonlySet<string> = new Set()) {
    this.flags = flags
    this.input = input
    this.specs = specs
    this.env = env
    this.typed = typed
    this.bareFlags = bare
  }

  /** Whether the option was given with no value (a FlagSpec with `bare`): its value is to be asked for. */
  bare (name: string): boolean {
    return this.bareFlags.has(name)
  }

  has (name: string): boolean {
    return this.flags[name] !== undefined
  }

  /**
   * The option as messages name it: as typed on the command line, else the environment
   * variable its value came from, else its long name.
   */
  label (name: string): string {
    if (this.flags[name] !== undefined) return this.typed[name] ?? `--${kebab(name)}`
    const env = this.specs[name]?.env
    if (env !== undefined && this.env[env] !== undefined && this.env[env] !== '') return env
    return `--${kebab(name)}`
  }

  string (name: string, opts: { required?: boolean, choices?: readonly string[] } = {}): string | undefined {
    const spec = this.specs[name]
    let v = this.flags[name]
    if (Array.isArray(v)) v = v[v.length - 1]
    if (v === '' && spec?.allowEmpty === true) return ''
    if (v === undefined && spec?.env !== undefined && this.env[spec.env] !== undefined && this.env[spec.env] !== '') v = this.env[spec.env]
    if (v === undefined) v = spec?.default
    if (v === '' && this.flags[name] !== undefined) throw new UsageError(`option ${this.label(name)} needs a value`)
    if (v === undefined || v === '') {
      if (opts.required === true) throw new UsageError(`missing required option --${kebab(name)}`)
      return undefined
    }
    const s = String(v)
    if (opts.choices !== undefined && !opts.choices.includes(s)) {
      throw new UsageError(`invalid value for ${this.label(name)}: '${s}' (choose ${opts.choices.join(', ')})`)
    }
    return s
  }

  strings (name: string): string[] {
    return this.values(name).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')
  }

  /** The values given, as typed: not split at commas nor trimmed (a list whose items may hold commas parses them itself). */
  values (name: string): string[] {
    const v = this.flags[name]
    return Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]
  }

  int (name: string, opts: { min?: number, max?: number, default?: number } = {}): number | undefined {
    const s = this.string(name)
    if (s === undefined) return opts.default
    if (!/^-?\d+$/.test(s.trim())) throw new UsageError(`invalid value for ${this.label(name)}: '${s}' is not a whole number`)
    const n = Number(s)
    if (opts.min !== undefined && n < opts.min) throw new UsageError(`invalid value for ${this.label(name)}: ${n} (must be at least ${opts.min})`)
    if (opts.max !== undefined && n > opts.max) throw new UsageError(`invalid value for ${this.label(name)}: ${n} (must be at most ${opts.max})`)
    return n
  }

  /** A duration option (`500ms`, `30s`, `2m`, or seconds) in milliseconds. */
  duration (name: string): number | undefined {
    const s = this.string(name)
    return s === undefined ? undefined : parseDuration(s, kebab(name))
  }

  bool (name: string): boolean {
    const v = this.flags[name]
    if (v !== undefined) return v === true
    const spec = this.specs[name]
    if (spec?.env !== undefined && this.env[spec.env] !== undefined) return /^(1|true|yes)$/i.test(this.env[spec.env] ?? '')
    return spec?.default === true
  }

  /**
   * A message from code that knows options only by their long names (a library's own checks):
   * each option given under another long spelling (`--batch_size`) is named that way instead.
   */
  asTyped (message: string): string {
    let out = message
    for (const [name, typed] of Object.entries(this.typed)) {
      const long = `--${kebab(name)}`
      // A boolean given as --no-X is not another spelling of --X: a message naming --X means --X.
      if (this.flags[name] === false) continue
      if (typed !== long && typed.startsWith('--')) out = out.replace(new RegExp(`${long}(?![\\w-])`, 'g'), typed)
    }
    return out
  }
}

export interface ParsedArgv {
  flags: Record<string, unknown>
  /** Each given option's spelling as typed, by flag name. */
  typed: Record<string, string>
  input: string[]
  help: boolean
  version: boolean
  /** The first mistake on the line; reported unless --help or --version asked for something else. */
  error?: UsageError
  /** Options of FlagSpec `bare` given with no value. */
  bare?: Set<string>
}

/**
 * Reads a command line the way getopt_long and the mysql client do: `-xVALUE` and `-x VALUE`
 * for a short option that takes a value, `--long=VALUE` and `--long VALUE`, grouped booleans
 * (`-qc4`), `--no-X` for a boolean, `--` before file names that start with a dash. The
 * tokens come from node:util parseArgs; meow (yargs-parser) reads `-oout.jsonl` as -o -u -t
 * and has no setting to read it the GNU way. A value that is one of the tool's own options is
 * taken for a forgotten value (`-t --create`), not swallowed; any other value that starts with
 * a dash is a value (`-c -1`, `--q -status:500`).
 */
export function parseArgv (argv: string[], specs: FlagSpecs): ParsedArgv {
  const long = new Map<string, string>()
  const short = new Map<string, string>()
  const options: Record<string, { type: 'string' | 'boolean', short?: string, multiple?: boolean }> = {
    help: { type: 'boolean' },
    version: { type: 'boolean' }
  }
  for (const [name, f] of Object.entries(specs)) {
    for (const [i, spelling] of [kebab(name), ...(f.aliases ?? [])].entries()) {
      if (long.has(spelling) || spelling === 'help' || spelling === 'version') throw new Error(`option --${spelling} is defined twice`)
      long.set(spelling, name)
      options[spelling] = i === 0 && f.shortFlag !== undefined ? { type: f.type, short: f.shortFlag } : { type: f.type }
    }
    if (f.shortFlag !== undefined) {
      if (short.has(f.shortFlag)) throw new Error(`option -${f.shortFlag} is defined twice`)
      short.set(f.shortFlag, name)
    }
  }
  const negated = (spelling: string): string | undefined => {
    const m = /^no[-_](.+)$/.exec(spelling)
    const name = m === null ? undefined : long.get(m[1])
    return name !== undefined && specs[name].type === 'boolean' ? name : undefined
  }
  const isOption = (arg: string): boolean => {
    if (arg.startsWith('--')) {
      const spelling = arg.slice(2).split('=')[0]
      return spelling === '' || long.has(spelling) || negated(spelling) !== undefined || spelling === 'help' || spelling === 'version'
    }
    return arg.length > 1 && arg[0] === '-' && short.has(arg[1])
  }

  const out: ParsedArgv = { flags: {}, typed: {}, input: [], help: false, version: false, bare: new Set() }
  const fail = (message: string): void => { out.error ??= new UsageError(message) }
  // `-p` with nothing after it, or another option: no value, to be asked for (mysql's way).
  const bareSpelling = new Map<string, string>()
  for (const [name, f] of Object.entries(specs)) {
    if (f.bare !== true) continue
    for (const spelling of [kebab(name), ...(f.aliases ?? [])]) bareSpelling.set(`--${spelling}`, name)
    if (f.shortFlag !== undefined) bareSpelling.set(`-${f.shortFlag}`, name)
  }
  if (bareSpelling.size > 0) {
    const end = argv.indexOf('--')
    argv = argv.filter((arg, i) => {
      const name = bareSpelling.get(arg)
      if (name === undefined || (end >= 0 && i > end) || (i + 1 < argv.length && (end < 0 || i + 1 < end) && !isOption(argv[i + 1]) && argv[i + 1] !== '--')) return true
      out.bare?.add(name)
      out.typed[name] = arg
      return false
    })
  }
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true })
  for (const tok of tokens) {
    if (tok.kind === 'positional') { out.input.push(tok.value); continue }
    if (tok.kind === 'option-terminator') continue
    if (tok.name === 'help' || tok.name === 'version') {
      out[tok.name] = true
      continue
    }
    const neg = long.has(tok.name) ? undefined : negated(tok.name)
    const name = neg ?? long.get(tok.name)
    if (name === undefined) { fail(`unknown option ${tok.rawName}`); continue }
    const spec = specs[name]
    const typed = tok.rawName
    if (spec.type === 'boolean') {
      if (tok.value !== undefined) { fail(`option ${typed} takes no value (give ${typed} or --no-${kebab(name)})`); continue }
      out.flags[name] = neg === undefined
      out.typed[name] = typed
      continue
    }
    if (tok.value === undefined) { fail(`option ${typed} needs a value`); continue }
    if (tok.inlineValue === false && isOption(tok.value)) {
      fail(`option ${typed} needs a value (for a value that starts with -, write ${typed.startsWith('--') ? typed : `--${kebab(name)}`}=VALUE)`)
      continue
    }
    out.typed[name] = typed
    if (spec.isMultiple === true) out.flags[name] = [...(out.flags[name] as string[] | undefined ?? []), tok.value]
    else out.flags[name] = tok.value
  }
  return out
}

/** Collects a run's errors and explains them at exit (--simple-errors, --ai-errors). */
export interface ExitExplainer {
  add: (kind: 'fatal' | 'record', code: string, message: string, context: ErrorContext) => void
  /**
   * The explanation of what was added, nothing when the run reported no error: `text` for a
   * person, `summary` and `report` for an event under --log-format json.
   */
  explain: (opts: { ai: boolean }) => Promise<{ text: string, summary: string, report: unknown } | undefined>
}

/**
 * A binary, whole: what --help says, the options it takes, what its summary counts, how its
 * heap is tuned, and how its streams are built from the parsed options. Each connector exports
 * one per binary (lib/es/read-cli.ts: esReadCli, …); a bin file hands it to runCli.
 */
export interface CliSpec {
  tool: string
  /** The tool's own one line, as its man page's NAME says it: the first line of --help. */
  description: string
  /** --help after the description: usage, prose, option sections (rendered from `flags`), examples. */
  help: HelpSection[]
  /** The binary's own options; the common ones (commonFlags) are added, unless it claims a spelling. */
  flags: FlagSpecs
  /** The counters the summary prints, in order; the first is the one the rate is computed on. */
  counters: Array<string | [string, string]>
  /** V8 heap settings, applied before the run allocates. */
  heap?: HeapTuning
  /** The summary line when the counters alone don't say it (rec-diff's `N compared: …`). */
  summary?: (stats: Stats) => string
  /**
   * The exit status of a run that ended without a fatal error, when it is not "1 if a record
   * failed, else 0" (rec-diff's is diff(1)'s: 1 when the inputs differ).
   */
  status?: (cli: Cli) => number
  /**
   * The run's streams, from the options (parse each into the library's options here) and the
   * run's context; it may register cleanups (close a PIT, a pool).
   */
  build: (cli: Cli) => Promise<StageStreams>
}

/** How runCli runs a spec: from where (`--version` finds package.json from it), and with what. */
export interface RunOptions {
  importMeta: ImportMeta
  /** The command line (default: process.argv). */
  argv?: string[]
  /**
   * Loads the explainer behind --simple-errors and --ai-errors. Core knows no connector, so the
   * binaries' entry (lib/cli.ts) supplies explain-errors here.
   */
  explainer?: (tool: string) => Promise<ExitExplainer>
  /** Every espipe tool and service (lib/cli.ts gathers the folders' declarations). */
  tools?: ToolRegistry
}

export interface Cli {
  /** Every espipe tool and service, for a stage that speaks of them (explain-errors). */
  tools: ToolRegistry
  opts: Options
  ctx: StageContext
}

let onStdoutClosed = (): void => {}
/** Standard output once a stage asked for it (stdout()): a pipe writer or process.stdout. */
let out: NodeJS.WritableStream | undefined
/** The pipe writer, when standard output is a pipe: what it took is what a closed pipe got. */
let pipeOut: PipeOut | undefined

/**
 * process.stdout for a stage that writes records there. Only a stage that calls this touches
 * stdout at all: Node makes a pipe non-blocking when it opens it, and a stage writing to a file
 * must not do that to a pipe it shares with others (`tee >(jsonl-write -o f) | …` would make
 * tee fail with EAGAIN).
 */
export function stdout (): NodeJS.WritableStream {
  if (out === undefined) {
    pipeOut = pipeStdout()
    out = pipeOut ?? process.stdout
    // A closed stdout (`| head`) surfaces as EPIPE: end quietly and stop upstream work.
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') onStdoutClosed()
      // A failed write of stdout's own (a full disk behind `> file`) says where it happened;
      // errors that pipeline passes on to stdout from upstream are not its own.
      else if (err.syscall === 'write' && !err.message.startsWith('cannot write')) err.message = `cannot write to standard output: ${err.message}`
    })
  }
  return out
}

/**
 * Where a writer's bytes go: stdout, or the file given with `-o` (`-` is stdout too). The file
 * is committed only when the run had no fatal error; with a ledger, records count as written
 * as their bytes reach the file or the pipe.
 */
export function outputSink (path: string | undefined, ctx: StageContext, opts: Omit<FileSinkOptions, 'commit'> = {}): NodeJS.WritableStream {
  if (path === undefined || path === '-') return opts.ledger === undefined ? stdout() : ledgerSink(stdout(), opts.ledger)
  return fileSink(path, { ...opts, commit: () => ctx.fatal === undefined })
}

interface PipeHandle { setBlocking?: (on: boolean) => number }

/**
 * Node opens stdio pipes in non-blocking mode, and that mode belongs to the pipe, not to this
 * process: a stage that does not write to stdout puts it back in blocking mode, so that the
 * other writers of the same pipe (tee, in `tee >(jsonl-write -o f) | mysql-write`) don't get
 * EAGAIN. (Importing node:process touches process.stdout, so it can't simply be left alone.)
 */
function shareStdioPipes (): void {
  const handle = (process.stdout as unknown as { _handle?: PipeHandle })._handle
  handle?.setBlocking?.(true)
}

export type StageStreams = Array<Readable | Writable | Duplex | NodeJS.WritableStream>

/** The common options and the binary's own; a binary that claims a common spelling wins it. */
function allFlags (own: FlagSpecs): FlagSpecs {
  const claimed = new Set(Object.entries(own).flatMap(([n, f]) => [kebab(n), ...(f.aliases ?? [])]))
  const letters = new Set(Object.values(own).map((f) => f.shortFlag))
  // A claimed letter (rec-diff's -q is diff's --brief) leaves the common option its long name.
  const common = Object.entries(commonFlags).filter(([n]) => !claimed.has(kebab(n)))
    .map(([n, f]): [string, FlagSpec] => [n, letters.has(f.shortFlag) ? { ...f, shortFlag: undefined } : f])
  return { ...Object.fromEntries(common), ...own }
}

/** The --help text of a spec, before meow indents it (the option lines rendered from its flags). */
export function helpText (spec: CliSpec): string {
  return renderHelp(spec.help, allFlags(spec.flags))
}

async function parse (spec: CliSpec, run: RunOptions, usage: { json: boolean }): Promise<Options> {
  const flags = allFlags(spec.flags)
  const argv = parseArgv(run.argv ?? process.argv.slice(2), flags)
  // A usage error is an event too when the line asked for JSON (however wrong the rest is).
  usage.json = argv.flags.logFormat === 'json'
  process.title = spec.tool
  if (argv.help || argv.version) {
    // meow renders the help and finds the version (the command line was read above). Loaded
    // only then: it is a sixth of a run's start-up time.
    const { default: meow } = await import('meow')
    const cli = meow(argv.help ? helpText(spec) : '', {
      importMeta: run.importMeta,
      argv: [],
      description: `${spec.tool} - ${spec.description}`,
      autoHelp: false,
      autoVersion: false
    })
    // meow names the process after the package's first binary; ps and top should show this one.
    process.title = spec.tool
    if (argv.help) cli.showHelp(0)
    if (argv.version) cli.showVersion()
  }
  if (argv.error !== undefined) throw argv.error
  return new Options(argv.flags, argv.input, flags, process.env, argv.typed, argv.bare)
}

const CLEANUP_MS = 15_000

/**
 * Rejects when the process has nothing left to wait for while the run is still pending: a
 * promise that can never settle (a peer that closed without an answer the driver expected).
 * Without this, Node exits with status 13 and no word.
 */
function whenStalled (): Promise<never> {
  const stalled = new Promise<never>((_resolve, reject) => {
    process.once('beforeExit', () => reject(new EspipeError('ESTALLED', 'the run stopped with work still pending and nothing left to wait for (most likely a connection that ended without the answer a driver was waiting for)')))
  })
  stalled.catch(() => {})
  return stalled
}

/**
 * The life of a binary: tune the heap, parse options, build the streams, run them with
 * `pipeline`, then print the summary and exit with the status CONTRACT.md §3 gives. Every way
 * out prints at most one line about what failed, then the summary: usage errors, fatal
 * errors, exceptions nobody caught and promises that can never settle alike.
 */
export async function runCli (spec: CliSpec, runOptions: RunOptions): Promise<never> {
  // Before anything else allocates: V8 applies these to the heap's growth from now on.
  if (spec.heap !== undefined) applyHeapTuning(spec.heap)
  const { tool } = spec
  const abort = new AbortController()
  let interrupted: NodeJS.Signals | undefined
  let ctx: StageContext | undefined
  let opts: Options | undefined
  let status = 0
  const masker = new SecretMasker()
  const usage = { json: false }
  let explainer: { run: ExitExplainer, ai: boolean } | undefined

  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted !== undefined) process.exit(sig === 'SIGINT' ? 130 : 143)
    interrupted = sig
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let stdoutClosed = false
  onStdoutClosed = () => { stdoutClosed = true; abort.abort(new OutputClosed()) }
  // An error thrown where no stream or promise catches it still ends the run the one way.
  let crash: (err: unknown) => void = () => {}
  const crashed = new Promise<never>((_resolve, reject) => { crash = reject })
  crashed.catch(() => {})
  let ran = false
  const onCrash = (err: unknown): void => {
    if (errorCode(err) === 'EPIPE' && stdoutClosed) return
    // After the run (while closing up), the failure is still said, in its one line.
    if (ran) ctx?.logger.warn(`while closing: ${errorMessage(err)}`)
    else crash(err)
  }
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  const guard = [whenStalled(), crashed]

  try {
    opts = await parse(spec, runOptions, usage)
    const logFormat = opts.string('logFormat', { choices: ['text', 'json'] }) as LogFormat
    const logger = new Logger({ tool, format: logFormat, quiet: opts.bool('quiet'), progress: opts.has('progress') ? opts.bool('progress') : undefined, masker })
    for (const [name, f] of Object.entries(allFlags(spec.flags))) {
      if (f.ignored === undefined || !opts.has(name)) continue
      logger.info(`${opts.label(name)} is the original tool's option and changes nothing here: ${f.ignored}`)
    }
    if ((opts.bool('aiErrors') || opts.bool('simpleErrors')) && runOptions.explainer !== undefined) {
      explainer = { run: await runOptions.explainer(tool), ai: opts.bool('aiErrors') }
      logger.observe((event, code, message, context) => explainer?.run.add(event === 'error' ? 'fatal' : 'record', code, masker.mask(message), context))
    }
    ctx = createContext({
      tool,
      counters: spec.counters,
      logger,
      errorsFile: opts.string('errors'),
      // A checkpointed run continues the one before: its dead letters are kept (see Failures).
      appendErrors: opts.has('checkpoint'),
      maxErrors: opts.int('maxErrors', { min: 0 }),
      maxLineBytes: maxLineBytes(opts),
      signal: abort.signal,
      endOnFatal: true
    })
    const metricsPort = opts.string('metricsPort')
    if (metricsPort !== undefined) {
      const { parseListen, startMetrics } = await import('./metrics.js')
      const server = await startMetrics(tool, ctx.stats, metricsPort)
      ctx.metrics = server.metrics
      ctx.onCleanup(server.close)
      logger.info(`metrics on http://${parseListen(metricsPort).host}:${server.port}/metrics`)
    }
    const streams = await Promise.race([spec.build({ opts, ctx, tools: runOptions.tools ?? new ToolRegistry([CORE_TOOLS]) }), ...guard])
    if (out === undefined) shareStdioPipes()
    ctx.logger.startProgress(ctx.stats)
    await Promise.race([pipeline(streams as ReadonlyArray<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream>), ...guard])
    if (ctx.fatal !== undefined) throw ctx.fatal
    status = spec.status?.({ opts, ctx, tools: runOptions.tools ?? new ToolRegistry([CORE_TOOLS]) }) ?? (ctx.failures.count > 0 ? 1 : 0)
  } catch (err) {
    ran = true
    if (err instanceof UsageError) {
      const message = `${opts?.asTyped(err.message) ?? err.message} (see '${tool} --help')`
      new Logger({ tool, masker, format: usage.json ? 'json' : 'text' }).event('error', 'error', message, { code: err.code })
      process.exit(2)
    }
    if (stdoutClosed || errorCode(err) === 'EPIPE') {
      status = 0
    } else {
      (ctx?.logger ?? new Logger({ tool, masker, format: usage.json ? 'json' : 'text' })).error(err)
      status = typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1
    }
  }
  ran = true
  if (ctx !== undefined) {
    // Bounded: a driver still waiting for an answer that will never come (what a stalled run
    // was waiting for) must not hold the exit forever.
    let timer: NodeJS.Timeout | undefined
    const late = await Promise.race([
      ctx.cleanup().then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), CLEANUP_MS) })
    ])
    clearTimeout(timer)
    if (late) ctx.logger.warn(`closing connections took more than ${CLEANUP_MS / 1000} s; exiting without waiting for them`)
    // A reader counts a record as emitted when it hands it on; after `| head`, what reached
    // the pipe before it closed is what was emitted (a writer's ledger counts so already).
    if (stdoutClosed && pipeOut !== undefined && ctx.stats.has('emitted')) ctx.stats.set('emitted', Math.min(pipeOut.linesOut, ctx.stats.get('emitted')))
    const extra = ctx.failures.count > 0 && ctx.failures.errorsFile !== undefined ? ` — failed records in ${ctx.failures.errorsFile}` : ''
    ctx.logger.summary(ctx.stats, (interrupted !== undefined && !stdoutClosed ? ` — interrupted by ${interrupted}` : '') + extra, spec.summary)
  }
  if (interrupted !== undefined && !stdoutClosed) status = interrupted === 'SIGINT' ? 130 : 143
  if (status !== 0 && explainer !== undefined) {
    const explained = await explainer.run.explain({ ai: explainer.ai })
    if (explained !== undefined) ctx?.logger.explanation(explained.text, explained.summary, { report: explained.report })
  }
  // A pipe that is full queues writes; process.exit would drop them (10,000 record-error lines
  // to a slow reader lost their tail). An empty write calls back once all before it are out.
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()))
  // So with standard output written from the thread pool (pipe-out.ts), when a run ended
  // without ending it (a failure): what was handed to it goes out before the exit.
  const queued = out as Writable | undefined
  if (queued !== undefined && queued !== process.stdout && !queued.destroyed && !queued.writableFinished && !stdoutClosed) {
    await new Promise<void>((resolve) => {
      if (queued.writableEnded) queued.once('finish', resolve).once('close', resolve)
      // Called back once every write before it is out (or failed).
      else queued.write(Buffer.alloc(0), () => { resolve() })
    })
  }
  process.exit(status)
}
