import { Writable } from 'node:stream'
import { EspipeError } from '../core/errors.js'
import type { ErrorContext } from '../core/errors.js'
import type { ToolRegistry } from '../core/tools.js'
import type { AiOptions } from './ai.js'
import { askClaude } from './ai.js'
import type { Finding, FindingKind, RunSummary } from './finding.js'
import { Grouper } from './group.js'
import { matchRule } from './match.js'
import type { FindingReader } from './read.js'
import { FindingReader as Reader, findingFromMessage } from './read.js'
import type { ExplainFormat, Report } from './render.js'
import { countLine, renderReport } from './render.js'
import { UNKNOWN_RULE } from './rules.js'
import { maskSecrets } from './scrub.js'

export interface ExplainOptions {
  format?: ExplainFormat
  /** Ask Claude too (false: rule-based only). */
  ai?: boolean
  aiOptions?: AiOptions
}

const LOOKS_LIKE_ERROR = /error|fail|denied|refused|cannot|can't|unable|exception|fatal|invalid|not found|timed? ?out/i

/**
 * Lines of an input that held no event, or a message given on the command line: those a rule
 * knows, or that at least read like an error, are raw findings.
 */
export function rawFindings (lines: FindingReader['rawLines'], tools: ToolRegistry, file?: string): Finding[] {
  return lines
    .map((l) => findingFromMessage(l.text, tools, { file, line: l.line }))
    .filter((f) => matchRule(f, tools) !== UNKNOWN_RULE || LOOKS_LIKE_ERROR.test(f.message))
}

/** Groups, explains and (with `ai`) asks Claude; the report is what the renderers print. */
export async function buildReport (grouper: Grouper, runs: RunSummary[], opts: ExplainOptions = {}): Promise<Report> {
  const problems = grouper.explanations()
  const report: Report = { problems, errors: grouper.total, runs }
  if (opts.ai === true) report.ai = await askClaude(problems, runs, opts.aiOptions)
  return report
}

/** explain-errors' input had nothing to explain: exit status 1 (the issue's contract). */
export class NothingToExplain extends EspipeError {
  constructor () {
    super('ENOERRORS', 'no error found in the input (expected events, stderr lines or dead-letter entries of espipe, or an error message)')
  }
}

/**
 * The end of explain-errors' pipeline: takes Finding objects, and when its input ends writes
 * the report to `output`. Fails with NothingToExplain when no finding came.
 */
export function explainSink (opts: ExplainOptions & { tools: ToolRegistry, output: NodeJS.WritableStream, runs?: RunSummary[], onReport?: (r: Report) => void }): Writable {
  const grouper = new Grouper(opts.tools)
  return new Writable({
    objectMode: true,
    write (f: Finding, _enc, done) {
      grouper.add(f)
      done()
    },
    final (done) {
      if (grouper.total === 0) return done(new NothingToExplain())
      buildReport(grouper, opts.runs ?? [], opts).then((report) => {
        opts.onReport?.(report)
        const ok = opts.output.write(maskSecrets(renderReport(report, opts.format)))
        if (ok) done()
        else opts.output.once('drain', () => done())
      }, done)
    }
  })
}

/**
 * Library use: explains a whole text (stderr of a run, events, a dead-letter file, a message).
 * `tools`: the binaries and services it may name (TOOLS in lib/cli.ts: all of espipe's).
 */
export async function explainText (text: string, tools: ToolRegistry, opts: ExplainOptions = {}): Promise<Report> {
  const reader = new Reader(tools)
  const grouper = new Grouper(tools)
  for (const line of text.split('\n')) for (const f of reader.push(line)) grouper.add(f)
  for (const f of reader.end()) grouper.add(f)
  if (reader.found === 0) for (const f of rawFindings(reader.rawLines, tools)) grouper.add(f)
  return await buildReport(grouper, reader.summaries, opts)
}

/**
 * `--ai-errors` / `--simple-errors` on the other binaries: collects the run's own error
 * events as the Logger reports them, and explains them on stderr when the run failed.
 */
export class RunExplainer {
  private readonly grouper: Grouper
  private readonly tool: string

  constructor (tool: string, tools: ToolRegistry) {
    this.tool = tool
    this.grouper = new Grouper(tools)
  }

  add (kind: FindingKind, code: string, message: string, context: ErrorContext): void {
    this.grouper.add({ kind, source: 'event', tool: this.tool, code, message, context })
  }

  /** The explanation of the run's errors; nothing when the run reported none. */
  async explain (opts: ExplainOptions = {}): Promise<{ text: string, summary: string, report: Report } | undefined> {
    if (this.grouper.total === 0) return undefined
    const report = await buildReport(this.grouper, [], opts)
    const text = maskSecrets(renderReport(report, opts.format ?? 'text'))
    return { text, summary: countLine(report), report: JSON.parse(maskSecrets(JSON.stringify(report))) as Report }
  }
}
