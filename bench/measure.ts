/**
 * Shared bench helpers: run a shell pipeline several times, wall time by the clock, peak RSS of
 * every stage by GNU time, and report the median run.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The binaries measured; ESPIPE_BENCH_DIST points at another build (an older one, for before/after). */
export const BIN = join(process.env.ESPIPE_BENCH_DIST ?? join(ROOT, 'dist'), 'bin')

export interface Measurement {
  seconds: number
  rssMb: number[]
  /** CPU time (user + system) of each stage, in seconds. */
  cpuSeconds: number[]
}

/** Runs `stages` joined by pipes under bash -o pipefail; each stage's peak RSS via /usr/bin/time. */
export function runPipeline (stages: string[], opts: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): Measurement {
  const dir = mkdtempSync(join(tmpdir(), 'espipe-bench-'))
  try {
    const script = stages.map((s, i) => `/usr/bin/time -f '%M %U %S' -o ${dir}/rss${i} ${s}`).join(' | ')
    const started = process.hrtime.bigint()
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    if (r.status !== 0) throw new Error(`bench pipeline failed (${r.status}): ${script}\n${r.stderr.toString().slice(-2000)}`)
    const stats = stages.map((_, i) => (readFileSync(`${dir}/rss${i}`, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number))
    return { seconds, rssMb: stats.map(([kb]) => (kb ?? NaN) / 1024), cpuSeconds: stats.map(([, user, sys]) => (user ?? NaN) + (sys ?? NaN)) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The median run (by wall time) of `runs` runs, after `setup` before each. */
export function median (runs: number, once: () => Measurement, setup?: () => void): Measurement & { all: number[] } {
  const results: Measurement[] = []
  for (let i = 0; i < runs; i++) {
    setup?.()
    results.push(once())
  }
  return medianOf(results)
}

/** The median (by wall time) of measurements already taken, e.g. alternated with a peer's. */
export function medianOf (results: readonly Measurement[]): Measurement & { all: number[] } {
  const sorted = [...results].sort((a, b) => a.seconds - b.seconds)
  return { ...sorted[Math.floor(sorted.length / 2)], all: results.map((r) => Number(r.seconds.toFixed(2))) }
}

export function machine (): string {
  return `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`
}

export function row (cells: Array<string | number>): string {
  return `| ${cells.join(' | ')} |`
}

export const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')

/**
 * The project's Elasticsearch-compatible test server as its own process, seeded with `docs`
 * generated documents; `latencyMs` delays each of its responses (a page that takes that long).
 */
export async function startEsServerProcess (docs: number, index: string, opts: { nodeArgs?: string[], latencyMs?: number, cpu?: number } = {}): Promise<{ url: string, stop: () => void, exited: Promise<void> }> {
  const argv = [process.execPath, ...opts.nodeArgs ?? [], '--import', 'tsx', join(ROOT, 'test/servers/es/main.ts'), '--docs', String(docs), '--index', index, '--latency', String(opts.latencyMs ?? 0)]
  const [cmd, ...args] = opts.cpu === undefined ? argv : ['taskset', '-c', String(opts.cpu), ...argv]
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d })
  while (!err.includes('seeded') && !(docs === 0 && out.includes('\n'))) {
    if (child.exitCode !== null) throw new Error(`server died: ${err}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { url: out.split('\n')[0], stop: () => child.kill('SIGTERM'), exited }
}

/**
 * `--pin` in the Elasticsearch benches: the server on CPU 1, every client process on CPU 0, so
 * the loaders are compared as against a cluster on machines of its own (on 2 shared cores the
 * server's share otherwise caps both loaders at its rate). `pinned` prefixes a command line.
 */
export const PIN = { server: 1, clients: 0 }
export function pinned (command: string, pin: boolean): string {
  return pin ? `taskset -c ${PIN.clients} ${command}` : command
}

/** A mariadb client command line for MYSQL_URL (default root@127.0.0.1:3306), and the env it needs. */
export function mariadbClient (): { args: string[], env: NodeJS.ProcessEnv, url: (db: string) => string, sql: (stmt: string, db?: string) => string } {
  const base = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test')
  const port = base.port === '' ? '3306' : base.port
  const user = decodeURIComponent(base.username === '' ? 'root' : base.username)
  const args = ['mariadb', '-h', base.hostname, '-P', port, '-u', user]
  const env = base.password === '' ? {} : { MYSQL_PWD: decodeURIComponent(base.password) }
  const sql = (stmt: string, db?: string): string => {
    const r = spawnSync(args[0], [...args.slice(1), ...(db === undefined ? [] : [db]), '-N', '-e', stmt], { env: { ...process.env, ...env } })
    if (r.status !== 0) throw new Error(`${stmt}: ${r.stderr.toString()}`)
    return r.stdout.toString().trim()
  }
  return { args, env, sql, url: (db) => `mysql://${base.username === '' ? 'root' : base.username}${base.password === '' ? '' : ':' + base.password}@${base.hostname}:${port}/${db}` }
}
