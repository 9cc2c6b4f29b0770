import type { ToolDeclarations } from '../core/tools.js'

/** mysql-read and mysql-write, and MySQL/MariaDB as explain-errors knows it. */
export const MYSQL_TOOLS: ToolDeclarations = {
  services: [{
    name: 'mysql',
    port: 3306,
    // The server's errors (ER_…), the client library's (CR_…) and mysql2's own (PROTOCOL_…).
    codes: /^(ER_|CR_|PROTOCOL_)/,
    codesInText: /ER_[A-Z_]+|CR_[A-Z_]+/,
    mentions: /mysql:\/\//
  }],
  tools: [
    { name: 'mysql-read', service: 'mysql', reads: 'mysql', writes: 'ndjson' },
    { name: 'mysql-write', service: 'mysql', reads: 'ndjson', writes: 'mysql' }
  ]
}
