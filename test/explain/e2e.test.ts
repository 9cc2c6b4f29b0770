import http from 'node:http'
import type { AddressInfo } from 'node:net'
import mysql from 'mysql2/promise'
import t from 'tap'
import { explainText } from '../../lib/explain/explain.js'
import { closedPort, run } from '../helpers/explain-run.js'
import { TOOLS } from '../../lib/cli.js'

// The real es-read and mysql-write binaries failing for real, their stderr (text and JSON)
// and dead-letter files fed to explain-errors.

// ---- es-read against a server that answers with Elasticsearch's error bodies
type EsMode = '401' | '404' | '429' | 'expired-pit'
let esMode: EsMode = '401'
const es = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' })
      res.end(JSON.stringify(body))
    }
    const error = (status: number, type: string, reason: string, rootType = type): void =>
      send(status, { error: { root_cause: [{ type: rootType, reason }], type, reason: type === rootType ? reason : 'all shards failed' }, status })
    const path = (req.url ?? '').split('?')[0]
    if (esMode === '401') return error(401, 'security_exception', `unable to authenticate user [reader] for REST request [${path}]`)
    if (req.method === 'GET' && path === '/') return send(200, { name: 'stub', version: { number: '8.19.0' }, tagline: 'You Know, for Search' })
    if (esMode === '404') return error(404, 'index_not_found_exception', 'no such index [logs]')
    if (req.method === 'POST' && path.endsWith('/_pit')) return send(200, { id: 'cGl0LWlk', _shards: { total: 1, successful: 1, skipped: 0, failed: 0 } })
    if (req.method === 'DELETE' && path === '/_pit') return send(404, { succeeded: true, num_freed: 0 })
    if (esMode === '429') return error(429, 'es_rejected_execution_exception', 'rejected execution of TimedRunnable on QueueResizingEsThreadPoolExecutor[name = search, queue capacity = 1000]')
    return error(404, 'search_phase_execution_exception', 'No search context found for id [7]', 'search_context_missing_exception')
  })
})
await new Promise<void>((resolve) => es.listen(0, '127.0.0.1', resolve))
const esUrl = `http://127.0.0.1:${(es.address() as AddressInfo).port}`
t.teardown(() => { es.closeAllConnections(); es.close() })

const esCases: Array<[EsMode, string, string]> = [
  ['401', 'es-unauthorized', `Elasticsearch at ${esUrl} did not accept the credentials (user 'reader').`],
  ['404', 'es-index-not-found', `Elasticsearch at ${esUrl} has no index 'logs'.`],
  ['429', 'es-rejected', `Elasticsearch at ${esUrl} rejected requests`],
  ['expired-pit', 'es-search-context-missing', `Elasticsearch at ${esUrl} no longer knows the point in time`]
]
for (const [mode, rule, what] of esCases) {
  t.test(`es-read ${mode}`, async (t) => {
    esMode = mode
    const args = ['--url', esUrl, '--index', 'logs', '--username', 'reader', '--retries', '0']
    const env = { ES_PASSWORD: 'Es-Read-Secret-5' }
    const [text, json] = await Promise.all([run('es-read', args, { env }), run('es-read', [...args, '--log-format', 'json'], { env })])
    for (const r of [text, json]) {
      t.equal(r.code, 1, 'es-read failed')
      const report = await explainText(r.stderr, TOOLS)
      t.equal(report.problems[0]?.rule, rule, r.stderr)
      t.match(report.problems[0].what, what)
      t.hasStrict(report.problems[0].context, { index: 'logs' })
    }
  })
}

// ---- mysql-write against the real MariaDB
const base = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test')
const db = `explain_e2e_${process.pid}`
const urlFor = (database: string, change: (u: URL) => void = () => {}): string => {
  const u = new URL(base.toString())
  u.pathname = `/${database}`
  change(u)
  return u.toString()
}
const admin = await mysql.createConnection({ uri: base.toString() })
await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
await admin.query(`CREATE DATABASE \`${db}\``)
await admin.query(`CREATE TABLE \`${db}\`.people (id VARCHAR(255) COLLATE utf8mb4_nopad_bin PRIMARY KEY, name VARCHAR(3))`)
t.teardown(async () => {
  await admin.query(`DROP DATABASE IF EXISTS \`${db}\``)
  await admin.end()
})

const record = '{"_id":"p1","_source":{"name":"much too long"}}\n{"_id":"p2","_source":{"name":"ok"}}\n'

t.test('mysql-write: closed port, wrong password, unknown database, missing table', async (t) => {
  const port = await closedPort()
  const runs = await Promise.all([
    run('mysql-write', ['--url', urlFor(db, (u) => { u.port = String(port) }), '-t', 'people'], { input: record }),
    run('mysql-write', ['--url', urlFor(db, (u) => { u.password = 'Wrong-Pass-77' }), '-t', 'people', '--log-format', 'json'], { input: record }),
    run('mysql-write', ['--url', urlFor(`${db}_nope`), '-t', 'people'], { input: record }),
    run('mysql-write', ['--url', urlFor(db), '-t', 'nosuch', '--log-format', 'json'], { input: record })
  ])
  const want: Array<[string, string]> = [
    ['connection-refused', `Nothing accepted a connection at ${base.hostname}:${port}.`],
    ['mysql-access-denied', "refused the login of user 'root'"],
    ['mysql-unknown-database', `has no database '${db}_nope'.`],
    ['mysql-missing-table', `Table 'nosuch' does not exist in database '${db}'`]
  ]
  for (const [i, r] of runs.entries()) {
    t.equal(r.code, 1, `run ${i} failed`)
    const ex = await run('explain-errors', ['--format', 'json'], { input: r.stderr })
    t.equal(ex.code, 0)
    t.notMatch(ex.stdout, 'Wrong-Pass-77', 'the password is not printed')
    const report = JSON.parse(ex.stdout) as { problems: Array<{ rule: string, what: string, commands: string[] }> }
    t.equal(report.problems[0].rule, want[i][0], r.stderr)
    t.match(report.problems[0].what, want[i][1])
  }
})

t.test('mysql-write: a too-long value, from stderr, JSON events and the dead-letter file', async (t) => {
  const dir = t.testdir({})
  const args = ['--url', urlFor(db), '-t', 'people', '--columns', 'name']
  const [text, json, dl, hook] = await Promise.all([
    run('mysql-write', args, { input: record }),
    run('mysql-write', [...args, '--log-format', 'json'], { input: record }),
    run('mysql-write', [...args, '--errors', `${dir}/bad.ndjson`], { input: record }),
    run('mysql-write', [...args, '--simple-errors'], { input: record })
  ])
  for (const r of [text, json, dl, hook]) t.equal(r.code, 1)
  const fromFile = await run('explain-errors', [`${dir}/bad.ndjson`])
  for (const out of [(await explainText(text.stderr, TOOLS)), (await explainText(json.stderr, TOOLS))]) {
    t.equal(out.problems[0].rule, 'mysql-data-too-long')
    t.equal(out.problems[0].what, "A value is longer than column 'name' of table 'people' allows.")
  }
  t.match(fromFile.stdout, "A value is longer than column 'name' of table 'people' allows.")
  t.match(fromFile.stdout, `ALTER TABLE \`people\` MODIFY \`name\` LONGTEXT`)
  t.match(fromFile.stdout, '"_id":"p1"', 'the example shows the failed record')
  t.match(hook.stderr, "A value is longer than column 'name' of table 'people' allows.", '--simple-errors explains at exit')
})
