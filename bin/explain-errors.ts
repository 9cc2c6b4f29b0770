#!/usr/bin/env node
import { existsSync } from 'node:fs'
import { Readable } from 'node:stream'
import { runCli, stdout, TOOLS } from '../lib/cli.js'
import { EspipeError } from '../lib/core/errors.js'
import { DEFAULT_MODEL } from '../lib/explain/ai.js'
import type { RunSummary } from '../lib/explain/finding.js'
import { explainSink, rawFindings } from '../lib/explain/explain.js'
import { findingFromMessage, readFindings } from '../lib/explain/read.js'
import type { ExplainFormat } from '../lib/explain/render.js'
import { EXPLAIN_FORMATS } from '../lib/explain/render.js'
import { checkInputs, concatInputs, inputNames } from '../lib/core/input.js'
import { MAX_LINE_BYTES_FLAG, failLongLine, maxLineBytesHelp } from '../lib/core/line-limit.js'

await runCli({
  tool: 'explain-errors',
  description: 'explain why an espipe run failed, with causes and the commands that fix it',
  importMeta: import.meta,
  counters: ['read', 'errors', 'problems'],
  flags: {
    format: { type: 'string', shortFlag: 'f', default: 'text' },
    ai: { type: 'boolean' },
    model: { type: 'string', env: 'ANTHROPIC_MODEL', default: DEFAULT_MODEL },
    timeout: { type: 'string', default: '60' },
    ...MAX_LINE_BYTES_FLAG
  },
  help: `
    Usage
      $ explain-errors [options] [FILE...]
      $ explain-errors [options] "MESSAGE"

    Explains why an espipe run failed: what happened, with the real host, table, file and
    line; the likely causes, most likely first; the commands to check and fix it.
    Reads the stderr of any espipe binary (text or --log-format json events), dead-letter
    files written with --errors (none or - means stdin), or a raw error message: the
    arguments, unless one names an existing file or is -. Identical
    errors are grouped, with a count and a few example lines; the most severe comes first.

    Options
      -f, --format FMT       text (default), markdown or json
      --ai                   also ask Claude (Anthropic Messages API) with the grouped errors,
                             their context and the rule-based explanation; secrets are removed
                             first. Without a key, a network, an answer in time, or on an API
                             error, prints the rule-based explanation and one line saying why
      --model NAME           the Claude model (default: ${DEFAULT_MODEL}; env ANTHROPIC_MODEL)
      --timeout SECONDS      how long to wait for Claude (default: 60)
${maxLineBytesHelp()}
      -q, --quiet            no summary line on stderr
      --log-format FMT       text (default) or json: stderr lines as NDJSON events
      --progress, --errors FILE, --max-errors N, --ai-errors, --simple-errors,
      --metrics-port [HOST:]PORT
                             accepted as by every espipe binary; only --errors and
                             --max-errors act here, on lines longer than --max-line-bytes
      --help, --version

    Environment: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (default https://api.anthropic.com),
    ANTHROPIC_MODEL.

    Exit status: 0 something was explained (also when --ai fell back to the rules); 1 the
    input held no error it could read, a file could not be read, or a line was longer than
    --max-line-bytes; 2 bad usage.

    Examples
      $ mysql-write --table t < dump.ndjson 2> load.log || explain-errors load.log
      $ csv-read --log-format json data.csv 2>&1 >/dev/null | explain-errors --format markdown
      $ explain-errors bad-rows.ndjson
      $ explain-errors "connect ECONNREFUSED 127.0.0.1:3306"
      $ ANTHROPIC_API_KEY=... explain-errors --ai load.log
`
}, async ({ opts, ctx }) => {
  const format = opts.string('format', { choices: EXPLAIN_FORMATS }) as ExplainFormat
  const timeoutSeconds = opts.int('timeout', { min: 1 }) ?? 60
  const runs: RunSummary[] = []
  const sink = explainSink({
    tools: TOOLS,
    format,
    ai: opts.bool('ai'),
    aiOptions: { model: opts.string('model'), timeoutMs: timeoutSeconds * 1000 },
    output: stdout(),
    runs,
    onReport: (r) => { ctx.stats.add('errors', r.errors); ctx.stats.add('problems', r.problems.length) }
  })
  // Arguments are a message (quoted or not) unless one names an existing file or is -:
  // messages hold URLs and paths. A lone word that reads as no error was a file name, mistyped.
  const args = opts.input
  if (args.length > 0 && args.every((a) => a !== '-' && !existsSync(a))) {
    const message = args.join(' ')
    const known = rawFindings([{ text: message, line: 1 }], TOOLS).length > 0
    if (!known && args.length === 1 && !/\s/.test(message)) throw new EspipeError('ENOENT', `cannot read ${message}: no such file (and as a message it holds no error)`, { context: { file: message } })
    ctx.stats.add('read')
    return [Readable.from(known ? [findingFromMessage(message, TOOLS)] : []), sink]
  }
  const files = inputNames(args)
  await checkInputs(files)
  const input = concatInputs(files, (name) => readFindings({
    tools: TOOLS,
    file: name === '-' ? undefined : name,
    maxLineBytes: ctx.maxLineBytes,
    onLongLine: (long) => failLongLine(ctx, long, { file: name === '-' ? undefined : name }),
    onLine: () => ctx.stats.add('read'),
    onSummary: (s) => runs.push(s),
    onRaw: (lines, file) => rawFindings(lines, TOOLS, file)
  }), { signal: ctx.signal })
  return [input, sink]
})
