import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { lines, runShell, runTool, scratchDir } from '../helpers/run.js'
import { testDatabase, urlFor } from '../helpers/mysql.js'
import { makeRecords, ndjson } from '../helpers/records.js'
import { countsOf, summaryOf } from '../helpers/summary.js'

const db = await testDatabase(t, 'mw_errors')
const dir = scratchDir(t)

interface Dead { record: { _id: string }, line: number, error: { code: string, message: string }, context: Record<string, unknown> }
const readDead = (file: string): Dead[] => lines(readFileSync(file, 'utf8')).map((l) => JSON.parse(l) as Dead)

t.test('column mapping: values land in typed columns; a value that does not fit is a record error, not a truncation', async (t) => {
  await db.conn.query(`CREATE TABLE people (id VARCHAR(20) COLLATE utf8mb4_nopad_bin PRIMARY KEY, name VARCHAR(10) NOT NULL, age TINYINT UNSIGNED,
    born DATE, active BOOLEAN, meta JSON)`)
  const recs = [
    { _id: 'p1', _source: { name: 'Ann', age: 31, born: '1993-04-01', active: true, profile: { tags: ['x'] } } },
    { _id: 'p2', _source: { name: 'A name far too long', age: 20 } },
    { _id: 'p3', _source: { name: 'Bob', age: 'abc' } },
    { _id: 'p4', _source: { name: 'Cy', age: 300 } },
    { _id: 'p5', _source: { age: 40 } },
    { _id: 'p6', _source: { name: 'Di', born: 'yesterday' } },
    // A JSON column takes any JSON value: this string is stored as the JSON string it is.
    { _id: 'p7', _source: { name: 'Ed', profile: 'not json {' } },
    { _id: 'p8', _source: { name: 'Flo', age: 0, active: false } }
  ]
  const errors = join(dir, 'people.errors')
  const r = await runTool('mysql-write', ['--url', db.url, '-t', 'people', '--columns', 'name,age,born', '--map', 'active=active,meta=profile', '--errors', errors], { input: ndjson(recs) })
  t.equal(r.code, 1)
  t.equal(countsOf(r.stderr, 'mysql-write'), '8 read, 3 inserted, 0 updated, 0 skipped, 5 failed')
  const rows = await db.rows<RowDataPacket>('SELECT id, name, age, DATE_FORMAT(born, "%Y-%m-%d") AS born, active, meta FROM people ORDER BY id')
  t.strictSame(rows.map((x) => ({ ...x })), [
    { id: 'p1', name: 'Ann', age: 31, born: '1993-04-01', active: 1, meta: { tags: ['x'] } },
    { id: 'p7', name: 'Ed', age: null, born: null, active: null, meta: 'not json {' },
    { id: 'p8', name: 'Flo', age: 0, born: null, active: 0, meta: null }
  ])
  const dead = readDead(errors).sort((a, b) => a.line - b.line)
  t.strictSame(dead.map((d) => [d.record._id, d.line, d.error.code]), [
    ['p2', 2, 'ER_DATA_TOO_LONG'],
    ['p3', 3, 'ER_TRUNCATED_WRONG_VALUE_FOR_FIELD'],
    ['p4', 4, 'ER_WARN_DATA_OUT_OF_RANGE'],
    ['p5', 5, 'ER_BAD_NULL_ERROR'],
    ['p6', 6, 'ER_TRUNCATED_WRONG_VALUE']
  ])
  const [json] = await db.rows<RowDataPacket>("SELECT JSON_TYPE(meta) AS type FROM people WHERE id = 'p7'")
  t.equal(json.type, 'STRING', 'stored as a JSON string')
  t.match(dead[0].error.message, /Data too long for column 'name'/)
  t.equal(dead[0].context._id, 'p2')
  t.equal(dead[0].context.table, 'people')
})

t.test('bad rows are isolated from their batch: the good ones land, each bad one is dead-lettered once', async (t) => {
  const recs: Array<{ _id: string, _source: unknown }> = makeRecords(5000)
  const bad = [3, 999, 1000, 2500, 4001, 4002, 4999]
  for (const i of bad) recs[i] = { _id: 'x'.repeat(513) + String(i), _source: { i } }
  const file = join(dir, 'isolate.ndjson')
  writeFileSync(file, ndjson(recs))
  const errors = join(dir, 'isolate.errors')
  const r = await runTool('mysql-write', ['--url', db.url, '-t', 'isolate', '--create', '--sort-ids', 'never', '--errors', errors, file])
  t.equal(r.code, 1)
  t.strictSame(summaryOf(r.stderr, 'mysql-write'), { counts: '5000 read, 4993 inserted, 0 updated, 0 skipped, 7 failed', extra: ` — failed records in ${errors}` })
  const [n] = await db.rows<RowDataPacket>('SELECT COUNT(*) AS n FROM isolate')
  t.equal(Number(n.n), 4993)
  const dead = readDead(errors)
  t.strictSame(dead.map((d) => d.line).sort((a, b) => a - b), bad.map((i) => i + 1))
  t.strictSame(dead.map((d) => d.error.code), bad.map(() => 'ER_DATA_TOO_LONG'), 'each too long for the key')
  // The dead-letter file replays once fixed.
  const fixed = dead.map((d) => JSON.stringify({ ...d.record, _id: d.record._id.slice(507) })).join('\n') + '\n'
  const again = await runTool('mysql-write', ['--url', db.url, '-t', 'isolate'], { input: fixed })
  t.equal(again.code, 0)
  t.equal(countsOf(again.stderr, 'mysql-write'), '7 read, 7 inserted, 0 updated, 0 skipped, 0 failed')
})

t.test('--max-errors stops the run; --log-format json record errors carry code and context', async (t) => {
  const recs = [...makeRecords(3), { _id: 'y'.repeat(600), _source: {} }, { _id: 'z'.repeat(600), _source: {} }, ...makeRecords(3, { start: 3 })]
  const r = await runTool('mysql-write', ['--url', db.url, '-t', 'maxerr', '--create', '--max-errors', '1', '--batch-size', '1', '--log-format', 'json', '-c', '1'], { input: ndjson(recs) })
  t.equal(r.code, 1)
  const events = lines(r.stderr).map((l) => JSON.parse(l) as { event: string, code?: string, context?: Record<string, unknown>, counts?: Record<string, number> })
  const recErr = events.filter((e) => e.event === 'record-error')
  t.equal(recErr.length, 2)
  t.equal(recErr[0].code, 'ER_DATA_TOO_LONG')
  t.equal(recErr[0].context?.line, 4)
  t.equal(recErr[0].context?.table, 'maxerr')
  const fatal = events.find((e) => e.event === 'error')
  t.equal(fatal?.code, 'EMAXERRORS')
  t.equal(events.at(-1)?.event, 'summary')
})

t.test('names MySQL would not take are refused with exit 2 before connecting', async (t) => {
  // Port 1: nothing listens there, so reaching the server would be ECONNREFUSED and exit 1.
  const url = urlFor(db.name, { port: 1 })
  const cases: Array<[string[], RegExp]> = [
    [['-t', 'a.b.c'], /invalid table name 'a.b.c'/],
    [['-t', '`db.t'], /invalid table name '`db.t': a backquoted name must be closed/],
    [['-t', 'ok '], /invalid table name 'ok ': a name cannot end with a space/],
    [['-t', 'x'.repeat(65)], /invalid table name 'x{65}': a name has at most 64 characters/],
    [['-t', 'ok', '--columns', 'name,`age'], /invalid column name '`age': a backquoted name must be closed/],
    [['-t', 'ok', '--map', 'noequals'], /invalid value for --map/],
    [['-t', 'ok', '--mode', 'merge'], /invalid value for --mode: 'merge'/],
    [['-t', 'ok', '--batch-size', '0'], /--batch-size: 0 \(must be at least 1\)/],
    [['--create'], /missing required option --table/]
  ]
  for (const [args, message] of cases) {
    const r = await runTool('mysql-write', ['--url', url, ...args], { input: '' })
    t.equal(r.code, 2, args.join(' '))
    t.equal(lines(r.stderr).length, 1, 'one line')
    t.match(r.stderr, message)
  }
})

t.test('any name MySQL takes is a name, backquoted, never SQL: hostile ones reach the server as names', async (t) => {
  // Hostile texts are names like any other: the table is looked for, not found, and nothing else happens.
  for (const name of ['x; DROP TABLE people', 'a`b', 'people` WHERE 1; --']) {
    const r = await runTool('mysql-write', ['--url', db.url, '-t', name], { input: '' })
    t.equal(r.code, 1, name)
    t.match(r.stderr, /\[ER_NO_SUCH_TABLE\] table espipe_mw_errors_\d+\..* does not exist/)
  }
  const [n] = await db.rows<RowDataPacket>('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db.name, 'people'])
  t.equal(Number(n.n), 1, 'the table is still there')
  // Legal MySQL names: a leading digit, all digits, a backquote, a dot, a comma, a space, Unicode.
  await db.rows('CREATE TABLE `1st` (id INT PRIMARY KEY, `2nd` INT, `a``b` INT, `x,y` INT, `p.q` VARCHAR(9), `the name` VARCHAR(9), `é` VARCHAR(9))')
  await db.rows('CREATE TABLE `9` LIKE `1st`')
  const input = '{"_id":"1","_source":{"2nd":2,"a`b":3,"x,y":4,"p":{"q":"dot"},"the name":"sp","é":"é"}}\n'
  const w = await runTool('mysql-write', ['--url', db.url, '-t', '1st', '--columns', '2nd,a`b,`x,y`, the name ,é', '--map', '`p.q`=p.q'], { input })
  t.equal(w.code, 0, w.stderr)
  t.strictSame(await db.rows('SELECT id, `2nd`, `a``b` AS ab, `x,y` AS xy, `p.q` AS pq, `the name` AS sp, `é` AS e FROM `1st`'), [{ id: 1, '2nd': 2, ab: 3, xy: 4, pq: 'dot', sp: 'sp', e: 'é' }])
  // mysql-read reads it back (db.table too), and its output loads into a table named by digits alone.
  const r = await runShell(`mysql-read --url '${db.url}' -t '${db.name}.1st' | mysql-write --url '${db.url}' -t 9 --columns '2nd,a\`b,\`x,y\`,\`p.q\`,the name,é'`)
  t.equal(r.code, 0, r.stderr)
  t.strictSame(await db.rows('SELECT * FROM `9`'), await db.rows('SELECT * FROM `1st`'))
})

t.test('wrong password, unknown database, missing table, nothing listening: one clear line each, no secret', async (t) => {
  const u = new URL(db.url)
  u.password = 'sekret-pw-42'
  const cases: Array<[string[], RegExp]> = [
    [['--url', u.toString(), '-t', 'people'], /^mysql-write: error \[ER_ACCESS_DENIED_ERROR\] cannot connect to MySQL at [\d.]+:\d+: Access denied for user .*\(host=.*, port=\d+, database=espipe_mw_errors_\d+, table=people\)$/],
    [['--url', urlFor('espipe_no_such_db'), '-t', 'people'], /^mysql-write: error \[ER_BAD_DB_ERROR\] cannot connect to MySQL at .*Unknown database 'espipe_no_such_db'.*database=espipe_no_such_db/],
    [['--url', db.url, '-t', 'nope'], /^mysql-write: error \[ER_NO_SUCH_TABLE\] table espipe_mw_errors_\d+\.nope does not exist \(add --create to make it\).*table=nope/],
    [['--url', db.url, '-t', 'people', '--columns', 'shoe_size'], /^mysql-write: error \[ER_BAD_FIELD_ERROR\] table .*\.people has no column shoe_size/],
    [['--url', urlFor(db.name, { port: 1 }), '-t', 'people'], /^mysql-write: error \[ECONNREFUSED\] cannot connect to MySQL at 127\.0\.0\.1:1/]
  ]
  for (const [args, message] of cases) {
    const r = await runTool('mysql-write', args, { input: ndjson(makeRecords(2)) })
    t.equal(r.code, 1, args.join(' '))
    const out = lines(r.stderr)
    t.equal(out.length, 2, 'the error line, then the summary')
    t.match(out[0], message)
    t.match(out[1], /^mysql-write: 0 read, 0 inserted/)
    t.notMatch(r.stderr, /sekret/)
  }
  // The password given by flag is masked too, wherever the driver might echo it.
  const r = await runTool('mysql-write', ['--host', u.hostname, '--port', u.port, '--user', 'root', '--db_pass', 'sekret-pw-42', '--database', db.name, '--db_table', 'people'], { input: '' })
  t.equal(r.code, 1)
  t.match(r.stderr, /ER_ACCESS_DENIED_ERROR/)
  t.notMatch(r.stderr, /sekret/)
})
