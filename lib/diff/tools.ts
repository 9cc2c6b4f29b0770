import type { ToolDeclarations } from '../core/tools.js'

/** rec-diff: two NDJSON inputs (files or pipes) in, operations as NDJSON out. */
export const DIFF_TOOLS: ToolDeclarations = {
  tools: [{ name: 'rec-diff', service: 'ndjson', reads: 'ndjson', writes: 'ndjson' }]
}
