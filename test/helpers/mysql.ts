import mysql from 'mysql2/promise'
import type { Connection, RowDataPacket } from 'mysql2/promise'

/** The server the tests use: MYSQL_URL, or the CI default (root, no password, 127.0.0.1:3306). */
export const BASE_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'

export interface TestDatabase {
  name: string
  /** A mysql:// URL that selects this database. */
  url: string
  host: string
  port: number
  conn: Connection
  rows: <T = RowDataPacket>(sql: string, params?: unknown[]) => Promise<T[]>
  /** The table as `id → parsed content`, for comparing whole tables. */
  table: (name: string, idColumn?: string, contentColumn?: string) => Promise<Map<string, unknown>>
}

export function urlFor (database: string, overrides: { host?: string, port?: number } = {}): string {
  const u = new URL(BASE_URL)
  u.pathname = '/' + database
  if (overrides.host !== undefined) u.hostname = overrides.host
  if (overrides.port !== undefined) u.port = String(overrides.port)
  return u.toString()
}

/**
 * A database of its own for one test file (the server is shared with test files running
 * in parallel), dropped when the test ends.
 */
export async function testDatabase (t: { teardown: (fn: () => Promise<void> | void) => void }, label: string): Promise<TestDatabase> {
  const name = `espipe_${label.replace(/[^a-z0-9_]/gi, '_')}_${process.pid}`
  const admin = await mysql.createConnection({ uri: BASE_URL, charset: 'utf8mb4' })
  await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)
  await admin.changeUser({ database: name })
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
    await admin.end()
  })
  const u = new URL(BASE_URL)
  const rows = async <T = RowDataPacket>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const [r] = await admin.query(sql, params)
    return r as T[]
  }
  return {
    name,
    url: urlFor(name),
    host: u.hostname,
    port: u.port === '' ? 3306 : Number(u.port),
    conn: admin,
    rows,
    table: async (table, idColumn = 'id', contentColumn = 'content') => {
      const r = await rows<RowDataPacket>(`SELECT \`${idColumn}\` AS id, \`${contentColumn}\` AS content FROM \`${table}\``)
      return new Map(r.map((x) => [String(x.id), typeof x.content === 'string' ? JSON.parse(x.content) as unknown : x.content as unknown]))
    }
  }
}

/**
 * A user of `db` the server allows `connections` connections at once (CREATE USER … WITH
 * MAX_USER_CONNECTIONS: no global setting is touched), dropped when the test ends; its URL.
 */
export async function limitedUser (t: { teardown: (fn: () => Promise<void> | void) => void }, db: TestDatabase, label: string, connections: number): Promise<string> {
  const user = `espipe_${label}_${process.pid}`
  await db.conn.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${label}-pass' WITH MAX_USER_CONNECTIONS ${connections}`)
  t.teardown(async () => { await db.conn.query(`DROP USER IF EXISTS '${user}'@'%'`) })
  await db.conn.query(`GRANT ALL ON \`${db.name}\`.* TO '${user}'@'%'`)
  const u = new URL(db.url)
  u.username = user
  u.password = `${label}-pass`
  return u.toString()
}
