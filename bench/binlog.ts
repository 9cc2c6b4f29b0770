/**
 * mysql-read --binlog against polling by --since-column, keeping a copy in step:
 * 1. Change throughput: CHANGES row changes (inserts in 500-row transactions, then an update of
 *    every row) after a checkpointed snapshot; the time of one `--until-now` run that carries
 *    them into mysql-write (a second database) and into es-write (the project's ES test
 *    server), against one `--since-column updated_at` run that copies the same end state.
 * 2. End-to-end lag at RATE changes/s for SECONDS: a client updates rows, each stamping the
 *    time it commits (ms) into the row; a watcher reads the copy every 20 ms and takes, for each
 *    change it sees arrive, now minus that stamp. p50/p99 for `--binlog` followed, and for
 *    polling (the --since-column pipe run again as soon as the last one ended).
 * Usage: node --import tsx bench/binlog.ts [changes=20000] [rate=1000] [seconds=10]
 * MYSQL_URL picks the server (default mysql://root@127.0.0.1:3306); its binary log must be on.
 */
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { BIN, fmt, machine, startEsServerProcess } from './measure.js'

const changes = Number(process.argv[2] ?? 20_000)
const rate = Number(process.argv[3] ?? 1000)
const seconds = Number(process.argv[4] ?? 10)
const base = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306')
const urlOf = (db: string): string => { const u = new URL(base.toString()); u.pathname = `/${db}`; return u.toString() }
const SRC = 'espipe_bench_binlog'
const DST = 'espipe_bench_binlog_copy'
const tmp = mkdtempSync(join(tmpdir(), 'espipe-bench-binlog-'))
const bin = (tool: string): string => `node ${join(BIN, `${tool}.js`)}`

function sh (script: string): number {
  const started = process.hrtime.bigint()
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${script}: ${r.stderr}`)
  return Number(process.hrtime.bigint() - started) / 1e6
}

const admin = await mysql.createConnection({ uri: base.toString(), multipleStatements: true })
async function reset (): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${SRC}; DROP DATABASE IF EXISTS ${DST}; CREATE DATABASE ${SRC}; CREATE DATABASE ${DST}`)
  await admin.query(`CREATE TABLE ${SRC}.t (id INT PRIMARY KEY, v BIGINT UNSIGNED, d DECIMAL(20,6), note VARCHAR(100), stamp BIGINT, updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6), KEY (updated_at))`)
}

async function makeChanges (n: number): Promise<void> {
  for (let i = 0; i < n / 2; i += 500) {
    const rows = Array.from({ length: Math.min(500, n / 2 - i) }, (_v, k) => `(${i + k + 1}, ${i + k}, ${i + k}.123456, 'row ${i + k}', 0, DEFAULT)`)
    await admin.query(`INSERT INTO ${SRC}.t VALUES ${rows.join(', ')}`)
  }
  await admin.query(`UPDATE ${SRC}.t SET note = CONCAT(note, ' changed'), d = d + 1`)
}

const ck = (name: string): string => join(tmp, `${name}.ckpt`)
const binlogReader = (name: string, extra = '--until-now'): string => `${bin('mysql-read')} --url ${urlOf(SRC)} --binlog ${extra} -t t --checkpoint ${ck(name)} -q`
const pollReader = (name: string): string => `${bin('mysql-read')} --url ${urlOf(SRC)} -t t --since-column updated_at --checkpoint ${ck(name)} -q`
const myWriter = (name: string, table: string): string => `${bin('mysql-write')} --url ${urlOf(DST)} -t ${table} --create --mode upsert --checkpoint ${ck(name)} -q`

process.stdout.write(`# mysql-read --binlog vs --since-column polling (${machine()})\n\n`)

// 1. Throughput.
const es = await startEsServerProcess(0, 'unused')
try {
  await reset()
  sh(`${binlogReader('b-my')} | ${myWriter('b-my', 'b')}`)
  sh(`${binlogReader('b-es')} | ${bin('es-write')} --url ${es.url} --checkpoint ${ck('b-es')} -q`)
  sh(`${pollReader('p-my')} | ${myWriter('p-my', 'p')}`)
  await makeChanges(changes)
  const binMy = sh(`${binlogReader('b-my')} | ${myWriter('b-my', 'b')}`)
  const binEs = sh(`${binlogReader('b-es')} | ${bin('es-write')} --url ${es.url} --checkpoint ${ck('b-es')} -q`)
  const pollMy = sh(`${pollReader('p-my')} | ${myWriter('p-my', 'p')}`)
  process.stdout.write(`## Throughput: ${fmt(changes)} row changes (${fmt(changes / 2)} inserts in 500-row transactions, then an UPDATE of every row)\n\n`)
  process.stdout.write('| pipe | wall time | changes/s |\n|---|---|---|\n')
  process.stdout.write(`| --binlog --until-now → mysql-write | ${(binMy / 1000).toFixed(2)} s | ${fmt(changes / binMy * 1000)} |\n`)
  process.stdout.write(`| --binlog --until-now → es-write (test server) | ${(binEs / 1000).toFixed(2)} s | ${fmt(changes / binEs * 1000)} |\n`)
  process.stdout.write(`| --since-column → mysql-write (copies the ${fmt(changes / 2)} rows' end state, not each change) | ${(pollMy / 1000).toFixed(2)} s | ${fmt(changes / 2 / pollMy * 1000)} rows/s |\n\n`)
} finally {
  es.stop()
}

// 2. Lag at `rate` changes/s.
async function lag (label: string, start: () => ChildProcess | (() => void), table: string): Promise<string> {
  await admin.query(`DELETE FROM ${SRC}.t`)
  await admin.query(`INSERT INTO ${SRC}.t (id, v, d, note, stamp) SELECT seq, 1, 0, 'x', 0 FROM ${SRC}.seq_1_to_1000`)
  const stop = start()
  const watcher = await mysql.createConnection({ uri: urlOf(DST) })
  const lags: number[] = []
  const seen = new Map<string, number>()
  let done = false
  const watch = (async () => {
    while (!done) {
      try {
        const [rows] = await watcher.query(`SELECT id, JSON_VALUE(content, '$.stamp') AS s FROM ${table}`)
        const now = Date.now()
        for (const r of rows as Array<{ id: string, s: string | null }>) {
          const s = Number(r.s)
          if (s > 0 && seen.get(r.id) !== s) { seen.set(r.id, s); lags.push(now - s) }
        }
      } catch {}
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const producer = await mysql.createConnection({ uri: urlOf(SRC) })
  const t0 = Date.now()
  for (let i = 0; Date.now() - t0 < seconds * 1000; i++) {
    // Ten rows a statement, so a loaded client still keeps the rate.
    const due = t0 + (i * 10 * 1000) / rate
    const wait = due - Date.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
    const ids = Array.from({ length: 10 }, (_v, k) => ((i * 10 + k) % 1000) + 1)
    await producer.query(`UPDATE t SET stamp = ${Date.now()} WHERE id IN (${ids.join(',')})`)
  }
  await new Promise((resolve) => setTimeout(resolve, 5000))
  done = true
  await watch
  await producer.end()
  await watcher.end()
  if (typeof stop === 'function') stop()
  else {
    const exited = new Promise((resolve) => stop.once('exit', resolve))
    process.kill(-(stop.pid as number), 'SIGTERM')
    await exited
  }
  lags.sort((a, b) => a - b)
  const q = (p: number): number => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? NaN
  return `| ${label} | ${fmt(lags.length)} | ${fmt(q(0.5))} ms | ${fmt(q(0.99))} ms |\n`
}

let out = `## Lag at ${fmt(rate)} changes/s for ${seconds} s (rows stamped at commit; the copy watched every 20 ms)\n\n| pipe | changes seen | p50 | p99 |\n|---|---|---|---|\n`
await admin.query(`DROP DATABASE IF EXISTS ${DST}; CREATE DATABASE ${DST}`)
out += await lag('--binlog (followed) → mysql-write', () => spawn('bash', ['-c', `${binlogReader('lag-b', '')} | ${bin('mysql-write')} --url ${urlOf(DST)} -t lb --create --mode upsert --flush-interval 50ms --checkpoint ${ck('lag-b')} -q`], { stdio: 'ignore', detached: true }), 'lb')
let polling = true
out += await lag('--since-column, run again as soon as it ends → mysql-write', () => {
  void (async () => {
    while (polling) {
      await new Promise((resolve) => spawn('bash', ['-c', `${pollReader('lag-p')} | ${myWriter('lag-p', 'lp')}`], { stdio: 'ignore' }).once('exit', resolve))
    }
  })()
  return () => { polling = false }
}, 'lp')
process.stdout.write(out)
await admin.end()
rmSync(tmp, { recursive: true, force: true })
