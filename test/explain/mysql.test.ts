import mysql from 'mysql2/promise'
import t from 'tap'
import type { ErrorContext } from '../../lib/core/errors.js'
import { errorCode } from '../../lib/core/errors.js'
import { explainText } from '../../lib/explain/explain.js'
import { closedPort, loggedError, loggedRecordError, run } from '../helpers/explain-run.js'
import { TOOLS } from '../../lib/cli.js'
import { waitFor } from '../helpers/wait.js'

// Real failures of the real mysql2 driver against the real MariaDB, written to stderr the way
// our Logger writes them (text lines and JSON events), then explained.

const url = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test')
const server = { host: url.hostname, port: Number(url.port === '' ? 3306 : url.port), user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) || undefined }
const db = `explain_${process.pid}_${Date.now() % 100000}`

async function failure (fn: () => Promise<unknown>): Promise<Error & { code: string }> {
  try {
    await fn()
  } catch (err) {
    return err as Error & { code: string }
  }
  throw new Error('expected a failure')
}

interface Case { name: string, err: Error & { code: string }, kind: 'fatal' | 'record', context: ErrorContext, rule: string, what: string, command?: string }

const admin = await mysql.createConnection({ ...server })
await admin.query(`CREATE DATABASE \`${db}\``)
t.teardown(async () => {
  await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
  await admin.end()
})
await admin.query(`CREATE TABLE \`${db}\`.people (id VARCHAR(20) COLLATE utf8mb4_nopad_bin PRIMARY KEY, name VARCHAR(5), age INT, email VARCHAR(50) UNIQUE, doc JSON)`)
await admin.query(`INSERT INTO \`${db}\`.people (id, email) VALUES ('p1', 'a@example.com')`)
const conn = await mysql.createConnection({ ...server, database: db })
t.teardown(async () => { await conn.end() })

const ctx = { host: server.host, port: server.port }
const port = await closedPort()
const cases: Case[] = [
  {
    name: 'closed port',
    err: await failure(async () => await mysql.createConnection({ ...server, port })),
    kind: 'fatal',
    context: { host: '127.0.0.1', port },
    rule: 'connection-refused',
    what: `Nothing accepted a connection at 127.0.0.1:${port}.`,
    command: `mariadb -h 127.0.0.1 -P ${port} -u USER -p -e 'select version()'`
  },
  {
    name: 'wrong password',
    err: await failure(async () => await mysql.createConnection({ ...server, password: 'not-the-password' })),
    kind: 'fatal',
    context: { ...ctx, database: db },
    rule: 'mysql-access-denied',
    what: `MySQL at ${server.host}:${server.port} refused the login of user '${server.user}'`,
    command: `mariadb -h ${server.host} -P ${server.port} -u ${server.user} -p -e 'select current_user()'`
  },
  {
    name: 'unknown database',
    err: await failure(async () => await mysql.createConnection({ ...server, database: `${db}_missing` })),
    kind: 'fatal',
    context: { ...ctx },
    rule: 'mysql-unknown-database',
    what: `MySQL at ${server.host}:${server.port} has no database '${db}_missing'.`,
    command: `mariadb -h ${server.host} -P ${server.port} -u USER -p -e 'show databases'`
  },
  {
    name: 'missing table',
    err: await failure(async () => await conn.query('INSERT INTO nosuch (id) VALUES (?)', ['1'])),
    kind: 'fatal',
    context: { ...ctx, table: 'nosuch' },
    rule: 'mysql-missing-table',
    what: `Table 'nosuch' does not exist in database '${db}' on ${server.host}:${server.port}.`,
    command: `mariadb -h ${server.host} -P ${server.port} -u USER -p ${db} -e 'show tables'`
  },
  {
    name: 'too-long value',
    err: await failure(async () => await conn.query('INSERT INTO people (id, name) VALUES (?, ?)', ['r1', 'much too long'])),
    kind: 'record',
    context: { table: 'people', id: 'r1', line: 7 },
    rule: 'mysql-data-too-long',
    what: "A value is longer than column 'name' of table 'people' allows.",
    command: "ALTER TABLE `people` MODIFY `name` LONGTEXT"
  },
  {
    name: 'unknown column',
    err: await failure(async () => await conn.query('INSERT INTO people (id, nickname) VALUES (?, ?)', ['r2', 'x'])),
    kind: 'fatal',
    context: { ...ctx, database: db, table: 'people' },
    rule: 'mysql-unknown-column',
    what: "Table 'people' has no column 'nickname'.",
    command: 'ADD COLUMN `nickname`'
  },
  {
    name: 'incorrect value',
    err: await failure(async () => await conn.query('INSERT INTO people (id, age) VALUES (?, ?)', ['r3', 'forty'])),
    kind: 'record',
    context: { table: 'people', id: 'r3', line: 9 },
    rule: 'mysql-incorrect-value',
    what: "A value does not fit the integer column 'age' of table 'people'."
  },
  {
    name: 'invalid JSON',
    err: await failure(async () => await conn.query('INSERT INTO people (id, doc) VALUES (?, ?)', ['r4', '{"open":'])),
    kind: 'record',
    context: { table: 'people', id: 'r4', line: 10 },
    rule: 'mysql-invalid-json',
    what: "A value for JSON column 'doc' of table 'people' is not valid JSON."
  },
  {
    name: 'duplicate key',
    err: await failure(async () => await conn.query('INSERT INTO people (id, email) VALUES (?, ?)', ['r5', 'a@example.com'])),
    kind: 'record',
    context: { table: 'people', id: 'r5', line: 11 },
    rule: 'mysql-duplicate-key',
    what: "Value 'a@example.com' already exists under unique key 'email' of table 'people'."
  },
  {
    name: 'unresolvable host',
    err: await failure(async () => await mysql.createConnection({ ...server, host: 'db.espipe-test.invalid' })),
    kind: 'fatal',
    context: { host: 'db.espipe-test.invalid', port: 3306 },
    rule: 'dns-failure',
    what: "The host name 'db.espipe-test.invalid' could not be resolved to an address.",
    command: 'getent hosts db.espipe-test.invalid'
  }
]

// Lock wait timeout and deadlock: two sessions on the same rows.
{
  const a = await mysql.createConnection({ ...server, database: db })
  const b = await mysql.createConnection({ ...server, database: db })
  await admin.query(`INSERT INTO \`${db}\`.people (id) VALUES ('l1'), ('l2')`)
  await b.query('SET SESSION innodb_lock_wait_timeout = 1')
  await a.query('BEGIN')
  await a.query("UPDATE people SET age = 1 WHERE id = 'l1'")
  cases.push({
    name: 'lock wait timeout',
    err: await failure(async () => await b.query("UPDATE people SET age = 2 WHERE id = 'l1'")),
    kind: 'fatal',
    context: { ...ctx, table: 'people' },
    rule: 'mysql-lock-wait-timeout',
    what: "A write to table 'people' waited longer than innodb_lock_wait_timeout"
  })
  await b.query('SET SESSION innodb_lock_wait_timeout = 10')
  await b.query('BEGIN')
  await b.query("UPDATE people SET age = 2 WHERE id = 'l2'")
  const [[{ id: aId }]] = await a.query('SELECT CONNECTION_ID() AS id') as unknown as [[{ id: number }]]
  let answered = false
  const blocked = a.query("UPDATE people SET age = 1 WHERE id = 'l2'").then(() => undefined, (err: unknown) => err).finally(() => { answered = true })
  // a's update is on the server (where it can only wait for b's lock) before b asks for a's:
  // either order deadlocks, this one the same way each run.
  await waitFor(async () => {
    if (answered) return true
    const [rows] = await admin.query(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ${aId} AND INFO LIKE 'UPDATE people%'`) as unknown as [[{ n: number }]]
    return Number(rows[0].n) === 1
  }, { what: "the first writer's update to reach the server" })
  const second = await b.query("UPDATE people SET age = 2 WHERE id = 'l1'").then(() => undefined, (err: unknown) => err)
  const deadlock = (second ?? await blocked) as Error & { code: string }
  await a.query('ROLLBACK')
  await b.query('ROLLBACK')
  await blocked
  cases.push({ name: 'deadlock', err: deadlock, kind: 'fatal', context: { ...ctx, table: 'people' }, rule: 'mysql-deadlock', what: "Two writers locked rows of table 'people' in opposite orders" })
  // Server gone away: the connection is killed under the client.
  const [[{ id }]] = await a.query('SELECT CONNECTION_ID() AS id') as unknown as [[{ id: number }]]
  await admin.query(`KILL ${id}`)
  cases.push({ name: 'server gone away', err: await failure(async () => await a.query('SELECT 1')), kind: 'fatal', context: { ...ctx }, rule: 'mysql-gone-away', what: `MySQL at ${server.host}:${server.port} closed the connection in the middle of the run.` })
  a.destroy()
  await b.end()
}

for (const c of cases) {
  for (const format of ['text', 'json'] as const) {
    t.test(`${c.name} (${errorCode(c.err)}), ${format}`, async (t) => {
      const line = c.kind === 'fatal'
        ? loggedError('mysql-write', format, c.err, c.context)
        : loggedRecordError('mysql-write', format, errorCode(c.err), c.err.message, c.context)
      const r = await explainText(line, TOOLS)
      t.equal(r.problems.length, 1)
      const p = r.problems[0]
      t.equal(p.rule, c.rule)
      t.equal(p.code, errorCode(c.err))
      t.equal(p.kind, c.kind)
      t.match(p.what, c.what)
      if (c.command !== undefined) t.ok(p.commands.some((x) => x.includes(c.command ?? '')), `suggests ${c.command}`)
    })
  }
}

t.test('a mixed mysql-write log through the binary: most severe first, records grouped', async (t) => {
  const tooLong = cases.find((c) => c.name === 'too-long value')?.err
  const denied = cases.find((c) => c.name === 'wrong password')?.err
  if (tooLong === undefined || denied === undefined) throw new Error('cases missing')
  let log = ''
  for (let i = 1; i <= 50; i++) log += loggedRecordError('mysql-write', 'text', tooLong.code, tooLong.message, { table: 'people', id: `r${i}`, line: i })
  log += loggedError('mysql-write', 'text', denied, { host: server.host, port: server.port })
  log += 'mysql-write: 51 read, 0 inserted, 50 failed in 0.3 s (170/s)\n'
  const r = await run('explain-errors', ['--format', 'markdown'], { input: log })
  t.equal(r.code, 0)
  t.match(r.stdout, /^2 problems in 51 errors\.$/m)
  t.match(r.stdout, /### 1\. MySQL refused the login \[mysql-write, fatal, ER_ACCESS_DENIED_ERROR\][\s\S]*### 2\. A value is longer than its MySQL column \[mysql-write, 50 records, ER_DATA_TOO_LONG\]/)
  t.match(r.stdout, '- `line 1: id r1`')
  t.notMatch(r.stdout, 'id r4`', 'only three examples')
})
