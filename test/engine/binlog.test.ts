// Issue 25 against each engine: mysql-read --binlog --checkpoint C | es-write --checkpoint C keeps
// an index in step with a table. A first run copies the snapshot; then another client inserts,
// updates (a key too), deletes and changes rows in multi-row transactions; the same command run
// again streams those changes from the binary log as index and delete records, which the engine's
// _bulk applies. After each run the index holds every row of the table, by id, with the bytes
// mysql-read writes of it, and no other document.
import t from 'tap'
import { byId, sourceOf } from '../helpers/resume-destinations.js'
import { differences } from '../helpers/resume.js'
import { testDatabase } from '../helpers/mysql.js'
import { lines, runShell, scratchDir } from '../helpers/run.js'
import { call, targets } from './targets.js'
import type { Target } from './targets.js'

const all = await targets(t)
const db = await testDatabase(t, 'engine_binlog')
const dir = scratchDir(t)

/** id → `_source` text of each row, as a plain mysql-read writes it now. */
async function tableRows (): Promise<Map<string, string>> {
  const r = await runShell(`mysql-read --url '${db.url}' -t acct`)
  if (r.code !== 0) throw new Error(r.stderr)
  return new Map([...byId(lines(r.stdout))].map(([id, l]) => [id, sourceOf(l)]))
}

/** id → `_source` text of each document of `index`, as es-read gives them. */
async function indexDocs (target: Target, index: string): Promise<Map<string, string>> {
  await call(target, 'POST', `/${index}/_refresh`)
  const r = await runShell(`es-read --url ${target.url} --index ${index} -q`)
  if (r.code !== 0) throw new Error(r.stderr)
  return new Map([...byId(lines(r.stdout))].map(([id, l]) => [id, sourceOf(l)]))
}

for (const [k, target] of all.entries()) {
  t.test(`${target.name}: a table kept in step through the binary log`, async (t) => {
    const index = `engine-binlog-${k}`
    await db.rows('DROP TABLE IF EXISTS acct')
    await db.rows('CREATE TABLE acct (id INT PRIMARY KEY, grp INT NOT NULL, v BIGINT UNSIGNED, d DECIMAL(40,12), note VARCHAR(60), js JSON, at DATETIME(6))')
    await db.rows(`INSERT INTO acct VALUES ${Array.from({ length: 300 }, (_v, i) => `(${i + 1}, ${i % 10}, ${18446744073709551615n - BigInt(i)}, ${i}.000000000001, 'start "é" ${i}', '{"n": ${i}, "big": 12345678901234567890}', '2024-03-31 02:30:00.${String(i).padStart(6, '0')}')`).join(', ')}`)
    // The index's mapping keeps the row's values as they come (a BIGINT UNSIGNED past 2^63 is no long).
    await call(target, 'DELETE', `/${index}`)
    const made = await call(target, 'PUT', `/${index}`, { settings: { number_of_shards: 2, number_of_replicas: 0 }, mappings: { dynamic: false } })
    t.equal(made.status, 200, made.text)
    const ckpt = `${dir}/ckpt-${k}`
    const pipe = `mysql-read --url '${db.url}' --binlog --until-now -t acct --batch-size 50 --checkpoint '${ckpt}' | es-write --url ${target.url} --index ${index} --batch-size 40 --checkpoint '${ckpt}'`

    const first = await runShell(pipe)
    t.equal(first.code, 0, first.stderr)
    t.match(first.stderr, /es-write: 300 read, 300 created/, 'the snapshot: every row once')
    t.strictSame(differences(await indexDocs(target, index), await tableRows()), [], 'after the snapshot: the index is the table')

    // Changes from another client, each statement its own transaction or several in one.
    await db.conn.beginTransaction()
    await db.rows('UPDATE acct SET v = 18446744073709551615 - v, d = d + 0.000000000001, note = ? WHERE grp = 3', ['changed "q" ✓'])
    await db.rows('DELETE FROM acct WHERE grp = 4')
    await db.conn.commit()
    await db.rows('UPDATE acct SET id = id + 1000 WHERE grp = 5')
    await db.rows(`INSERT INTO acct VALUES ${Array.from({ length: 50 }, (_v, i) => `(${5000 + i}, 11, ${i}, 0.5, NULL, '"a string"', NULL)`).join(', ')}`)
    await db.rows('UPDATE acct SET js = JSON_SET(js, \'$.t\', 1.50) WHERE grp = 6')
    await db.rows('DELETE FROM acct WHERE id IN (5000, 5001)')

    const second = await runShell(pipe)
    t.equal(second.code, 0, second.stderr)
    // grp 3: 30 updated; grp 4: 30 deleted; grp 5: 30 moved (a delete and an index each); 50 inserted; grp 6: 30 updated; 2 deleted.
    t.match(second.stderr, /es-write: 202 read, /, 'the changes since, from the binary log: 202 records')
    t.match(second.stderr, /62 deleted/, 'deletes applied: grp 4, the moved keys\' old ids, two new rows')
    const table = await tableRows()
    t.equal(table.size, 300 - 30 + 50 - 2, 'the table as the changes left it')
    t.strictSame(differences(await indexDocs(target, index), table), [], 'after the changes: the index is the table, byte for byte')
    await call(target, 'DELETE', `/${index}`)
  })
}
