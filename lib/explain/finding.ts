import type { ErrorContext } from '../core/errors.js'
import type { ToolRegistry } from '../core/tools.js'

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

/** A declared service's name (lib/core/tools.ts): mysql, elasticsearch, csv, ndjson, file, … */
export type Service = string

/**
 * What the failing side was: from the code when it says (ER_…, CSV_…), else from the tool,
 * else from the port. Network errors need it to name the right check (mariadb or curl).
 */
export function serviceOf (f: Finding, tools: ToolRegistry): Service | undefined {
  return tools.serviceOfCode(f.code) ??
    (f.tool === undefined ? undefined : tools.tool(f.tool)?.service) ??
    tools.serviceAt(String(f.context.port ?? ''), f.message)
}
