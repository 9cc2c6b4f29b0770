import type { ToolDeclarations } from '../core/tools.js'

/** jsonl-write: a JSON Lines file is a file (core's service). */
export const JSONL_TOOLS: ToolDeclarations = {
  tools: [{ name: 'jsonl-write', service: 'file', reads: 'ndjson', writes: 'file' }]
}
