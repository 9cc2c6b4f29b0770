// Issue 23's "slices as jobs": an export spread over N jobs, each slice with a checkpoint of its
// own, driven by GNU parallel (examples/slices-parallel.sh) and by a Kubernetes Indexed Job
// (examples/slices-k8s-job.yaml, whose command line runs here as a pod would run it). One job's
// writer is killed with -9 mid-run; rerunning only that job continues it, and the table ends
// exact: every document once, with the bytes of its _source.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { startEsServer } from '../servers/es/server.js'
import type { EsTestServer } from '../servers/es/server.js'
import { testDatabase } from '../helpers/mysql.js'
import type { TestDatabase } from '../helpers/mysql.js'
import { committed, complete, differences } from '../helpers/resume.js'
import { makeIndex } from '../helpers/resume-matrix.js'
import { ROOT, runShell, scratchDir } from '../helpers/run.js'
import { waitFor } from '../helpers/wait.js'

const N = 8000
const SLICES = 4

let es: EsTestServer
let db: TestDatabase
const want = new Map<string, string>()

t.before(async () => {
  es = await startEsServer()
  t.teardown(async () => { await es.close() })
  db = await testDatabase(t, 'slices_jobs')
  await makeIndex(es, 'logs')
  const bulk: string[] = []
  for (let i = 0; i < N; i++) {
    const source = `{"n":${i},"big":${18446744073709551615n - BigInt(i)},"price":1.50,"s":"caf\\u00e9 \\"${i}\\""}`
    bulk.push(JSON.stringify({ index: { _index: 'logs', _id: `d${i}` } }), source)
    want.set(`d${i}`, source)
  }
  const res = await fetch(`${es.url}/_bulk?refresh=true`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: bulk.join('\n') + '\n' })
  if (!res.ok || (await res.json() as { errors: boolean }).errors) throw new Error('seeding failed')
  // Slow pages of 50 (with ES_READ_OPTS): each slice takes seconds, so the kill lands while every job is still copying.
  es.faults.latencyMs = 100
})

/** The table's rows: id → content, as bytes. */
async function table (name: string): Promise<Map<string, string>> {
  const rows = await db.rows<{ id: string, content: string }>(`SELECT id, CAST(content AS CHAR) AS content FROM \`${name}\``)
  return new Map(rows.map((r) => [r.id, r.content]))
}

/**
 * kill -9 of the one mysql-write whose environment holds `name=value` (the shell and es-read stay).
 * The binaries set their process title, so their command lines no longer show their options;
 * the job's environment (GNU parallel's PARALLEL_SEQ, a pod's JOB_COMPLETION_INDEX) tells them apart.
 */
function killWriter (name: string, value: string): number {
  const r = spawnSync('pgrep', ['-x', 'mysql-write'], { encoding: 'utf8' })
  const pids = r.stdout.split('\n').filter((p) => p !== '').map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`${name}=${value}`)
    } catch { return false } // gone meanwhile
  })
  if (pids.length !== 1) throw new Error(`expected one mysql-write with ${name}=${value}, found ${pids.length}`)
  process.kill(pids[0], 'SIGKILL')
  return pids[0]
}

interface JobLogLine { seq: number, exitval: number, signal: number, command: string }
function jobLog (path: string): JobLogLine[] {
  return readFileSync(path, 'utf8').split('\n').slice(1).filter((l) => l !== '').map((l) => {
    const f = l.split('\t')
    return { seq: Number(f[0]), exitval: Number(f[6]), signal: Number(f[7]), command: f.slice(8).join('\t') }
  })
}

t.test('GNU parallel: a job whose writer is killed fails; the same command again reruns that job only, which continues it', async (t) => {
  const state = scratchDir(t)
  const env = { ES_URL: es.url, MYSQL_URL: db.url, INDEX: 'logs', TABLE: 'by_parallel', SLICES: String(SLICES), STATE: state, ES_READ_OPTS: '--size 50', MYSQL_WRITE_OPTS: '--batch-size 100' }
  const script = join(ROOT, 'examples', 'slices-parallel.sh')
  const ckpt1 = join(state, 'logs.1.ckpt')

  const first = runShell(script, { env })
  await waitFor(() => committed(ckpt1) > 0, { what: 'slice 1 to commit a first batch', timeoutMs: 60_000 })
  killWriter('PARALLEL_SEQ', '2') // slice 1 is the second job
  const r1 = await first
  t.equal(r1.code, 1, `one job failed: ${r1.stderr}`)
  const log1 = jobLog(join(state, 'logs.joblog'))
  t.strictSame(log1.map((j) => j.seq).sort(), [1, 2, 3, 4], 'four jobs ran')
  t.strictSame(log1.filter((j) => j.exitval !== 0).map((j) => j.seq), [2], 'the job of slice 1 (the second) failed')
  t.notOk(complete(ckpt1), 'its checkpoint is not complete')
  const before = (await table('by_parallel')).size
  t.ok(before < N, `the table misses the killed slice's rest (${before} of ${N} rows)`)

  const r2 = await runShell(script, { env })
  t.equal(r2.code, 0, r2.stderr)
  const log2 = jobLog(join(state, 'logs.joblog'))
  t.strictSame(log2.slice(log1.length).map((j) => [j.seq, j.exitval]), [[2, 0]], 'the rerun ran the failed job only, and it succeeded')
  for (let i = 0; i < SLICES; i++) t.ok(complete(join(state, `logs.${i}.ckpt`)), `slice ${i}'s checkpoint is complete`)
  t.strictSame(differences(await table('by_parallel'), want), [], 'every document once, with its bytes')
})

t.test('Kubernetes Indexed Job: the manifest parses, and its command line, run per index with JOB_COMPLETION_INDEX, copies every slice; a killed index rerun continues', async (t) => {
  const job = parse(readFileSync(join(ROOT, 'examples', 'slices-k8s-job.yaml'), 'utf8')) as {
    kind: string
    spec: { completionMode: string, completions: number, parallelism: number, template: { spec: { restartPolicy: string, containers: Array<{ command: string[], args: string[], env: Array<{ name: string, value?: string }> }> } } }
  }
  t.equal(job.kind, 'Job')
  t.equal(job.spec.completionMode, 'Indexed')
  t.equal(job.spec.template.spec.restartPolicy, 'Never')
  const container = job.spec.template.spec.containers[0]
  const fixed: Record<string, string> = Object.fromEntries(container.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]))
  t.equal(Number(fixed.SLICES), job.spec.completions, 'SLICES matches the number of completions')
  t.strictSame(container.command, ['bash', '-c'])
  t.equal(container.args.length, 1)

  const state = scratchDir(t)
  // As a pod runs it: the manifest's fixed values, the secret's URLs, the volume at STATE.
  const pod = (index: number): Promise<Awaited<ReturnType<typeof runShell>>> => runShell(container.args[0], {
    env: { ...fixed, ES_READ_OPTS: '--size 50', MYSQL_WRITE_OPTS: '--batch-size 100', STATE: state, ES_URL: es.url, MYSQL_URL: db.url, JOB_COMPLETION_INDEX: String(index) }
  })
  const made = await runShell(`mysql-write --url ${db.url} --table ${fixed.TABLE} --create -q < /dev/null`)
  t.equal(made.code, 0, made.stderr)

  const ckpt2 = join(state, `${fixed.INDEX}.2.ckpt`)
  const pods = Array.from({ length: job.spec.completions }, (_, i) => pod(i))
  await waitFor(() => committed(ckpt2) > 0, { what: 'index 2 to commit a first batch', timeoutMs: 60_000 })
  killWriter('JOB_COMPLETION_INDEX', '2')
  const results = await Promise.all(pods)
  t.strictSame(results.map((r) => r.code === 0), [true, true, false, true], 'index 2 failed, the others completed')
  const retry = await pod(2)
  t.equal(retry.code, 0, retry.stderr)
  t.match(retry.stderr, /es-read: .*resum/i, 'the retried pod resumed its slice')
  t.strictSame(differences(await table(fixed.TABLE), want), [], 'every document once, with its bytes')
})
