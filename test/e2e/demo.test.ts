import t from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { closedPort } from '../helpers/explain-run.js'
import { testDatabase } from '../helpers/mysql.js'
import { ROOT, collect, lines } from '../helpers/run.js'

const demo = async (env: NodeJS.ProcessEnv): Promise<{ code: number | null, stdout: string, stderr: string }> =>
  await collect(spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'demo', 'run.ts')], { cwd: ROOT, env: { ...process.env, ...env } }), '')

t.test("README's first command: the demo loads the sample index into MySQL, and a rerun adds nothing", async (t) => {
  const db = await testDatabase(t, 'demo')
  const first = await demo({ MYSQL_URL: db.url })
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, /demo: 500 rows in table espipe_demo_logs/)
  t.match(first.stderr, /mysql-write: 500 read, 500 inserted/)
  const [{ n }] = await db.rows<{ n: number }>('SELECT COUNT(*) AS n FROM espipe_demo_logs')
  t.equal(Number(n), 500)
  const again = await demo({ MYSQL_URL: db.url })
  t.equal(again.code, 0)
  t.match(again.stderr, /mysql-write: 500 read, 0 inserted, 0 updated, 500 skipped/)
})

t.test('with no MySQL answering, the demo writes JSON Lines and says how to point it at one', async (t) => {
  const r = await demo({ MYSQL_URL: `mysql://root@127.0.0.1:${await closedPort()}/test` })
  t.equal(r.code, 0, r.stderr)
  const out = /records went to (\S+)/.exec(r.stdout)?.[1] ?? ''
  t.equal(lines(readFileSync(out, 'utf8')).length, 500)
  t.match(r.stdout, /to load MySQL instead: MYSQL_URL=/)
})
