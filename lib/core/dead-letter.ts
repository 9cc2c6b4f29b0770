import { closeSync, openSync, writeSync } from 'node:fs'
import type { ErrorContext } from './errors.js'
import { EspipeError } from './errors.js'
import type { Logger } from './events.js'
import { stringifyExact } from './json.js'
import type { Stats } from './stats.js'

export interface FailedRecord {
  /** The original record (its exact parse: json.ts) or the raw line when it could not be parsed. */
  record: unknown
  line?: number
  code: string
  message: string
  context?: ErrorContext
}

export interface FailuresOptions {
  logger: Logger
  stats: Stats
  /** --errors FILE: dead-letter file; without it each failure is a line on stderr. */
  errorsFile?: string
  /**
   * Add to it instead of starting it afresh: a rerun of a checkpointed pipe continues the run
   * before it, whose dead-lettered records count as settled and are not read again.
   */
  appendErrors?: boolean
  /** --max-errors N: the run stops once more than N records have failed. */
  maxErrors?: number
}

/**
 * Bad records are never lost: each is counted, and written with its reason to the dead-letter
 * file as `{"record", "line", "error": {"code", "message"}}` so it can be fixed and replayed.
 * Writes are synchronous: failures are rare, and order and durability matter more than speed.
 */
export class Failures {
  private readonly opts: FailuresOptions
  private fd: number | undefined

  constructor (opts: FailuresOptions) {
    this.opts = opts
    if (opts.errorsFile !== undefined) {
      try {
        this.fd = openSync(opts.errorsFile, opts.appendErrors === true ? 'a' : 'w')
      } catch (err) {
        throw new EspipeError((err as NodeJS.ErrnoException).code ?? 'EIO', `cannot write the errors file ${opts.errorsFile}: ${(err as Error).message}`, { context: { file: opts.errorsFile } })
      }
    }
  }

  get count (): number {
    return this.opts.stats.get('failed')
  }

  get errorsFile (): string | undefined {
    return this.opts.errorsFile
  }

  fail (f: FailedRecord): void {
    const { logger, stats, maxErrors } = this.opts
    stats.add('failed')
    const context: ErrorContext = { ...f.context }
    if (f.line !== undefined) context.line = f.line
    if (this.fd !== undefined) {
      const entry = { record: f.record, line: f.line, error: { code: f.code, message: f.message }, context }
      writeSync(this.fd, logger.masker.mask(stringifyExact(entry)) + '\n')
      if (logger.format === 'json') logger.recordError(f.code, f.message, context)
      else logger.notify('record-error', f.code, f.message, context)
    } else {
      logger.recordError(f.code, f.message, context)
    }
    if (maxErrors !== undefined && stats.get('failed') > maxErrors) {
      throw new EspipeError('EMAXERRORS', `stopped: more than ${maxErrors} records failed (--max-errors ${maxErrors})`)
    }
  }

  close (): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}
