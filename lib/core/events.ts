import type { ErrorContext } from './errors.js'
import { errorCode, errorContext, errorMessage } from './errors.js'
import { SecretMasker } from './mask.js'
import type { Stats } from './stats.js'

export type LogFormat = 'text' | 'json'
export type Level = 'info' | 'warn' | 'error'
export type EventName = 'start' | 'info' | 'progress' | 'record-error' | 'error' | 'summary' | 'explanation'

/** Sees every fatal and record error the run reports (--ai-errors / --simple-errors collect them). */
export type ErrorObserver = (event: 'error' | 'record-error', code: string, message: string, context: ErrorContext) => void

export interface LoggerOptions {
  tool: string
  format?: LogFormat
  quiet?: boolean
  /** Draw progress lines: true forces them, undefined draws them only on a TTY. */
  progress?: boolean
  stream?: NodeJS.WritableStream & { isTTY?: boolean }
  masker?: SecretMasker
}

/**
 * A message as one line: what a server or a driver says may span lines (an HTML page, an
 * OpenSSL error ending in a newline), and one failure is one line of stderr.
 */
export function oneLine (message: string): string {
  return message.replace(/\s*[\r\n]+\s*/g, ' ').trim()
}

function formatContext (context: ErrorContext | undefined): string {
  if (context === undefined) return ''
  const parts = Object.entries(context).filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `${k}=${String(v)}`)
  return parts.length > 0 ? ` (${parts.join(', ')})` : ''
}

/** Streams that failed a write (EPIPE, a closed terminal, a full disk): nothing more goes to them. */
const gone = new WeakSet<NodeJS.WritableStream>()
const watched = new WeakSet<NodeJS.WritableStream>()

/**
 * A stderr whose reader has gone (a killed parent, `2>&1 | head`) is not a reason to stop
 * moving records, and must not fail again on every message: the messages are dropped, the
 * run goes on and ends with its usual status. process.stderr is never destroyed, so without
 * a listener each write's EPIPE was an uncaught exception, and runCli's handler for those
 * writes a warning, whose EPIPE was the next one. Each was thrown from a nextTick before
 * Node ran the promise callbacks queued behind it, so runCli never reached process.exit:
 * the process spun on this at 60% CPU, forever.
 */
function watch (stream: NodeJS.WritableStream): void {
  if (watched.has(stream)) return
  watched.add(stream)
  stream.on('error', () => gone.add(stream))
}

/** How long repeats of a warning are held before their count is said (while they go on). */
export const REPEAT_REPORT_MS = 10_000

/** A warning being repeated: how often and since when, the last one as it was. */
interface Repeat {
  key: string
  total: number
  /** Repeats not said yet. */
  held: number
  last: string
  details: Record<string, unknown> | undefined
  firstAt: number
  lastAt: number
  timer: NodeJS.Timeout | undefined
}

/**
 * Everything a stage says goes through here, to stderr: one line of text prefixed with the
 * tool's name, or one NDJSON event (CONTRACT.md §3) with --log-format json. Secrets are masked.
 */
export class Logger {
  readonly tool: string
  readonly format: LogFormat
  readonly quiet: boolean
  readonly masker: SecretMasker
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean }
  private readonly drawProgress: boolean
  private progressTimer: NodeJS.Timeout | undefined
  private progressShown = false
  private readonly observers: ErrorObserver[] = []
  private repeat: Repeat | undefined

  constructor (opts: LoggerOptions) {
    this.tool = opts.tool
    this.format = opts.format ?? 'text'
    this.quiet = opts.quiet ?? false
    this.stream = opts.stream ?? process.stderr
    watch(this.stream)
    this.masker = opts.masker ?? new SecretMasker()
    this.drawProgress = !this.quiet && (opts.progress ?? this.stream.isTTY === true)
  }

  /** Whether progress lines will be drawn: worth a request to learn the total, then. */
  get showsProgress (): boolean {
    return this.drawProgress
  }

  event (level: Level, event: EventName, message: string, details: Record<string, unknown> = {}): void {
    if (this.quiet && level !== 'error') return
    this.flushRepeats()
    this.clearProgress()
    message = oneLine(message)
    if (this.format === 'json') {
      const obj = { time: new Date().toISOString(), tool: this.tool, level, event, message, ...details }
      this.write(JSON.stringify(obj) + '\n')
      return
    }
    const prefix = level === 'info' ? '' : level === 'warn' ? 'warning: ' : ''
    this.write(`${this.tool}: ${prefix}${message}\n`)
  }

  info (message: string, details?: Record<string, unknown>): void {
    this.event('info', 'info', message, details)
  }

  start (message: string, details?: Record<string, unknown>): void {
    this.event('info', 'start', message, details)
  }

  /**
   * A warning. The same warning again (its words the same, its numbers aside: each batch's
   * retry after a connection was cut, with its own wait and attempt) is not printed again but
   * counted, and said once with its count when another line is written, after
   * REPEAT_REPORT_MS, or at the summary: `… — 40 times in 8.0 s`.
   */
  warn (message: string, details?: Record<string, unknown>): void {
    if (this.quiet) return
    const key = oneLine(message).replace(/\d+(\.\d+)?/g, '#')
    const now = Date.now()
    const r = this.repeat
    if (r !== undefined && r.key === key) {
      r.total++
      r.held++
      r.last = message
      r.details = details
      r.lastAt = now
      if (r.timer === undefined) {
        r.timer = setTimeout(() => this.flushRepeats(true), REPEAT_REPORT_MS)
        r.timer.unref()
      }
      return
    }
    this.event('warn', 'info', message, details)
    this.repeat = { key, total: 1, held: 0, last: message, details, firstAt: now, lastAt: now, timer: undefined }
  }

  /** Says the warnings held back since the last one shown (see warn); `keep`: go on counting them. */
  private flushRepeats (keep = false): void {
    const r = this.repeat
    if (r === undefined) return
    if (r.timer !== undefined) clearTimeout(r.timer)
    r.timer = undefined
    this.repeat = undefined
    if (r.held > 0) {
      const seconds = Number(((r.lastAt - r.firstAt) / 1000).toFixed(1))
      this.event('warn', 'info', `${r.last} — ${r.total} times in ${seconds.toFixed(1)} s`, { ...r.details, repeated: r.total, seconds })
    }
    if (keep) this.repeat = { ...r, held: 0 }
  }

  observe (fn: ErrorObserver): void {
    this.observers.push(fn)
  }

  /** Tells the observers of an error that is reported elsewhere (a record in the dead-letter file). */
  notify (event: 'error' | 'record-error', code: string, message: string, context: ErrorContext): void {
    for (const fn of this.observers) fn(event, code, message, context)
  }

  /** A fatal error: the one line that says what failed and where. */
  error (err: unknown, extraContext: ErrorContext = {}): void {
    const code = errorCode(err)
    const context = { ...errorContext(err), ...extraContext }
    const message = errorMessage(err)
    this.notify('error', code, message, context)
    if (this.format === 'json') {
      this.event('error', 'error', message, { code, context })
    } else {
      this.event('error', 'error', `error [${code}] ${message}${formatContext(context)}`)
    }
  }

  recordError (code: string, message: string, context: ErrorContext): void {
    this.notify('record-error', code, message, context)
    if (this.format === 'json') {
      this.event('error', 'record-error', message, { code, context })
    } else {
      this.event('error', 'record-error', `record error [${code}] ${message}${formatContext(context)}`)
    }
  }

  /**
   * What --simple-errors and --ai-errors asked for: a block of text for a person, or under
   * --log-format json one `explanation` event (every stderr line stays JSON). Shown even with
   * --quiet: it was asked for by name.
   */
  explanation (text: string, summary: string, details: Record<string, unknown>): void {
    this.clearProgress()
    if (this.format === 'json') {
      this.write(JSON.stringify({ time: new Date().toISOString(), tool: this.tool, level: 'info', event: 'explanation', message: oneLine(summary), ...details }) + '\n')
      return
    }
    this.write('\n' + text)
  }

  /** The run's one summary line; `describe` words it when the counters alone don't say it. */
  summary (stats: Stats, extra = '', describe = (s: Stats): string => s.describe()): void {
    this.stopProgress()
    this.event('info', 'summary', `${describe(stats)}${extra}`, { counts: stats.toJSON() })
  }

  /** Starts the periodic progress line; it is drawn only on a TTY or with --progress. */
  startProgress (stats: Stats, intervalMs = 1000): void {
    if (!this.drawProgress || this.progressTimer !== undefined) return
    this.progressTimer = setInterval(() => this.progress(stats), intervalMs)
    this.progressTimer.unref()
  }

  stopProgress (): void {
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer)
    this.progressTimer = undefined
    this.clearProgress()
  }

  private progress (stats: Stats): void {
    const line = stats.describeProgress()
    if (this.format === 'json') {
      this.event('info', 'progress', line, { counts: stats.toJSON() })
    } else if (this.stream.isTTY === true) {
      this.write(`\r\x1b[K${this.tool}: ${line}`)
      this.progressShown = true
    } else {
      this.write(`${this.tool}: ${line}\n`)
    }
  }

  private clearProgress (): void {
    if (this.progressShown) {
      this.progressShown = false
      this.write('\r\x1b[K')
    }
  }

  private write (text: string): void {
    if (gone.has(this.stream)) return
    this.stream.write(this.masker.mask(text))
  }
}
