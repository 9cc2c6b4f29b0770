// The yardstick for end-to-end loads: what the original tool did, one INSERT IGNORE per
// record with autocommit. Reads NDJSON records on stdin.
//   es-read … | node --import tsx bench/naive-insert.ts mysql://root@127.0.0.1:3306/db table
import { createInterface } from 'node:readline'
import mysql from 'mysql2/promise'

const [url, table] = process.argv.slice(2)
const conn = await mysql.createConnection({ uri: url, charset: 'utf8mb4' })
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line === '') continue
  const rec = JSON.parse(line) as { _id: string, _source: unknown }
  await conn.execute(`INSERT IGNORE INTO \`${table}\` (id, content) VALUES (?, ?)`, [rec._id, JSON.stringify(rec._source)])
}
await conn.end()
