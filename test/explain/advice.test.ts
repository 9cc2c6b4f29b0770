// explain-errors as a user meets it (issue 11): what it reads as a message, advice that works
// when followed (run against the real MariaDB), the real causes of a JSON CHECK failure,
// contents that are arrays, and counts in good English.
import mysql from 'mysql2/promise'
import type { RowDataPacket } from 'mysql2/promise'
import t from 'tap'
import { explainText } from '../../lib/explain/explain.js'
import { loggedRecordError, run } from '../helpers/explain-run.js'
import { testDatabase } from '../helpers/mysql.js'
import { TOOLS } from '../../lib/cli.js'

const db = await testDatabase(t, 'advice')
const conn = await mysql.createConnection({ uri: db.url })
t.teardown(async () => { await conn.end() })

async function failure (sql: string, params: unknown[]): Promise<Error & { code: string }> {
  try {
    await conn.query(sql, params)
  } catch (err) {
    return err as Error & { code: string }
  }
  throw new Error(`expected ${sql} to fail`)
}
/** The SQL of a suggested `mariadb … -e '…'` command. */
const sqlOf = (command: string): string => /-e '(.+)'/.exec(command)?.[1] ?? ''

t.test('a value too long for a key column: the advice is a longer VARCHAR that keeps the key and its collation', async (t) => {
  await conn.query('CREATE TABLE keyed (id VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY, name VARCHAR(5))')
  const longId = 'k'.repeat(300)
  const err = await failure('INSERT INTO keyed (id, name) VALUES (?, ?)', [longId, 'a'])
  const report = await explainText(loggedRecordError('mysql-write', 'text', err.code, err.message, { host: db.host, port: db.port, database: db.name, table: 'keyed', _id: 'k…', line: 1 }), TOOLS)
  const p = report.problems[0]
  t.equal(p.rule, 'mysql-data-too-long')
  for (const c of p.commands.filter((x) => /\bTEXT\b|LONGTEXT/.test(x))) t.match(c, /only if .*not in a key/, `TEXT is offered only for a column in no key: ${c}`)
  const forKey = p.commands.find((x) => x.includes('VARCHAR(768)'))
  t.ok(forKey !== undefined, 'a command for a key column')
  // Followed: MariaDB takes it, the key and the collation stay, the record now fits.
  await conn.query(sqlOf(forKey ?? ''))
  const [col] = await db.rows<RowDataPacket>("SHOW FULL COLUMNS FROM keyed WHERE Field = 'id'")
  t.hasStrict(col, { Type: 'varchar(768)', Collation: 'utf8mb4_bin', Key: 'PRI', Null: 'NO' })
  await conn.query('INSERT INTO keyed (id, name) VALUES (?, ?)', [longId, 'a'])
})

t.test('a value too long for a column in no key: LONGTEXT, and it works', async (t) => {
  const err = await failure('INSERT INTO keyed (id, name) VALUES (?, ?)', ['n1', 'much too long'])
  const p = (await explainText(loggedRecordError('mysql-write', 'text', err.code, err.message, { host: db.host, port: db.port, database: db.name, table: 'keyed', _id: 'n1', line: 2 }), TOOLS)).problems[0]
  const forOthers = p.commands.find((x) => x.includes('LONGTEXT'))
  t.ok(forOthers !== undefined)
  await conn.query(sqlOf(forOthers ?? ''))
  await conn.query('INSERT INTO keyed (id, name) VALUES (?, ?)', ['n1', 'much too long'])
  t.pass('the row fits after the advice')
})

t.test("a JSON CHECK failure names the causes JSON.parse lets through: nesting depth, lone surrogates", async (t) => {
  await conn.query('CREATE TABLE docs (id VARCHAR(20) PRIMARY KEY, content JSON)')
  const deep = '['.repeat(40) + ']'.repeat(40)
  const lone = '{"s":"\\ud800"}'
  for (const [name, value] of [['deep', deep], ['lone', lone]]) {
    JSON.parse(value)
    const err = await failure('INSERT INTO docs (id, content) VALUES (?, ?)', [name, value])
    t.equal(err.code === 'ER_CONSTRAINT_FAILED' || (err as { errno?: number }).errno === 4025, true, `${name}: the server's CHECK refused it`)
    const p = (await explainText(loggedRecordError('mysql-write', 'text', 'ER_CONSTRAINT_FAILED', err.message, { host: db.host, port: db.port, database: db.name, table: 'docs', _id: name, line: 1 }), TOOLS)).problems[0]
    t.equal(p.rule, 'mysql-invalid-json')
    t.match(p.causes.join('\n'), /nested deeper than 31 levels/)
    t.match(p.causes.join('\n'), /lone surrogate/)
  }
})

t.test('a _source that is an array is described as one', async (t) => {
  const record = '{"_id":"a1","_source":[1,2,3]}\n'
  const mw = await run('mysql-write', ['--url', db.url, '-t', 'cols', '--columns', 'name'], { input: record })
  await conn.query('CREATE TABLE cols (id VARBINARY(512) PRIMARY KEY, name TEXT)')
  const mw2 = await run('mysql-write', ['--url', db.url, '-t', 'cols', '--columns', 'name'], { input: record })
  t.equal(mw2.code, 1, mw.stderr)
  t.match(mw2.stderr, "record error [RECORD_CONTENT_NOT_OBJECT] content at '_source' is an array, not an object, so columns can't be taken from it")
  const jw = await run('jsonl-write', ['--shape', 'flat'], { input: record })
  t.match(jw.stderr, "content at '_source' is an array, not an object")
  for (const stderr of [mw2.stderr, jw.stderr]) {
    const r = await run('explain-errors', [], { input: stderr })
    t.equal(r.code, 0)
    t.match(r.stdout, /The content at '_source' of records reaching (mysql|jsonl)-write is an array/)
    t.notMatch(r.stdout, /have nothing at/)
  }
})

t.test('an argument is a message unless it names an existing file or is -', async (t) => {
  const url = await run('explain-errors', ['index not found at http://es:9200: no such index [logs] (404 index_not_found_exception)'])
  t.equal(url.code, 0, url.stderr)
  t.match(url.stdout, "Elasticsearch at http://es:9200 has no index 'logs'.")
  const path = await run('explain-errors', ["cannot read /data/people.csv: ENOENT: no such file or directory, open '/data/people.csv'"])
  t.equal(path.code, 0, path.stderr)
  t.match(path.stdout, 'Could not read /data/people.csv: it (or its directory) does not exist.')
  const words = await run('explain-errors', ['connect', 'ECONNREFUSED', '10.0.0.5:3306'])
  t.match(words.stdout, 'Nothing accepted a connection at 10.0.0.5:3306.')
  // A missing file that reads as no error either says both.
  const typo = await run('explain-errors', ['load.lgo'])
  t.equal(typo.code, 1)
  t.equal(typo.stderr.split('\n')[0], 'explain-errors: error [ENOENT] cannot read load.lgo: no such file (and as a message it holds no error) (file=load.lgo)')
})

t.test('counts in good English: 1 error, 1 problem, 1 page, 1 retry', async (t) => {
  const r = await run('explain-errors', ['connect ECONNREFUSED 127.0.0.1:3306'])
  t.match(r.stdout, /^1 problem in 1 error$/m)
  t.match(r.stderr, /^explain-errors: 1 read, 1 error, 1 problem, 0 failed in [\d.]+ s/m)
  const { Stats } = await import('../../lib/core/stats.js')
  const s = new Stats(['read', 'emitted', 'pages', 'retries', 'inserted', ['skipped', 'duplicate id']])
  for (const c of ['read', 'emitted', 'pages', 'retries', 'inserted', 'skipped', 'failed']) s.add(c)
  t.match(s.describe(), /^1 read, 1 emitted, 1 page, 1 retry, 1 inserted, 1 skipped \(duplicate id\), 1 failed in /)
  s.add('pages')
  t.match(s.describe(), /, 2 pages, /)
})
