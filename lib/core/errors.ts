/** Where a failure happened: host, port, index, table, file, line, record id. Never a secret. */
export type ErrorContext = Record<string, string | number | undefined>

/** Every error espipe raises carries a stable `code` that explain-errors and scripts can match on. */
export class EspipeError extends Error {
  readonly code: string
  readonly context: ErrorContext
  readonly exitCode: number

  constructor (code: string, message: string, opts: { context?: ErrorContext, cause?: unknown, exitCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'EspipeError'
    this.code = code
    this.context = opts.context ?? {}
    this.exitCode = opts.exitCode ?? 1
  }
}

/** A bad command line: one line on stderr and exit status 2. */
export class UsageError extends EspipeError {
  constructor (message: string) {
    super('EUSAGE', message, { exitCode: 2 })
    this.name = 'UsageError'
  }
}

interface Coded { code?: unknown, errno?: unknown, name?: unknown, message?: unknown }

/** The driver's own code when it has one (ECONNREFUSED, ER_ACCESS_DENIED_ERROR, CSV_...). */
export function errorCode (err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const e = err as Coded
    if (typeof e.code === 'string' && e.code !== '') return e.code
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name
  }
  return 'EUNKNOWN'
}

export function errorMessage (err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return errorMessage(err.errors[0])
  if (err instanceof Error) return err.message
  return String(err)
}

export function errorContext (err: unknown): ErrorContext {
  return err instanceof EspipeError ? err.context : {}
}
