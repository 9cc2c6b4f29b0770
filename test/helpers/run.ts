import { spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The built binary, as `npm ci` leaves it (tests run after `npm run build`). */
export function binPath (tool: string): string {
  return join(ROOT, 'dist', 'bin', `${tool}.js`)
}

export interface RunResult { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }

export interface RunOptions extends SpawnOptions {
  input?: string | Buffer
}

/** Runs one of our binaries as a real child process and collects what it printed. */
export async function runTool (tool: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return await collect(spawn(process.execPath, [binPath(tool), ...args], { ...opts, stdio: 'pipe' }), opts.input)
}

let binDir: string | undefined

/** A directory with our binaries under their installed names, as `npm install -g` would give. */
export function installedBinDir (): string {
  if (binDir !== undefined) return binDir
  const dir = join(tmpdir(), `espipe-bin-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }
  for (const [name, target] of Object.entries(pkg.bin)) {
    if (!existsSync(join(dir, name))) symlinkSync(join(ROOT, target), join(dir, name))
  }
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  binDir = dir
  return dir
}

/** Runs a real shell pipeline (bash, pipefail) with our binaries on the PATH. */
export async function runShell (script: string, opts: RunOptions = {}): Promise<RunResult> {
  const env = { ...process.env, ...opts.env, PATH: `${installedBinDir()}:${process.env.PATH ?? ''}` }
  return await collect(spawn('bash', ['-o', 'pipefail', '-c', script], { ...opts, env, stdio: 'pipe' }), opts.input)
}

/** Collects a child's output; `input` is written to stdin and closes it (null leaves stdin open). */
export async function collect (child: ChildProcess, input?: string | Buffer | null): Promise<RunResult> {
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  child.stdin?.on('error', () => {})
  if (input !== null) child.stdin?.end(input)
  return await new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
}

/** A scratch directory removed when the test ends. */
export function scratchDir (t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'espipe-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function lines (text: string): string[] {
  return text.split('\n').filter((l) => l !== '')
}

/**
 * The child's /metrics body once it matches `ready` (scraped every 100 ms, 100 times at most),
 * from the port its stderr line `metrics on http://127.0.0.1:PORT/metrics` names.
 */
export async function scrapeMetrics (child: ChildProcess, ready: RegExp): Promise<string> {
  let stderr = ''
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr?.on('data', (d: Buffer | string) => {
      stderr += d.toString()
      const m = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(stderr)
      if (m !== null) resolve(Number(m[1]))
    })
    child.once('close', () => { reject(new Error(`exited without serving metrics: ${stderr}`)) })
  })
  let body = ''
  for (let i = 0; i < 100 && !ready.test(body); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  }
  return body
}
