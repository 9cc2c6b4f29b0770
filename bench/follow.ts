/**
 * --follow (issue 24): end-to-end latency, from a change committed at the source to the moment
 * it is visible at the destination, at a steady rate of changes with --interval 1s; and the cost
 * of a round when nothing changed (requests to the server, CPU of the reader).
 *
 *   node --import tsx bench/follow.ts [SECONDS] [CHANGES_PER_SECOND]
 *
 * mysql-read --follow | es-write: inserts and updates at the rate into MariaDB (MYSQL_URL, default
 * root@127.0.0.1:3306), each row stamped with the time its statement returned; the project's
 * Elasticsearch test server polled every 5 ms for each change's bytes. es-read --follow |
 * mysql-write the other way, with --settle 1s (what a round must wait for a stamped document).
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import mysql from 'mysql2/promise'
import { startEsServer } from '../test/servers/es/server.js'
import type { EsTestServer } from '../test/servers/es/server.js'
import { installedBinDir } from '../test/helpers/run.js'

const SECONDS = Number(process.argv[2] ?? 30)
const RATE = Number(process.argv[3] ?? 100)
const BASE = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test'
const TICK = Number(process.env.CLK_TCK ?? 100)

function pipe (script: string): ChildProcess {
  return spawn('bash', ['-o', 'pipefail', '-c', script], { detached: true, env: { ...process.env, PATH: `${installedBinDir()}:${process.env.PATH ?? ''}` }, stdio: ['ignore', 'ignore', 'inherit'] })
}

async function stop (p: ChildProcess): Promise<void> {
  const ended = new Promise((resolve) => p.once('close', resolve))
  try { process.kill(-(p.pid as number), 'SIGTERM') } catch {}
  await ended
}

/** CPU seconds (user + system) a process has used so far. */
function cpu (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICK
}

/** The pid of the process running `name` (a child of the pipe's shell). */
async function stagePid (shell: ChildProcess, name: string): Promise<number> {
  for (let i = 0; i < 500; i++) {
    const children = readFileSync(`/proc/${shell.pid as number}/task/${shell.pid as number}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '').map(Number)
    for (const c of children) {
      try { if (readFileSync(`/proc/${c}/cmdline`, 'utf8').includes(name)) return c } catch {}
    }
    await sleep(20)
  }
  throw new Error(`no ${name} under the pipe`)
}

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
}

function report (what: string, latencies: number[], expected: number): void {
  const s = [...latencies].sort((a, b) => a - b)
  console.log(`${what}: ${s.length} of ${expected} changes seen; latency p50 ${percentile(s, 0.5)} ms, p99 ${percentile(s, 0.99)} ms, max ${s[s.length - 1]} ms`)
}

async function mysqlToEs (es: EsTestServer, url: string, admin: mysql.Connection): Promise<void> {
  await admin.query('CREATE TABLE src (id BIGINT PRIMARY KEY, updated_at DATETIME(6) NOT NULL, v VARCHAR(40) NOT NULL, KEY (updated_at))')
  const p = pipe(`mysql-read --url ${url} -t src --since-column updated_at --follow --interval 1s | es-write --url ${es.url} --index dst --flush-interval 1s -q`)
  await sleep(3000)
  const pending = new Map<string, { text: string, at: number }>()
  const latencies: number[] = []
  let done = false
  let lastAt = Date.now()
  const watcher = (async () => {
    while (!done || pending.size > 0) {
      for (const [id, w] of pending) {
        const stored = es.storedSource('dst', id)
        if (stored !== undefined && stored.includes(w.text)) {
          latencies.push(Date.now() - w.at)
          pending.delete(id)
        }
      }
      await sleep(5)
      if (done && pending.size > 0 && Date.now() - lastAt > 30_000) break
    }
  })()
  let next = 1
  const total = SECONDS * RATE
  const started = Date.now()
  for (let i = 0; i < total; i++) {
    const due = started + i * 1000 / RATE
    if (Date.now() < due) await sleep(due - Date.now())
    const text = `c${i}`
    let id: number
    if (next === 1 || i % 3 !== 0) {
      id = next++
      await admin.query('INSERT INTO src VALUES (?, NOW(6), ?)', [id, text])
    } else {
      id = 1 + (i * 7919) % (next - 1)
      // An id still on its way is left for later: one change per id in flight keeps the measure simple.
      if (pending.has(String(id))) { id = next++; await admin.query('INSERT INTO src VALUES (?, NOW(6), ?)', [id, text]) } else await admin.query('UPDATE src SET updated_at = NOW(6), v = ? WHERE id = ?', [text, id])
    }
    lastAt = Date.now()
    pending.set(String(id), { text: `"v":"${text}"`, at: lastAt })
  }
  done = true
  await watcher
  await stop(p)
  report(`mysql-read --follow --interval 1s | es-write (${RATE} changes/s for ${SECONDS} s)`, latencies, total)
}

async function esToMysql (es: EsTestServer, url: string, admin: mysql.Connection): Promise<void> {
  await fetch(`${es.url}/live`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mappings: { dynamic: false, properties: { updated_at: { type: 'date' } } } }) })
  const p = pipe(`es-read --url ${es.url} --index live --since-field updated_at --settle 1s --follow --interval 1s | mysql-write --url ${url} -t dst --create --mode upsert --flush-interval 1s -q`)
  await sleep(3000)
  const total = SECONDS * RATE
  const at = new Map<string, number>()
  const latencies: number[] = []
  const seen = new Set<string>()
  let writing = true
  // Polled while the changes come, as a reader of the copy would see them.
  const poller = (async () => {
    let until = Infinity
    while (seen.size < total && Date.now() < until) {
      const [rows] = await admin.query('SELECT id FROM dst').catch(() => [[]])
      const now = Date.now()
      for (const r of rows as Array<{ id: string }>) {
        const t0 = at.get(r.id)
        if (!seen.has(r.id) && t0 !== undefined) {
          seen.add(r.id)
          latencies.push(now - t0)
        }
      }
      if (!writing && until === Infinity) until = Date.now() + 30_000
      await sleep(20)
    }
  })()
  const started = Date.now()
  for (let i = 0; i < total; i++) {
    const due = started + i * 1000 / RATE
    if (Date.now() < due) await sleep(due - Date.now())
    await fetch(`${es.url}/live/_doc/d${i}?refresh=true`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: `{"updated_at":"${new Date().toISOString()}","v":"c${i}"}` })
    at.set(`d${i}`, Date.now())
  }
  writing = false
  await poller
  await stop(p)
  report(`es-read --follow --interval 1s --settle 1s | mysql-write (${RATE} changes/s for ${SECONDS} s; polled every ~20 ms plus the query)`, latencies, total)
}

async function idleRounds (es: EsTestServer, url: string): Promise<void> {
  const rounds = 20
  const esPipe = pipe(`es-read --url ${es.url} --index live --since-field updated_at --settle 1s --follow --interval 1s -q > /dev/null`)
  const esPid = await stagePid(esPipe, 'es-read')
  await sleep(3000)
  const before = es.requests.length
  const cpu0 = cpu(esPid)
  await sleep(rounds * 1000)
  const requests = es.requests.slice(before)
  const cpu1 = cpu(esPid)
  await stop(esPipe)
  const kinds = new Map<string, number>()
  for (const r of requests) kinds.set(`${r.method} ${r.path.replace(/\/live\//, '/INDEX/')}`, (kinds.get(`${r.method} ${r.path.replace(/\/live\//, '/INDEX/')}`) ?? 0) + 1)
  console.log(`es-read --follow, nothing changing, ${rounds} s at --interval 1s: ${requests.length} requests (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}), ${(cpu1 - cpu0).toFixed(2)} s CPU (${((cpu1 - cpu0) * 1000 / rounds).toFixed(1)} ms a second)`)
  const myPipe = pipe(`mysql-read --url ${url} -t src --since-column updated_at --follow --interval 1s -q > /dev/null`)
  const myPid = await stagePid(myPipe, 'mysql-read')
  await sleep(3000)
  const c0 = cpu(myPid)
  await sleep(rounds * 1000)
  const c1 = cpu(myPid)
  await stop(myPipe)
  console.log(`mysql-read --follow, nothing changing, ${rounds} s at --interval 1s: one SELECT a round, ${(c1 - c0).toFixed(2)} s CPU (${((c1 - c0) * 1000 / rounds).toFixed(1)} ms a second)`)
}

const name = `espipe_bench_follow_${process.pid}`
const admin = await mysql.createConnection({ uri: BASE })
await admin.query(`CREATE DATABASE \`${name}\``)
await admin.changeUser({ database: name })
const u = new URL(BASE)
u.pathname = `/${name}`
const es = await startEsServer()
try {
  await mysqlToEs(es, u.toString(), admin)
  await esToMysql(es, u.toString(), admin)
  await idleRounds(es, u.toString())
} finally {
  await es.close()
  await admin.query(`DROP DATABASE \`${name}\``)
  await admin.end()
}
