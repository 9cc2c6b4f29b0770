// The newcomer's first run (npm run demo): start the bundled Elasticsearch-compatible server
// with a sample index, then `es-read | mysql-write` into MySQL (MYSQL_URL, or the local
// server), or `es-read | jsonl-write` when no MySQL answers.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import mysql from 'mysql2/promise'
import { maskUrl } from '../lib/core/mask.js'
import { startEsServer } from '../test/servers/es/server.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const say = (line: string): void => { process.stdout.write(`demo: ${line}\n`) }

if (!existsSync(join(root, 'dist', 'bin', 'es-read.js'))) spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
// The binaries under their installed names, as `npm install -g` would put them on the PATH.
const binDir = join(tmpdir(), `espipe-demo-bin-${process.pid}`)
mkdirSync(binDir, { recursive: true })
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }
for (const [name, target] of Object.entries(pkg.bin)) symlinkSync(join(root, target), join(binDir, name))

const es = await startEsServer()
const sample = readFileSync(join(root, 'demo', 'logs.ndjson'), 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { _id: string, _source: Record<string, unknown> })
es.addDocs('logs', sample)
say(`Elasticsearch-compatible test server at ${es.url} with ${sample.length} documents in index "logs"`)

const mysqlUrl = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
const mysqlUp = await mysql.createConnection({ uri: mysqlUrl, connectTimeout: 3000 }).then(async (c) => { await c.end(); return true }, () => false)
const table = 'espipe_demo_logs'
const out = join(tmpdir(), 'espipe-demo')
const pipe = mysqlUp
  ? `es-read --url ${es.url} --index logs | mysql-write --table ${table} --create`
  : `es-read --url ${es.url} --index logs | jsonl-write -o ${join(out, 'logs.jsonl')}`
mkdirSync(out, { recursive: true })
say(`running: ${pipe}`)
// Asynchronously: the Elasticsearch-compatible server answers from this very process.
const child = spawn('bash', ['-o', 'pipefail', '-c', pipe], { stdio: 'inherit', env: { ...process.env, MYSQL_URL: mysqlUrl, PATH: `${binDir}:${process.env.PATH ?? ''}` } })
const run = { status: await new Promise<number | null>((resolve) => child.on('close', resolve)) }
await es.close()
rmSync(binDir, { recursive: true, force: true })

if (run.status !== 0) {
  say(`the pipeline failed (status ${run.status}); the lines above say why. Try: explain-errors "<the error line>"`)
  process.exit(1)
}
if (mysqlUp) {
  const conn = await mysql.createConnection({ uri: mysqlUrl })
  const [rows] = await conn.query(`SELECT COUNT(*) AS n FROM ${table}`)
  await conn.end()
  const u = new URL(mysqlUrl)
  say(`${(rows as Array<{ n: number }>)[0].n} rows in table ${table} at ${maskUrl(mysqlUrl)}`)
  say(`look: mariadb -h${u.hostname} -P${u.port === '' ? 3306 : u.port} -u${decodeURIComponent(u.username) || 'root'} ${u.pathname.slice(1)} -e "SELECT id, JSON_VALUE(content, '$.message') FROM ${table} LIMIT 3"`)
  say('run it again: nothing is duplicated (mysql-write skips ids already there)')
} else {
  say(`no MySQL answered at ${maskUrl(mysqlUrl)}, so the records went to ${join(out, 'logs.jsonl')}`)
  say('to load MySQL instead: MYSQL_URL=mysql://user:password@host:3306/database npm run demo')
}
say('next: man es-read, man mysql-write; the tests: npm test')
