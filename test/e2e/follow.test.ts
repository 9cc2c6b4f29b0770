// --follow (issue 24): a followed pipe against a source that a concurrent writer keeps changing
// (inserts and updates, seeded), killed with SIGKILL at seeded moments and run again, then
// stopped with SIGTERM after the writer is done: the destination must equal the source (ids
// and bytes), and the stop must exit 143.
import t from 'tap'
import type { Test } from 'tap'
import { readFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { testDatabase } from '../helpers/mysql.js'
import type { TestDatabase } from '../helpers/mysql.js'
import { collect, installedBinDir, runShell, scratchDir } from '../helpers/run.js'
import type { RunResult } from '../helpers/run.js'
import { differences, random } from '../helpers/resume.js'
import { byId, sourceOf } from '../helpers/resume-destinations.js'
import { waitFor } from '../helpers/wait.js'

/** How long the concurrent writer changes the source. */
const CHANGING_MS = Number(process.env.ESPIPE_FOLLOW_MS ?? 30_000)

interface Pipe { child: ChildProcess, done: Promise<RunResult>, dir: string }

/**
 * `reader | writer` as its own process group (a kill -9 reaches every stage), each stage
 * writing its pid first, so that a stop reaches the stages as ^C in a terminal does, and the
 * shell reports their exit status.
 */
function startPipe (dir: string, reader: string, writer?: string): Pipe {
  const env = { ...process.env, PATH: `${installedBinDir()}:${process.env.PATH ?? ''}` }
  const stage = (name: string, command: string): string => `( echo $BASHPID > ${join(dir, `${name}.pid`)}; exec ${command} )`
  const script = writer === undefined ? stage('reader', reader) : `${stage('reader', reader)} | ${stage('writer', writer)}`
  const child = spawn('bash', ['-o', 'pipefail', '-c', script], { detached: true, env, stdio: ['ignore', 'pipe', 'pipe'] })
  return { child, done: collect(child, null), dir }
}

function killGroup (p: Pipe): void {
  try { process.kill(-(p.child.pid as number), 'SIGKILL') } catch {}
}

/** SIGTERM to each stage (not to the shell, which then reports what they exit with). */
function stopStages (p: Pipe): void {
  for (const name of ['reader', 'writer']) {
    try { process.kill(Number(readFileSync(join(p.dir, `${name}.pid`), 'utf8')), 'SIGTERM') } catch {}
  }
}

/**
 * Runs the pipe while `changing` resolves, killed with SIGKILL at seeded moments and started
 * again each time; then lets it catch up until `caughtUp`, and stops it with SIGTERM.
 */
async function followThrough (t: Test, dir: string, reader: string, writer: string, changing: Promise<void>, caughtUp: () => Promise<boolean>, seed: number): Promise<{ stop: RunResult, kills: number }> {
  const rnd = random(seed)
  let writing = true
  void changing.finally(() => { writing = false })
  let kills = 0
  let pipe = startPipe(dir, reader, writer)
  while (writing) {
    const at = Date.now() + 2000 + rnd() * 6000
    await waitFor(() => !writing || Date.now() >= at, { what: 'the next kill', timeoutMs: 15_000, everyMs: 50 })
    if (!writing) break
    killGroup(pipe)
    const r = await pipe.done
    t.equal(r.signal, 'SIGKILL', 'the pipe was killed')
    kills++
    pipe = startPipe(dir, reader, writer)
  }
  await changing
  await waitFor(caughtUp, { what: 'the destination to equal the source', timeoutMs: 60_000, everyMs: 250, child: pipe.child })
  stopStages(pipe)
  return { stop: await pipe.done, kills }
}

let es: EsTestServer
let db: TestDatabase
t.before(async () => {
  es = await startEsServer()
  db = await testDatabase(t, 'follow')
})
t.teardown(async () => { await es.close() })

t.test('mysql-read --follow --deleted-column | es-write: live inserts, updates and soft deletes, SIGKILL and rerun, SIGTERM: the index equals the table', async (t) => {
  await db.rows('CREATE TABLE src (id BIGINT PRIMARY KEY, updated_at DATETIME(6) NOT NULL, v VARCHAR(40) NOT NULL, n DECIMAL(30,10) NOT NULL, deleted TINYINT NOT NULL DEFAULT 0, KEY (updated_at))')
  const dir = scratchDir(t)
  const ckpt = join(dir, 'ckpt')
  const rnd = random(2401)
  let next = 1
  const changing = (async () => {
    const until = Date.now() + CHANGING_MS
    while (Date.now() < until) {
      const dice = rnd()
      if (next === 1 || dice < 0.6) {
        await db.rows('INSERT INTO src VALUES (?, NOW(6), ?, ?, 0)', [next, `v${next} ✓`, `${next}12345678901234567.0123456789`])
        next++
      } else if (dice < 0.7) {
        // A soft delete, and now and then one undone (the row comes back).
        await db.rows('UPDATE src SET updated_at = NOW(6), deleted = 1 - deleted WHERE id = ?', [1 + Math.floor(rnd() * (next - 1))])
      } else {
        const id = 1 + Math.floor(rnd() * (next - 1))
        await db.rows('UPDATE src SET updated_at = NOW(6), v = ? WHERE id = ?', [`u${Math.floor(rnd() * 1e6)}`, id])
      }
      await sleep(20 + rnd() * 40)
    }
  })()
  const want = async (): Promise<Map<string, string>> => {
    const r = await runShell(`mysql-read --url ${db.url} -t src --where 'deleted = 0' -q`)
    if (r.code !== 0) throw new Error(r.stderr)
    return new Map([...byId(r.stdout.split('\n').filter((l) => l !== ''))].map(([id, l]) => [id, sourceOf(l)]))
  }
  const same = async (): Promise<boolean> => differences(es.storedSources('dst'), await want()).length === 0
  const reader = `mysql-read --url ${db.url} -t src --since-column updated_at --deleted-column deleted --checkpoint ${ckpt} --follow --interval 300ms`
  const writer = `es-write --url ${es.url} --index dst --flush-interval 200ms --checkpoint ${ckpt}`
  const { stop, kills } = await followThrough(t, dir, reader, writer, changing, same, 2401)
  t.ok(kills >= 2, `the pipe was killed while following (${kills} times)`)
  t.equal(stop.code, 143, `SIGTERM ends the pipe with 143: ${stop.stderr}`)
  t.match(stop.stderr, /mysql-read: [\d,]+ read/, 'the reader said its summary')
  const source = await want()
  const [{ gone }] = await db.rows<{ gone: number }>('SELECT COUNT(*) AS gone FROM src WHERE deleted = 1')
  t.ok(source.size > 100 && gone > 5, `the table holds ${source.size} rows and ${gone} soft-deleted`)
  t.strictSame(differences(es.storedSources('dst'), source), [], 'every row not deleted once in the index, with its bytes, updates included; the deleted ones gone')
})

t.test('es-read --follow | mysql-write: live index, reindex and soft deletes, SIGKILL and rerun, SIGTERM: the table equals the index', async (t) => {
  const r = await fetch(`${es.url}/live`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mappings: { dynamic: false, properties: { updated_at: { type: 'date' } } } }) })
  t.ok(r.ok, 'index created')
  const dir = scratchDir(t)
  const ckpt = join(dir, 'ckpt')
  const rnd = random(2402)
  let next = 1
  const changing = (async () => {
    const until = Date.now() + CHANGING_MS
    while (Date.now() < until) {
      const id = next === 1 || rnd() < 0.6 ? next++ : 1 + Math.floor(rnd() * (next - 1))
      // Elasticsearch has no soft delete of its own: a field says it, and the copy keeps it.
      const deleted = rnd() < 0.15
      const body = `{"updated_at":"${new Date().toISOString()}","v":"v${Math.floor(rnd() * 1e6)} ✓","big":${18446744073709551615n - BigInt(id)},"price":1.50,"deleted":${String(deleted)}}`
      const res = await fetch(`${es.url}/live/_doc/d${id}?refresh=true`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body })
      if (!res.ok) throw new Error(`indexing failed: ${res.status} ${await res.text()}`)
      await sleep(20 + rnd() * 40)
    }
  })()
  const table = async (): Promise<Map<string, string>> => {
    const rows = await db.rows<{ id: string, content: string }>('SELECT id, CAST(content AS CHAR) AS content FROM dst').catch(() => [])
    return new Map(rows.map((x) => [x.id, x.content]))
  }
  const same = async (): Promise<boolean> => differences(await table(), es.storedSources('live')).length === 0
  const reader = `es-read --url ${es.url} --index live --since-field updated_at --settle 1s --checkpoint ${ckpt} --follow --interval 300ms`
  const writer = `mysql-write --url ${db.url} -t dst --create --mode upsert --flush-interval 200ms --checkpoint ${ckpt}`
  const { stop, kills } = await followThrough(t, dir, reader, writer, changing, same, 2402)
  t.ok(kills >= 2, `the pipe was killed while following (${kills} times)`)
  t.equal(stop.code, 143, `SIGTERM ends the pipe with 143: ${stop.stderr}`)
  t.match(stop.stderr, /es-read: [\d,]+ read/, 'the reader said its summary')
  const source = es.storedSources('live')
  t.ok(source.size > 100, `the index holds ${source.size} documents`)
  t.ok([...source.values()].some((s) => s.includes('"deleted":true')), 'some documents are soft-deleted')
  t.strictSame(differences(await table(), source), [], 'every document once in the table, with its bytes, updates and soft deletes included')
})

t.test('--follow alone is a usage error saying what it needs', async (t) => {
  const m = await runShell(`mysql-read --url ${db.url} -t src --follow`)
  t.equal(m.code, 2)
  t.match(m.stderr, /--follow needs --since-column COL/)
  const sliced = await runShell(`mysql-read --url ${db.url} -t src --since-column updated_at --follow --slices 2`)
  t.equal(sliced.code, 2)
  t.match(sliced.stderr, /drop --slices/)
})

t.test('a server gone mid-follow: retried, then one line and exit 1', async (t) => {
  const mine = await startEsServer()
  await fetch(`${mine.url}/gone`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mappings: { properties: { at: { type: 'date' } } } }) })
  await fetch(`${mine.url}/gone/_doc/a?refresh=true`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"at":"2024-01-01T00:00:00Z"}' })
  const pipe = startPipe(scratchDir(t), `es-read --url ${mine.url} --index gone --since-field at --follow --interval 200ms --retries 3 --retry-max-wait 200ms`)
  let out = ''
  pipe.child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  await waitFor(() => out.includes('"_id":"a"'), { what: 'the first round', child: pipe.child })
  await mine.close()
  const r = await pipe.done
  t.equal(r.code, 1, 'exit 1')
  const errors = r.stderr.split('\n').filter((l) => / error /.test(l))
  t.equal(errors.length, 1, `one error line: ${r.stderr}`)
  t.match(r.stderr, /retry 3\/3/, 'retried first')
})
