import type { ToolDeclarations } from '../core/tools.js'

/** es-read and es-write, and Elasticsearch (OpenSearch too) as explain-errors knows it. */
export const ES_TOOLS: ToolDeclarations = {
  services: [{
    name: 'elasticsearch',
    aliases: ['es'],
    port: 9200,
    // The server's error types (index_not_found_exception) and the client's error classes.
    codes: /_exception$|^(ResponseError|ProductNotSupportedError|ConnectionError)$/,
    codesInText: /[a-z]+(?:_[a-z]+)*_exception|ProductNotSupportedError|TimeoutError/
  }],
  tools: [
    { name: 'es-read', service: 'elasticsearch', reads: 'elasticsearch', writes: 'ndjson' },
    { name: 'es-write', service: 'elasticsearch', reads: 'ndjson', writes: 'elasticsearch' }
  ]
}
