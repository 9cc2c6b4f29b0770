import type { ToolDeclarations } from '../core/tools.js'

/** csv-read and csv-write, and CSV files, whose parser errors are CSV_…. */
export const CSV_TOOLS: ToolDeclarations = {
  services: [{ name: 'csv', codes: /^CSV_/, codesInText: /CSV_[A-Z_]+/ }],
  tools: [
    { name: 'csv-read', service: 'csv', reads: 'csv', writes: 'ndjson' },
    { name: 'csv-write', service: 'csv', reads: 'ndjson', writes: 'csv' }
  ]
}
