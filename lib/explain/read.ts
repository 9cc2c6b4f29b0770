import type { Duplex } from 'node:stream'
import type { ErrorContext } from '../core/errors.js'
import type { LongLine } from '../core/line-limit.js'
import { DEFAULT_MAX_LINE_BYTES, lineStage } from '../core/line-limit.js'
import type { ToolRegistry } from '../core/tools.js'
import type { Finding, RunSummary } from './finding.js'

/** Longest excerpt of a failed record kept as an example. */
const RECORD_EXCERPT = 200
/** Lines kept from an input that held no event: they may be one raw error message. */
const RAW_LINES = 200

// `TOOL: error [CODE] MESSAGE (k=v, …)` and `TOOL: record error [CODE] MESSAGE (k=v, …)` (lib/core/events.ts)
const TEXT_ERROR = /^([a-z][a-z0-9-]*): (record )?error \[([^\]]+)\] ([\s\S]*)$/
// `TOOL: 10 read, 3 inserted, 1 failed in 0.2 s (50/s)`
const TEXT_SUMMARY = /^([a-z][a-z0-9-]*): (\d+ [a-z]+(?: \([^)]*\))?(?:, \d+ [a-z]+(?: \([^)]*\))?)* in [\d.]+ s \([\d,]+\/s\).*)$/
const TEXT_CONTEXT = /\s\(([a-z_][a-z0-9_]*=[^,()]*(?:, [a-z_][a-z0-9_]*=[^,()]*)*)\)$/i

function scalar (v: string): string | number {
  return /^\d{1,15}$/.test(v) ? Number(v) : v
}

/** Splits `message (k=v, k=v)` as lib/core/events.ts writes it into the message and its context. */
export function splitTextContext (text: string): { message: string, context: ErrorContext } {
  const m = TEXT_CONTEXT.exec(text)
  if (m === null) return { message: text, context: {} }
  const context: ErrorContext = {}
  for (const pair of m[1].split(', ')) {
    const eq = pair.indexOf('=')
    context[pair.slice(0, eq)] = scalar(pair.slice(eq + 1))
  }
  return { message: text.slice(0, m.index), context }
}

function toContext (v: unknown): ErrorContext {
  const out: ErrorContext = {}
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return out
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x === 'string' || typeof x === 'number') out[k] = x
    else if (typeof x === 'boolean') out[k] = String(x)
  }
  return out
}

function excerpt (record: unknown): string | undefined {
  if (record === undefined || record === null) return undefined
  const s = typeof record === 'string' ? record : JSON.stringify(record)
  return s.length > RECORD_EXCERPT ? s.slice(0, RECORD_EXCERPT) + '…' : s
}

/** The driver code a bare message names, if any (`connect ECONNREFUSED 127.0.0.1:3306`). */
export function codeInText (text: string, tools: ToolRegistry): string {
  return tools.codeInText.exec(text)?.[1] ?? 'EUNKNOWN'
}

/** A raw error message given on the command line or found alone in the input. */
export function findingFromMessage (message: string, tools: ToolRegistry, at?: Finding['at']): Finding {
  const { message: text, context } = splitTextContext(message.trim())
  return { kind: 'fatal', source: 'message', code: codeInText(text, tools), message: text, context, at }
}

type JsonLine = { finding: Finding } | { summary: RunSummary } | { other: true } | undefined

/** A JSON event (CONTRACT.md §3) or a dead-letter entry (§4); anything else is not ours. */
function fromJson (obj: Record<string, unknown>, at: Finding['at'], tools: ToolRegistry): JsonLine {
  if (typeof obj.event === 'string' && typeof obj.message === 'string') {
    const tool = typeof obj.tool === 'string' ? obj.tool : undefined
    if (obj.event === 'summary') return tool === undefined ? undefined : { summary: { tool, message: obj.message } }
    // Our own start, info and progress events: read, and nothing to explain.
    if (obj.event !== 'error' && obj.event !== 'record-error') return { other: true }
    return {
      finding: {
        kind: obj.event === 'error' ? 'fatal' : 'record',
        source: 'event',
        tool,
        code: typeof obj.code === 'string' && obj.code !== '' ? obj.code : codeInText(obj.message, tools),
        message: obj.message,
        context: toContext(obj.context),
        at
      }
    }
  }
  const err = obj.error as Record<string, unknown> | undefined
  if ('record' in obj && err !== null && typeof err === 'object' && typeof err.message === 'string') {
    const context = toContext(obj.context)
    if (typeof obj.line === 'number' && context.line === undefined) context.line = obj.line
    return {
      finding: {
        kind: 'record',
        source: 'dead-letter',
        code: typeof err.code === 'string' && err.code !== '' ? err.code : codeInText(err.message, tools),
        message: err.message,
        context,
        record: excerpt(obj.record),
        at
      }
    }
  }
  return undefined
}

/**
 * Reads one input line by line and recognises, per line, what it is: a JSON event, a
 * dead-letter entry, a text error line of our binaries (with its continuation lines: driver
 * messages such as Elasticsearch's "Root causes:" span several), a summary line. Lines that
 * are none of these are kept (up to a limit): an input with no event may be a raw message.
 */
export class FindingReader {
  readonly summaries: RunSummary[] = []
  readonly rawLines: Array<{ text: string, line: number }> = []
  found = 0
  private readonly file: string | undefined
  private readonly tools: ToolRegistry
  private line = 0
  private pending: { tool: string, record: boolean, code: string, text: string, line: number } | undefined

  constructor (tools: ToolRegistry, file?: string) {
    this.tools = tools
    this.file = file
  }

  /** Feeds one line; returns the findings it completed. */
  push (raw: string): Finding[] {
    this.line++
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    const out: Finding[] = []
    if (this.pending !== undefined) {
      if (/^[ \t]/.test(text) && text.trim() !== '') {
        this.pending.text += '\n' + text
        return out
      }
      out.push(this.flush())
    }
    const trimmed = text.trim()
    if (trimmed === '') return out
    const at = { file: this.file, line: this.line }
    if (trimmed.startsWith('{')) {
      let obj: unknown
      try { obj = JSON.parse(trimmed) } catch { obj = undefined }
      if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
        const r = fromJson(obj as Record<string, unknown>, at, this.tools)
        if (r !== undefined && 'finding' in r) { out.push(r.finding); this.found++; return out }
        if (r !== undefined && 'summary' in r) { this.summaries.push(r.summary); return out }
        if (r !== undefined) return out
      }
    }
    const m = TEXT_ERROR.exec(text)
    if (m !== null) {
      this.pending = { tool: m[1], record: m[2] !== undefined, code: m[3], text: m[4], line: this.line }
      return out
    }
    const s = TEXT_SUMMARY.exec(text)
    if (s !== null) { this.summaries.push({ tool: s[1], message: s[2] }); return out }
    if (this.rawLines.length < RAW_LINES) this.rawLines.push({ text: trimmed, line: this.line })
    return out
  }

  /** Ends the input; returns the finding still open, if any. */
  end (): Finding[] {
    return this.pending === undefined ? [] : [this.flush()]
  }

  private flush (): Finding {
    const p = this.pending
    if (p === undefined) throw new Error('no pending finding')
    this.pending = undefined
    this.found++
    const { message, context } = splitTextContext(p.text)
    return { kind: p.record ? 'record' : 'fatal', source: 'text', tool: p.tool, code: p.code, message, context, at: { file: this.file, line: p.line } }
  }
}

export interface ReadFindingsOptions {
  tools: ToolRegistry
  file?: string
  onSummary?: (s: RunSummary) => void
  onLine?: () => void
  /** Called at the end of an input that held no event, with its lines: returns those that are errors. */
  onRaw?: (lines: FindingReader['rawLines'], file?: string) => Finding[]
  /** The longest line read (default 64 MiB): a longer one is skipped, unread, and given here. */
  maxLineBytes?: number
  onLongLine?: (long: LongLine) => void
  /** The input began with a UTF-8 byte order mark, which was skipped. */
  onBom?: () => void
}

/** The stage that turns the bytes of one input into Finding objects. */
export function readFindings (opts: ReadFindingsOptions): Duplex[] {
  const reader = new FindingReader(opts.tools, opts.file)
  return [lineStage(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, {
    line: (raw, _line, push) => {
      opts.onLine?.()
      for (const f of reader.push(raw)) push(f)
    },
    long: (long, push) => {
      // Not read: it still ends a text error's continuation lines, and counts for line numbers.
      for (const f of reader.push('')) push(f)
      opts.onLongLine?.(long)
    },
    bom: () => opts.onBom?.(),
    end: (push) => {
      for (const f of reader.end()) push(f)
      for (const s of reader.summaries) opts.onSummary?.(s)
      if (reader.found === 0 && opts.onRaw !== undefined) {
        for (const f of opts.onRaw(reader.rawLines, opts.file)) push(f)
      }
    }
  })]
}
