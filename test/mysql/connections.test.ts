// mysql-write -c N against a server that allows fewer connections (issue 11): it writes over
// what it can get, says so in one line, and frees what it does not need. The per-user limit
// is the real server's (a test user made WITH MAX_USER_CONNECTIONS, so no global setting is
// touched); the server-wide limit (error 1040, what a server at max_connections sends instead
// of its greeting) comes from a loopback proxy that answers exactly that past N connections.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { lines, runTool, scratchDir } from '../helpers/run.js'
import { limitedUser, testDatabase, urlFor } from '../helpers/mysql.js'
import { TcpProxy } from '../servers/tcp-proxy.js'
import { makeRecords, ndjson } from '../helpers/records.js'

const db = await testDatabase(t, 'mw_conns')
const dir = scratchDir(t)
const N = 3000
const file = join(dir, 'input.ndjson')
writeFileSync(file, ndjson(makeRecords(N)))
const count = async (table: string): Promise<number> => Number((await db.rows<RowDataPacket>(`SELECT COUNT(*) AS n FROM \`${table}\``))[0].n)

t.test('a user allowed 3 connections, -c 20: capped with one clear line, every row written', async (t) => {
  const url = await limitedUser(t, db, 'lim', 3)
  const r = await runTool('mysql-write', ['--url', url, '-t', 'capped', '--create', '-c', '20', '--batch-size', '10', file])
  t.equal(r.code, 0, r.stderr)
  t.equal(await count('capped'), N, 'every row is in the table')
  const out = lines(r.stderr)
  t.equal(out.length, 2, `one line about the limit, then the summary:\n${r.stderr}`)
  // A per-account limit is error 1226 (ER_USER_LIMIT_REACHED); the server-wide
  // max_user_connections setting would say 1203 (ER_TOO_MANY_USER_CONNECTIONS): both are a limit.
  t.match(out[0], /^mysql-write: warning: MySQL refused connection 4 \(ER_USER_LIMIT_REACHED: User '[^']+' has exceeded the 'max_user_connections' resource \(current value: 3\)\): writing over 2 connections instead of 20 \(-c\), one left free for other clients of this user$/)
  t.match(out[1], new RegExp(`^mysql-write: ${N} read, ${N} inserted, 0 updated, 0 skipped, 0 failed in`))
})

t.test('a server at max_connections (1040) past 5 connections, -c 40: capped, one line, every row', async (t) => {
  const proxy = new TcpProxy(db.host, db.port)
  await proxy.start()
  t.teardown(async () => await proxy.close())
  const message = Buffer.from('Too many connections')
  const payload = Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), message])
  proxy.limitConnections(5, Buffer.concat([Buffer.from([payload.length, 0, 0, 0]), payload]))
  const r = await runTool('mysql-write', ['--url', urlFor(db.name, { host: '127.0.0.1', port: proxy.port }), '-t', 'full', '--create', '-c', '40', '--batch-size', '10', file])
  t.equal(r.code, 0, r.stderr)
  t.equal(await count('full'), N, 'every row is in the table')
  const out = lines(r.stderr)
  t.equal(out.length, 2, `one line about the limit, then the summary:\n${r.stderr}`)
  t.match(out[0], /^mysql-write: warning: MySQL refused connection 6 \(ER_CON_COUNT_ERROR: Too many connections\): writing over 2 connections instead of 40 \(-c\), half of what it allowed, leaving the rest to other clients$/)
  t.ok(proxy.refused >= 1 && proxy.refused <= 3, `refused ${proxy.refused} connection attempts, not one per lane`)
})

t.test('a server that comes back full after a cut: every lane waits, one warning, then one error line', async (t) => {
  const proxy = new TcpProxy(db.host, db.port)
  await proxy.start()
  t.teardown(async () => await proxy.close())
  const payload = Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), Buffer.from('Too many connections')])
  // A few batches in, every connection is cut and the server takes no new one.
  proxy.cutAfter(100_000, () => proxy.limitConnections(0, Buffer.concat([Buffer.from([payload.length, 0, 0, 0]), payload])))
  const r = await runTool('mysql-write', ['--url', urlFor(db.name, { host: '127.0.0.1', port: proxy.port }), '-t', 'none_left', '--create', '-c', '30', '--batch-size', '10', '--retry-for', '2', file])
  t.equal(r.code, 1)
  const out = lines(r.stderr)
  // The lost connections may not all be known lost when the first refusal comes: a line
  // saying the pool keeps fewer may come too. Never a line per lane (30 before).
  const warnings = out.filter((l) => l.includes('warning:'))
  t.ok(warnings.length >= 1 && warnings.length <= 2, `one or two warnings:\n${r.stderr}`)
  t.equal(warnings.filter((l) => l.includes('retrying')).length, 1, 'one says the batches are being retried')
  const errors = out.filter((l) => l.includes('error ['))
  t.equal(errors.length, 1)
  t.match(errors[0], /^mysql-write: error \[ER_CON_COUNT_ERROR\] gave up after \d+ s of retries \(--retry-for\): Too many connections; \d+ rows were committed/)
  t.equal(out.length, warnings.length + 2, 'and the summary')
})

t.test('a port that is not MySQL: one line naming what answered (mysql-write and mysql-read)', async (t) => {
  const web = http.createServer((_req, res) => { res.writeHead(404, { server: 'es-like/1.0' }); res.end() })
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { web.closeAllConnections(); web.close() })
  const port = (web.address() as AddressInfo).port
  // Both MySQL binaries, at once (each waits for the handshake to time out).
  await Promise.all(['mysql-write', 'mysql-read'].map(async (tool) => {
    const r = await runTool(tool, ['-h', '127.0.0.1', '-P', String(port), '-D', db.name, '-t', 'x'], { input: '' })
    t.equal(r.code, 1, tool)
    const out = lines(r.stderr)
    t.equal(out.length, 2, r.stderr)
    t.match(out[0], new RegExp(`^${tool}: error \\[ETIMEDOUT\\] cannot connect to MySQL at 127\\.0\\.0\\.1:${port}: connect ETIMEDOUT: it is not a MySQL server but a plain HTTP server \\(es-like/1\\.0\\); check the port`))
  }))
})
