import type { RowDataPacket } from 'mysql2/promise'
import { EspipeError, errorMessage } from '../core/errors.js'
import type { MysqlConnectionSettings } from './connection.js'
import { connectOrSay, describeTarget, resolveConnection } from './connection.js'
import { sqlCode } from './errors.js'
import { parseTableName, quoteTable } from './identifiers.js'
import type { TablePlan } from './schema-mapping.js'
import { createTableSql } from './schema-mapping.js'
import { exactIdType, serverIdCollation } from './table.js'

/**
 * The CREATE TABLE mysql-write --create --schema would run, for --dry-run: the server is asked
 * only which exact collation its id column gets, and nothing is created.
 */
export async function schemaDryRun (opts: { connection: MysqlConnectionSettings, table: string, idColumn?: string }, plan: TablePlan): Promise<string> {
  const table = parseTableName(opts.table)
  const target = resolveConnection(opts.connection)
  const conn = await connectOrSay(target, undefined)
  try {
    const [[exists]] = await conn.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?', [table.database ?? null, table.table])
    const sql = createTableSql(quoteTable(table), opts.idColumn ?? 'id', exactIdType(await serverIdCollation(conn)), plan)
    return Number(exists.n) > 0 ? `-- ${table.table} exists: CREATE TABLE IF NOT EXISTS leaves it as it is\n${sql}` : sql
  } catch (err) {
    if (err instanceof EspipeError) throw err
    throw new EspipeError(sqlCode(err), `${errorMessage(err)} (MySQL at ${describeTarget(target)})`, { cause: err })
  } finally {
    conn.destroy()
  }
}
