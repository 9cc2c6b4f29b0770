import { existsSync } from 'node:fs'
import { Readable } from 'node:stream'
import type { CliSpec } from '../core/cli.js'
import { commonFlags, stdout } from '../core/cli.js'
import { examples } from '../core/help.js'
import { EspipeError } from '../core/errors.js'
import { checkInputs, concatInputs, inputNames } from '../core/input.js'
import { failLongLine, maxLineBytesFlag } from '../core/line-limit.js'
import { DEFAULT_MODEL } from './ai.js'
import { explainSink, rawFindings } from './explain.js'
import type { RunSummary } from './finding.js'
import { findingFromMessage, readFindings } from './read.js'
import type { ExplainFormat } from './render.js'
import { EXPLAIN_FORMATS } from './render.js'

export const explainErrorsCli: CliSpec = {
  tool: 'explain-errors',
  description: 'explain why an espipe run failed, with causes and the commands that fix it',
  counters: ['read', 'errors', 'problems'],
  flags: {
    format: { type: 'string', shortFlag: 'f', value: 'FMT', default: 'text', help: 'text, markdown or json' },
    ai: { type: 'boolean', help: 'also ask Claude (Anthropic Messages API) with the grouped errors, their context and the rule-based explanation; secrets are removed first. Without a key, a network, an answer in time, or on an API error, prints the rule-based explanation and one line saying why' },
    model: { type: 'string', value: 'NAME', env: 'ANTHROPIC_MODEL', default: DEFAULT_MODEL, help: 'the Claude model' },
    timeout: { type: 'string', value: 'SECONDS', default: '60', help: 'how long to wait for Claude' },
    quiet: { ...commonFlags.quiet, help: 'no summary line on stderr' },
    ...maxLineBytesFlag()
  },
  build: async ({ opts, ctx, tools }) => {
    const runs: RunSummary[] = []
    const sink = explainSink({
      tools,
      format: opts.string('format', { choices: EXPLAIN_FORMATS }) as ExplainFormat,
      ai: opts.bool('ai'),
      aiOptions: { model: opts.string('model'), timeoutMs: (opts.int('timeout', { min: 1 }) as number) * 1000 },
      output: stdout(),
      runs,
      onReport: (r) => { ctx.stats.add('errors', r.errors); ctx.stats.add('problems', r.problems.length) }
    })
    // Arguments are a message (quoted or not) unless one names an existing file or is -:
    // messages hold URLs and paths. A lone word that reads as no error was a file name, mistyped.
    const args = opts.input
    if (args.length > 0 && args.every((a) => a !== '-' && !existsSync(a))) {
      const message = args.join(' ')
      const known = rawFindings([{ text: message, line: 1 }], tools).length > 0
      if (!known && args.length === 1 && !/\s/.test(message)) throw new EspipeError('ENOENT', `cannot read ${message}: no such file (and as a message it holds no error)`, { context: { file: message } })
      ctx.stats.add('read')
      return [Readable.from(known ? [findingFromMessage(message, tools)] : []), sink]
    }
    const files = inputNames(args)
    await checkInputs(files)
    const input = concatInputs(files, (name) => readFindings({
      tools,
      file: name === '-' ? undefined : name,
      maxLineBytes: ctx.maxLineBytes,
      onLongLine: (long) => failLongLine(ctx, long, { file: name === '-' ? undefined : name }),
      onBom: () => ctx.logger.info(`${name === '-' ? 'stdin' : name} begins with a UTF-8 byte order mark: skipped`),
      onLine: () => ctx.stats.add('read'),
      onSummary: (s) => runs.push(s),
      onRaw: (lines, file) => rawFindings(lines, tools, file)
    }), { signal: ctx.signal })
    return [input, sink]
  },
  help: [
    { title: 'Usage', text: '$ explain-errors [options] [FILE...]\n$ explain-errors [options] "MESSAGE"' },
    { text: 'Explains why an espipe run failed: what happened, with the real host, table, file and line; the likely causes, most likely first; the commands to check and fix it. Reads the stderr of any espipe binary (text or --log-format json events), dead-letter files written with --errors (none or - means stdin; gzipped ones are decompressed), or a raw error message: the arguments, unless one names an existing file or is -. Identical errors are grouped, with a count and a few example lines; the most severe comes first.' },
    {
      title: 'Options',
      options: [
        'format', 'ai', 'model', 'timeout', 'maxLineBytes', 'quiet', 'logFormat',
        { flags: ['progress', 'errors', 'maxErrors', 'aiErrors', 'simpleErrors', 'metricsPort'], help: 'accepted as by every espipe binary; only --errors and --max-errors act here, on lines longer than --max-line-bytes' },
        'help', 'version'
      ]
    },
    { text: 'Environment: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (default https://api.anthropic.com), ANTHROPIC_MODEL.' },
    { text: 'Exit status: 0 something was explained (also when --ai fell back to the rules); 1 the input held no error it could read, or a file could not be read; 2 bad usage.' },
    examples(
      'mysql-write --table t < dump.ndjson 2> load.log || explain-errors load.log',
      'csv-read --log-format json data.csv 2>&1 >/dev/null | explain-errors --format markdown',
      'explain-errors bad-rows.ndjson',
      'explain-errors "connect ECONNREFUSED 127.0.0.1:3306"',
      'ANTHROPIC_API_KEY=... explain-errors --ai load.log'
    )
  ]
}
