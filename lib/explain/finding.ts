import type { ErrorContext } from '../core/errors.js'

/** A fatal error ends a run; a record error costs one record and the run goes on. */
export type FindingKind = 'fatal' | 'record'

/** Which kind of input a finding was read from. */
export type FindingSource = 'event' | 'text' | 'dead-letter' | 'message'

/**
 * One failure, whatever form it came in (a JSON event, a line of stderr text, a dead-letter
 * entry, a bare message): the shape the grouping, the rules and the renderers work on.
 */
export interface Finding {
  kind: FindingKind
  source: FindingSource
  /** The binary that reported it, when the input says so. */
  tool?: string
  /** The driver's code (ECONNREFUSED, ER_NO_SUCH_TABLE, CSV_INVALID_CLOSING_QUOTE, …); EUNKNOWN when none. */
  code: string
  message: string
  context: ErrorContext
  /** The failed record as the dead-letter file kept it, shortened. */
  record?: string
  /** Where in explain-errors' own input the finding was read. */
  at?: { file?: string, line: number }
}

/** A run's closing summary line, kept to show how far the run got. */
export interface RunSummary {
  tool: string
  message: string
}

export type Service = 'mysql' | 'elasticsearch' | 'csv' | 'ndjson' | 'file'

const TOOL_SERVICE: Record<string, Service> = {
  'mysql-write': 'mysql',
  'es-read': 'elasticsearch',
  'csv-read': 'csv',
  'jsonl-write': 'file'
}

/**
 * What the failing side was: from the code when it says (ER_…, CSV_…), else from the tool,
 * else from the port. Network errors need it to name the right check (mariadb or curl).
 */
export function serviceOf (f: Finding): Service | undefined {
  if (/^(ER_|CR_|PROTOCOL_)/.test(f.code)) return 'mysql'
  if (/^CSV_/.test(f.code)) return 'csv'
  if (/^NDJSON_/.test(f.code)) return 'ndjson'
  if (/_exception$|^(ResponseError|ProductNotSupportedError|ConnectionError)$/.test(f.code)) return 'elasticsearch'
  if (f.tool !== undefined && TOOL_SERVICE[f.tool] !== undefined) return TOOL_SERVICE[f.tool]
  const port = String(f.context.port ?? '')
  if (port === '3306' || /:3306\b|mysql:\/\//.test(f.message)) return 'mysql'
  if (port === '9200' || /:9200\b/.test(f.message)) return 'elasticsearch'
  return undefined
}
