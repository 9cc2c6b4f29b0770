/**
 * Shared bench helpers: run a shell pipeline several times, wall time by the clock, peak RSS of
 * every stage by GNU time, and report the median run.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const BIN = join(ROOT, 'dist', 'bin')

export interface Measurement { seconds: number, rssMb: number[] }

/** Runs `stages` joined by pipes under bash -o pipefail; each stage's peak RSS via /usr/bin/time. */
export function runPipeline (stages: string[], opts: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): Measurement {
  const dir = mkdtempSync(join(tmpdir(), 'espipe-bench-'))
  try {
    const script = stages.map((s, i) => `/usr/bin/time -f %M -o ${dir}/rss${i} ${s}`).join(' | ')
    const started = process.hrtime.bigint()
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 })
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    if (r.status !== 0) throw new Error(`bench pipeline failed (${r.status}): ${script}\n${r.stderr.toString().slice(-2000)}`)
    const rssMb = stages.map((_, i) => Number(readFileSync(`${dir}/rss${i}`, 'utf8').trim().split('\n').pop()) / 1024)
    return { seconds, rssMb }
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
