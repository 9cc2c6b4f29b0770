import t from 'tap'
import type { Test } from 'tap'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RowDataPacket } from 'mysql2/promise'
import { binPath, collect, lines, runTool, scratchDir } from '../helpers/run.js'
import { testDatabase, urlFor } from '../helpers/mysql.js'
import { TcpProxy } from '../servers/tcp-proxy.js'
import { makeRecords, ndjson } from '../helpers/records.js'
import { summaryOf } from '../helpers/summary.js'
import { waitFor } from '../helpers/wait.js'

const db = await testDatabase(t, 'mw_faults')
const dir = scratchDir(t)
const N = 50_000
const records = makeRecords(N)
const file = join(dir, 'input.ndjson')
writeFileSync(file, ndjson(records))

const count = async (table: string): Promise<number> => {
  const [r] = await db.rows<RowDataPacket>(`SELECT COUNT(*) AS n FROM \`${table}\``)
  return Number(r.n)
}
/**
 * Resolves once the server has no session left in this test's database but ours: a killed
 * client's statement has then finished on the server and is committed or rolled back, so a
 * count of its table stays what it is.
 */
const sessionsGone = async (): Promise<void> => {
  await waitFor(async () => {
    const [r] = await db.rows<RowDataPacket>(`SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = '${db.name}' AND ID <> CONNECTION_ID()`)
    return Number(r.n) === 0
  }, { what: "the killed client's sessions to end on the server", everyMs: 50 })
}
const summaryCounts = (stderr: string): Record<string, number> => {
  const line = lines(stderr).find((l) => / read, /.test(l)) ?? ''
  return Object.fromEntries([...line.matchAll(/(\d+) (read|inserted|updated|skipped|failed)/g)].map((m) => [m[2], Number(m[1])]))
}
const exactTable = async (t: Test, table: string): Promise<void> => {
  const got = await db.table(table)
  t.equal(got.size, N, 'every record is in the table once')
  t.ok(records.every((r) => JSON.stringify(got.get(r._id)) === JSON.stringify(r._source)), 'each with its content')
}

/** A fault proxy in front of the server for one test, and the URL that goes through it. */
const proxied = async (t: Test): Promise<{ proxy: TcpProxy, url: string }> => {
  const proxy = new TcpProxy(db.host, db.port)
  await proxy.start()
  t.teardown(async () => await proxy.close())
  return { proxy, url: urlFor(db.name, { host: '127.0.0.1', port: proxy.port }) }
}

t.test('a proxy that cuts every connection mid-batch: batches are retried, the table is exact', async (t) => {
  const { proxy, url } = await proxied(t)
  // Cut twice while the load runs, each time in the middle of the batches being sent.
  proxy.cutAfter(3_000_000, () => proxy.cutAfter(5_000_000))
  const r = await runTool('mysql-write', ['--url', url, '-t', 'cut', '--create', '-c', '4', '--retry-for', '20', file])
  t.equal(r.code, 0, 'exit 0')
  t.match(r.stderr, /warning: (PROTOCOL_CONNECTION_LOST|ECONNRESET|EPIPE).*retrying the batch/)
  t.ok(proxy.connections > 5, 'connections were re-opened')
  const c = summaryCounts(r.stderr)
  // A batch committed just before its connection was cut is found again on retry: skipped.
  t.equal(c.inserted + c.skipped, N)
  t.equal(c.failed, 0)
  await exactTable(t, 'cut')
})

t.test('a server gone longer than --retry-for: exit 1 with the committed count; a rerun completes the table', async (t) => {
  const { proxy, url } = await proxied(t)
  proxy.cutAfter(4_000_000, () => proxy.setDown(true))
  const r = await runTool('mysql-write', ['--url', url, '-t', 'down', '--create', '--retry-for', '2', file])
  t.equal(r.code, 1)
  const out = lines(r.stderr)
  const fatal = out.find((l) => l.includes('error ['))
  t.match(fatal, /gave up after \d+ s of retries \(--retry-for\): .*; (\d+) rows were committed — rerun the same input to complete the table \(host=127\.0\.0\.1, port=\d+, database=espipe_mw_faults_\d+, table=down\)/)
  const committed = Number(/; (\d+) rows were committed/.exec(fatal ?? '')?.[1])
  const c = summaryCounts(r.stderr)
  t.equal(committed, c.inserted, 'the message and the summary agree')
  t.ok(committed > 0 && committed < N)
  const inTable = await count('down')
  t.ok(inTable >= committed, 'what was reported committed is in the table')
  proxy.setDown(false)
  const again = await runTool('mysql-write', ['--url', url, '-t', 'down', file])
  t.equal(again.code, 0)
  const c2 = summaryCounts(again.stderr)
  t.equal(c2.inserted, N - inTable, 'the rerun inserts exactly what was missing')
  t.equal(c2.skipped, inTable)
  await exactTable(t, 'down')
})

t.test('a server gone with --retries 2: gives up after 2 retries, the message names --retries', async (t) => {
  const { proxy, url } = await proxied(t)
  proxy.cutAfter(1_000_000, () => proxy.setDown(true))
  const r = await runTool('mysql-write', ['--url', url, '-t', 'retries', '--create', '--retries', '2', '--retry-max-wait', '100ms', '--retry-for', '600', file])
  t.equal(r.code, 1)
  const out = lines(r.stderr)
  t.equal(out.filter((l) => l.includes('retrying the batch')).length, 1, 'announced once')
  t.match(out.find((l) => l.includes('retrying the batch')), /retrying the batch of \d+ rows \(up to 2 times, for at most 600 s\)$/)
  const fatal = out.find((l) => l.includes('error ['))
  t.match(fatal, /gave up after 2 retries in \d+ s \(--retries\): .*; (\d+) rows were committed — rerun the same input to complete the table \(host=127\.0\.0\.1, port=\d+, database=espipe_mw_faults_\d+, table=retries\)/)
  const committed = Number(/; (\d+) rows were committed/.exec(fatal ?? '')?.[1])
  t.equal(committed, summaryCounts(r.stderr).inserted, 'the message and the summary agree')
  t.ok(committed > 0 && committed < N)
})

t.test('kill -9 in the middle of a load, then the same input again: the exact table', async (t) => {
  const child = spawn(process.execPath, [binPath('mysql-write'), '--url', db.url, '-t', 'killed', '--create', '--batch-size', '500', '--sort-ids', 'never', file], { stdio: 'pipe' })
  const done = collect(child, null)
  await db.conn.query('CREATE TABLE IF NOT EXISTS killed (id VARCHAR(512) COLLATE utf8mb4_nopad_bin PRIMARY KEY, content JSON)')
  await waitFor(async () => await count('killed') >= 5000, { what: '5000 rows in the table', everyMs: 20, child })
  child.kill('SIGKILL')
  const r = await done
  t.equal(r.signal, 'SIGKILL')
  await sessionsGone()
  const before = await count('killed')
  t.ok(before < N, `killed part way (${before} rows)`)
  const again = await runTool('mysql-write', ['--url', db.url, '-t', 'killed', file])
  t.equal(again.code, 0)
  const c = summaryCounts(again.stderr)
  t.equal(c.inserted, N - before)
  t.equal(c.skipped, before)
  await exactTable(t, 'killed')
})

t.test('SIGTERM: the batches in flight and the partial ones are committed, summary, exit 143', async (t) => {
  const child = spawn(process.execPath, [binPath('mysql-write'), '--url', db.url, '-t', 'term', '--create', '--batch-size', '100', '-c', '2'], { stdio: 'pipe' })
  const done = collect(child, null)
  child.stdin.write(ndjson(records.slice(0, 2550)))
  await db.conn.query('CREATE TABLE IF NOT EXISTS term (id VARCHAR(512) COLLATE utf8mb4_nopad_bin PRIMARY KEY, content JSON)')
  await waitFor(async () => await count('term') >= 2000, { what: '2000 rows in the table', everyMs: 20, child })
  child.kill('SIGTERM')
  const r = await done
  t.equal(r.code, 143)
  t.strictSame(summaryOf(r.stderr, 'mysql-write'), { counts: '2550 read, 2550 inserted, 0 updated, 0 skipped, 0 failed', extra: ' — interrupted by SIGTERM' })
  t.equal(await count('term'), 2550)
})
