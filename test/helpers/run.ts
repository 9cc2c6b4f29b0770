import { spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
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

/** Runs a real shell pipeline (bash, pipefail) with our binaries on the PATH. */
export async function runShell (script: string, opts: RunOptions = {}): Promise<RunResult> {
  const env = { ...process.env, ...opts.env, PATH: `${join(ROOT, 'dist', 'bin')}:${process.env.PATH ?? ''}` }
  return await collect(spawn('bash', ['-o', 'pipefail', '-c', script], { ...opts, env, stdio: 'pipe' }), opts.input)
}

export async function collect (child: ChildProcess, input?: string | Buffer): Promise<RunResult> {
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  child.stdin?.on('error', () => {})
  if (input !== undefined) child.stdin?.end(input)
  else child.stdin?.end()
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
