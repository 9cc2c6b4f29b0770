import type { ToolDeclarations } from '../core/tools.js'

/** explain-errors reads logs and dead-letter files and writes a report. */
export const EXPLAIN_TOOLS: ToolDeclarations = {
  tools: [{ name: 'explain-errors', service: 'file', reads: 'file', writes: 'file' }]
}
