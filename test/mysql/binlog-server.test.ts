// mysql-read --binlog against a server set up wrongly: binary logging off, binlog_format not
// ROW, binlog_row_image not FULL. The shared test server must keep its settings, so this file
// starts a MariaDB of its own (mariadb-install-db into a scratch directory, on a free loopback
// port), changes its globals, and stops it at the end.
import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { collect, lines, runShell, scratchDir } from '../helpers/run.js'
import { waitFor } from '../helpers/wait.js'

const dir = scratchDir(t)

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

const install = await collect(spawn('mariadb-install-db', ['--no-defaults', `--datadir=${join(dir, 'data')}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'pipe' }))
if (install.code !== 0) throw new Error(`mariadb-install-db: ${install.stderr}`)

let server: ChildProcess | undefined
let port = 0

/** Starts the private server with these options; resolves once it answers. */
async function start (opts: string[]): Promise<void> {
  port = await freePort()
  server = spawn('mariadbd', ['--no-defaults', `--datadir=${join(dir, 'data')}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${join(dir, 'sock')}`, `--pid-file=${join(dir, 'pid')}`, '--user=root', '--skip-name-resolve', ...opts], { stdio: 'ignore' })
  await waitFor(async () => {
    try {
      const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' })
      await c.query('CREATE DATABASE IF NOT EXISTS shop')
      await c.query('CREATE TABLE IF NOT EXISTS shop.t (id INT PRIMARY KEY)')
      await c.end()
      return true
    } catch {
      return false
    }
  }, { what: 'the private MariaDB to answer', timeoutMs: 60_000, everyMs: 200, child: server })
}

async function stop (): Promise<void> {
  const s = server
  server = undefined
  if (s === undefined || s.exitCode !== null) return
  const gone = new Promise<void>((resolve) => s.once('exit', () => resolve()))
  s.kill('SIGTERM')
  await gone
}
t.teardown(stop)

async function refusal (t: Test, code: string): Promise<string> {
  const r = await runShell(`mysql-read --url mysql://root@127.0.0.1:${port}/shop --binlog --until-now -t t`)
  t.equal(r.code, 1, `${code}: exit 1`)
  t.equal(r.stdout, '', `${code}: nothing read`)
  const found = lines(r.stderr).filter((l) => l.includes(`[${code}]`))
  t.equal(found.length, 1, `${code}: one line (${r.stderr})`)
  return found[0] ?? ''
}

t.test('binary logging off', async (t) => {
  await start([])
  t.match(await refusal(t, 'BINLOG_OFF'), /the server has binary logging off \(log_bin = 0\): --binlog reads the binary log; start the server with --log-bin --binlog-format=ROW --server-id=N/)
  await stop()
})

t.test('binlog_format MIXED, then binlog_row_image MINIMAL', async (t) => {
  await start(['--log-bin=pbin', '--server-id=7', '--binlog-format=MIXED'])
  t.match(await refusal(t, 'BINLOG_FORMAT'), /the server's binlog_format is MIXED, not ROW: statements in the binary log do not say which rows changed/)
  const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' })
  await c.query("SET GLOBAL binlog_format = 'ROW'")
  await c.query("SET GLOBAL binlog_row_image = 'MINIMAL'")
  await c.end()
  t.match(await refusal(t, 'BINLOG_ROW_IMAGE'), /the server's binlog_row_image is MINIMAL, not FULL: its row events lack the columns a change left alone/)
  // Set right, the same read works.
  const d = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' })
  await d.query("SET GLOBAL binlog_row_image = 'FULL'")
  await d.query('INSERT INTO shop.t VALUES (1)')
  await d.end()
  const r = await runShell(`mysql-read --url mysql://root@127.0.0.1:${port}/shop --binlog --until-now -t t`)
  t.equal(r.code, 0, r.stderr)
  t.strictSame(lines(r.stdout), ['{"_index":"t","_id":"1","_source":{"id":1},"_op":"index"}'])
  await stop()
})
