// What the binlog library gets wrong, corrected in lib/mysql/binlog-values.ts, checked against
// the server's own text of the same values.
import t from 'tap'
import type { RowDataPacket } from 'mysql2/promise'
import { doubleText, enumValues } from '../../lib/mysql/binlog-values.js'
import { lines, runShell, scratchDir } from '../helpers/run.js'
import { testDatabase } from '../helpers/mysql.js'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'

const db = await testDatabase(t, 'binlog_values')
const dir = scratchDir(t)

t.test('doubleText writes a DOUBLE as the server does', async (t) => {
  const values = [1e21, 1e-7, 0.1, -0.30000000000000004, 123456789012345680000, 1e15, 1e16, 1.5e-5, 5e-324, 1.7976931348623157e308, -2.5e-15, 0.000123, 12345.678, 100, 1e100]
  for (const v of values) {
    const [[row]] = await db.conn.query<RowDataPacket[]>({ sql: `SELECT CAST(CAST(${String(v)} AS DOUBLE) AS CHAR) AS s`, rowsAsArray: true })
    t.equal(doubleText(v), String((row as unknown as unknown[])[0]), String(v))
  }
})

t.test('enumValues reads ENUM and SET lists with commas, quotes and backslashes (a SET value has no comma)', async (t) => {
  await db.rows("CREATE TABLE ev (id INT PRIMARY KEY, e ENUM('a,b', 'it''s', 'back\\\\slash', ''), s SET('x''y' , 'z'))")
  const [cols] = await db.conn.query<RowDataPacket[]>("SELECT COLUMN_TYPE AS ct FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ev' AND COLUMN_NAME IN ('e', 's') ORDER BY ORDINAL_POSITION")
  t.strictSame(enumValues(String(cols[0].ct)), ['a,b', "it's", 'back\\slash', ''])
  t.strictSame(enumValues(String(cols[1].ct)), ["x'y", 'z'])
})

t.test('YEAR 0000, the empty ENUM value and DOUBLEs come through the binary log as mysql-read reads them', async (t) => {
  await db.rows("CREATE TABLE odd (id INT PRIMARY KEY, y YEAR, e ENUM('p', 'q'), d DOUBLE)")
  const ckpt = join(dir, 'odd.ckpt')
  const pipe = `mysql-read --url '${db.url}' --binlog --until-now -t odd --checkpoint '${ckpt}' | jsonl-write --checkpoint '${ckpt}' -o '${join(dir, 'odd.jsonl')}'`
  t.equal((await runShell(pipe)).code, 0)
  await db.rows("SET SESSION sql_mode = ''")
  await db.rows("INSERT INTO odd VALUES (1, 0, 'nope', 1e21), (2, 1901, 'q', 1e-7), (3, 2155, NULL, -0.1)")
  await db.rows("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
  const r = await runShell(pipe)
  t.equal(r.code, 0, r.stderr)
  const plain = await runShell(`mysql-read --url '${db.url}' -t odd`)
  const want = lines(plain.stdout).map((l) => `${l.slice(0, -1)},"_op":"index"}`)
  t.equal(want.length, 3)
  t.strictSame(lines(readFileSync(join(dir, 'odd.jsonl'), 'utf8')), want)
})
