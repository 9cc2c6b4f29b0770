// mysql-read --deleted-column (issue 24): soft-deleted rows become {"_index","_id","_op":"delete"}
// in their place in the read, for a flag and for a deleted_at time, and with --since-column and
// --checkpoint a rerun carries the rows deleted since into the copy, against the real MariaDB.
import t from 'tap'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { lines, runShell, runTool, scratchDir } from '../helpers/run.js'
import { countsOf } from '../helpers/summary.js'
import { testDatabase } from '../helpers/mysql.js'

const db = await testDatabase(t, 'mr_deleted')
const dir = scratchDir(t)

t.test('a soft-delete flag: rows with it set are deletes, in key order among the others', async (t) => {
  await db.rows('CREATE TABLE flags (id INT PRIMARY KEY, name VARCHAR(20), deleted TINYINT NOT NULL DEFAULT 0) ENGINE=InnoDB')
  await db.rows("INSERT INTO flags VALUES (1, 'a', 0), (2, 'b', 1), (3, 'c', 0), (4, 'd', 2)")
  const r = await runTool('mysql-read', ['--url', db.url, '-t', 'flags', '--deleted-column', 'deleted'])
  t.equal(r.code, 0, r.stderr)
  t.strictSame(lines(r.stdout), [
    '{"_index":"flags","_id":"1","_source":{"id":1,"name":"a","deleted":0}}',
    '{"_index":"flags","_id":"2","_op":"delete"}',
    '{"_index":"flags","_id":"3","_source":{"id":3,"name":"c","deleted":0}}',
    '{"_index":"flags","_id":"4","_op":"delete"}'
  ])
})

t.test('a deleted_at time: set means deleted; --deleted-when overrides the condition', async (t) => {
  await db.rows('CREATE TABLE times (id VARCHAR(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY, v INT, deleted_at DATETIME NULL, status VARCHAR(10)) ENGINE=InnoDB')
  await db.rows("INSERT INTO times VALUES ('x', 1, NULL, 'live'), ('y', 2, '2026-01-02 03:04:05', 'live'), ('z', 3, NULL, 'gone')")
  const r = await runTool('mysql-read', ['--url', db.url, '-t', 'times', '--deleted-column', 'deleted_at'])
  t.equal(r.code, 0, r.stderr)
  t.strictSame(lines(r.stdout), [
    '{"_index":"times","_id":"x","_source":{"id":"x","v":1,"deleted_at":null,"status":"live"}}',
    '{"_index":"times","_id":"y","_op":"delete"}',
    '{"_index":"times","_id":"z","_source":{"id":"z","v":3,"deleted_at":null,"status":"gone"}}'
  ])
  const when = await runTool('mysql-read', ['--url', db.url, '-t', 'times', '--deleted-column', 'status', '--deleted-when', "status = 'gone'"])
  t.equal(when.code, 0, when.stderr)
  t.strictSame(lines(when.stdout).map((l) => l.includes('"_op":"delete"') ? l : (JSON.parse(l) as { _id: string })._id), ['x', 'y', '{"_index":"times","_id":"z","_op":"delete"}'])
})

t.test('usage: --deleted-when alone, --deleted-column with --query, an unknown column', async (t) => {
  const alone = await runTool('mysql-read', ['--url', db.url, '-t', 'flags', '--deleted-when', 'deleted = 1'])
  t.equal(alone.code, 2)
  t.match(alone.stderr, '--deleted-when needs --deleted-column')
  const query = await runTool('mysql-read', ['--url', db.url, '-e', 'SELECT * FROM flags', '--deleted-column', 'deleted'])
  t.equal(query.code, 2)
  t.match(query.stderr, '--deleted-column reads a table (--table), not a --query')
  const unknown = await runTool('mysql-read', ['--url', db.url, '-t', 'flags', '--deleted-column', 'gone'])
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, 'has no column gone')
})

t.test('--since-column and --checkpoint: a rerun carries the rows deleted since into the copy, in order', async (t) => {
  await db.rows('CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20), updated_at DATETIME(3) NOT NULL, deleted_at DATETIME NULL) ENGINE=InnoDB')
  const values = Array.from({ length: 50 }, (_v, i) => `(${i}, 'user ${i}', '2026-01-01 00:00:${String(i).padStart(2, '0')}.000', ${i % 10 === 9 ? "'2026-01-01 00:00:00'" : 'NULL'})`)
  await db.rows(`INSERT INTO users VALUES ${values.join(', ')}`)
  const ckpt = join(dir, 'users.ckpt')
  const pipe = `mysql-read --url ${db.url} -t users --since-column updated_at --deleted-column deleted_at --checkpoint ${ckpt} | mysql-write --url ${db.url} -t copy --create --mode upsert --checkpoint ${ckpt}`
  const first = await runShell(pipe)
  t.equal(first.code, 0, first.stderr)
  t.equal(countsOf(first.stderr, 'mysql-write'), '50 read, 45 inserted, 0 updated, 5 not found, 0 skipped, 0 failed', 'the rows deleted before the copy began are not in it')
  // Two rows deleted, one changed, one deleted row brought back, all after the first run.
  await db.rows("UPDATE users SET deleted_at = '2026-02-01 00:00:00', updated_at = '2026-02-01 00:00:01.000' WHERE id IN (3, 4)")
  await db.rows("UPDATE users SET name = 'renamed', updated_at = '2026-02-01 00:00:02.000' WHERE id = 5")
  await db.rows("UPDATE users SET deleted_at = NULL, updated_at = '2026-02-01 00:00:03.000' WHERE id = 9")
  await db.rows("UPDATE users SET deleted_at = '2026-02-01 00:00:00', name = 'gone', updated_at = '2026-02-01 00:00:04.000' WHERE id = 5")
  const second = await runShell(pipe)
  t.equal(second.code, 0, second.stderr)
  t.equal(countsOf(second.stderr, 'mysql-write'), '4 read, 1 inserted, 0 updated, 3 deleted, 0 skipped, 0 failed', 'only what changed since: 3 and 4 deleted, 9 back, 5 changed then deleted')
  const copy = await db.rows<RowDataPacket>('SELECT id FROM copy ORDER BY id')
  const want = Array.from({ length: 50 }, (_v, i) => i).filter((i) => (i % 10 !== 9 || i === 9) && ![3, 4, 5].includes(i))
  t.strictSame(copy.map((r) => Number(r.id)).sort((a, b) => a - b), want)
  const [nine] = await db.rows<RowDataPacket>('SELECT CAST(content AS CHAR) AS c FROM copy WHERE id = 9')
  t.equal(nine.c, '{"id":9,"name":"user 9","updated_at":"2026-02-01T00:00:03.000Z","deleted_at":null}')
})
