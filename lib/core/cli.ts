import meow from 'meow'
import type { Readable, Writable, Duplex } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { StageContext } from './context.js'
import { createContext } from './context.js'
import type { ErrorContext } from './errors.js'
import type { FileSinkOptions } from './file-sink.js'
import { fileSink } from './file-sink.js'
import { UsageError, errorCode } from './errors.js'
import type { LogFormat } from './events.js'
import { Logger } from './events.js'
import { SecretMasker } from './mask.js'

export interface FlagSpec {
  type: 'string' | 'boolean'
  shortFlag?: string
  /** Other spellings, such as the original tool's snake_case names. */
  aliases?: string[]
  /** Environment variable used when the flag is not given. */
  env?: string
  default?: string | boolean
  isMultiple?: boolean
}

export type FlagSpecs = Record<string, FlagSpec>

/** Options every binary takes (DESIGN.md §2, §4). */
export const commonFlags: FlagSpecs = {
  quiet: { type: 'boolean', shortFlag: 'q' },
  logFormat: { type: 'string', default: 'text', aliases: ['log_format'] },
  progress: { type: 'boolean' },
  errors: { type: 'string' },
  maxErrors: { type: 'string', aliases: ['max_errors'] },
  metricsPort: { type: 'string', aliases: ['metrics_port'] },
  // The original tool's flags: explain this run's own failure on stderr at exit.
  aiErrors: { type: 'boolean', aliases: ['ai_errors'] },
  simpleErrors: { type: 'boolean', aliases: ['simple_errors'] }
}

/**
 * The help lines for the options every binary takes, so each --help lists them the same way.
 * `quietShort: false` for a binary whose own option has the letter q.
 */
export function commonHelp (opts: { quietShort?: boolean } = {}): string {
  return [
    '--errors FILE          write each failed record with its reason to FILE (NDJSON)',
    '--max-errors N         stop (exit 1) once more than N records have failed',
    opts.quietShort === false ? '--quiet                print only errors on stderr' : '-q, --quiet            print only errors on stderr',
    '--log-format FMT       text (default) or json: stderr lines as NDJSON events',
    '--progress             draw a progress line even when stderr is not a terminal',
    '--metrics-port [HOST:]PORT',
    '                       serve Prometheus metrics at http://HOST:PORT/metrics',
    '--simple-errors        after a failed run, explain its errors (rule-based, offline)',
    '--ai-errors            the same, asking Claude first (ANTHROPIC_API_KEY)',
    '--help, --version'
  ].map((l) => '      ' + l).join('\n')
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())
const camel = (s: string): string => s.replace(/[-_]([a-z0-9])/g, (_m, c: string) => c.toUpperCase())

/** Typed, validated access to parsed flags with environment fallbacks; bad values are usage errors. */
export class Options {
  readonly input: string[]
  private readonly flags: Record<string, unknown>
  private readonly specs: FlagSpecs
  private readonly env: NodeJS.ProcessEnv

  constructor (flags: Record<string, unknown>, input: string[], specs: FlagSpecs, env: NodeJS.ProcessEnv = process.env) {
    this.flags = flags
    this.input = input
    this.specs = specs
    this.env = env
  }

  has (name: string): boolean {
    return this.flags[name] !== undefined
  }

  string (name: string, opts: { required?: boolean, choices?: readonly string[] } = {}): string | undefined {
    const spec = this.specs[name]
    let v = this.flags[name]
    if (Array.isArray(v)) v = v[v.length - 1]
    if (v === undefined && spec?.env !== undefined && this.env[spec.env] !== undefined && this.env[spec.env] !== '') v = this.env[spec.env]
    if (v === undefined) v = spec?.default
    if (v === '' && this.flags[name] !== undefined) throw new UsageError(`option --${kebab(name)} needs a value`)
    if (v === undefined || v === '') {
      if (opts.required === true) throw new UsageError(`missing required option --${kebab(name)}`)
      return undefined
    }
    const s = String(v)
    if (opts.choices !== undefined && !opts.choices.includes(s)) {
      throw new UsageError(`invalid value for --${kebab(name)}: '${s}' (choose ${opts.choices.join(', ')})`)
    }
    return s
  }

  strings (name: string): string[] {
    const v = this.flags[name]
    const list = Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]
    return list.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '')
  }

  int (name: string, opts: { min?: number, default?: number } = {}): number | undefined {
    const s = this.string(name)
    if (s === undefined) return opts.default
    if (!/^-?\d+$/.test(s.trim())) throw new UsageError(`invalid value for --${kebab(name)}: '${s}' is not a whole number`)
    const n = Number(s)
    if (opts.min !== undefined && n < opts.min) throw new UsageError(`invalid value for --${kebab(name)}: ${n} (must be at least ${opts.min})`)
    return n
  }

  bool (name: string): boolean {
    const v = this.flags[name]
    if (v !== undefined) return v === true
    const spec = this.specs[name]
    if (spec?.env !== undefined && this.env[spec.env] !== undefined) return /^(1|true|yes)$/i.test(this.env[spec.env] ?? '')
    return spec?.default === true
  }
}

/** Collects a run's errors and explains them at exit (--simple-errors, --ai-errors). */
export interface ExitExplainer {
  add: (kind: 'fatal' | 'record', code: string, message: string, context: ErrorContext) => void
  /** Writes the explanation; nothing when the run reported no error. */
  print: (output: NodeJS.WritableStream, opts: { ai: boolean }) => Promise<void>
}

export interface CliSpec {
  tool: string
  /**
   * Loads the explainer behind --simple-errors and --ai-errors. Core knows no connector, so the
   * binaries' entry (lib/cli.ts) supplies explain-errors here.
   */
  explainer?: (tool: string) => Promise<ExitExplainer>
  /** Help text after the description: usage, options, examples. */
  help: string
  flags: FlagSpecs
  /** The counters the summary prints, in order; the first is the one the rate is computed on. */
  counters: Array<string | [string, string]>
  argv?: string[]
  importMeta: ImportMeta
}

export interface Cli {
  opts: Options
  ctx: StageContext
}

let onStdoutClosed = (): void => {}
let stdoutInUse = false

/**
 * process.stdout for a stage that writes records there. Only a stage that calls this touches
 * stdout at all: Node makes a pipe non-blocking when it opens it, and a stage writing to a file
 * must not do that to a pipe it shares with others (`tee >(jsonl-write -o f) | …` would make
 * tee fail with EAGAIN).
 */
export function stdout (): NodeJS.WriteStream {
  if (!stdoutInUse) {
    stdoutInUse = true
    // A closed stdout (`| head`) surfaces as EPIPE: end quietly and stop upstream work.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') onStdoutClosed()
    })
  }
  return process.stdout
}

/**
 * Where a writer's bytes go: stdout, or the file given with `-o` (`-` is stdout too). The file
 * is committed only when the run had no fatal error.
 */
export function outputSink (path: string | undefined, ctx: StageContext, opts: Omit<FileSinkOptions, 'commit'> = {}): NodeJS.WritableStream {
  return path === undefined || path === '-' ? stdout() : fileSink(path, { ...opts, commit: () => ctx.fatal === undefined })
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

function parse (spec: CliSpec): { opts: Options, help: string } {
  // A binary's own option may claim a letter a common option uses as its short flag
  // (es-read's --q): the binary's meaning wins and the common option keeps its long name.
  const claimed = new Set(Object.entries(spec.flags).flatMap(([n, f]) => [n, ...(f.aliases ?? []).map(camel)]))
  const common = Object.fromEntries(Object.entries(commonFlags).map(([n, f]) => [n, f.shortFlag !== undefined && claimed.has(f.shortFlag) ? { ...f, shortFlag: undefined } : f]))
  const flags: FlagSpecs = { ...common, ...spec.flags }
  const meowFlags: Record<string, { type: 'string' | 'boolean', shortFlag?: string, aliases?: string[], isMultiple?: boolean }> = {}
  const known = new Set<string>(['help', 'version'])
  for (const [name, f] of Object.entries(flags)) {
    meowFlags[name] = { type: f.type, shortFlag: f.shortFlag, aliases: f.aliases, isMultiple: f.isMultiple }
    known.add(name)
    if (f.shortFlag !== undefined) known.add(f.shortFlag)
    for (const a of f.aliases ?? []) known.add(camel(a))
  }
  const cli = meow(spec.help, {
    importMeta: spec.importMeta,
    argv: spec.argv ?? process.argv.slice(2),
    flags: meowFlags,
    allowUnknownFlags: true,
    booleanDefault: undefined,
    autoHelp: true,
    autoVersion: true
  })
  for (const key of Object.keys(cli.unnormalizedFlags)) {
    if (!known.has(key)) throw new UsageError(`unknown option --${kebab(key)}`)
  }
  return { opts: new Options(cli.flags as Record<string, unknown>, cli.input, flags), help: cli.help }
}

/**
 * The life of a binary: parse options, build the streams, run them with `pipeline`, then
 * print the summary and exit with the status DESIGN.md §2 gives. `build` gets the options and
 * the run's context and returns the streams; it may register cleanups (close a PIT, a pool).
 */
export async function runCli (spec: CliSpec, build: (cli: Cli) => Promise<StageStreams>): Promise<never> {
  const { tool } = spec
  const abort = new AbortController()
  let interrupted: NodeJS.Signals | undefined
  let ctx: StageContext | undefined
  let status = 0
  const masker = new SecretMasker()
  const fallbackLogger = new Logger({ tool, masker })
  let explainer: { run: ExitExplainer, ai: boolean } | undefined

  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted !== undefined) process.exit(sig === 'SIGINT' ? 130 : 143)
    interrupted = sig
    abort.abort()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let stdoutClosed = false
  onStdoutClosed = () => { stdoutClosed = true; abort.abort() }

  try {
    const { opts } = parse(spec)
    const logFormat = opts.string('logFormat', { choices: ['text', 'json'] }) as LogFormat
    const logger = new Logger({ tool, format: logFormat, quiet: opts.bool('quiet'), progress: opts.has('progress') ? opts.bool('progress') : undefined, masker })
    if ((opts.bool('aiErrors') || opts.bool('simpleErrors')) && spec.explainer !== undefined) {
      explainer = { run: await spec.explainer(tool), ai: opts.bool('aiErrors') }
      logger.observe((event, code, message, context) => explainer?.run.add(event === 'error' ? 'fatal' : 'record', code, masker.mask(message), context))
    }
    ctx = createContext({
      tool,
      counters: spec.counters,
      logger,
      errorsFile: opts.string('errors'),
      maxErrors: opts.int('maxErrors', { min: 0 }),
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
    const streams = await build({ opts, ctx })
    if (!stdoutInUse) shareStdioPipes()
    ctx.logger.startProgress(ctx.stats)
    await pipeline(streams as ReadonlyArray<NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream>)
    if (ctx.fatal !== undefined) throw ctx.fatal
    if (ctx.failures.count > 0) status = 1
  } catch (err) {
    if (err instanceof UsageError) {
      fallbackLogger.event('error', 'error', `${err.message} (see '${tool} --help')`)
      process.exit(2)
    }
    if (stdoutClosed || errorCode(err) === 'EPIPE') {
      status = 0
    } else {
      (ctx?.logger ?? fallbackLogger).error(err)
      status = typeof (err as { exitCode?: unknown }).exitCode === 'number' ? (err as { exitCode: number }).exitCode : 1
    }
  }
  if (ctx !== undefined) {
    await ctx.cleanup()
    const extra = ctx.failures.count > 0 && ctx.failures.errorsFile !== undefined ? ` — failed records in ${ctx.failures.errorsFile}` : ''
    ctx.logger.summary(ctx.stats, (interrupted !== undefined && !stdoutClosed ? ` — interrupted by ${interrupted}` : '') + extra)
  }
  if (interrupted !== undefined && !stdoutClosed) status = interrupted === 'SIGINT' ? 130 : 143
  if (status !== 0 && explainer !== undefined) await explainer.run.print(process.stderr, { ai: explainer.ai })
  // A pipe that is full queues writes; process.exit would drop them (10,000 record-error lines
  // to a slow reader lost their tail). An empty write calls back once all before it are out.
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()))
  process.exit(status)
}
